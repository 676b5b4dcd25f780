//! Rate-limit pacing. Auth0 answers every Management API call with
//! `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (Unix
//! time in seconds when the bucket refills). The pacer spreads the remaining
//! allowance over the time to the reset instead of bursting into 429s, and
//! after a 429 waits for `Retry-After` or the reset time, plus jitter.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// Longest a single 429 makes us wait; a reset further out is treated as this.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Wait after a 429 that says nothing about when to come back.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);

/// What the rate-limit headers of one answer said.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateLimit {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// Time left until the bucket refills.
    pub reset_in: Option<Duration>,
    pub retry_after: Option<Duration>,
}

impl RateLimit {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        RateLimit {
            limit: num("x-ratelimit-limit"),
            remaining: num("x-ratelimit-remaining"),
            reset_in: num("x-ratelimit-reset")
                .map(|epoch| Duration::from_secs(epoch).saturating_sub(now)),
            retry_after: num("retry-after").map(Duration::from_secs),
        }
    }
}

/// Decides when each request may leave. Requests reserve slots, so several
/// workers sharing one pacer stay within the allowance together.
#[derive(Debug)]
pub struct Pacer {
    next_slot: Instant,
    /// Spacing between requests.
    gap: Duration,
    /// Recent (time, remaining) readings, to estimate the refill rate.
    readings: VecDeque<(Instant, u64)>,
    /// Requests sent whose answers have not arrived: tokens already spent
    /// that the last `remaining` does not show yet.
    in_flight: u64,
}

/// Readings kept for the refill-rate estimate.
const READINGS: usize = 24;
/// Pace a little under the estimated refill rate: its readings are
/// whole tokens, so it is off by a few percent either way.
const RATE_MARGIN: f64 = 1.06;

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            next_slot: Instant::now(),
            gap: Duration::ZERO,
            readings: VecDeque::with_capacity(READINGS),
            in_flight: 0,
        }
    }
}

impl Pacer {
    /// Reserves the next slot and returns when it starts.
    pub fn reserve(&mut self) -> Instant {
        let slot = self.next_slot.max(Instant::now());
        self.next_slot = slot + self.gap;
        self.in_flight += 1;
        slot
    }

    /// An answer (or a failure) arrived for a reserved request.
    pub fn finished(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Learns from a non-429 answer. While the bucket holds more than a
    /// few tokens, requests go as fast as they come; near empty, they are
    /// spaced at the bucket's refill rate, estimated from how `remaining`
    /// moved across recent answers (each answer spent one token). Without
    /// an estimate yet, what is left is spread until the reset time.
    pub fn observe(&mut self, rl: &RateLimit) {
        let (Some(remaining), Some(reset_in)) = (rl.remaining, rl.reset_in) else {
            return;
        };
        let now = Instant::now();
        if self.readings.len() == READINGS {
            self.readings.pop_front();
        }
        self.readings.push_back((now, remaining));
        let headroom = rl.limit.map_or(2, |l| (l / 4).max(2)) + self.in_flight;
        match self.refill_rate() {
            Some(rate) => {
                let spacing = Duration::from_secs_f64(RATE_MARGIN / rate);
                self.gap = if remaining > headroom {
                    Duration::ZERO
                } else {
                    spacing
                };
                if remaining == 0 {
                    self.next_slot = self.next_slot.max(now + spacing);
                }
            }
            None => {
                // Reset times have one-second resolution; never trust
                // "refilled now".
                let window = reset_in.max(Duration::from_millis(100));
                if remaining == 0 {
                    self.next_slot = self.next_slot.max(now + window + jitter(50));
                }
                self.gap = window / (remaining as u32 + 1);
            }
        }
    }

    /// Tokens per second the bucket refills at, from the readings: between
    /// the first and the last, `n` answers spent `n` tokens and `remaining`
    /// moved by `last - first`, so `n + last - first` tokens were refilled.
    fn refill_rate(&self) -> Option<f64> {
        let (&(t0, r0), &(t1, r1)) = (self.readings.front()?, self.readings.back()?);
        let n = self.readings.len() as f64 - 1.0;
        let dt = t1.duration_since(t0).as_secs_f64();
        if n < 6.0 || dt < 0.3 {
            return None;
        }
        let refilled = n + r1 as f64 - r0 as f64;
        (refilled > 0.0).then(|| refilled / dt)
    }

    /// Learns from a 429: nothing may leave before the server said so.
    /// Returns how long that is.
    pub fn rate_limited(&mut self, rl: &RateLimit) -> Duration {
        let wait = rl
            .retry_after
            .or(rl.reset_in.filter(|d| !d.is_zero()))
            .unwrap_or(DEFAULT_RATE_LIMIT_WAIT)
            .clamp(Duration::from_millis(200), MAX_RATE_LIMIT_WAIT)
            + jitter(250);
        self.next_slot = self.next_slot.max(Instant::now() + wait);
        wait
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
        let rl = RateLimit::from_headers(&h);
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
        let rl = RateLimit {
            retry_after: Some(Duration::from_secs(2)),
            ..Default::default()
        };
        let w = p.rate_limited(&rl);
        assert!(w >= Duration::from_secs(2) && w < Duration::from_secs(3));
    }
}
