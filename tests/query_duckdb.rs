//! The DuckDB copy beside the archive: incremental refresh, rebuild when
//! the archive changed underneath it.

mod query_support;

use auth0_archive::mirror;
use query_support::*;

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
