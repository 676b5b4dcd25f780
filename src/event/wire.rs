//! The event as Auth0 sends it: the fields we type, each read leniently.
//! Strings borrow from the body where they need no unescaping; any JSON type
//! is accepted where Auth0 is known to vary (numbers for ids, arrays for
//! `scope`, strings for coordinates), and a value of a type that makes no
//! sense becomes no value rather than an error.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// The fields we type; everything else is skipped here and survives in `raw`.
#[derive(Deserialize)]
pub(super) struct WireEvent<'a> {
    #[serde(borrow, default)]
    pub(super) log_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) date: Option<Text<'a>>,
    #[serde(borrow, default, rename = "type")]
    pub(super) r#type: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) description: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) connection: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) connection_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) client_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) client_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) ip: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) client_ip: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) user_agent: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) hostname: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) user_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) user_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) audience: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) scope: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) strategy: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) strategy_type: Option<Text<'a>>,
    #[serde(default)]
    pub(super) is_mobile: Option<Flag>,
    #[serde(default, rename = "isMobile")]
    pub(super) is_mobile_camel: Option<Flag>,
    #[serde(borrow, default)]
    pub(super) tenant_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) environment_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) location_info: Option<Location<'a>>,
    #[serde(borrow, default)]
    pub(super) details: Option<&'a RawValue>,
}

#[derive(Default)]
pub(super) struct WireLocation<'a> {
    pub(super) country_code: Option<Text<'a>>,
    pub(super) country_code3: Option<Text<'a>>,
    pub(super) country_name: Option<Text<'a>>,
    pub(super) city_name: Option<Text<'a>>,
    pub(super) subdivision_code: Option<Text<'a>>,
    pub(super) subdivision_name: Option<Text<'a>>,
    pub(super) latitude: Option<Number>,
    pub(super) longitude: Option<Number>,
    pub(super) time_zone: Option<Text<'a>>,
    pub(super) continent_code: Option<Text<'a>>,
}

/// `location_info` read in the same pass as the event: an object gives its
/// fields (unknown ones skipped, a repeated one last-wins), anything else
/// (null, a string, an array) gives no location rather than an error.
pub(super) struct Location<'a>(pub(super) WireLocation<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for Location<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Location<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut l = WireLocation::default();
                while let Some(LocationKey(key)) = map.next_key()? {
                    match key {
                        "country_code" => l.country_code = map.next_value()?,
                        "country_code3" => l.country_code3 = map.next_value()?,
                        "country_name" => l.country_name = map.next_value()?,
                        "city_name" => l.city_name = map.next_value()?,
                        "subdivision_code" => l.subdivision_code = map.next_value()?,
                        "subdivision_name" => l.subdivision_name = map.next_value()?,
                        "latitude" => l.latitude = map.next_value()?,
                        "longitude" => l.longitude = map.next_value()?,
                        "time_zone" => l.time_zone = map.next_value()?,
                        "continent_code" => l.continent_code = map.next_value()?,
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(Location(l))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Location(WireLocation::default()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Location(WireLocation::default()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Location(WireLocation::default()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Location(WireLocation::default()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Location(WireLocation::default()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Location(WireLocation::default()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Location(WireLocation::default()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A `location_info` key, matched without allocating (`None` for keys we
/// do not type).
struct LocationKey(&'static str);

impl<'de> Deserialize<'de> for LocationKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LocationKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                const KNOWN: [&str; 10] = [
                    "country_code",
                    "country_code3",
                    "country_name",
                    "city_name",
                    "subdivision_code",
                    "subdivision_name",
                    "latitude",
                    "longitude",
                    "time_zone",
                    "continent_code",
                ];
                Ok(LocationKey(
                    KNOWN.into_iter().find(|k| *k == v).unwrap_or(""),
                ))
            }
        }
        d.deserialize_str(V)
    }
}

/// A text column fed by any JSON value: strings as they are, numbers and
/// booleans as their JSON text, arrays of strings space-joined (the OAuth
/// `scope` convention), other arrays and objects as JSON text. Empty strings
/// and null become `None` (the README's normalization rule).
pub(super) struct Text<'a>(pub(super) Option<Cow<'a, str>>);

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
pub(super) struct Number(pub(super) Option<f64>);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(Some(v).filter(|f| f.is_finite())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(Some(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(Some(v as f64)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Number, E> {
                Ok(Number(
                    v.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
                ))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Number, E> {
                Ok(Number(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Number, E> {
                Ok(Number(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Number, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Number(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Number, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Number(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// `is_mobile` / `isMobile`: a boolean, or its common spellings.
pub(super) struct Flag(pub(super) Option<bool>);

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
