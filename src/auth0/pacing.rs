//! Rate-limit pacing, read from Auth0's headers: `x-ratelimit-limit`,
//! `x-ratelimit-remaining` and `x-ratelimit-reset` (a Unix time in whole
//! seconds).
//!
//! Why it works the way it does:
//!
//! - **The headers are the only contract.** Auth0 documents token buckets,
//!   but proxies, other deployments and older policies count requests in
//!   fixed windows, and one answer's headers do not say which it is.
//!   Whatever the limiter, `remaining` requests may be spent before `reset`
//!   and no more: the one rule true of both. The earlier pacer estimated a
//!   refill rate instead and went at full speed while the allowance looked
//!   large. That suits a bucket, which refills as it drains, but a fixed
//!   window gives nothing back until its reset: after emptying one, pacing
//!   at the estimated rate was still too fast, and 10-15% of requests were
//!   answered 429, each costing a wait to the reset.
//! - **What remains is spread evenly until the reset**, the reset itself
//!   being the slot after the last one: the next request leaves
//!   `(reset - last) / (allowance + 1)` after the previous. A fixed window
//!   is then spent whole, and not beyond, by its reset. In a bucket the
//!   reset is when it is full again, so the same rule settles by itself
//!   where spending equals refilling: a fuller bucket is closer to full
//!   (earlier reset, more to spend: faster), an emptier one further (later
//!   reset, less to spend: slower). It settles with tokens to spare, not
//!   at zero: the room a burst of another client sharing the limit needs.
//! - **Parallel workers share one pacer and one allowance.** The allowance
//!   is the newest answer's `remaining` less the requests sent after the
//!   one it answered (the server had not counted them yet); an answer that
//!   overtook a newer one is ignored for it. Each worker asks again when
//!   its wait is over, so answers arriving meanwhile decide, not a slot
//!   handed out earlier.
//! - **A reset is not permission to burst.** The limit says how many
//!   requests a new window or a full bucket holds, not over how long they
//!   may go: all at once can trip a bucket whose burst is smaller. After a
//!   reset one request goes alone, a short margin after it (the clocks
//!   disagree a little, and the reset is a whole second); its answer gives
//!   the new allowance and reset, spread like any other. The same holds
//!   before the first answer, when it is not even known whether the server
//!   limits.
//! - **Other clients spending the same budget** make `remaining` fall
//!   faster than our requests explain, and each answer re-reads it, so the
//!   spacing widens by itself; in a bucket that is enough. In a fixed
//!   window it is not: spreading what remains down to zero by the reset
//!   means whoever comes last in the window is refused, and with an evenly
//!   paced other client that is often them. So their rate is estimated
//!   from pairs of answers with the same reset (one window, whatever the
//!   clocks say; a bucket's refill makes it negative, so ignored), and
//!   what they will spend before the reset is left to them. A client whose
//!   requests are all refused leaves no trace in our answers, so this is
//!   no guarantee.
//! - **A bucket's refill before its reset is not counted on.** Within one
//!   reset period a fixed window shows none, a bucket some, but with
//!   `remaining` floored to whole tokens a small bucket shows none either,
//!   and crediting the refill that was seen let us take the tokens another
//!   client was about to use. The cost: in a bucket of burst 2, a
//!   `remaining` of 0 is waited out to the reset, about half the rate.
//! - **A 429 still happens** (another client, clock skew): nothing leaves
//!   before `Retry-After` or the reset, plus jitter so that separate
//!   processes told the same time do not return in lockstep.

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

/// Longest a single 429 makes us wait; a reset further out is treated as this.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Wait after a 429 that says nothing about when to come back.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);
/// The first request after a reset leaves this long after it: the reset is
/// a whole second of the server's clock, compared with ours.
const RESET_MARGIN: Duration = Duration::from_millis(30);
/// How often a request held back until the answer to the first request
/// after a reset asks again.
const PROBE_POLL: Duration = Duration::from_millis(5);
/// How quickly the estimate of other clients' spending forgets (seconds).
const OTHERS_MEMORY: f64 = 5.0;

/// What the rate-limit headers of one answer said.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateLimit {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// Time left until the reset (a bucket full again, a window's end).
    pub reset_in: Option<Duration>,
    /// The reset as sent: Unix seconds.
    pub reset: Option<u64>,
    pub retry_after: Option<Duration>,
}

impl RateLimit {
    /// Reads the headers of an answer; `server_now` is now on the server's
    /// clock (Unix seconds), which its reset is a time of.
    pub fn from_headers(headers: &HeaderMap, server_now: f64) -> Self {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let now = Duration::from_secs_f64(server_now.max(0.0));
        let reset = num("x-ratelimit-reset");
        RateLimit {
            limit: num("x-ratelimit-limit"),
            remaining: num("x-ratelimit-remaining"),
            reset_in: reset.map(|epoch| Duration::from_secs(epoch).saturating_sub(now)),
            reset,
            retry_after: num("retry-after").map(Duration::from_secs),
        }
    }
}

/// A request the pacer let go. Hand it back with the answer (`observe`,
/// `rate_limited`) or the failure (`failed`).
#[derive(Debug)]
#[must_use = "a ticket must be handed back to the pacer"]
pub struct Ticket {
    seq: u64,
    sent_at: Instant,
}

/// The newest word from the server: after counting request `seq` (sent at
/// `sent_at`), it had `remaining` requests left until `reset_at`.
#[derive(Debug, Clone, Copy)]
struct Reading {
    seq: u64,
    sent_at: Instant,
    remaining: u64,
    reset_at: Instant,
    /// The reset as sent (Unix seconds), when known: equal values mean one
    /// reset period.
    reset: Option<u64>,
}

/// Decides when each request may leave. One pacer serves every worker of a
/// client, so together they stay within the allowance.
#[derive(Debug, Default)]
pub struct Pacer {
    /// Requests let go so far; the last one's ticket is this number.
    sent: u64,
    last_sent: Option<Instant>,
    /// Requests let go whose answers have not arrived.
    in_flight: u64,
    /// `None` until an answer carries rate-limit headers: until then the
    /// server is not known to limit anything.
    reading: Option<Reading>,
    /// Nothing leaves before this (a 429 said so).
    blocked_until: Option<Instant>,
    /// Whether any answer has arrived: until one has, it is not known
    /// whether the server limits at all, and one request goes at a time.
    heard: bool,
    /// The last answer that counts for the estimate of other clients.
    sample: Option<Reading>,
    /// What `remaining` fell by between answers within one reset period
    /// beyond our own requests (other clients' spending, less any refill),
    /// and over how many seconds, exponentially forgotten.
    others_spent: f64,
    others_secs: f64,
}

impl Pacer {
    /// Lets a request go now, or says when to ask again.
    pub fn request(&mut self, now: Instant) -> Result<Ticket, Instant> {
        if let Some(until) = self.blocked_until.filter(|&u| now < u) {
            return Err(until);
        }
        if let Some(r) = self.reading {
            if now < r.reset_at {
                // Requests sent after the one this reading answered are
                // not counted in it yet, and other clients will spend some
                // more before the reset.
                let others = self.others_rate()
                    * r.reset_at
                        .saturating_duration_since(r.sent_at)
                        .as_secs_f64();
                let allowance = r.remaining as f64 - (self.sent - r.seq) as f64 - others;
                if allowance < 1.0 {
                    return Err(r.reset_at + RESET_MARGIN);
                }
                if let Some(last) = self.last_sent {
                    let share = r.reset_at.saturating_duration_since(last).as_secs_f64()
                        / (allowance + 1.0);
                    let next = last + Duration::from_secs_f64(share);
                    if now < next {
                        return Err(next);
                    }
                }
            } else if now < r.reset_at + RESET_MARGIN {
                return Err(r.reset_at + RESET_MARGIN);
            } else if self.in_flight > 0 && self.last_sent.is_some_and(|l| l >= r.reset_at) {
                // The first request after the reset is out: its answer
                // tells what the new allowance is.
                return Err(now + PROBE_POLL);
            }
        } else if !self.heard && self.in_flight > 0 {
            return Err(now + PROBE_POLL);
        }
        self.sent += 1;
        self.in_flight += 1;
        self.last_sent = Some(now);
        Ok(Ticket {
            seq: self.sent,
            sent_at: now,
        })
    }

    /// The request got an answer other than 429, read at `now`.
    pub fn observe(&mut self, ticket: Ticket, rl: &RateLimit, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.heard = true;
        if let Some(r) = self.learn(&ticket, rl.remaining, rl, now) {
            self.estimate_others(r);
        }
    }

    /// Requests per second other clients spend, as far as the answers show
    /// (zero when a bucket's refill outweighs them).
    fn others_rate(&self) -> f64 {
        if self.others_secs < 0.2 {
            return 0.0;
        }
        (self.others_spent / self.others_secs).max(0.0)
    }

    /// Between two answers within one reset period, `remaining` fell by our
    /// requests sent in between and other clients', less any refill. (Two
    /// answers with the same reset are in one window of a fixed window,
    /// whatever the clocks say.)
    fn estimate_others(&mut self, r: Reading) {
        if let Some(prev) = self.sample.filter(|p| p.seq < r.seq)
            && prev.reset.is_some()
            && prev.reset == r.reset
        {
            let ours = (r.seq - prev.seq) as f64;
            let theirs = prev.remaining as f64 - r.remaining as f64 - ours;
            let secs = r
                .sent_at
                .saturating_duration_since(prev.sent_at)
                .as_secs_f64();
            let keep = (-secs / OTHERS_MEMORY).exp();
            self.others_spent = self.others_spent * keep + theirs;
            self.others_secs = self.others_secs * keep + secs;
        }
        if self.sample.is_none_or(|p| p.seq < r.seq) {
            self.sample = Some(r);
        }
    }

    /// The request got no answer (network failure, timeout).
    pub fn failed(&mut self, ticket: Ticket) {
        let _ = ticket;
        self.in_flight = self.in_flight.saturating_sub(1);
        self.heard = true;
    }

    /// The request was answered 429 (read at `now`): nothing may leave
    /// before the server said so. Returns how long that is.
    pub fn rate_limited(&mut self, ticket: Ticket, rl: &RateLimit, now: Instant) -> Duration {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.heard = true;
        // Refused means nothing is left, whatever `remaining` says; and the
        // refused request spent nothing, so it breaks the estimate's pairs.
        self.learn(&ticket, Some(0), rl, now);
        self.sample = None;
        let wait = rl
            .retry_after
            .or(rl.reset_in.filter(|d| !d.is_zero()))
            .unwrap_or(DEFAULT_RATE_LIMIT_WAIT)
            .clamp(Duration::from_millis(200), MAX_RATE_LIMIT_WAIT)
            + jitter(250);
        let until = now + wait;
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
        wait
    }

    /// Returns what an answer said, if it said enough, and keeps it if it
    /// answers the most recently sent request heard from: answers overtake
    /// each other, and an older one would not show requests spent since.
    fn learn(
        &mut self,
        ticket: &Ticket,
        remaining: Option<u64>,
        rl: &RateLimit,
        now: Instant,
    ) -> Option<Reading> {
        let (Some(remaining), Some(reset_in)) = (remaining, rl.reset_in) else {
            return None;
        };
        let r = Reading {
            seq: ticket.seq,
            sent_at: ticket.sent_at,
            remaining,
            reset_at: now + reset_in,
            reset: rl.reset,
        };
        if self.reading.is_none_or(|newest| newest.seq < r.seq) {
            self.reading = Some(r);
        }
        Some(r)
    }
}

/// A random delay in `0..max_ms` milliseconds, so that several clients (or
/// slices) that were told the same reset time do not return in lockstep.
pub fn jitter(max_ms: u64) -> Duration {
    Duration::from_millis(rand::random_range(0..max_ms.max(1)))
}

/// Capped exponential backoff with jitter for attempt `n` (1-based): a delay
/// drawn from the upper half of `first * 2^(n-1)`, capped at `max`.
pub fn backoff(n: u32, first: Duration, max: Duration) -> Duration {
    let exp = first.saturating_mul(1u32 << (n.saturating_sub(1)).min(20));
    let capped = exp.min(max);
    let half = capped / 2;
    half + Duration::from_millis(rand::random_range(0..=half.as_millis() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn headers_are_read_with_reset_as_epoch_seconds() {
        let mut h = HeaderMap::new();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        h.insert("x-ratelimit-limit", HeaderValue::from_static("10"));
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&(now + 3).to_string()).unwrap(),
        );
        let rl = RateLimit::from_headers(&h, now as f64);
        assert_eq!(rl.limit, Some(10));
        assert_eq!(rl.remaining, Some(0));
        let reset = rl.reset_in.unwrap();
        assert!(
            reset > Duration::from_secs(1) && reset <= Duration::from_secs(3),
            "{reset:?}"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        assert!(backoff(1, first, max) <= first);
        assert!(backoff(3, first, max) >= Duration::from_millis(200));
        assert!(backoff(30, first, max) <= max);
    }

    #[test]
    fn a_429_waits_for_retry_after() {
        let mut p = Pacer::default();
        let now = Instant::now();
        let ticket = p.request(now).unwrap();
        let rl = RateLimit {
            retry_after: Some(Duration::from_secs(2)),
            ..Default::default()
        };
        let w = p.rate_limited(ticket, &rl, now);
        assert!(w >= Duration::from_secs(2) && w < Duration::from_secs(3));
        let next = p.request(now).unwrap_err();
        assert_eq!(next, now + w);
    }

    #[test]
    fn one_request_goes_first_then_without_headers_none_is_held() {
        let mut p = Pacer::default();
        let now = Instant::now();
        let first = p.request(now).unwrap();
        assert!(p.request(now).is_err(), "nothing is known before an answer");
        p.observe(first, &RateLimit::default(), now);
        let tickets: Vec<Ticket> = (0..8).map(|_| p.request(now).unwrap()).collect();
        for t in tickets {
            p.observe(t, &RateLimit::default(), now);
        }
        assert!(p.request(now).is_ok());
    }

    /// A limiter on a virtual clock (seconds since an epoch that starts on a
    /// whole second), answering as the simulator does.
    enum Model {
        Window {
            limit: u64,
            secs: u64,
            index: u64,
            used: u64,
        },
        Bucket {
            rate: f64,
            burst: f64,
            tokens: f64,
            at: f64,
        },
    }

    impl Model {
        fn window(limit: u64, secs: u64) -> Self {
            Model::Window {
                limit,
                secs,
                index: u64::MAX,
                used: 0,
            }
        }
        fn bucket(rate: f64, burst: f64) -> Self {
            Model::Bucket {
                rate,
                burst,
                tokens: burst,
                at: 0.0,
            }
        }
        /// Counts a request at `t`; returns whether it is allowed and the
        /// (remaining, reset second) its answer carries.
        fn take(&mut self, t: f64) -> (bool, u64, u64) {
            match self {
                Model::Window {
                    limit,
                    secs,
                    index,
                    used,
                } => {
                    let i = t as u64 / *secs;
                    if i != *index {
                        (*index, *used) = (i, 0);
                    }
                    let ok = *used < *limit;
                    *used += ok as u64;
                    (ok, *limit - *used, (i + 1) * *secs)
                }
                Model::Bucket {
                    rate,
                    burst,
                    tokens,
                    at,
                } => {
                    *tokens = (*tokens + (t - *at) * *rate).min(*burst);
                    *at = t;
                    let ok = *tokens >= 1.0;
                    *tokens -= ok as u8 as f64;
                    let full_at = t + (*burst - *tokens) / *rate;
                    (ok, tokens.floor() as u64, full_at.ceil() as u64)
                }
            }
        }
    }

    #[derive(Debug, Default)]
    struct Outcome {
        ours: u64,
        refused: u64,
        other: u64,
        other_refused: u64,
        /// Most of our requests the server counted within one second.
        busiest_second: usize,
    }

    /// `workers` requests in flight at most through one pacer, each answer
    /// `latency` seconds after the server counted it, for `secs` seconds
    /// from `start`; another client sends `other_rps` evenly meanwhile.
    fn drive(
        mut model: Model,
        workers: usize,
        latency: f64,
        other_rps: f64,
        start: f64,
        secs: f64,
    ) -> Outcome {
        enum Worker {
            Asks(f64),
            Waits(Ticket, f64, bool, u64, u64),
        }
        let origin = Instant::now();
        let at = |t: f64| origin + Duration::from_secs_f64(t);
        let mut p = Pacer::default();
        let mut out = Outcome::default();
        let mut counted = Vec::new();
        let mut ws: Vec<Worker> = (0..workers).map(|_| Worker::Asks(start)).collect();
        let mut other_next = start;
        for _ in 0..1_000_000 {
            let (i, t) = ws
                .iter()
                .map(|w| match w {
                    Worker::Asks(t) | Worker::Waits(_, t, ..) => *t,
                })
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap();
            if t > start + secs {
                break;
            }
            while other_rps > 0.0 && other_next <= t {
                out.other += 1;
                out.other_refused += !model.take(other_next).0 as u64;
                other_next += 1.0 / other_rps;
            }
            ws[i] = match std::mem::replace(&mut ws[i], Worker::Asks(f64::INFINITY)) {
                Worker::Asks(_) => match p.request(at(t)) {
                    Ok(ticket) => {
                        let (ok, remaining, reset) = model.take(t);
                        if ok {
                            counted.push(t);
                        }
                        Worker::Waits(ticket, t + latency, ok, remaining, reset)
                    }
                    Err(next) => {
                        let next = next.duration_since(origin).as_secs_f64();
                        assert!(next > t, "the pacer asks to be asked again now");
                        Worker::Asks(next)
                    }
                },
                Worker::Waits(ticket, _, ok, remaining, reset) => {
                    let rl = RateLimit {
                        limit: Some(10),
                        remaining: Some(remaining),
                        reset_in: Some(Duration::from_secs_f64((reset as f64 - t).max(0.0))),
                        reset: Some(reset),
                        retry_after: None,
                    };
                    if ok {
                        out.ours += 1;
                        p.observe(ticket, &rl, at(t));
                    } else {
                        out.refused += 1;
                        p.rate_limited(ticket, &rl, at(t));
                    }
                    Worker::Asks(t)
                }
            };
        }
        out.busiest_second = counted
            .iter()
            .enumerate()
            .map(|(i, &t)| counted[i..].iter().take_while(|&&u| u < t + 1.0).count())
            .max()
            .unwrap_or(0);
        out
    }

    #[test]
    fn a_fixed_window_is_spent_whole_without_a_429() {
        let o = drive(Model::window(10, 1), 4, 0.05, 0.0, 0.37, 60.0);
        assert_eq!(o.refused, 0, "{o:?}");
        assert!(o.ours >= 570, "{o:?}");
    }

    #[test]
    fn a_token_bucket_is_spent_at_its_refill_rate_without_a_429() {
        let o = drive(Model::bucket(10.0, 10.0), 4, 0.05, 0.0, 0.37, 60.0);
        assert_eq!(o.refused, 0, "{o:?}");
        assert!(o.ours >= 570, "{o:?}");
    }

    #[test]
    fn a_long_window_is_spread_not_burst_at_its_reset() {
        // 600 per minute: the same average, but all of it at each reset.
        let o = drive(Model::window(600, 60), 4, 0.05, 0.0, 0.37, 180.0);
        assert_eq!(o.refused, 0, "{o:?}");
        assert!(o.ours >= 1700, "{o:?}");
        assert!(o.busiest_second <= 15, "{o:?}");
    }

    #[test]
    fn another_client_keeps_its_share_of_a_bucket() {
        let o = drive(Model::bucket(10.0, 10.0), 4, 0.05, 3.0, 0.37, 60.0);
        assert_eq!(o.refused + o.other_refused, 0, "{o:?}");
        assert!(o.ours >= 7 * 60 * 9 / 10, "{o:?}");
    }

    #[test]
    fn another_client_keeps_its_share_of_a_fixed_window() {
        // Its share is only estimated, from the answers between its
        // requests: how well depends on where they fall in the window.
        for start in [0.05, 0.37, 0.61, 0.8] {
            let o = drive(Model::window(10, 1), 4, 0.05, 3.0, start, 60.0);
            assert!(o.refused + o.other_refused <= 3, "{start}: {o:?}");
            assert!(o.ours >= 7 * 60 * 8 / 10, "{start}: {o:?}");
        }
    }

    #[test]
    fn a_small_bucket_is_paced_without_a_429() {
        // Burst 2: a floored `remaining` of 0 is waited out to the reset
        // (when the bucket is full), so this runs at about half the rate.
        for workers in [1, 4] {
            let o = drive(Model::bucket(2.0, 2.0), workers, 0.05, 0.0, 0.37, 60.0);
            assert_eq!(o.refused, 0, "{workers}: {o:?}");
            assert!(o.ours >= 60, "{workers}: {o:?}");
        }
    }
}
