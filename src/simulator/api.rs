//! The fake tenant's API: the token endpoint, `GET /api/v2/logs` with
//! checkpoint paging, `GET /api/v2/logs/{id}`, authorization, the rate
//! limiters and the fault dice. Decided under the state lock.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::http::{Answer, Request, parse_query};
use super::{Fault, TenantState};
use crate::auth0::log_id;

pub(super) fn route(st: &mut TenantState, req: &Request) -> Answer {
    st.stats.requests += 1;
    let mut answer = match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/oauth/token") => token(st, req),
        ("GET", "/api/v2/logs") => logs(st, req),
        ("GET", p) if p.starts_with("/api/v2/logs/") => {
            one_log(st, req, &p["/api/v2/logs/".len()..])
        }
        _ => Answer::error(404, "Not Found", "no such endpoint"),
    };
    answer.delay += st.latency;
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

fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Takes a token from the bucket; `Err` carries the 429 answer.
fn rate_limit(st: &mut TenantState) -> Result<Vec<(String, String)>, Answer> {
    let Some(rl) = st.rate_limit else {
        return Ok(Vec::new());
    };
    let now = Instant::now();
    st.bucket =
        (st.bucket + now.duration_since(st.bucket_at).as_secs_f64() * rl.per_second).min(rl.burst);
    st.bucket_at = now;
    let allowed = st.bucket >= 1.0;
    if allowed {
        st.bucket -= 1.0;
    }
    let to_full = ((rl.burst - st.bucket) / rl.per_second).ceil() as u64;
    let headers = vec![
        (
            "x-ratelimit-limit".to_string(),
            format!("{}", rl.burst as u64),
        ),
        (
            "x-ratelimit-remaining".to_string(),
            format!("{}", st.bucket.floor() as u64),
        ),
        (
            "x-ratelimit-reset".to_string(),
            format!("{}", epoch_secs() + to_full.max(1)),
        ),
    ];
    if allowed {
        Ok(headers)
    } else {
        st.stats.rate_limited += 1;
        let mut a = Answer::error(429, "Too Many Requests", "Global limit has been reached");
        let wait = ((1.0 - st.bucket) / rl.per_second).ceil().max(1.0) as u64;
        a.headers = headers;
        if st.send_retry_after {
            a.headers.push(("retry-after".into(), wait.to_string()));
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
                a.headers
                    .push(("x-ratelimit-reset".into(), (epoch_secs() + 1).to_string()));
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
