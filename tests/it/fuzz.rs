//! Property tests (the fuzzing of issue 5): event normalization must accept
//! any JSON object without panicking, keep `raw` byte-exact, and never lose
//! an event that has a log_id.

use auth0_archive::auth0::log_id::compare as compare_log_ids;
use auth0_archive::event::{Field, parse_page};
use proptest::prelude::*;
use serde_json::{Value, json};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        Just(Value::from("")),
        Just(Value::from("\u{202e}';-- 🦀")),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const FIELDS: &[&str] = &[
    "date",
    "type",
    "description",
    "connection",
    "client_id",
    "ip",
    "user_id",
    "user_name",
    "scope",
    "isMobile",
    "is_mobile",
    "location_info",
    "details",
    "tenant_name",
    "hostname",
    "audience",
];

fn event() -> impl Strategy<Value = (String, Value)> {
    (
        "[0-9]{1,56}",
        prop::collection::vec((prop::sample::select(FIELDS), value()), 0..12),
        prop::option::of(prop::collection::btree_map(
            prop::sample::select(vec!["latitude", "longitude", "city_name", "country_code"]),
            value(),
            0..4,
        )),
    )
        .prop_map(|(id, fields, loc)| {
            let mut m = serde_json::Map::new();
            for (k, v) in fields {
                m.insert(k.to_string(), v);
            }
            if let Some(loc) = loc {
                m.insert(
                    "location_info".into(),
                    Value::Object(loc.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
                );
            }
            m.insert("log_id".into(), json!(id));
            (id, Value::Object(m))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_event_with_a_log_id_is_kept_byte_exact((id, ev) in event(), pretty in any::<bool>()) {
        let raw = if pretty { serde_json::to_string_pretty(&ev).unwrap() } else { ev.to_string() };
        let body = format!("[{raw}]");
        let page = parse_page(body.as_bytes()).unwrap();
        prop_assert_eq!(page.rejects.len(), 0);
        prop_assert_eq!(page.events.len(), 1);
        let row = &page.events[0];
        prop_assert_eq!(row.log_id(), id.as_str());
        prop_assert_eq!(row.raw(), raw.as_str());
        // Typed text columns are never empty strings.
        for f in [Field::Type, Field::Description, Field::UserId, Field::Ip, Field::Scope, Field::CityName, Field::Details] {
            prop_assert!(row.get(f) != Some(""));
        }
        if let Some(lat) = row.latitude { prop_assert!(lat.is_finite()); }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_page(&bytes);
    }

    #[test]
    fn arbitrary_json_arrays_never_panic(items in prop::collection::vec(value(), 0..6)) {
        let body = Value::Array(items).to_string();
        let page = parse_page(body.as_bytes()).unwrap();
        // Whatever is not an event with a log_id is a reject, never dropped.
        let total = page.events.len() + page.rejects.len();
        let expected = serde_json::from_str::<Vec<Value>>(&body).unwrap().len();
        prop_assert_eq!(total, expected);
    }

    #[test]
    fn log_id_order_is_a_total_order(a in "[0-9]{1,20}", b in "[0-9]{1,20}", c in "[0-9]{1,20}") {
        use std::cmp::Ordering::*;
        prop_assert_eq!(compare_log_ids(&a, &b), compare_log_ids(&b, &a).reverse());
        if compare_log_ids(&a, &b) != Greater && compare_log_ids(&b, &c) != Greater {
            prop_assert!(compare_log_ids(&a, &c) != Greater);
        }
    }
}
