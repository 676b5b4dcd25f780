//! `detect` through the real binary: only new findings are printed, a burst
//! that straddles two runs is one finding, `--fail-on` exits 7, a window can
//! be re-examined without moving watermarks, and a run killed at any moment
//! never files a finding twice and never loses one from standard output.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use crate::common::*;

fn detect(db: &Path, args: &[&str]) -> Output {
    bin()
        .arg("--db")
        .arg(db)
        .args(["detect", "--format", "ndjson", "--only", "brute-force"])
        .args(args)
        .output()
        .unwrap()
}

fn findings(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn only_new_findings_are_printed_and_a_rerun_prints_none() {
    let env = Env::new();
    let mut all = events(300, 91);
    all.extend(failures("203.0.113.7", "2026-11-20T03:00:00Z", 12, 20, 1));
    all.extend(failures("203.0.113.8", "2026-11-20T05:00:00Z", 4, 20, 100));
    let tenant = tenant_with(all);
    assert_ok(&sync(&tenant, &env.db));

    let first = detect(&env.db, &[]);
    assert_ok(&first);
    let found = findings(&first);
    let attack: Vec<&serde_json::Value> =
        found.iter().filter(|f| f["ip"] == "203.0.113.7").collect();
    assert_eq!(attack.len(), 1, "{found:?}");
    let f = attack[0];
    assert_eq!(f["detection"], "brute-force");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["events"], 12);
    assert_eq!(f["log_ids"].as_array().unwrap().len(), 12);
    assert_eq!(f["first_seen"], "2026-11-20T03:00:00.000Z");
    assert!(f["summary"].as_str().unwrap().contains("203.0.113.7"));
    assert!(
        !found.iter().any(|f| f["ip"] == "203.0.113.8"),
        "4 failures are below the threshold"
    );

    let again = detect(&env.db, &[]);
    assert_ok(&again);
    assert!(stdout(&again).trim().is_empty(), "{}", stdout(&again));
    let s = status_json(&env.db);
    assert_eq!(s["detect"]["last_run_outcome"], "ok");
    assert_eq!(
        s["detect"]["findings"]["high"].as_i64().unwrap(),
        found.len() as i64
    );

    // A window re-examined shows the known finding, marked not new, and
    // leaves the watermark alone.
    let window = detect(&env.db, &["--since", "2026-11-20", "--until", "2026-11-20"]);
    assert_ok(&window);
    let seen = findings(&window);
    assert!(
        seen.iter()
            .any(|f| f["ip"] == "203.0.113.7" && f["new"] == false)
    );
}

#[test]
fn a_burst_that_straddles_two_runs_is_one_finding() {
    let env = Env::new();
    let tenant = tenant_with(failures("198.51.100.9", "2026-11-21T10:00:00Z", 6, 30, 1));
    assert_ok(&sync(&tenant, &env.db));
    assert!(findings(&detect(&env.db, &[])).is_empty(), "6 of 10 so far");

    tenant.with(|st| st.push_events(failures("198.51.100.9", "2026-11-21T10:03:00Z", 6, 30, 50)));
    assert_ok(&sync(&tenant, &env.db));
    let second = findings(&detect(&env.db, &[]));
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0]["events"], 12, "the earlier half is seen too");

    // More of the same burst extends the finding; nothing new is printed.
    tenant.with(|st| st.push_events(failures("198.51.100.9", "2026-11-21T10:06:00Z", 5, 30, 90)));
    assert_ok(&sync(&tenant, &env.db));
    let third = detect(&env.db, &[]);
    assert_ok(&third);
    assert!(findings(&third).is_empty(), "{}", stdout(&third));
    let (n, events): (i64, i64) = rusqlite::Connection::open(&env.db)
        .unwrap()
        .query_row("SELECT count(*), max(events) FROM findings", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((n, events), (1, 17));
}

#[test]
fn fail_on_exits_7_for_a_new_finding_at_that_severity_only() {
    let env = Env::new();
    let tenant = tenant_with(failures("192.0.2.44", "2026-11-22T08:00:00Z", 15, 10, 1));
    assert_ok(&sync(&tenant, &env.db));
    let out = detect(&env.db, &["--fail-on", "high"]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert_eq!(
        findings(&out).len(),
        1,
        "the finding is printed before exiting 7"
    );
    assert!(stderr(&out).contains("--fail-on"));
    // Known now: no longer a reason to fail.
    assert_ok(&detect(&env.db, &["--fail-on", "high"]));
    let bad = detect(&env.db, &["--fail-on", "urgent"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_detect_killed_at_any_moment_never_files_a_finding_twice() {
    let env = Env::new();
    let mut all = events(3000, 92);
    for (i, ip) in ["203.0.113.21", "203.0.113.22", "203.0.113.23"]
        .iter()
        .enumerate()
    {
        all.extend(failures(
            ip,
            "2026-11-20T06:00:00Z",
            11 + i as u64,
            15,
            1000 * (i as u64 + 1),
        ));
    }
    let tenant = tenant_with(all);
    assert_ok(&sync(&tenant, &env.db));

    // (times printed, times printed as found by that run rather than
    // `pending` from a run killed before it printed or settled them)
    let mut printed: HashMap<String, (usize, usize)> = HashMap::new();
    let mut note = |f: &serde_json::Value| {
        let seen = printed.entry(f["id"].to_string()).or_default();
        seen.0 += 1;
        if f["pending"] != true {
            seen.1 += 1;
        }
    };
    for delay_ms in [0u64, 2, 5, 9, 14, 20, 30, 45] {
        let child = bin()
            .arg("--db")
            .arg(&env.db)
            .args(["detect", "--format", "ndjson"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let out = child.wait_with_output().unwrap();
        for f in findings_lenient(&out) {
            note(&f);
        }
    }
    let last = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["detect", "--format", "ndjson"])
        .output()
        .unwrap();
    assert_ok(&last);
    for f in findings(&last) {
        note(&f);
    }
    // At least once: every finding printed, and again only as `pending`.
    assert!(
        printed.values().all(|(_, found)| *found <= 1),
        "printed twice as found: {printed:?}"
    );

    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let dupes: i64 = conn
        .query_row(
            "SELECT count(*) FROM findings a JOIN findings b
               ON a.detection = b.detection AND a.scope = b.scope AND a.key = b.key AND a.id < b.id
              AND a.first_seen <= b.last_seen AND b.first_seen <= a.last_seen",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dupes, 0);
    let filed: i64 = conn
        .query_row("SELECT count(*) FROM findings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        printed.len() as i64,
        filed,
        "every finding printed: {printed:?}"
    );
    let brute: i64 = conn
        .query_row(
            "SELECT count(*) FROM findings WHERE detection = 'brute-force' AND key LIKE '%203.0.113.2%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(brute, 3, "every attack filed once, none skipped");
    let behind: i64 = conn
        .query_row(
            "SELECT count(*) FROM detect_watermarks WHERE examined_to < (SELECT max(rowid) FROM events)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(behind, 0, "every detection examined every event");
}

/// Whole lines only: a killed run may leave half a line.
fn findings_lenient(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn both_engines_file_the_same_findings() {
    let env = Env::new();
    let mut all = events(1500, 93);
    all.extend(failures("203.0.113.31", "2026-11-20T07:00:00Z", 14, 15, 1));
    let tenant = tenant_with(all);
    assert_ok(&sync(&tenant, &env.db));
    let other = env.dir.path().join("copy.db");
    rusqlite::Connection::open(&env.db)
        .unwrap()
        .execute_batch(&format!("VACUUM INTO '{}'", other.display()))
        .unwrap();
    let run = |db: &Path, engine: &str| -> Vec<String> {
        let out = bin()
            .arg("--db")
            .arg(db)
            .args(["detect", "--format", "ndjson", "--engine", engine])
            .output()
            .unwrap();
        assert_ok(&out);
        let mut seen: Vec<String> = findings(&out)
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {} {} {}",
                    f["detection"],
                    f["key"],
                    f["first_seen"],
                    f["last_seen"],
                    f["events"],
                    f["log_ids"]
                )
            })
            .collect();
        seen.sort();
        seen
    };
    let lite = run(&env.db, "sqlite");
    assert!(lite.iter().any(|f| f.contains("203.0.113.31")), "{lite:?}");
    assert_eq!(lite, run(&other, "duckdb"));
}

fn sigma_dir(name: &str) -> String {
    format!("{}/tests/sigma/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn sigma_rules_become_findings_once_and_unusable_rules_are_named() {
    let env = Env::new();
    let tenant = tenant_with(failures("192.0.2.77", "2026-11-23T09:00:00Z", 3, 60, 1));
    assert_ok(&sync(&tenant, &env.db));
    let run = |extra: &[&str]| {
        bin()
            .arg("--db")
            .arg(&env.db)
            .args([
                "detect",
                "--format",
                "ndjson",
                "--no-reports",
                "--sigma",
                &sigma_dir("rules"),
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_ok(&out);
    let found = findings(&out);
    let failed: Vec<&serde_json::Value> = found
        .iter()
        .filter(|f| f["detection"] == "Failed login")
        .collect();
    assert_eq!(failed.len(), 1, "{found:?}");
    assert_eq!(failed[0]["source"], "sigma");
    assert_eq!(failed[0]["severity"], "low");
    assert_eq!(failed[0]["events"], 3);
    assert_eq!(failed[0]["log_ids"].as_array().unwrap().len(), 3);
    // Nothing new: nothing printed.
    assert!(findings(&run(&[])).is_empty());
    // New matching events: a new finding for the rule.
    tenant.with(|st| st.push_events(failures("192.0.2.77", "2026-11-24T09:00:00Z", 2, 60, 50)));
    assert_ok(&sync(&tenant, &env.db));
    let next = findings(&run(&[]));
    assert_eq!(next.len(), 1, "{next:?}");
    assert_eq!(next[0]["events"], 2);

    // A directory with broken rules: the usable ones run, the others are named.
    let mixed = bin()
        .arg("--db")
        .arg(&env.db)
        .args([
            "detect",
            "--no-reports",
            "--sigma",
            &sigma_dir("broken"),
            "--since",
            "2026-01-01",
        ])
        .output()
        .unwrap();
    assert_ok(&mixed);
    assert!(stderr(&mixed).contains("broken.yml"), "{}", stderr(&mixed));
    // Nothing usable at all: exit 2.
    let none = bin()
        .arg("--db")
        .arg(&env.db)
        .args([
            "detect",
            "--sigma",
            &format!("{}/broken.yml", sigma_dir("broken")),
        ])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2), "{}", stderr(&none));
}
