//! The DuckDB copy beside the archive: incremental refresh, rebuild when
//! the archive changed underneath it.

use crate::query_support::*;
use auth0_archive::mirror;

fn events(n: i64, offset: i64) -> Vec<Ev> {
    (0..n)
        .map(|i| {
            ev("s", offset + i * MIN)
                .user(&format!("auth0|u{}", i % 7))
                .ip("192.0.2.1")
        })
        .collect()
}

fn duck_count(db: &std::path::Path) -> i64 {
    let out = ok(&cli(
        db,
        &[
            "query",
            "sql",
            "SELECT count(*) FROM events",
            "--engine",
            "duckdb",
            "--format",
            "csv",
        ],
    ));
    out.lines().nth(1).unwrap().trim().parse().unwrap()
}

#[test]
fn refresh_appends_only_rows_added_since_the_last_one() {
    let a = archive(&events(50, 0));
    let (_, first) = mirror::refresh(&a.db).unwrap();
    assert_eq!((first.appended, first.rebuilt, first.rows), (50, true, 50));
    let (_, again) = mirror::refresh(&a.db).unwrap();
    assert_eq!((again.appended, again.rebuilt), (0, false));
    add(&a.db, &events(3, DAY));
    let (_, next) = mirror::refresh(&a.db).unwrap();
    assert_eq!((next.appended, next.rebuilt, next.rows), (3, false, 53));
    assert_eq!(duck_count(&a.db), 53);
    assert!(mirror::mirror_path(&a.db).exists());
}

#[test]
fn deleted_rows_make_the_copy_rebuild() {
    let a = archive(&events(20, 0));
    assert_eq!(duck_count(&a.db), 20);
    {
        let conn = rusqlite::Connection::open(&a.db).unwrap();
        conn.execute(
            "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events ORDER BY rowid LIMIT 5)",
            [],
        )
        .unwrap();
    }
    // The same number of rows again, so only the deletion check can tell.
    add(&a.db, &events(5, DAY));
    let (_, r) = mirror::refresh(&a.db).unwrap();
    assert!(r.rebuilt);
    assert_eq!(r.rows, 20);
    let lite = ok(&cli(
        &a.db,
        &["query", "sql", "SELECT log_id FROM events ORDER BY log_id"],
    ));
    let duckdb = ok(&cli(
        &a.db,
        &[
            "query",
            "sql",
            "SELECT log_id FROM events ORDER BY log_id",
            "--engine",
            "duckdb",
        ],
    ));
    assert_eq!(lite, duckdb);
}

#[test]
fn a_replaced_last_row_is_noticed() {
    let a = archive(&events(10, 0));
    assert_eq!(duck_count(&a.db), 10);
    {
        let conn = rusqlite::Connection::open(&a.db).unwrap();
        conn.execute(
            "DELETE FROM events WHERE rowid = (SELECT max(rowid) FROM events)",
            [],
        )
        .unwrap();
    }
    // SQLite reuses the freed rowid for the next row.
    add(&a.db, &events(1, DAY));
    let (_, r) = mirror::refresh(&a.db).unwrap();
    assert!(r.rebuilt);
    let lite = ok(&cli(
        &a.db,
        &["query", "sql", "SELECT log_id FROM events ORDER BY log_id"],
    ));
    let duckdb = ok(&cli(
        &a.db,
        &[
            "query",
            "sql",
            "SELECT log_id FROM events ORDER BY log_id",
            "--engine",
            "duckdb",
        ],
    ));
    assert_eq!(lite, duckdb);
}

#[test]
fn every_column_survives_the_copy() {
    let a = archive(&[
        ev("s", 0)
            .user("auth0|x")
            .ip("192.0.2.1")
            .place("Berlin", "DE", 52.52, 13.405)
            .client("c1"),
        ev("fp", 60)
            .desc("Wrong password")
            .details(serde_json::json!({"error": {"message": "x"}})),
    ]);
    let sql = "SELECT log_id, tenant, date, ts, type, description, client_id, client_name, ip, user_id, user_name, \
               city_name, country_code, latitude, longitude, details, raw FROM events ORDER BY log_id";
    let lite = ok(&cli(&a.db, &["query", "sql", sql, "--format", "json"]));
    let duckdb = ok(&cli(
        &a.db,
        &[
            "query", "sql", sql, "--format", "json", "--engine", "duckdb",
        ],
    ));
    assert_eq!(lite, duckdb);
}

fn duck_descriptions(db: &std::path::Path) -> (String, String) {
    let sql = "SELECT log_id, description, raw FROM events ORDER BY log_id";
    let lite = ok(&cli(db, &["query", "sql", sql, "--format", "json"]));
    let duck = ok(&cli(
        db,
        &[
            "query", "sql", sql, "--format", "json", "--engine", "duckdb",
        ],
    ));
    (lite, duck)
}

/// What the copy's older checks compare: rows at or below the watermark and
/// the log_id at it. The chain tests below keep both equal, so only the
/// integrity-chain check can notice.
fn watermark_view(db: &std::path::Path) -> (i64, String) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT count(*), (SELECT log_id FROM events ORDER BY rowid DESC LIMIT 1) FROM events",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[test]
fn an_event_rewritten_in_place_and_resealed_makes_the_copy_rebuild() {
    let a = archive(&events(10, 0));
    add(&a.db, &events(5, DAY));
    assert_eq!(duck_count(&a.db), 15);
    let before = watermark_view(&a.db);
    {
        // Rewrite an event of the newest link in place (same rowid) and its
        // link's text, as a re-seal of the chain would.
        let conn = rusqlite::Connection::open(&a.db).unwrap();
        let changed = conn
            .execute(
                "UPDATE events SET description = 'rewritten',
                        raw = json_set(raw, '$.description', 'rewritten')
                 WHERE rowid = (SELECT max(rowid) - 1 FROM events)",
                [],
            )
            .unwrap();
        assert_eq!(changed, 1);
        conn.execute(
            "UPDATE chain SET link = 'resealed-' || link WHERE seq = (SELECT max(seq) FROM chain)",
            [],
        )
        .unwrap();
    }
    assert_eq!(watermark_view(&a.db), before);
    let (_, r) = mirror::refresh(&a.db).unwrap();
    assert!(r.rebuilt);
    assert_eq!(r.rows, 15);
    let (lite, duck) = duck_descriptions(&a.db);
    assert!(duck.contains("rewritten"));
    assert_eq!(lite, duck);
    // And it settles: the next refresh appends nothing.
    let (_, r) = mirror::refresh(&a.db).unwrap();
    assert_eq!((r.rebuilt, r.appended), (false, 0));
}

#[test]
fn a_newest_link_deleted_and_archived_again_with_other_content_makes_the_copy_rebuild() {
    let a = archive(&events(10, 0));
    let late = events(5, DAY);
    add(&a.db, &late);
    assert_eq!(duck_count(&a.db), 15);
    let before = watermark_view(&a.db);
    {
        let conn = rusqlite::Connection::open(&a.db).unwrap();
        let head: i64 = conn
            .query_row("SELECT max(seq) FROM chain", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            conn.execute("DELETE FROM events WHERE chain_seq = ?1", [head])
                .unwrap(),
            5
        );
        conn.execute("DELETE FROM chain WHERE seq = ?1", [head])
            .unwrap();
    }
    // The same log ids come back in the same order (SQLite hands out the
    // same rowids again) under a new link with the same seq: only their
    // content differs.
    let again: Vec<Ev> = late
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.0["description"] = serde_json::json!("archived again");
            e
        })
        .collect();
    add(&a.db, &again);
    assert_eq!(watermark_view(&a.db), before);
    let (_, r) = mirror::refresh(&a.db).unwrap();
    assert!(r.rebuilt);
    assert_eq!(r.rows, 15);
    let (lite, duck) = duck_descriptions(&a.db);
    assert!(duck.contains("archived again"));
    assert_eq!(lite, duck);
}

#[test]
fn a_prune_makes_the_copy_rebuild() {
    let a = archive(&events(10, 0));
    add(&a.db, &events(5, 2 * DAY));
    assert_eq!(duck_count(&a.db), 15);
    let said = ok(&cli(
        &a.db,
        &[
            "prune",
            "--before",
            "2026-10-02",
            "--yes",
            "--without-export",
        ],
    ));
    assert!(said.contains("deleted 10 events"), "{said}");
    let (_, r) = mirror::refresh(&a.db).unwrap();
    assert!(r.rebuilt);
    assert_eq!(r.rows, 5);
    assert_eq!(duck_count(&a.db), 5);
    let (lite, duck) = duck_descriptions(&a.db);
    assert_eq!(lite, duck);
}

#[test]
fn a_copy_of_the_previous_layout_is_rebuilt() {
    let a = archive(&events(10, 0));
    assert_eq!(duck_count(&a.db), 10);
    {
        let duck = duckdb::Connection::open(mirror::mirror_path(&a.db)).unwrap();
        duck.execute_batch(
            "DROP TABLE event_digests;
             DROP TABLE mirror_state;
             CREATE TABLE mirror_state (version BIGINT, source_rowid BIGINT, source_rows BIGINT, last_log_id VARCHAR);
             INSERT INTO mirror_state VALUES (1, 10, 10, NULL);",
        )
        .unwrap();
    }
    let (_, r) = mirror::refresh(&a.db).unwrap();
    assert!(r.rebuilt);
    assert_eq!(r.rows, 10);
}
