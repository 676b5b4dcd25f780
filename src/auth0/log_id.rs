//! Auth0 log ids: 56 decimal digits, `900` then the event's UTC time as
//! `YYYYMMDDHHMMSS`, then more digits. Auth0 does not document the layout, so
//! it is used only to build start cursors and to read an approximate time;
//! correctness rests on `log_id` order and de-duplication alone.

use chrono::{DateTime, NaiveDateTime, Utc};

const LEN: usize = 56;
const PREFIX: &str = "900";

/// A cursor that sorts before every real event logged at or after `t`.
pub fn synthetic(t: DateTime<Utc>) -> String {
    let mut id = format!("{PREFIX}{}", t.format("%Y%m%d%H%M%S"));
    id.extend(std::iter::repeat_n('0', LEN - id.len()));
    id
}

/// The start cursor for an empty archive: older than any retention window.
pub fn oldest_cursor() -> String {
    // 2000-01-01T00:00:00Z
    synthetic(DateTime::from_timestamp(946_684_800, 0).unwrap_or_default())
}

/// The time embedded in a conforming id, or `None` for ids that do not
/// follow the convention (the connector's own sample uses `"12345"`).
pub fn embedded_time(id: &str) -> Option<DateTime<Utc>> {
    if id.len() != LEN || !id.starts_with(PREFIX) || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDateTime::parse_from_str(&id[3..17], "%Y%m%d%H%M%S")
        .ok()
        .map(|n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn synthetic_ids_round_trip_their_time() {
        let t = Utc.with_ymd_and_hms(2026, 11, 1, 12, 30, 5).unwrap();
        let id = synthetic(t);
        assert_eq!(id.len(), 56);
        assert!(id.starts_with("90020261101123005"));
        assert_eq!(embedded_time(&id), Some(t));
        assert_eq!(embedded_time("12345"), None);
        assert!(oldest_cursor() < id);
    }
}
