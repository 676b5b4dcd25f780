//! The Auth0 log event on the wire, and its normalization into an `events`
//! row. Parsing borrows from the response body; every field is lenient about
//! its JSON type (Auth0's schema is open and has known type traps), so one odd
//! field never costs the event. `raw` is the event's bytes exactly as sent.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// One normalized row of the `events` table (without `tenant`, which the
/// store adds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventRow {
    pub log_id: String,
    pub date: Option<String>,
    pub ts: Option<i64>,
    pub r#type: Option<String>,
    pub description: Option<String>,
    pub connection: Option<String>,
    pub connection_id: Option<String>,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub ip: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub hostname: Option<String>,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub audience: Option<String>,
    pub scope: Option<String>,
    pub strategy: Option<String>,
    pub strategy_type: Option<String>,
    pub is_mobile: Option<bool>,
    pub tenant_name: Option<String>,
    pub environment_name: Option<String>,
    pub country_code: Option<String>,
    pub country_code3: Option<String>,
    pub country_name: Option<String>,
    pub city_name: Option<String>,
    pub subdivision_code: Option<String>,
    pub subdivision_name: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub time_zone: Option<String>,
    pub continent_code: Option<String>,
    pub details: Option<String>,
    pub raw: String,
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
            .map(|e| e.log_id.as_str())
            .max_by(|a, b| compare_log_ids(a, b))
    }

    /// Smallest event time in the page, epoch milliseconds.
    pub fn min_ts(&self) -> Option<i64> {
        self.events.iter().filter_map(|e| e.ts).min()
    }
}

/// Orders log ids as Auth0 does for the ids it issues: equal-length decimal
/// ids compare as numbers, which is also their byte order. Ids of different
/// lengths that are all digits compare numerically; anything else bytewise.
pub fn compare_log_ids(a: &str, b: &str) -> Ordering {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if numeric(a) && numeric(b) {
        let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
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
    let text = raw.get();
    if !text.starts_with('{') {
        return Err("not a JSON object".to_string());
    }
    let wire: WireEvent<'_> =
        serde_json::from_str(text).map_err(|e| format!("unreadable event: {e}"))?;
    let log_id = wire
        .log_id
        .and_then(Text::into_string)
        .ok_or_else(|| "missing log_id".to_string())?;

    let (date, ts) = match wire.date.and_then(Text::into_string) {
        Some(d) => match chrono::DateTime::parse_from_rfc3339(&d) {
            Ok(t) => {
                let utc = t.with_timezone(&chrono::Utc);
                (
                    Some(utc.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
                    Some(utc.timestamp_millis()),
                )
            }
            // Keep an unparseable date as sent rather than lose it.
            Err(_) => (Some(d), None),
        },
        None => (None, None),
    };

    let location = wire
        .location_info
        .and_then(|raw| serde_json::from_str::<WireLocation<'_>>(raw.get()).ok())
        .unwrap_or_default();

    let details = wire
        .details
        .map(|d| d.get())
        .filter(|d| *d != "null")
        .map(str::to_string);

    Ok(EventRow {
        log_id,
        date,
        ts,
        r#type: s(wire.r#type),
        description: s(wire.description),
        connection: s(wire.connection),
        connection_id: s(wire.connection_id),
        client_id: s(wire.client_id),
        client_name: s(wire.client_name),
        ip: s(wire.ip),
        client_ip: s(wire.client_ip),
        user_agent: s(wire.user_agent),
        hostname: s(wire.hostname),
        user_id: s(wire.user_id),
        user_name: s(wire.user_name),
        audience: s(wire.audience),
        scope: s(wire.scope),
        strategy: s(wire.strategy),
        strategy_type: s(wire.strategy_type),
        is_mobile: wire.is_mobile.or(wire.is_mobile_camel).and_then(|b| b.0),
        tenant_name: s(wire.tenant_name),
        environment_name: s(wire.environment_name),
        country_code: s(location.country_code),
        country_code3: s(location.country_code3),
        country_name: s(location.country_name),
        city_name: s(location.city_name),
        subdivision_code: s(location.subdivision_code),
        subdivision_name: s(location.subdivision_name),
        latitude: location.latitude.and_then(|n| n.0),
        longitude: location.longitude.and_then(|n| n.0),
        time_zone: s(location.time_zone),
        continent_code: s(location.continent_code),
        details,
        raw: text.to_string(),
    })
}

fn s(t: Option<Text<'_>>) -> Option<String> {
    t.and_then(Text::into_string)
}

/// The fields we type; everything else is skipped here and survives in `raw`.
#[derive(Deserialize)]
struct WireEvent<'a> {
    #[serde(borrow, default)]
    log_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    date: Option<Text<'a>>,
    #[serde(borrow, default, rename = "type")]
    r#type: Option<Text<'a>>,
    #[serde(borrow, default)]
    description: Option<Text<'a>>,
    #[serde(borrow, default)]
    connection: Option<Text<'a>>,
    #[serde(borrow, default)]
    connection_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    client_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    client_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    ip: Option<Text<'a>>,
    #[serde(borrow, default)]
    client_ip: Option<Text<'a>>,
    #[serde(borrow, default)]
    user_agent: Option<Text<'a>>,
    #[serde(borrow, default)]
    hostname: Option<Text<'a>>,
    #[serde(borrow, default)]
    user_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    user_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    audience: Option<Text<'a>>,
    #[serde(borrow, default)]
    scope: Option<Text<'a>>,
    #[serde(borrow, default)]
    strategy: Option<Text<'a>>,
    #[serde(borrow, default)]
    strategy_type: Option<Text<'a>>,
    #[serde(default)]
    is_mobile: Option<Flag>,
    #[serde(default, rename = "isMobile")]
    is_mobile_camel: Option<Flag>,
    #[serde(borrow, default)]
    tenant_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    environment_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    location_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    details: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct WireLocation<'a> {
    #[serde(borrow, default)]
    country_code: Option<Text<'a>>,
    #[serde(borrow, default)]
    country_code3: Option<Text<'a>>,
    #[serde(borrow, default)]
    country_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    city_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    subdivision_code: Option<Text<'a>>,
    #[serde(borrow, default)]
    subdivision_name: Option<Text<'a>>,
    #[serde(default)]
    latitude: Option<Number>,
    #[serde(default)]
    longitude: Option<Number>,
    #[serde(borrow, default)]
    time_zone: Option<Text<'a>>,
    #[serde(borrow, default)]
    continent_code: Option<Text<'a>>,
}

/// A text column fed by any JSON value: strings as they are, numbers and
/// booleans as their JSON text, arrays of strings space-joined (the OAuth
/// `scope` convention), other arrays and objects as JSON text. Empty strings
/// and null become `None`, as DESIGN.md requires.
struct Text<'a>(Option<Cow<'a, str>>);

impl Text<'_> {
    fn into_string(self) -> Option<String> {
        self.0.filter(|v| !v.is_empty()).map(Cow::into_owned)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(if v { "true" } else { "false" }))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items: Vec<serde_json::Value> = Vec::new();
                while let Some(v) = seq.next_element()? {
                    items.push(v);
                }
                let joined = if items.iter().all(|v| v.is_string()) {
                    items
                        .iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    serde_json::Value::Array(items).to_string()
                };
                Ok(Text(Some(Cow::Owned(joined))))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let v: serde_json::Value =
                    Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
        }
        d.deserialize_any(V)
    }
}

/// A coordinate sent as a number or as a numeric string; anything else is
/// unknown rather than an error.
struct Number(Option<f64>);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = Text::deserialize(d)?;
        Ok(Number(
            t.0.and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|f| f.is_finite()),
        ))
    }
}

/// `is_mobile` / `isMobile`: a boolean, or its common spellings.
struct Flag(Option<bool>);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = Text::deserialize(d)?;
        Ok(Flag(match t.0.as_deref() {
            Some("true") | Some("1") | Some("TRUE") | Some("True") => Some(true),
            Some("false") | Some("0") | Some("FALSE") | Some("False") => Some(false),
            _ => None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> EventRow {
        let raw: &RawValue = serde_json::from_str(json).unwrap();
        normalize(raw).unwrap()
    }

    #[test]
    fn full_event_is_flattened() {
        let e = one(
            r#"{"date":"2026-11-20T10:00:00.123Z","type":"s","description":"","log_id":"90020261120100000123","ip":"1.2.3.4","user_id":"auth0|1","scope":["openid","profile"],"isMobile":true,"location_info":{"country_code":"DE","city_name":"Berlin","latitude":"52.52","longitude":13.4},"details":{"a":[1,2]}}"#,
        );
        assert_eq!(e.log_id, "90020261120100000123");
        assert_eq!(e.date.as_deref(), Some("2026-11-20T10:00:00.123Z"));
        assert_eq!(e.ts, Some(1_795_168_800_123));
        assert_eq!(e.description, None);
        assert_eq!(e.scope.as_deref(), Some("openid profile"));
        assert_eq!(e.is_mobile, Some(true));
        assert_eq!(e.country_code.as_deref(), Some("DE"));
        assert_eq!(e.latitude, Some(52.52));
        assert_eq!(e.longitude, Some(13.4));
        assert_eq!(e.details.as_deref(), Some(r#"{"a":[1,2]}"#));
    }

    #[test]
    fn odd_types_never_cost_the_event() {
        for loc in ["null", "{}", "\"Berlin\"", "[1,2]"] {
            let e = one(&format!(
                r#"{{"log_id":"1","location_info":{loc},"details":null}}"#
            ));
            assert_eq!(e.city_name, None);
            assert_eq!(e.details, None);
        }
        let e = one(r#"{"log_id":"1","user_id":17,"is_mobile":"false","date":"yesterday"}"#);
        assert_eq!(e.user_id.as_deref(), Some("17"));
        assert_eq!(e.is_mobile, Some(false));
        assert_eq!(e.date.as_deref(), Some("yesterday"));
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
            page.events[0].raw,
            "{\"log_id\" : \"900200\",\n \"x\":\"\\u00e9\"}"
        );
        assert_eq!(page.max_log_id(), Some("900300"));
        assert!(parse_page(b"[{\"log_id\":\"1\"}").is_err());
        assert!(parse_page(b"<html>oops</html>").is_err());
    }

    #[test]
    fn log_id_order_is_numeric_for_digit_ids() {
        assert_eq!(compare_log_ids("9", "10"), Ordering::Less);
        assert_eq!(compare_log_ids("900200", "900100"), Ordering::Greater);
        assert_eq!(compare_log_ids("abc", "abd"), Ordering::Less);
    }
}
