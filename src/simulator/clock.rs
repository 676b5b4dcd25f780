//! The fake tenant's wall clock: ours moved by an offset the test chooses,
//! so a test can put the tenant on the day its fixtures were made (and so
//! pass on any date) or a few seconds off ours (clock skew).

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};

/// Real time plus a fixed offset, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TenantClock {
    offset_secs: f64,
}

impl TenantClock {
    /// A clock that reads `now` at this instant and runs on from there.
    pub fn reading(now: DateTime<Utc>) -> Self {
        let real = real_epoch();
        let wanted = now.timestamp_micros() as f64 / 1e6;
        TenantClock {
            offset_secs: wanted - real,
        }
    }

    /// A clock `offset_secs` ahead of ours (behind when negative).
    pub fn skewed(offset_secs: f64) -> Self {
        TenantClock { offset_secs }
    }

    /// Now on this clock, as Unix seconds.
    pub fn epoch(&self) -> f64 {
        real_epoch() + self.offset_secs
    }

    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros((self.epoch() * 1e6) as i64).unwrap_or_default()
    }

    /// The `Date` header: IMF-fixdate, whole seconds.
    pub fn http_date(&self) -> String {
        self.now().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
    }
}

fn real_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
