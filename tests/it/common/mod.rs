//! Test environment: a temp directory with an archive path, the real binary,
//! and helpers to read the archive back.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use auth0_archive::simulator::generator::{Spec, generate};
use auth0_archive::simulator::{FakeTenant, StoredEvent, TenantClock, TenantState};
use chrono::{DateTime, Utc};

pub const CLIENT_SECRET: &str = "test-client-secret";

pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("archive.db");
        Env { dir, db }
    }
}

/// The binary under test, with no AUTH0_* settings inherited from the shell.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auth0-archive"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AUTH0_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// `sync` against `tenant` with client credentials, fast retries, JSON summary.
pub fn sync_cmd(tenant: &FakeTenant, db: &Path) -> Command {
    let mut cmd = bin();
    cmd.arg("--db")
        .arg(db)
        .args(["sync", "--json", "--quiet", "--retry-delay-ms", "5"])
        .env("AUTH0_BASE_URL", tenant.base_url())
        .env("AUTH0_CLIENT_ID", "test-client-id")
        .env("AUTH0_CLIENT_SECRET", CLIENT_SECRET);
    cmd
}

pub fn sync(tenant: &FakeTenant, db: &Path) -> Output {
    sync_cmd(tenant, db).output().expect("run binary")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// The JSON summary a `sync --json` printed.
pub fn summary(o: &Output) -> serde_json::Value {
    let out = stdout(o);
    serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {out:?}\nstderr: {}", stderr(o)))
}

pub fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
}

/// Fails if a secret shows up anywhere in what the process printed.
pub fn assert_no_secret(o: &Output, secrets: &[&str]) {
    for s in secrets {
        assert!(!stdout(o).contains(s), "secret leaked on stdout");
        assert!(!stderr(o).contains(s), "secret leaked on stderr");
    }
}

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// `n` ordinary events over the three days before 2026-11-20.
pub fn events(n: usize, seed: u64) -> Vec<StoredEvent> {
    events_over(n, seed, 3, "2026-11-20T00:00:00Z")
}

/// `n` ordinary events over the day before `end`.
pub fn events_ending(n: usize, seed: u64, end: &str) -> Vec<StoredEvent> {
    events_over(n, seed, 1, end)
}

fn events_over(n: usize, seed: u64, days: i64, end: &str) -> Vec<StoredEvent> {
    let mut spec = Spec::recent(n, days, t(end));
    spec.seed = seed;
    spec.plant_patterns = false;
    generate(&spec)
}

/// A tenant holding `events`.
pub fn tenant_with(events: Vec<StoredEvent>) -> FakeTenant {
    let mut state = TenantState::default();
    state.push_events(events);
    start_tenant(state)
}

/// Starts `state` with its clock a minute after its newest event, as a
/// tenant in use would be: the fixtures have fixed dates, and no test may
/// depend on the day it runs.
pub fn start_tenant(mut state: TenantState) -> FakeTenant {
    if let Some(newest) = state.newest_event_time() {
        state.clock = TenantClock::reading(newest + chrono::Duration::minutes(1));
    }
    FakeTenant::start(state).expect("start fake tenant")
}

/// (log_id, raw) of every archived event, ordered by log_id; `raw` as its
/// text, whatever its stored form.
pub fn archived(db: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let codec = auth0_archive::store::raw::RawCodec::load(&conn).unwrap();
    let mut stmt = conn.prepare("SELECT log_id, raw FROM events").unwrap();
    let mut rows: Vec<(String, String)> = stmt
        .query_map([], |r| {
            let raw = codec.text(r.get_ref(1)?).unwrap().into_owned();
            Ok((r.get(0)?, raw))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.sort_by(|a, b| auth0_archive::auth0::log_id::compare(&a.0, &b.0));
    rows
}

/// Asserts the archive holds exactly the tenant's events, byte for byte.
pub fn assert_exact(db: &Path, tenant: &FakeTenant) {
    // Copied out first, so a failing assertion does not poison the tenant.
    let events = tenant.with(|s| s.events().to_vec());
    assert_exact_events(db, &events);
}

/// Asserts the archive holds exactly `events` (those with a log_id), byte for
/// byte: same log_id set, same raw JSON, nothing else.
pub fn assert_exact_events(db: &Path, events: &[StoredEvent]) {
    let mut expected: Vec<(String, String)> = events
        .iter()
        .filter(|e| !e.key.is_empty())
        .map(|e| (e.key.clone(), e.raw.clone()))
        .collect();
    expected.sort_by(|a, b| auth0_archive::auth0::log_id::compare(&a.0, &b.0));
    let got = archived(db);
    assert_eq!(got.len(), expected.len(), "event count differs");
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g.0, e.0, "log_id sets differ");
        assert_eq!(g.1, e.1, "raw differs for {}", e.0);
    }
}

/// `status --json` of an archive, asserting it succeeded.
pub fn status_json(db: &Path) -> serde_json::Value {
    let out = bin()
        .arg("--db")
        .arg(db)
        .args(["status", "--json"])
        .output()
        .expect("run binary");
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).expect("status JSON")
}

pub fn query_one<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> T {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// `n` failed logins from `ip` starting at `start`, `step_s` apart (ten
/// or more within the window make a brute-force finding, high).
pub fn failures(ip: &str, start: &str, n: u64, step_s: i64, seq: u64) -> Vec<StoredEvent> {
    (0..n)
        .map(|i| {
            let at = t(start) + chrono::Duration::seconds(step_s * i as i64);
            let id = auth0_archive::simulator::generator::log_id_for(at, seq + i);
            StoredEvent::from_json(format!(
                r#"{{"log_id":"{id}","date":"{}","type":"f","ip":"{ip}","user_name":"victim{i}@example.com","description":"Wrong email or password."}}"#,
                at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
            ))
        })
        .collect()
}
