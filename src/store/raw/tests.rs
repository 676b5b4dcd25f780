use super::*;
use proptest::prelude::*;

/// Events shaped like Auth0's, different enough that a dictionary learns
/// the shared parts.
fn sample_event(i: usize) -> String {
    format!(
        r#"{{"date":"2026-11-{:02}T10:{:02}:{:02}.{:03}Z","type":"{}","description":"Successful login","client_id":"cl{}","client_name":"App {}","ip":"10.0.{}.{}","user_agent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/{}.0","details":{{"prompts":[],"initiatedAt":{},"stats":{{"loginsCount":{}}}}},"user_id":"auth0|{:024x}","user_name":"user{}@example.com","strategy":"auth0","strategy_type":"database","log_id":"9002026{:020}"}}"#,
        1 + i % 28,
        i % 60,
        (i * 7) % 60,
        i % 1000,
        ["s", "f", "fp", "seacft", "sapi"][i % 5],
        i % 13,
        i % 13,
        i % 256,
        (i * 31) % 256,
        100 + i % 20,
        1_700_000_000_000u64 + i as u64,
        i % 977,
        i * 2_654_435_761,
        i % 5000,
        i
    )
}

/// A codec with a dictionary trained on `sample_event`s, as an archive of
/// `TRAIN_AT` events would get.
fn trained() -> &'static RawCodec {
    static CODEC: std::sync::OnceLock<RawCodec> = std::sync::OnceLock::new();
    CODEC.get_or_init(|| {
        let samples: Vec<Vec<u8>> = (0..2000).map(|i| sample_event(i).into_bytes()).collect();
        let dict = train(&samples.concat(), &sizes(&samples), 1).expect("a dictionary");
        let mut codec = RawCodec::default();
        codec.add(1, &dict);
        codec
    })
}

fn sizes(samples: &[Vec<u8>]) -> Vec<usize> {
    samples.iter().map(Vec::len).collect()
}

fn round_trip(codec: &RawCodec, text: &str) -> String {
    let stored = codec.encode(text);
    let value = match &stored {
        ToSqlOutput::Borrowed(v) => *v,
        ToSqlOutput::Owned(v) => ValueRef::from(v),
        _ => unreachable!("encode stores text or a blob"),
    };
    codec.text(value).unwrap().into_owned()
}

fn is_blob(codec: &RawCodec, text: &str) -> bool {
    matches!(codec.encode(text), ToSqlOutput::Owned(Value::Blob(_)))
}

#[test]
fn the_codec_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<RawCodec>();
}

#[test]
fn typical_events_compress_with_the_dictionary_and_come_back_exactly() {
    let codec = trained();
    let event = sample_event(123_456);
    let ToSqlOutput::Owned(Value::Blob(frame)) = codec.encode(&event) else {
        panic!("a typical event is stored compressed");
    };
    assert!(
        frame.len() * 4 < event.len(),
        "{} -> {}",
        event.len(),
        frame.len()
    );
    assert_eq!(
        zstd::zstd_safe::get_dict_id_from_frame(&frame)
            .unwrap()
            .get(),
        1
    );
    assert_eq!(round_trip(codec, &event), event);
}

#[test]
fn odd_inputs_come_back_byte_for_byte() {
    let codec = trained();
    let huge = format!(
        r#"{{"log_id":"1","details":"{}"}}"#,
        "abc\u{e9}\u{1F600}".repeat(400_000)
    );
    let inputs = [
        String::new(),
        " ".to_string(),
        "{}".to_string(),
        "\u{0}".to_string(),
        r#"{"a":"\u0000\"\\\/\b\f\n\r\t","b":"ÿ日本語🎉"}"#.to_string(),
        " \t\r\n{ \"log_id\" : \"1\" , \"x\":[1 ,2] }\n\n".to_string(),
        sample_event(1).replace(',', ",\n    "),
        "not json at all \u{7f} \u{80} \u{ffff}".to_string(),
        "\u{feff}".to_string() + &sample_event(2),
        huge,
    ];
    for text in &inputs {
        assert_eq!(&round_trip(codec, text), text);
    }
}

#[test]
fn text_that_would_not_shrink_stays_text() {
    let codec = trained();
    assert!(!is_blob(codec, ""));
    assert!(!is_blob(codec, "{}"));
}

#[test]
fn without_a_dictionary_everything_stays_text() {
    let codec = RawCodec::default();
    assert!(!codec.compresses());
    assert!(!is_blob(&codec, &sample_event(1)));
}

#[test]
fn a_frame_of_an_unknown_dictionary_or_a_damaged_one_is_an_error_not_a_panic() {
    let codec = trained();
    let ToSqlOutput::Owned(Value::Blob(frame)) = codec.encode(&sample_event(7)) else {
        panic!("compressed");
    };
    let other = {
        let samples: Vec<Vec<u8>> = (0..500).map(|i| sample_event(i).into_bytes()).collect();
        let mut c = RawCodec::default();
        c.add(2, &train(&samples.concat(), &sizes(&samples), 2).unwrap());
        c
    };
    assert!(other.text(ValueRef::Blob(&frame)).is_err());
    assert!(codec.text(ValueRef::Blob(b"not zstd")).is_err());
    assert!(
        codec
            .text(ValueRef::Blob(&frame[..frame.len() / 2]))
            .is_err()
    );
    assert!(codec.text(ValueRef::Integer(1)).is_err());
    // Every single flipped byte is refused or decodes to other text.
    let original = sample_event(7);
    for at in 0..frame.len() {
        let mut bad = frame.clone();
        bad[at] ^= 0x5a;
        if let Ok(text) = codec.text(ValueRef::Blob(&bad)) {
            assert_ne!(text, original, "byte {at}");
        }
    }
}

#[test]
fn the_first_dictionary_is_trained_once_the_archive_holds_enough_events() {
    let dir = tempfile::tempdir().unwrap();
    let conn = crate::store::open_for_write(&dir.path().join("a.db")).unwrap();
    let insert = |from: usize, to: usize| {
        for i in from..to {
            conn.execute(
                "INSERT INTO events (log_id, tenant, raw) VALUES (?1, 't', ?2)",
                params![format!("{i}"), sample_event(i)],
            )
            .unwrap();
        }
    };
    let mut codec = RawCodec::load(&conn).unwrap();
    insert(0, TRAIN_AT as usize - 1);
    assert!(!codec.train_if_due(&conn).unwrap());
    assert!(!codec.compresses());
    insert(TRAIN_AT as usize - 1, TRAIN_AT as usize);
    assert!(codec.train_if_due(&conn).unwrap());
    assert!(codec.compresses());
    assert!(!codec.train_if_due(&conn).unwrap(), "only once");
    let (id, samples): (i64, i64) = conn
        .query_row("SELECT id, samples FROM raw_dictionaries", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((id, samples), (1, TRAIN_AT));
    // Another process reading the archive decodes what this one wrote.
    let event = sample_event(99_999);
    assert!(is_blob(&codec, &event));
    let reader = RawCodec::load(&conn).unwrap();
    assert_eq!(round_trip(&reader, &event), event);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn any_text_round_trips_byte_for_byte(text in any::<String>()) {
        let codec = trained();
        prop_assert_eq!(round_trip(codec, &text), text);
    }

    #[test]
    fn events_with_any_value_round_trip(i in 0usize..1_000_000, value in "\\PC{0,300}") {
        let codec = trained();
        let event = sample_event(i).replace("Successful login", &value);
        prop_assert_eq!(round_trip(codec, &event), event);
    }
}
