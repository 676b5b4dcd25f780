//! The tenant's clock as its `Date` headers show it. Plans that depend on
//! "now" (how much history lies ahead, when a rate limit resets) use the
//! tenant's time, not ours: our clock may be off, and a reset is a time on
//! the server's clock.
//!
//! A `Date` header is whole seconds, stamped somewhere between our sending
//! the request and reading the answer. Each answer therefore bounds the
//! offset (server minus ours) to `[date - received, date + 1 - sent]`; the
//! bounds of all answers intersect, and narrow to about the round trip as
//! answers land at different fractions of a second. Within the bounds the
//! offset closest to zero is taken: clocks kept by NTP agree, and a tenant
//! whose answers do not rule that out is trusted to agree.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};

/// Bounds on the server's clock offset, learned from answers.
#[derive(Debug, Default, Clone, Copy)]
pub struct ServerClock {
    bounds: Option<(f64, f64)>,
}

impl ServerClock {
    /// Learns from one answer's `Date` header; `sent` and `received` are
    /// our Unix times around the exchange.
    pub fn observe(&mut self, date: Option<&str>, sent: f64, received: f64) {
        let Some(date) = date.and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok()) else {
            return;
        };
        let stamped = date.timestamp() as f64;
        let (lo, hi) = (stamped - received, stamped + 1.0 - sent);
        self.bounds = match self.bounds {
            Some((l, h)) if l.max(lo) <= h.min(hi) => Some((l.max(lo), h.min(hi))),
            // Disjoint: one of the clocks was set meanwhile; start over.
            _ => Some((lo, hi)),
        };
    }

    /// Seconds the server's clock is ahead of ours (negative: behind), if
    /// any answer said.
    pub fn offset(&self) -> Option<f64> {
        self.bounds.map(|(lo, hi)| 0.0_f64.clamp(lo, hi))
    }

    /// Now on the server's clock, as Unix seconds: ours where nothing is
    /// known.
    pub fn epoch_now(&self) -> f64 {
        epoch_now() + self.offset().unwrap_or(0.0)
    }

    /// The earliest the server's clock may read now, as Unix seconds (ours
    /// where nothing is known): a reset read against it is never early,
    /// however little the answers have narrowed the offset yet.
    pub fn earliest_epoch_now(&self) -> f64 {
        epoch_now() + self.bounds.map_or(0.0, |(lo, _)| lo)
    }

    /// Now on the server's clock, if any answer carried a `Date`.
    pub fn now(&self) -> Option<DateTime<Utc>> {
        self.offset()?;
        DateTime::from_timestamp_micros((self.epoch_now() * 1e6) as i64)
    }
}

/// Our clock, as Unix seconds.
pub fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_that_agrees_with_ours_is_taken_as_ours() {
        let mut c = ServerClock::default();
        c.observe(
            Some("Mon, 07 Dec 2026 12:00:00 GMT"),
            1_796_644_800.2,
            1_796_644_800.3,
        );
        assert_eq!(c.offset(), Some(0.0));
    }

    #[test]
    fn answers_at_different_fractions_narrow_a_skewed_clock() {
        // The server runs 2.6 s behind; answers take 50 ms.
        let skew = -2.6;
        let mut c = ServerClock::default();
        for i in 0..40 {
            let sent = 1_796_644_800.0 + i as f64 * 0.37;
            let stamped = (sent + 0.025 + skew).floor();
            let date = DateTime::from_timestamp(stamped as i64, 0).unwrap();
            let header = date.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            c.observe(Some(&header), sent, sent + 0.05);
        }
        let off = c.offset().unwrap();
        assert!((off - skew).abs() < 0.06, "{off}");
    }

    #[test]
    fn the_earliest_reading_is_never_after_the_server_clock() {
        // The server runs 2.4 s behind; one answer leaves a second of doubt.
        let mut c = ServerClock::default();
        let sent = epoch_now();
        let stamped = (sent + 0.01 - 2.4).floor();
        let date = DateTime::from_timestamp(stamped as i64, 0).unwrap();
        c.observe(
            Some(&date.format("%a, %d %b %Y %H:%M:%S GMT").to_string()),
            sent,
            sent + 0.02,
        );
        let server_now = epoch_now() - 2.4;
        assert!(c.earliest_epoch_now() <= server_now + 1e-3);
        assert!(c.earliest_epoch_now() > server_now - 1.1);
    }

    #[test]
    fn no_date_tells_nothing() {
        let mut c = ServerClock::default();
        c.observe(None, 1.0, 2.0);
        c.observe(Some("yesterday"), 1.0, 2.0);
        assert_eq!(c.offset(), None);
        assert!(c.now().is_none());
    }
}
