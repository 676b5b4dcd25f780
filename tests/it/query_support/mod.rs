//! Shared by the query and export tests: real archives on disk, filled
//! through the same parse → insert path a sync uses, and the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_auth0-archive");

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// `2026-10-01T00:00:00.000Z` plus `seconds`.
pub fn at(seconds: i64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-10-01T00:00:00Z").unwrap();
    (base + chrono::Duration::seconds(seconds))
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub const MIN: i64 = 60;
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;

/// A log event as Auth0 sends it, built field by field.
#[derive(Clone)]
pub struct Ev(pub Value);

pub fn ev(ty: &str, seconds: i64) -> Ev {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    Ev(json!({
        "log_id": format!("900{:053}", n),
        "date": at(seconds),
        "type": ty,
        "description": "",
        "user_id": "",
    }))
}

impl Ev {
    fn set(mut self, k: &str, v: Value) -> Self {
        self.0[k] = v;
        self
    }
    pub fn ip(self, ip: &str) -> Self {
        self.set("ip", json!(ip))
    }
    pub fn user(self, id: &str) -> Self {
        let name = id.rsplit('|').next().unwrap_or(id).to_string() + "@example.com";
        self.set("user_id", json!(id)).set("user_name", json!(name))
    }
    pub fn user_name(self, name: &str) -> Self {
        self.set("user_name", json!(name))
    }
    pub fn desc(self, d: &str) -> Self {
        self.set("description", json!(d))
    }
    pub fn client(self, id: &str) -> Self {
        self.set("client_id", json!(id))
            .set("client_name", json!(format!("app {id}")))
    }
    pub fn field(self, k: &str, v: Value) -> Self {
        self.set(k, v)
    }
    pub fn client_named(self, id: &str, name: &str) -> Self {
        self.set("client_id", json!(id))
            .set("client_name", json!(name))
    }
    pub fn details(self, d: Value) -> Self {
        self.set("details", d)
    }
    pub fn country(self, cc: &str) -> Self {
        self.set(
            "location_info",
            json!({ "country_code": cc, "country_name": cc }),
        )
    }
    pub fn place(self, city: &str, cc: &str, lat: f64, lon: f64) -> Self {
        self.set(
            "location_info",
            json!({ "city_name": city, "country_code": cc, "latitude": lat, "longitude": lon }),
        )
    }
}

/// An archive in a temporary directory.
pub struct Archive {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

pub fn archive(events: &[Ev]) -> Archive {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("archive.db");
    add(&db, events);
    Archive { dir, db }
}

/// Appends events to the archive at `db` in one transaction.
pub fn add(db: &Path, events: &[Ev]) {
    let body = serde_json::to_vec(&events.iter().map(|e| e.0.clone()).collect::<Vec<_>>()).unwrap();
    let page = auth0_archive::event::parse_page(&body).unwrap();
    assert_eq!(page.events.len(), events.len());
    let mut conn = auth0_archive::store::open_for_write(db).unwrap();
    let tx = conn.transaction().unwrap();
    auth0_archive::store::events::insert_rows(&tx, "acme.us.auth0.com", &page).unwrap();
    tx.commit().unwrap();
}

pub fn cli(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Rows of a saved report as JSON objects, on one engine.
pub fn report_on(db: &Path, engine: &str, name: &str, params: &[&str]) -> Vec<Map<String, Value>> {
    let mut args = vec!["query", "run", name, "--format", "json", "--engine", engine];
    for p in params {
        args.push("--param");
        args.push(p);
    }
    let out = ok(&cli(db, &args));
    let v: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: bad JSON {e}: {out}"));
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

/// Rows of a saved report, after checking that SQLite and DuckDB agree.
pub fn report(db: &Path, name: &str, params: &[&str]) -> Vec<Map<String, Value>> {
    let lite = report_on(db, "sqlite", name, params);
    let duck = report_on(db, "duckdb", name, params);
    assert_eq!(
        lite, duck,
        "report {name} differs between sqlite and duckdb"
    );
    lite
}

/// The rows whose `key` column equals `value`.
pub fn with<'a>(
    rows: &'a [Map<String, Value>],
    key: &str,
    value: &str,
) -> Vec<&'a Map<String, Value>> {
    rows.iter()
        .filter(|r| r.get(key).and_then(Value::as_str) == Some(value))
        .collect()
}

pub fn sql_count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The planted-attack corpus (the one the simulated tenant plants too), on
/// 2026-10-06 and later (after the volume-attack fixture's days).
pub fn detection_events() -> Vec<Ev> {
    auth0_archive::simulator::attacks::corpus("acme.us.auth0.com")
        .into_iter()
        .map(|p| {
            let mut e = ev(p.code(), 5 * DAY + 10 * HOUR + p.after_seconds);
            for (k, v) in p.fields {
                e.0[k] = v;
            }
            e
        })
        .collect()
}

/// `log_ids` lists exactly `events` ids, each an event of the archive.
pub fn check_evidence(db: &Path, name: &str, rows: &[Map<String, Value>]) {
    for r in rows {
        let ids: Vec<&str> = r["log_ids"].as_str().unwrap().split(' ').collect();
        let events = r["events"].as_i64().unwrap();
        assert_eq!(ids.len() as i64, events, "{name}: {r:?}");
        for id in ids {
            let n = sql_count(
                db,
                &format!("SELECT count(*) FROM events WHERE log_id = '{id}'"),
            );
            assert_eq!(n, 1, "{name}: log id {id} not in the archive");
        }
    }
}
