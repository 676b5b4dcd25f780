//! Normalization: an Auth0 log event as sent (`wire`) becomes one `events`
//! row (`EventRow`), whose columns `columns` lists once for every consumer.
//! Parsing borrows from the response body; every field is lenient about its
//! JSON type (Auth0's schema is open and has known type traps), so one odd
//! field never costs the event. `raw` is the event's bytes exactly as sent.

pub mod columns;
pub mod surrogates;
mod wire;

use serde_json::value::RawValue;

use crate::auth0::log_id;
use wire::{Text, WireEvent};

/// One normalized row of the `events` table (without `tenant`, which the
/// store adds). Text columns are spans: most point into `raw` itself (a
/// string field without escapes is its own bytes), the rest (unescaped
/// strings, joined scopes, canonicalized dates) follow `raw` in the same
/// buffer. One allocation per event instead of one per column.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// `raw`, then any rewritten text.
    buf: String,
    raw_len: usize,
    log_id: Span,
    text: [Option<Span>; FIELD_COUNT],
    pub ts: Option<i64>,
    pub is_mobile: Option<bool>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    start: u32,
    len: u32,
}

use columns::FIELD_COUNT;
pub use columns::{COLUMNS, Column, Field, Kind, Source, event_columns};

impl EventRow {
    pub fn log_id(&self) -> &str {
        self.slice(self.log_id)
    }

    /// The event exactly as the tenant sent it.
    pub fn raw(&self) -> &str {
        &self.buf[..self.raw_len]
    }

    /// A text column; `None` for absent, null and empty values.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.text[field as usize].map(|s| self.slice(s))
    }

    /// The event time as stored (canonical UTC when it could be parsed).
    pub fn date(&self) -> Option<&str> {
        self.get(Field::Date)
    }

    fn slice(&self, s: Span) -> &str {
        &self.buf[s.start as usize..(s.start + s.len) as usize]
    }
}

/// Builds an `EventRow` over a copy of `raw`.
struct RowBuilder<'a> {
    raw: &'a str,
    buf: String,
}

impl<'a> RowBuilder<'a> {
    fn new(raw: &'a str) -> Self {
        let mut buf = String::with_capacity(raw.len() + 64);
        buf.push_str(raw);
        RowBuilder { raw, buf }
    }

    /// Where `text` lies: inside `raw` when it was borrowed from it,
    /// otherwise appended. Empty text is no value.
    fn span(&mut self, text: &str) -> Option<Span> {
        if text.is_empty() {
            return None;
        }
        let base = self.raw.as_ptr() as usize;
        let at = text.as_ptr() as usize;
        let start = if at >= base && at + text.len() <= base + self.raw.len() {
            at - base
        } else {
            let start = self.buf.len();
            self.buf.push_str(text);
            start
        };
        Some(Span {
            start: start as u32,
            len: text.len() as u32,
        })
    }

    fn text(&mut self, t: Option<Text<'_>>) -> Option<Span> {
        t.and_then(|t| t.0).and_then(|v| self.span(&v))
    }
}

/// An item of a page that cannot be archived under a `log_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    pub reason: String,
    pub raw: String,
}

/// A parsed page of `GET /api/v2/logs`.
#[derive(Debug, Default)]
pub struct Page {
    pub events: Vec<EventRow>,
    pub rejects: Vec<Reject>,
}

impl Page {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.rejects.is_empty()
    }

    /// The next checkpoint: the greatest `log_id` of the page. Order inside
    /// a page is never trusted.
    pub fn max_log_id(&self) -> Option<&str> {
        self.events
            .iter()
            .map(|e| e.log_id())
            .max_by(|a, b| log_id::compare(a, b))
    }

    /// Smallest event time in the page, epoch milliseconds.
    pub fn min_ts(&self) -> Option<i64> {
        self.events.iter().filter_map(|e| e.ts).min()
    }
}

/// Parses a response body. `Err` means the body is not a JSON array at all
/// (truncated, HTML, garbage): the request should be retried.
pub fn parse_page(body: &[u8]) -> Result<Page, String> {
    let items: Vec<&RawValue> =
        serde_json::from_slice(body).map_err(|e| format!("invalid JSON page: {e}"))?;
    let mut page = Page {
        events: Vec::with_capacity(items.len()),
        rejects: Vec::new(),
    };
    for item in items {
        match normalize(item) {
            Ok(row) => page.events.push(row),
            Err(reason) => page.rejects.push(Reject {
                reason,
                raw: item.get().to_string(),
            }),
        }
    }
    Ok(page)
}

/// Normalizes one event object. `Err` carries the reason it cannot be
/// archived as an event (it is then kept as a reject).
pub fn normalize(raw: &RawValue) -> Result<EventRow, String> {
    normalize_with_fallback_id(raw, None)
}

/// Normalizes one event object, taking `fallback_id` as its `log_id` when
/// it has none (a webhook envelope may carry the id outside the event).
pub fn normalize_with_fallback_id(
    raw: &RawValue,
    fallback_id: Option<&str>,
) -> Result<EventRow, String> {
    let text = raw.get();
    if !text.starts_with('{') {
        return Err("not a JSON object".to_string());
    }
    if text.len() > u32::MAX as usize / 2 {
        return Err("event larger than 2 GiB".to_string());
    }
    // A lone surrogate escape makes the strict parse fail: the columns are
    // then read from a repaired copy (`surrogates`), `raw` stays as sent.
    let repaired;
    let wire: WireEvent<'_> = match serde_json::from_str(text) {
        Ok(wire) => wire,
        Err(e) => {
            repaired = surrogates::repaired(text);
            if matches!(repaired, std::borrow::Cow::Borrowed(_)) {
                return Err(format!("unreadable event: {e}"));
            }
            serde_json::from_str(&repaired).map_err(|e| format!("unreadable event: {e}"))?
        }
    };
    let mut b = RowBuilder::new(text);
    let log_id = match b.text(wire.log_id) {
        Some(id) => id,
        None => fallback_id
            .and_then(|id| b.span(id))
            .ok_or_else(|| "missing log_id".to_string())?,
    };

    let mut row_text = [None; FIELD_COUNT];
    let mut ts = None;
    if let Some(d) = wire.date.and_then(|t| t.0).filter(|d| !d.is_empty()) {
        let (date, millis) = match canonical_date(&d) {
            Some(millis) => (b.span(&d), Some(millis)),
            None => match chrono::DateTime::parse_from_rfc3339(&d) {
                Ok(t) => {
                    let utc = t.with_timezone(&chrono::Utc);
                    let text = crate::time::iso(utc);
                    (b.span(&text), Some(utc.timestamp_millis()))
                }
                // Keep an unparseable date as sent rather than lose it.
                Err(_) => (b.span(&d), None),
            },
        };
        row_text[Field::Date as usize] = date;
        ts = millis;
    }

    let location = wire.location_info.map(|l| l.0).unwrap_or_default();
    let fields = [
        (Field::Type, wire.r#type),
        (Field::Description, wire.description),
        (Field::Connection, wire.connection),
        (Field::ConnectionId, wire.connection_id),
        (Field::ClientId, wire.client_id),
        (Field::ClientName, wire.client_name),
        (Field::Ip, wire.ip),
        (Field::ClientIp, wire.client_ip),
        (Field::UserAgent, wire.user_agent),
        (Field::Hostname, wire.hostname),
        (Field::UserId, wire.user_id),
        (Field::UserName, wire.user_name),
        (Field::Audience, wire.audience),
        (Field::Scope, wire.scope),
        (Field::Strategy, wire.strategy),
        (Field::StrategyType, wire.strategy_type),
        (Field::TenantName, wire.tenant_name),
        (Field::EnvironmentName, wire.environment_name),
        (Field::CountryCode, location.country_code),
        (Field::CountryCode3, location.country_code3),
        (Field::CountryName, location.country_name),
        (Field::CityName, location.city_name),
        (Field::SubdivisionCode, location.subdivision_code),
        (Field::SubdivisionName, location.subdivision_name),
        (Field::TimeZone, location.time_zone),
        (Field::ContinentCode, location.continent_code),
    ];
    for (field, value) in fields {
        row_text[field as usize] = b.text(value);
    }
    row_text[Field::Details as usize] = wire
        .details
        .map(|d| d.get())
        .filter(|d| *d != "null")
        .and_then(|d| b.span(d));

    Ok(EventRow {
        buf: b.buf,
        raw_len: text.len(),
        log_id,
        text: row_text,
        ts,
        is_mobile: wire.is_mobile.or(wire.is_mobile_camel).and_then(|b| b.0),
        latitude: location.latitude.and_then(|n| n.0),
        longitude: location.longitude.and_then(|n| n.0),
    })
}

/// Epoch milliseconds of a date already in the stored form
/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (what Auth0 sends), without parsing or
/// formatting through chrono; anything else takes the general path.
fn canonical_date(d: &str) -> Option<i64> {
    let b = d.as_bytes();
    if b.len() != 24 || b[23] != b'Z' {
        return None;
    }
    for (i, &c) in b[..23].iter().enumerate() {
        let ok = match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            _ => c.is_ascii_digit(),
        };
        if !ok {
            return None;
        }
    }
    let n = |r: std::ops::Range<usize>| {
        b[r].iter()
            .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'))
    };
    let time = chrono::NaiveDate::from_ymd_opt(n(0..4) as i32, n(5..7), n(8..10))?
        .and_hms_milli_opt(n(11..13), n(14..16), n(17..19), n(20..23))?;
    Some(time.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> EventRow {
        let raw: &RawValue = serde_json::from_str(json).unwrap();
        normalize(raw).unwrap()
    }

    /// Each typed field filled with its own column name: a field read from
    /// the wrong key, or stored under the wrong column, shows here.
    #[test]
    fn every_text_field_lands_in_the_column_of_its_name() {
        let location = [
            Field::CountryCode,
            Field::CountryCode3,
            Field::CountryName,
            Field::CityName,
            Field::SubdivisionCode,
            Field::SubdivisionName,
            Field::TimeZone,
            Field::ContinentCode,
        ];
        let fields: Vec<Field> = COLUMNS
            .iter()
            .filter_map(|c| match c.source {
                Source::Text(f) if f != Field::Date && f != Field::Details => Some(f),
                _ => None,
            })
            .collect();
        let pairs = |inside: bool| {
            fields
                .iter()
                .filter(|f| location.contains(f) == inside)
                .map(|f| format!("{:?}:{:?}", f.column(), f.column()))
                .collect::<Vec<_>>()
                .join(",")
        };
        let json = format!(
            r#"{{"log_id":"1",{},"location_info":{{{}}},"details":{{"k":1}}}}"#,
            pairs(false),
            pairs(true)
        );
        let e = one(&json);
        for f in fields {
            assert_eq!(e.get(f), Some(f.column()), "{f:?}");
        }
        assert_eq!(e.get(Field::Details), Some(r#"{"k":1}"#));
    }

    #[test]
    fn full_event_is_flattened() {
        let e = one(
            r#"{"date":"2026-11-20T10:00:00.123Z","type":"s","description":"","log_id":"90020261120100000123","ip":"1.2.3.4","user_id":"auth0|1","scope":["openid","profile"],"isMobile":true,"location_info":{"country_code":"DE","city_name":"Berlin","latitude":"52.52","longitude":13.4},"details":{"a":[1,2]}}"#,
        );
        assert_eq!(e.log_id(), "90020261120100000123");
        assert_eq!(e.date(), Some("2026-11-20T10:00:00.123Z"));
        assert_eq!(e.ts, Some(1_795_168_800_123));
        assert_eq!(e.get(Field::Description), None);
        assert_eq!(e.get(Field::Scope), Some("openid profile"));
        assert_eq!(e.is_mobile, Some(true));
        assert_eq!(e.get(Field::CountryCode), Some("DE"));
        assert_eq!(e.latitude, Some(52.52));
        assert_eq!(e.longitude, Some(13.4));
        assert_eq!(e.get(Field::Details), Some(r#"{"a":[1,2]}"#));
    }

    #[test]
    fn odd_types_never_cost_the_event() {
        for loc in ["null", "{}", "\"Berlin\"", "[1,2]"] {
            let e = one(&format!(
                r#"{{"log_id":"1","location_info":{loc},"details":null}}"#
            ));
            assert_eq!(e.get(Field::CityName), None);
            assert_eq!(e.get(Field::Details), None);
        }
        let e = one(r#"{"log_id":"1","user_id":17,"is_mobile":"false","date":"yesterday"}"#);
        assert_eq!(e.get(Field::UserId), Some("17"));
        assert_eq!(e.is_mobile, Some(false));
        assert_eq!(e.date(), Some("yesterday"));
        assert_eq!(e.ts, None);
    }

    #[test]
    fn events_without_log_id_are_rejected_not_dropped() {
        let page =
            parse_page(br#"[{"type":"s"},{"log_id":"","type":"f"},{"log_id":"5"},7]"#).unwrap();
        assert_eq!(page.events.len(), 1);
        assert_eq!(page.rejects.len(), 3);
        assert_eq!(page.rejects[0].raw, r#"{"type":"s"}"#);
    }

    #[test]
    fn raw_is_byte_exact_and_checkpoint_is_the_greatest_id() {
        let body = "[ {\"log_id\" : \"900200\",\n \"x\":\"\\u00e9\"} ,{\"log_id\":\"900300\"},{\"log_id\":\"900100\"}]";
        let page = parse_page(body.as_bytes()).unwrap();
        assert_eq!(
            page.events[0].raw(),
            "{\"log_id\" : \"900200\",\n \"x\":\"\\u00e9\"}"
        );
        assert_eq!(page.max_log_id(), Some("900300"));
        assert!(parse_page(b"[{\"log_id\":\"1\"}").is_err());
        assert!(parse_page(b"<html>oops</html>").is_err());
    }

    #[test]
    fn dates_are_canonical_utc_milliseconds_whatever_their_form() {
        for (sent, stored, ts) in [
            (
                "2026-11-20T10:00:00.123Z",
                "2026-11-20T10:00:00.123Z",
                1_795_168_800_123,
            ),
            (
                "2026-11-20T10:00:00Z",
                "2026-11-20T10:00:00.000Z",
                1_795_168_800_000,
            ),
            (
                "2026-11-20T12:00:00.5+02:00",
                "2026-11-20T10:00:00.500Z",
                1_795_168_800_500,
            ),
            (
                "2024-02-29T23:59:59.999Z",
                "2024-02-29T23:59:59.999Z",
                1_709_251_199_999,
            ),
        ] {
            let e = one(&format!(r#"{{"log_id":"1","date":"{sent}"}}"#));
            assert_eq!((e.date(), e.ts), (Some(stored), Some(ts)), "{sent}");
        }
        // Shaped like the fast path but not a real time: kept as sent.
        for bad in ["2026-02-30T10:00:00.000Z", "2026-11-20T25:00:00.000Z"] {
            let e = one(&format!(r#"{{"log_id":"1","date":"{bad}"}}"#));
            assert_eq!((e.date(), e.ts), (Some(bad), None));
        }
    }

    #[test]
    fn escaped_text_is_unescaped_and_plain_text_points_into_raw() {
        let e = one(
            r#"{"log_id":"1","user_name":"caf\u00e9 \"x\"","ip":"10.0.0.1","location_info":{"city_name":"K\u00f6ln","city_name":"Bonn"}}"#,
        );
        assert_eq!(e.get(Field::UserName), Some("café \"x\""));
        assert_eq!(e.get(Field::Ip), Some("10.0.0.1"));
        assert_eq!(
            e.get(Field::CityName),
            Some("Bonn"),
            "a repeated key: last wins"
        );
        assert!(e.raw().ends_with(r#""Bonn"}}"#));
    }

    #[test]
    fn a_lone_surrogate_costs_neither_the_event_nor_its_raw_bytes() {
        let sent = r#"{"log_id":"1","type":"f","user_name":"\ud800x","ip":"10.0.0.9","details":{"q":"\udfff"}}"#;
        let e = one(sent);
        assert_eq!(e.raw(), sent);
        assert_eq!(e.get(Field::UserName), Some("\u{fffd}x"));
        assert_eq!(e.get(Field::Ip), Some("10.0.0.9"));
        assert_eq!(e.get(Field::Type), Some("f"));
        assert_eq!(e.get(Field::Details), Some(r#"{"q":"\ufffd"}"#));
        let page = parse_page(format!("[{sent}]").as_bytes()).unwrap();
        assert_eq!((page.events.len(), page.rejects.len()), (1, 0));
    }

    #[test]
    fn a_fallback_id_is_used_only_when_the_event_has_none() {
        let raw: &RawValue = serde_json::from_str(r#"{"type":"s"}"#).unwrap();
        let e = normalize_with_fallback_id(raw, Some("77")).unwrap();
        assert_eq!((e.log_id(), e.raw()), ("77", r#"{"type":"s"}"#));
        let raw: &RawValue = serde_json::from_str(r#"{"log_id":"5"}"#).unwrap();
        assert_eq!(
            normalize_with_fallback_id(raw, Some("77"))
                .unwrap()
                .log_id(),
            "5"
        );
        assert!(normalize_with_fallback_id(raw, None).is_ok());
    }
}
