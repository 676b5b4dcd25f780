//! The fake tenant's API: the token endpoint, `GET /api/v2/logs` with
//! checkpoint paging, `GET /api/v2/logs/{id}`, authorization, the rate
//! limiters (token bucket, fixed window, another client sharing them) and
//! the fault dice. Decided under the state lock.

use std::time::Duration;

use super::http::{Answer, Request, parse_query};
use super::{Fault, Limiter, RateLimitHeaders, TenantState, WindowPhase};
use crate::auth0::log_id;

pub(super) fn route(st: &mut TenantState, req: &Request) -> Answer {
    st.stats.requests += 1;
    let mut answer = match super::hostile::answer(st, req) {
        Some(hostile) => hostile,
        None => match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/oauth/token") => token(st, req),
            ("GET", "/api/v2/logs") => logs(st, req),
            ("GET", p) if p.starts_with("/api/v2/logs/") => {
                one_log(st, req, &p["/api/v2/logs/".len()..])
            }
            _ => Answer::error(404, "Not Found", "no such endpoint"),
        },
    };
    answer.delay += st.latency;
    // The tenant's own clock, as every HTTP server sends it (RFC 9110).
    answer.headers.push(("date".into(), st.clock.http_date()));
    answer
}

fn token(st: &mut TenantState, req: &Request) -> Answer {
    st.stats.token_requests += 1;
    if st.token_endpoint_down {
        return Answer::error(503, "Service Unavailable", "token endpoint unavailable");
    }
    let form: serde_json::Value = if req
        .header("content-type")
        .is_some_and(|c| c.contains("application/x-www-form-urlencoded"))
    {
        let pairs = parse_query(&String::from_utf8_lossy(&req.body));
        serde_json::Value::Object(pairs.into_iter().map(|(k, v)| (k, v.into())).collect())
    } else {
        serde_json::from_slice(&req.body).unwrap_or_default()
    };
    let field = |k: &str| {
        form.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    if field("grant_type") != "client_credentials" {
        return Answer::json(
            400,
            r#"{"error":"unsupported_grant_type","error_description":"Unsupported grant type"}"#,
        );
    }
    if field("client_id") != st.client_id || field("client_secret") != st.client_secret {
        return Answer::json(
            401,
            r#"{"error":"access_denied","error_description":"Unauthorized"}"#,
        );
    }
    let audience = field("audience");
    let expected = st
        .audience
        .clone()
        .unwrap_or_else(|| format!("http://{}/api/v2/", req.header("host").unwrap_or_default()));
    if audience != expected {
        return Answer::json(
            403,
            serde_json::json!({"error":"access_denied","error_description": format!("Service not enabled within domain: {audience}")}).to_string(),
        );
    }
    let token = st.mint();
    Answer::json(
        200,
        serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": 86400, "scope": st.minted_scope}).to_string(),
    )
}

/// Checks the bearer token; `Some(answer)` when it is refused.
fn authorize(st: &mut TenantState, req: &Request) -> Option<Answer> {
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    if let Some(&has_scope) = st.static_tokens.get(&token) {
        return (!has_scope).then(|| {
            Answer::error(
                403,
                "Forbidden",
                "Insufficient scope, expected any of: read:logs",
            )
        });
    }
    match st.minted.get_mut(&token) {
        Some(Some(0)) | None => {
            st.stats.unauthorized += 1;
            Some(Answer::error(401, "Unauthorized", "Invalid token"))
        }
        Some(left) => {
            if let Some(n) = left {
                *n -= 1;
            }
            (!st.minted_scope.split(' ').any(|s| s == "read:logs")).then(|| {
                Answer::error(
                    403,
                    "Forbidden",
                    "Insufficient scope, expected any of: read:logs",
                )
            })
        }
    }
}

/// A limiter and what is left of its allowance.
#[derive(Debug)]
pub(super) struct LimiterState {
    limiter: Limiter,
    /// Token bucket: tokens held at `at` (Unix seconds).
    tokens: f64,
    at: f64,
    /// Fixed window: when the current window began (Unix seconds) and how
    /// many requests it has allowed.
    window_start: f64,
    used: u64,
}

/// What a limiter says about itself at one instant.
struct Verdict {
    limit: u64,
    remaining: u64,
    /// The reset (a window's end, a bucket full again), Unix seconds.
    reset_at: f64,
    /// Whole seconds until one more request would be allowed.
    retry_after: u64,
}

impl Verdict {
    /// The reset as a Unix second, rounded up as Auth0 sends it.
    fn reset(&self) -> u64 {
        self.reset_at.ceil() as u64
    }
}

impl LimiterState {
    pub(super) fn new(limiter: Limiter, now: f64) -> Self {
        let tokens = match limiter {
            Limiter::TokenBucket(rl) => rl.burst,
            Limiter::FixedWindow { .. } => 0.0,
        };
        LimiterState {
            limiter,
            tokens,
            at: now,
            window_start: f64::NEG_INFINITY,
            used: 0,
        }
    }

    /// Spends one request at `now` if the limiter allows it.
    fn take(&mut self, now: f64, phase: WindowPhase) -> bool {
        match self.limiter {
            Limiter::TokenBucket(rl) => {
                let elapsed = (now - self.at).max(0.0);
                self.tokens = (self.tokens + elapsed * rl.per_second).min(rl.burst);
                self.at = self.at.max(now);
                let allowed = self.tokens >= 1.0;
                if allowed {
                    self.tokens -= 1.0;
                }
                allowed
            }
            Limiter::FixedWindow { limit, window_secs } => {
                let length = window_secs.max(1) as f64;
                let start = match phase {
                    WindowPhase::UnixAligned => (now / length).floor() * length,
                    WindowPhase::FromFirstRequest if now >= self.window_start + length => now,
                    WindowPhase::FromFirstRequest => self.window_start,
                };
                if start != self.window_start {
                    self.window_start = start;
                    self.used = 0;
                }
                let allowed = self.used < limit;
                if allowed {
                    self.used += 1;
                }
                allowed
            }
        }
    }

    /// The headers' truth at `now`, just after a `take` at `now`.
    fn verdict(&self, now: f64) -> Verdict {
        match self.limiter {
            Limiter::TokenBucket(rl) => Verdict {
                limit: rl.burst as u64,
                remaining: self.tokens.floor() as u64,
                reset_at: now + (rl.burst - self.tokens).max(0.0) / rl.per_second,
                retry_after: ((1.0 - self.tokens) / rl.per_second).ceil().max(1.0) as u64,
            },
            Limiter::FixedWindow { limit, window_secs } => {
                let reset_at = self.window_start + window_secs.max(1) as f64;
                Verdict {
                    limit,
                    remaining: limit.saturating_sub(self.used),
                    reset_at,
                    retry_after: (reset_at - now).ceil().max(1.0) as u64,
                }
            }
        }
    }
}

/// Another client spending from the same allowance at a steady pace.
#[derive(Debug)]
pub(super) struct OtherClient {
    interval: f64,
    /// Unix seconds of its next request.
    next_at: f64,
}

impl OtherClient {
    pub(super) fn starting_at(per_second: f64, now: f64) -> Self {
        OtherClient {
            interval: 1.0 / per_second,
            next_at: now,
        }
    }
}

/// Lets the limiter decide on one log request (after the other client's
/// requests due before it); `Err` carries the 429 answer.
fn rate_limit(st: &mut TenantState) -> Result<Vec<(String, String)>, Answer> {
    let now = st.clock.epoch();
    let Some(limiter) = st.limiter.as_mut() else {
        return Ok(Vec::new());
    };
    if let Some(other) = st.other_client.as_mut() {
        while other.next_at <= now {
            st.stats.other_requests += 1;
            if !limiter.take(other.next_at, st.window_phase) {
                st.stats.other_rate_limited += 1;
            }
            other.next_at += other.interval;
        }
    }
    let phase = st.window_phase;
    let allowed = limiter.take(now, phase);
    let v = limiter.verdict(now);
    st.stats.lowest_remaining = Some(
        st.stats
            .lowest_remaining
            .map_or(v.remaining, |l| l.min(v.remaining)),
    );
    if let Some((refused_at, until)) = st.retry_after {
        // Requests already on their way when the 429 was sent are not
        // counted against the client.
        let grace = refused_at + st.latency.as_secs_f64() + 0.1;
        if now > grace && now < until - 0.05 {
            st.stats.retry_after_ignored += 1;
        }
    }
    let reset = match st.rate_limit_headers {
        RateLimitHeaders::ResetEpoch => Some(v.reset()),
        // Rounded up from the true reset, as a proxy counting down would.
        RateLimitHeaders::ResetSecondsFromNow => Some((v.reset_at - now).ceil().max(0.0) as u64),
        RateLimitHeaders::None => None,
    };
    let headers = match reset {
        Some(reset) => vec![
            ("x-ratelimit-limit".to_string(), v.limit.to_string()),
            ("x-ratelimit-remaining".to_string(), v.remaining.to_string()),
            ("x-ratelimit-reset".to_string(), reset.to_string()),
        ],
        None => Vec::new(),
    };
    if allowed {
        Ok(headers)
    } else {
        st.stats.rate_limited += 1;
        let mut a = Answer::error(429, "Too Many Requests", "Global limit has been reached");
        a.headers = headers;
        if st.send_retry_after || st.rate_limit_headers == RateLimitHeaders::None {
            a.headers
                .push(("retry-after".into(), v.retry_after.to_string()));
            let until = now + v.retry_after as f64;
            st.retry_after = Some((now, st.retry_after.map_or(until, |(_, u)| u.max(until))));
        }
        Err(a)
    }
}

fn next_fault(st: &mut TenantState) -> Option<Fault> {
    if let Some(f) = st.scripted.pop_front() {
        return Some(f);
    }
    if st.fault_rate > 0.0 && !st.fault_kinds.is_empty() && st.random() < st.fault_rate {
        let i = (st.random() * st.fault_kinds.len() as f64) as usize;
        return st.fault_kinds.get(i).copied();
    }
    None
}

fn logs(st: &mut TenantState, req: &Request) -> Answer {
    st.stats.log_requests += 1;
    if let Some(refused) = authorize(st, req) {
        return refused;
    }
    let headers = match rate_limit(st) {
        Ok(h) => h,
        Err(a) => return a,
    };
    if let Some(fault) = next_fault(st) {
        st.stats.faults += 1;
        let mut a = match fault {
            Fault::RateLimited => {
                st.stats.rate_limited += 1;
                let mut a =
                    Answer::error(429, "Too Many Requests", "Global limit has been reached");
                a.headers.push(("x-ratelimit-limit".into(), "10".into()));
                a.headers.push(("x-ratelimit-remaining".into(), "0".into()));
                a.headers.push((
                    "x-ratelimit-reset".into(),
                    (st.clock.epoch() as u64 + 1).to_string(),
                ));
                a.headers.push(("retry-after".into(), "1".into()));
                return a;
            }
            Fault::ServerError => Answer::error(500, "Internal Server Error", "simulated failure"),
            Fault::Html502 => {
                let mut a = Answer::json(502, "<html><body><h1>502 Bad Gateway</h1></body></html>");
                a.content_type = "text/html";
                a
            }
            Fault::Html200 => {
                let mut a = Answer::json(200, "<html><body>Please wait...</body></html>");
                a.content_type = "text/html";
                a
            }
            Fault::InvalidJson => Answer::json(200, "[{\"log_id\": \"90020"),
            _ => {
                // Faults that need a real page to damage.
                let mut a = page(st, req);
                a.fault = Some(fault);
                if let Fault::Slow(ms) = fault {
                    a.delay = Duration::from_millis(ms);
                }
                if fault == Fault::TruncatedBody {
                    let keep = a.body.len() * 2 / 3;
                    a.body.truncate(keep);
                }
                a
            }
        };
        a.headers.extend(headers);
        return a;
    }
    let mut a = page(st, req);
    a.headers.extend(headers);
    a
}

fn page(st: &mut TenantState, req: &Request) -> Answer {
    let take = req
        .param("take")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(50)
        .min(st.max_take);
    let start = match req.param("from") {
        Some(from) => st
            .events
            .partition_point(|e| log_id::compare(&e.key, from) != std::cmp::Ordering::Greater),
        None => 0,
    };
    let end = (start + take).min(st.events.len());
    let mut order: Vec<usize> = (start..end).collect();
    if st.shuffle_pages {
        for i in (1..order.len()).rev() {
            let j = (st.random() * (i + 1) as f64) as usize;
            order.swap(i, j.min(i));
        }
    }
    let mut body = Vec::with_capacity(order.len() * 1200 + 2);
    body.push(b'[');
    for (n, &i) in order.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend_from_slice(st.events[i].raw.as_bytes());
    }
    body.push(b']');
    st.stats.served_events += order.len() as u64;
    let next_from = if end > start {
        st.events[end - 1].key.clone()
    } else {
        req.param("from").unwrap_or_default().to_string()
    };
    // Percent-encoded, as Auth0 does: an id may hold anything (`hostile`).
    let next_from: String = next_from
        .bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect();
    let mut a = Answer::json(200, body);
    a.headers.push((
        "link".into(),
        format!("<{}?from={next_from}&take={take}>; rel=\"next\"", req.path),
    ));
    a
}

fn one_log(st: &mut TenantState, req: &Request, id: &str) -> Answer {
    if let Some(refused) = authorize(st, req) {
        return refused;
    }
    if !st.single_event_endpoint {
        return Answer::error(404, "Not Found", "no such endpoint");
    }
    match st.events.iter().find(|e| e.key == id) {
        Some(e) => Answer::json(200, e.raw.clone()),
        None => Answer::error(404, "Not Found", "The log does not exist."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::RateLimit;

    #[test]
    fn a_fixed_window_counts_down_to_its_end_and_comes_back_whole() {
        let mut l = LimiterState::new(
            Limiter::FixedWindow {
                limit: 3,
                window_secs: 2,
            },
            999_999.0,
        );
        let aligned = WindowPhase::UnixAligned;
        let start = 1_000_000.5;
        for left in [2, 1, 0] {
            assert!(l.take(start, aligned));
            let v = l.verdict(start);
            assert_eq!((v.limit, v.remaining, v.reset()), (3, left, 1_000_002));
        }
        assert!(!l.take(start + 1.4, aligned));
        let v = l.verdict(start + 1.4);
        assert_eq!((v.remaining, v.reset(), v.retry_after), (0, 1_000_002, 1));
        // At the reset second the whole allowance is back.
        assert!(l.take(1_000_002.0, aligned));
        let v = l.verdict(1_000_002.0);
        assert_eq!((v.remaining, v.reset()), (2, 1_000_004));
    }

    #[test]
    fn a_window_from_the_first_request_ends_off_the_second_and_its_reset_is_rounded_up() {
        let mut l = LimiterState::new(
            Limiter::FixedWindow {
                limit: 2,
                window_secs: 1,
            },
            999_999.0,
        );
        let rolling = WindowPhase::FromFirstRequest;
        let start = 1_000_000.3;
        assert!(l.take(start, rolling));
        assert!(l.take(start + 0.5, rolling));
        assert!(!l.take(start + 0.9, rolling));
        let v = l.verdict(start + 0.9);
        // Ends at .3 of the next second; announced as the one after.
        assert_eq!((v.remaining, v.reset()), (0, 1_000_002));
        // Back whole at the true end, before the announced reset.
        assert!(l.take(start + 1.05, rolling));
        let v = l.verdict(start + 1.05);
        assert_eq!((v.remaining, v.reset()), (1, 1_000_003));
    }

    #[test]
    fn a_token_bucket_resets_when_it_is_full_again() {
        let mut l = LimiterState::new(
            Limiter::TokenBucket(RateLimit {
                per_second: 4.0,
                burst: 4.0,
            }),
            1_000_000.0,
        );
        let any = WindowPhase::UnixAligned;
        let t = l.at + 10.3;
        for left in [3, 2, 1, 0] {
            assert!(l.take(t, any));
            assert_eq!(l.verdict(t).remaining, left);
        }
        // Empty: full again 1 s later; the reset is the next whole second.
        let v = l.verdict(t);
        assert_eq!(v.reset(), (t + 1.0).ceil() as u64);
        assert!(!l.take(t + 0.2, any));
        assert_eq!(l.verdict(t + 0.2).retry_after, 1);
        // A token per 0.25 s, not the whole bucket at the reset.
        assert!(l.take(t + 0.3, any));
        assert_eq!(l.verdict(t + 0.3).remaining, 0);
    }
}
