//! How `raw` is stored, through the real binary: once the archive holds
//! enough events, new rows are zstd frames with the archive's dictionary,
//! and every way of reading `raw` (query sql on both engines, the export,
//! verify) still gives the event byte for byte; an archive of schema 4 (all
//! TEXT) still opens, syncs, verifies and queries; a damaged frame is
//! reported by verify as altered.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use crate::common::*;
use auth0_archive::simulator::{FakeTenant, StoredEvent};
use serde_json::Value;

/// More than `store::raw::TRAIN_AT`, so most rows are stored compressed.
const EVENTS: usize = 6_000;

fn run(db: &Path, args: &[&str]) -> Output {
    bin().arg("--db").arg(db).args(args).output().unwrap()
}

fn ok(out: Output) -> String {
    assert_ok(&out);
    stdout(&out)
}

/// How many rows store `raw` as TEXT and as BLOB.
fn stored_kinds(db: &Path) -> (i64, i64) {
    let text = query_one(db, "SELECT count(*) FROM events WHERE typeof(raw) = 'text'");
    let blob = query_one(db, "SELECT count(*) FROM events WHERE typeof(raw) = 'blob'");
    (text, blob)
}

fn expected(tenant: &FakeTenant) -> BTreeMap<String, String> {
    tenant.with(|s| {
        s.events()
            .iter()
            .filter(|e| !e.key.is_empty())
            .map(|e| (e.key.clone(), e.raw.clone()))
            .collect()
    })
}

/// `SELECT log_id, raw FROM events` through `query sql` in `format`.
fn queried(db: &Path, engine: &str, format: &str) -> BTreeMap<String, String> {
    let out = ok(run(
        db,
        &[
            "query",
            "sql",
            "SELECT log_id, raw FROM events",
            "--format",
            format,
            "--engine",
            engine,
        ],
    ));
    match format {
        "json" => {
            let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
            rows.iter()
                .map(|r| {
                    (
                        r["log_id"].as_str().unwrap().to_string(),
                        r["raw"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        }
        "csv-raw" => {
            // A minimal RFC 4180 reader: quoted fields double their quotes.
            let mut rows = BTreeMap::new();
            let mut fields: Vec<String> = Vec::new();
            let (mut field, mut quoted, mut chars) = (String::new(), false, out.chars().peekable());
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        field.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => fields.push(std::mem::take(&mut field)),
                    ('\r', false) => {}
                    ('\n', false) => {
                        fields.push(std::mem::take(&mut field));
                        let row = std::mem::take(&mut fields);
                        rows.insert(row[0].clone(), row[1].clone());
                    }
                    (c, _) => field.push(c),
                }
            }
            rows.remove("log_id");
            rows
        }
        other => panic!("{other}"),
    }
}

fn assert_same(got: &BTreeMap<String, String>, want: &BTreeMap<String, String>, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: row count");
    for (id, raw) in want {
        assert_eq!(got.get(id), Some(raw), "{what}: raw of {id}");
    }
}

#[test]
fn compressed_raw_reads_back_byte_exact_through_query_sql_on_both_engines_and_the_export() {
    let env = Env::new();
    let tenant = tenant_with(events(EVENTS, 5));
    assert_ok(&sync(&tenant, &env.db));
    let (text, blob) = stored_kinds(&env.db);
    assert!(blob > 1_000, "{text} TEXT, {blob} BLOB");
    assert_eq!(
        query_one::<i64>(&env.db, "SELECT count(*) FROM raw_dictionaries"),
        1
    );
    assert_exact(&env.db, &tenant);
    let want = expected(&tenant);
    for engine in ["sqlite", "duckdb"] {
        for format in ["json", "csv-raw"] {
            assert_same(
                &queried(&env.db, engine, format),
                &want,
                &format!("{engine} {format}"),
            );
        }
    }
    // SQL sees text: JSON functions and LIKE work on `raw`.
    let n: Vec<Value> = serde_json::from_str(&ok(run(
        &env.db,
        &[
            "query",
            "sql",
            "SELECT count(*) AS n FROM events WHERE json_extract(raw, '$.log_id') = log_id AND raw LIKE '{%'",
            "--format",
            "json",
        ],
    )))
    .unwrap();
    assert_eq!(n[0]["n"], EVENTS as i64);

    let out = env.dir.path().join("export");
    ok(run(
        &env.db,
        &["query", "export", "--out", out.to_str().unwrap()],
    ));
    let duck = duckdb::Connection::open_in_memory().unwrap();
    let mut stmt = duck
        .prepare(&format!(
            "SELECT log_id, raw FROM read_parquet('{}/**/*.parquet')",
            out.display()
        ))
        .unwrap();
    let exported: BTreeMap<String, String> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_same(&exported, &want, "export");
    ok(run(&env.db, &["verify"]));
}

/// An archive as schema 4 left it: every `raw` TEXT, no dictionary table
/// (nor the tables of later migrations).
fn schema_4_archive(env: &Env, tenant: &FakeTenant) {
    assert_ok(&sync(tenant, &env.db));
    assert_eq!(stored_kinds(&env.db).1, 0, "too few events to compress");
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    conn.execute_batch(
        "DROP TABLE raw_dictionaries; DROP TABLE pruned_days; DROP TABLE export_days;
         DROP TABLE exports; DROP TABLE sigma_state; PRAGMA user_version = 4;",
    )
    .unwrap();
}

#[test]
fn an_archive_of_schema_4_still_opens_verifies_queries_and_syncs_more_compressed() {
    let env = Env::new();
    let old: Vec<StoredEvent> = events_ending(1_500, 8, "2026-11-18T00:00:00Z");
    let tenant = tenant_with(old);
    schema_4_archive(&env, &tenant);

    // Read-only commands take it as it is.
    ok(run(&env.db, &["verify"]));
    assert_same(
        &queried(&env.db, "sqlite", "json"),
        &expected(&tenant),
        "schema 4",
    );
    assert_eq!(query_one::<i64>(&env.db, "PRAGMA user_version"), 4);

    tenant.with(|s| s.push_events(events_ending(5_000, 9, "2026-11-19T00:00:00Z")));
    assert_ok(&sync(&tenant, &env.db));
    assert_eq!(
        query_one::<i64>(&env.db, "PRAGMA user_version"),
        i64::from(auth0_archive::store::SCHEMA_VERSION)
    );
    let (text, blob) = stored_kinds(&env.db);
    assert!(text >= 1_500 && blob > 4_000, "{text} TEXT, {blob} BLOB");
    assert_exact(&env.db, &tenant);
    ok(run(&env.db, &["verify"]));
    let want = expected(&tenant);
    for engine in ["sqlite", "duckdb"] {
        assert_same(&queried(&env.db, engine, "json"), &want, engine);
    }
}

#[test]
fn verify_reports_a_damaged_compressed_raw_as_altered() {
    let env = Env::new();
    let tenant = tenant_with(events(EVENTS, 6));
    assert_ok(&sync(&tenant, &env.db));
    ok(run(&env.db, &["verify"]));
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let (id, frame): (String, Vec<u8>) = conn
        .query_row(
            "SELECT log_id, raw FROM events WHERE typeof(raw) = 'blob' ORDER BY rowid DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // A byte of the compressed data, then a byte of the frame header (the
    // dictionary id).
    for at in [frame.len() / 2, 5] {
        let mut bad = frame.clone();
        bad[at] ^= 0x21;
        conn.execute(
            "UPDATE events SET raw = ?1 WHERE log_id = ?2",
            rusqlite::params![bad, id],
        )
        .unwrap();
        let out = run(&env.db, &["verify"]);
        assert_eq!(out.status.code(), Some(6), "byte {at}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains("altered"), "{err}");
    }
    conn.execute(
        "UPDATE events SET raw = ?1 WHERE log_id = ?2",
        rusqlite::params![frame, id],
    )
    .unwrap();
    ok(run(&env.db, &["verify"]));
}

#[test]
fn importing_compressed_events_again_finds_duplicates_and_conflicts_not_new_rows() {
    let env = Env::new();
    let tenant = tenant_with(events(EVENTS, 7));
    assert_ok(&sync(&tenant, &env.db));
    let blob_ids: Vec<String> = {
        let conn = rusqlite::Connection::open(&env.db).unwrap();
        let mut stmt = conn
            .prepare("SELECT log_id FROM events WHERE typeof(raw) = 'blob' ORDER BY rowid LIMIT 3")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let want = expected(&tenant);
    // The same bytes twice, and one with another ip: a conflict.
    let mut altered: Value = serde_json::from_str(&want[&blob_ids[2]]).unwrap();
    altered["ip"] = Value::from("198.51.100.99");
    let lines = [
        want[&blob_ids[0]].clone(),
        want[&blob_ids[1]].clone(),
        altered.to_string(),
    ];
    let file = env.dir.path().join("again.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = ok(run(&env.db, &["import", file.to_str().unwrap(), "--json"]));
    let s: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            s["inserted"].as_u64(),
            s["duplicates"].as_u64(),
            s["conflicts"].as_u64()
        ),
        (Some(0), Some(2), Some(1)),
        "{s}"
    );
    assert_exact(&env.db, &tenant);
}
