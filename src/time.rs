//! Time in one place: the date grammar every flag and report parameter
//! accepts, the stored text form of an instant, and the clock.
//!
//! Stored instants are UTC with milliseconds, `2026-11-20T10:00:00.123Z`,
//! the form Auth0 sends; `ts` columns hold the same instant as epoch
//! milliseconds.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Milliseconds in a UTC day.
pub const DAY_MS: i64 = 86_400_000;

/// The accepted forms, for error messages.
const GRAMMAR: &str = "use YYYY-MM-DD or RFC 3339 (2026-10-01T12:00:00Z)";

/// Parses a time given by a user: `YYYY-MM-DD` (midnight UTC, or the next
/// midnight when `end_of_day`, so a bare upper bound includes its day), RFC
/// 3339, or a date and time without zone (taken as UTC). Returns epoch ms.
pub fn parse_ms(v: &str, end_of_day: bool) -> Result<i64, String> {
    let v = v.trim();
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let d = if end_of_day {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_millis());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc).timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, fmt) {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    Err(format!("'{v}' is not a time; {GRAMMAR}"))
}

/// A `since`/`until` pair given by a user, as epoch ms (a bare `until`
/// date includes its day). An empty range is refused naming both ends, the
/// same way for every command that takes one: it is a mistake (swapped
/// dates), and an empty answer would hide it.
pub fn parse_range(
    since: Option<&str>,
    until: Option<&str>,
    names: (&str, &str),
) -> Result<(Option<i64>, Option<i64>), String> {
    let lower = since
        .map(|v| parse_ms(v, false).map_err(|e| format!("{}: {e}", names.0)))
        .transpose()?;
    let upper = until
        .map(|v| parse_ms(v, true).map_err(|e| format!("{}: {e}", names.1)))
        .transpose()?;
    if let (Some(a), Some(b)) = (lower, upper)
        && a >= b
    {
        return Err(format!(
            "{} {} is not before {} {}: the range is empty (swapped?)",
            names.0,
            since.unwrap_or_default().trim(),
            names.1,
            until.unwrap_or_default().trim()
        ));
    }
    Ok((lower, upper))
}

/// `parse_ms` for a lower bound, as a `DateTime`.
pub fn parse_instant(v: &str) -> Result<DateTime<Utc>, String> {
    let ms = parse_ms(v, false)?;
    DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("'{v}' is out of range; {GRAMMAR}"))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` of an instant: the stored form.
pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The stored form of epoch milliseconds.
pub fn epoch_iso(ms: i64) -> Option<String> {
    DateTime::from_timestamp_millis(ms).map(iso)
}

/// `YYYY-MM-DD` (UTC) of epoch milliseconds.
pub fn epoch_day(ms: i64) -> Option<String> {
    DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d").to_string())
}

/// Wall-clock time in the stored form, for bookkeeping columns and logs.
pub fn now_iso() -> String {
    iso(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_dates_are_midnight_utc_and_upper_bounds_include_the_day() {
        let day = parse_ms("2026-11-20", false).unwrap();
        assert_eq!(epoch_iso(day).unwrap(), "2026-11-20T00:00:00.000Z");
        assert_eq!(parse_ms("2026-11-20", true).unwrap() - day, DAY_MS);
        assert_eq!(epoch_day(day + DAY_MS - 1).unwrap(), "2026-11-20");
    }

    #[test]
    fn zoned_and_unzoned_times_are_utc() {
        assert_eq!(
            parse_ms("2026-11-20T12:00:00+02:00", false).unwrap(),
            parse_ms("2026-11-20 10:00:00", false).unwrap()
        );
        assert_eq!(
            parse_ms("2026-11-20T10:00", false).unwrap(),
            parse_instant("2026-11-20T10:00:00Z")
                .unwrap()
                .timestamp_millis()
        );
        assert!(
            parse_ms("yesterday", false)
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
    }
}
