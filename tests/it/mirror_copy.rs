//! The DuckDB copy holds exactly what the archive holds: every column of
//! every row, byte for byte and with the column table's types, after a first
//! build and after refreshes; and a copy that was lost, left behind or cut
//! short is replaced rather than trusted.

use std::path::Path;

use crate::query_support::*;
use auth0_archive::event::{Kind, event_columns};
use auth0_archive::mirror;
use auth0_archive::store::raw::RawCodec;
use serde_json::json;

/// More than one record batch of the copy (8,192 rows).
const MANY: usize = 8_500;

/// One cell, compared exactly (reals by their bits).
#[derive(Debug, PartialEq)]
enum Cell {
    Null,
    Text(Vec<u8>),
    Int(i64),
    Real(u64),
    Bool(bool),
}

fn column_list() -> String {
    event_columns()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every row of the archive's `events`, in log_id order, as the copy should
/// hold it (`raw` read the way every reader of it must).
fn sqlite_rows(db: &Path) -> Vec<Vec<Cell>> {
    use rusqlite::types::ValueRef as V;
    let conn = rusqlite::Connection::open(db).unwrap();
    let codec = RawCodec::load(&conn).unwrap();
    let sql = format!("SELECT {} FROM events ORDER BY log_id", column_list());
    let mut stmt = conn.prepare(&sql).unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        let row = event_columns()
            .enumerate()
            .map(|(i, c)| match (c.kind, r.get_ref(i).unwrap()) {
                (_, V::Null) => Cell::Null,
                (Kind::Text, v) if c.name == "raw" => {
                    Cell::Text(codec.text(v).unwrap().as_bytes().to_vec())
                }
                (Kind::Text, V::Text(t)) => Cell::Text(t.to_vec()),
                (Kind::Int, V::Integer(i)) => Cell::Int(i),
                (Kind::Real, V::Real(f)) => Cell::Real(f.to_bits()),
                (Kind::Real, V::Integer(i)) => Cell::Real((i as f64).to_bits()),
                (Kind::Bool, V::Integer(i)) => Cell::Bool(i != 0),
                (kind, v) => panic!("{}: {kind:?} column holds {v:?}", c.name),
            })
            .collect();
        out.push(row);
    }
    out
}

/// Every row of the copy's `events`, in log_id order.
fn duck_rows(db: &Path) -> Vec<Vec<Cell>> {
    use duckdb::types::ValueRef as V;
    let duck = duckdb::Connection::open(mirror::mirror_path(db)).unwrap();
    let sql = format!("SELECT {} FROM events ORDER BY log_id", column_list());
    let mut stmt = duck.prepare(&sql).unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        let row = event_columns()
            .enumerate()
            .map(|(i, c)| match r.get_ref(i).unwrap() {
                V::Null => Cell::Null,
                V::Text(t) => Cell::Text(t.to_vec()),
                V::BigInt(i) => Cell::Int(i),
                V::Double(f) => Cell::Real(f.to_bits()),
                V::Boolean(b) => Cell::Bool(b),
                v => panic!("{}: unexpected DuckDB value {v:?}", c.name),
            })
            .collect();
        out.push(row);
    }
    out
}

fn assert_copy_matches(db: &Path) {
    let (lite, duck) = (sqlite_rows(db), duck_rows(db));
    assert_eq!(lite.len(), duck.len(), "row count");
    for (i, (l, d)) in lite.iter().zip(&duck).enumerate() {
        assert_eq!(l, d, "row {i}");
    }
}

/// Events that between them hold every kind of value: NULLs and empty
/// strings, both booleans, reals, unicode, nested JSON.
fn varied(n: usize, offset: i64) -> Vec<Ev> {
    (0..n)
        .map(|i| {
            let mut e = ev(["s", "fp", "ssa"][i % 3], offset + i as i64);
            match i % 5 {
                0 => {
                    e = e
                        .user("auth0|zoë")
                        .user_name("Zoë 😀 日本語 \"quoted\" \\ back")
                        .place("São Paulo", "BR", -23.5505, -46.633_3)
                        .field("isMobile", json!(true))
                        .client_named("c1", "Ünïcode app")
                }
                1 => {
                    e = e
                        .ip("2001:db8::1")
                        .field("isMobile", json!(false))
                        .details(json!({"error": {"message": "ß\n\ttab", "n": [1, 2.5, null]}}))
                }
                2 => e = e.desc("").place("Null Island", "", 0.0, -0.0),
                3 => {
                    e = e
                        .field("user_agent", json!(""))
                        .field("hostname", json!("x".repeat(3000)))
                }
                _ => {}
            }
            e
        })
        .collect()
}

#[test]
fn the_copy_holds_every_column_of_every_row_with_the_listed_types() {
    let a = archive(&varied(MANY, 0));
    {
        // A raw event spelled with spaces and escapes, as Auth0 might: the
        // copy keeps its bytes, not a re-serialization.
        let conn = rusqlite::Connection::open(&a.db).unwrap();
        conn.execute(
            "UPDATE events SET raw = '{ \"log_id\" : \"x\",  \"user_name\":\"Zo\\u00eb\" }'
             WHERE rowid = 7",
            [],
        )
        .unwrap();
    }
    let (_, r) = mirror::refresh(&a.db).unwrap();
    assert_eq!((r.rebuilt, r.appended), (true, MANY as u64));
    assert_copy_matches(&a.db);

    let duck = duckdb::Connection::open(mirror::mirror_path(&a.db)).unwrap();
    let types: Vec<(String, String, String)> = duck
        .prepare(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns
             WHERE table_name = 'events' ORDER BY ordinal_position",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(duck);
    let expected: Vec<(String, String, String)> = event_columns()
        .map(|c| {
            let ty = match c.kind {
                Kind::Text => "VARCHAR",
                Kind::Int => "BIGINT",
                Kind::Real => "DOUBLE",
                Kind::Bool => "BOOLEAN",
            };
            let nullable = if c.required { "NO" } else { "YES" };
            (c.name.to_string(), ty.to_string(), nullable.to_string())
        })
        .collect();
    assert_eq!(types, expected);

    // A refresh larger than a batch appends, and the copy still matches.
    add(&a.db, &varied(MANY, DAY));
    let (_, r) = mirror::refresh(&a.db).unwrap();
    assert_eq!(
        (r.rebuilt, r.appended, r.rows),
        (false, MANY as u64, 2 * MANY as u64)
    );
    assert_copy_matches(&a.db);
}

fn remove_copy(db: &Path) {
    let copy = mirror::mirror_path(db);
    std::fs::remove_file(&copy).unwrap();
    let mut wal = copy.into_os_string();
    wal.push(".wal");
    let _ = std::fs::remove_file(wal);
}

#[test]
fn a_deleted_copy_is_built_again() {
    let a = archive(&varied(40, 0));
    mirror::refresh(&a.db).unwrap();
    remove_copy(&a.db);
    let (_, r) = mirror::refresh(&a.db).unwrap();
    assert_eq!((r.rebuilt, r.appended, r.rows), (true, 40, 40));
    assert_copy_matches(&a.db);
}

#[test]
fn a_copy_left_behind_by_an_earlier_refresh_catches_up() {
    let a = archive(&varied(30, 0));
    mirror::refresh(&a.db).unwrap();
    let saved = a.dir.path().join("saved.duckdb");
    std::fs::copy(mirror::mirror_path(&a.db), &saved).unwrap();
    add(&a.db, &varied(20, DAY));
    mirror::refresh(&a.db).unwrap();
    // Put the older copy back, as a crash before its replacement would.
    remove_copy(&a.db);
    std::fs::copy(&saved, mirror::mirror_path(&a.db)).unwrap();
    let (_, r) = mirror::refresh(&a.db).unwrap();
    assert_eq!((r.rebuilt, r.appended, r.rows), (false, 20, 50));
    assert_copy_matches(&a.db);
}

fn copied_rows(db: &Path) -> i64 {
    let duck = duckdb::Connection::open(mirror::mirror_path(db)).unwrap();
    duck.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_rebuild_that_fails_halfway_leaves_the_previous_copy() {
    let a = archive(&varied(30, 0));
    mirror::refresh(&a.db).unwrap();
    let good_raw: String;
    {
        let conn = rusqlite::Connection::open(&a.db).unwrap();
        // A deleted row forces a rebuild; a raw event that is not UTF-8
        // stops it after some rows were appended.
        conn.execute("DELETE FROM events WHERE rowid = 2", [])
            .unwrap();
        good_raw = conn
            .query_row("SELECT raw FROM events WHERE rowid = 25", [], |r| r.get(0))
            .unwrap();
        conn.execute(
            "UPDATE events SET raw = CAST(X'7B22FF227D' AS TEXT) WHERE rowid = 25",
            [],
        )
        .unwrap();
    }
    let failed = mirror::refresh(&a.db);
    assert!(failed.is_err());
    assert_eq!(copied_rows(&a.db), 30, "the previous copy is kept whole");
    {
        let conn = rusqlite::Connection::open(&a.db).unwrap();
        conn.execute("UPDATE events SET raw = ?1 WHERE rowid = 25", [good_raw])
            .unwrap();
    }
    let (_, r) = mirror::refresh(&a.db).unwrap();
    assert_eq!((r.rebuilt, r.rows), (true, 29));
    assert_copy_matches(&a.db);
}
