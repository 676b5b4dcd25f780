//! Auth0 log ids: 56 decimal digits, `900` then the event's UTC time as
//! `YYYYMMDDHHMMSS`, then more digits. Auth0 does not document the layout, so
//! it is used only to build start cursors and to read an approximate time;
//! correctness rests on `log_id` order and de-duplication alone.

use std::cmp::Ordering;

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

/// Orders log ids as Auth0 does for the ids it issues: equal-length decimal
/// ids compare as numbers, which is also their byte order. Ids of different
/// lengths that are all digits compare numerically; anything else bytewise.
pub fn compare(a: &str, b: &str) -> Ordering {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if numeric(a) && numeric(b) {
        let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

/// Whether `next` lies strictly after `cursor`: a page that does not move
/// the cursor must not be taken as progress.
pub fn advances(next: &str, cursor: &str) -> bool {
    compare(next, cursor) == Ordering::Greater
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

    #[test]
    fn order_is_numeric_for_digit_ids() {
        assert_eq!(compare("9", "10"), Ordering::Less);
        assert_eq!(compare("900200", "900100"), Ordering::Greater);
        assert_eq!(compare("abc", "abd"), Ordering::Less);
        assert!(advances("10", "9") && !advances("9", "9"));
    }
}
