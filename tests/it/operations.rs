//! Scheduled archival and operations: follow mode, several tenants, the
//! integrity chain, import and prune.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use crate::common::*;
use auth0_archive::simulator::TenantState;

fn run(env: &Env, args: &[&str]) -> std::process::Output {
    bin().arg("--db").arg(&env.db).args(args).output().unwrap()
}

#[test]
fn follow_mode_picks_up_new_events_and_stops_cleanly_on_sigterm() {
    let env = Env::new();
    let tenant = tenant_with(events(250, 41));
    let child = sync_cmd(&tenant, &env.db)
        .args(["--follow", "--interval", "200ms"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let wait_for = |n: i64| {
        for _ in 0..200 {
            std::thread::sleep(Duration::from_millis(50));
            if env.db.exists() {
                let c = rusqlite::Connection::open(&env.db).unwrap();
                let got: i64 = c
                    .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
                    .unwrap_or(0);
                if got >= n {
                    return got;
                }
            }
        }
        panic!("follow mode never reached {n} events");
    };
    assert_eq!(wait_for(250), 250);
    tenant.with(|st| st.push_events(events_ending(120, 42, "2026-11-21T00:00:00Z")));
    assert_eq!(wait_for(370), 370);
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    let lines = stdout(&out);
    assert!(
        lines.lines().count() >= 2,
        "one summary line per cycle: {lines}"
    );
    assert_exact(&env.db, &tenant);
}

#[test]
fn two_tenants_share_one_database_with_their_own_checkpoints() {
    let env = Env::new();
    let a = tenant_with(events(230, 43));
    let mut state = TenantState::default();
    state.client_id = "b-client".into();
    state.client_secret = "b-secret-value".into();
    state.push_events(events_ending(140, 44, "2026-11-22T00:00:00Z"));
    let b = start_tenant(state);
    let config = env.dir.path().join("tenants.toml");
    let mut f = std::fs::File::create(&config).unwrap();
    write!(
        f,
        "[[tenant]]\nname = \"prod\"\nbase_url = \"{}\"\nclient_id = \"test-client-id\"\nclient_secret_env = \"PROD_SECRET\"\n\n\
         [[tenant]]\nname = \"staging\"\nbase_url = \"{}\"\nclient_id = \"b-client\"\nclient_secret_env = \"STAGING_SECRET\"\n",
        a.base_url(),
        b.base_url()
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let sync_config = |extra: &[&str]| {
        bin()
            .arg("--db")
            .arg(&env.db)
            .args(["sync", "--quiet", "--config"])
            .arg(&config)
            .args(extra)
            .env("PROD_SECRET", CLIENT_SECRET)
            .env("STAGING_SECRET", "b-secret-value")
            .output()
            .unwrap()
    };
    let out = sync_config(&[]);
    assert_ok(&out);
    assert_no_secret(&out, &[CLIENT_SECRET, "b-secret-value"]);
    let per_tenant: String = query_one(
        &env.db,
        "SELECT group_concat(tenant || '=' || n, ',') FROM (SELECT tenant, count(*) n FROM events GROUP BY tenant ORDER BY tenant)",
    );
    assert_eq!(per_tenant, "prod=230,staging=140");
    assert_eq!(
        query_one::<i64>(&env.db, "SELECT count(*) FROM checkpoints"),
        2
    );

    // Reports take an optional tenant, on both engines.
    for engine in ["sqlite", "duckdb"] {
        let rows = |tenant: &str| -> usize {
            let out = bin()
                .arg("--db")
                .arg(&env.db)
                .args([
                    "query",
                    "run",
                    "admin-actions",
                    "--format",
                    "json",
                    "--engine",
                    engine,
                ])
                .args(["--param", &format!("tenant={tenant}")])
                .output()
                .unwrap();
            assert_ok(&out);
            serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
                .unwrap()
                .len()
        };
        let (prod, staging, all) = (rows("prod"), rows("staging"), rows("*"));
        assert!(prod > 0 && staging > 0, "{engine}: {prod} {staging}");
        assert_eq!(prod + staging, all, "{engine}");
        assert_eq!(rows("nope"), 0);
    }

    // One tenant at a time; the other is not contacted.
    let before = a.stats().requests;
    assert_ok(&sync_config(&["--tenant", "staging"]));
    assert_eq!(a.stats().requests, before);

    // A file others can write is refused, as is a literal secret.
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = sync_config(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("chmod"));
    std::fs::write(
        &config,
        format!("[[tenant]]\nname = \"x\"\nbase_url = \"{}\"\nclient_id = \"c\"\nclient_secret = \"literal-s3cret\"\n", a.base_url()),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = sync_config(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("allow_secrets_in_file"));
    assert_no_secret(&out, &["literal-s3cret"]);
}

#[test]
fn verify_catches_an_edited_a_deleted_and_an_inserted_row() {
    let env = Env::new();
    let tenant = tenant_with(events(520, 45));
    assert_ok(&sync(&tenant, &env.db));
    let out = run(&env, &["verify", "--json"]);
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["events"], 520);

    // Make the pristine copy self-contained (no WAL), then tamper with copies.
    rusqlite::Connection::open(&env.db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let pristine = std::fs::read(&env.db).unwrap();
    let tamper = |sql: &str, expect: &str| {
        std::fs::write(&env.db, &pristine).unwrap();
        let _ = std::fs::remove_file(env.db.with_extension("db-wal"));
        let _ = std::fs::remove_file(env.db.with_extension("db-shm"));
        rusqlite::Connection::open(&env.db)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
        let out = run(&env, &["verify"]);
        assert_eq!(out.status.code(), Some(6), "{sql}: {}", stderr(&out));
        assert!(stderr(&out).contains(expect), "{sql}: {}", stderr(&out));
    };
    tamper(
        "UPDATE events SET raw = replace(raw, '\"type\":\"s\"', '\"type\":\"f\"') WHERE rowid = 300",
        "altered",
    );
    tamper("DELETE FROM events WHERE rowid = 123", "deleted");
    tamper(
        "INSERT INTO events (log_id, tenant, raw, chain_seq) SELECT log_id || '9', tenant, raw, chain_seq FROM events WHERE rowid = 50",
        "inserted",
    );
    tamper(
        "INSERT INTO events (log_id, tenant, raw) VALUES ('x1', 't', '{}')",
        "inserted",
    );
}

#[test]
fn import_of_a_gzip_ndjson_dump_dedupes_against_synced_events() {
    let env = Env::new();
    let all = events(400, 46);
    let tenant = tenant_with(all[200..].to_vec());
    assert_ok(&sync(&tenant, &env.db));
    // A log-stream dump with the older half and an overlap of 50 synced
    // events, in webhook envelopes.
    let dump = env.dir.path().join("stream.ndjson.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&dump).unwrap(),
        flate2::Compression::default(),
    );
    for e in &all[..250] {
        writeln!(gz, "{{\"log_id\":\"{}\",\"data\":{}}}", e.key, e.raw).unwrap();
    }
    gz.finish().unwrap();
    let out = run(&env, &["import", "--json", dump.to_str().unwrap()]);
    assert_ok(&out);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["read"], 250);
    assert_eq!(s["inserted"], 200);
    assert_eq!(s["duplicates"], 50);
    assert_eq!(
        query_one::<i64>(&env.db, "SELECT count(*) FROM events"),
        400
    );
    let raw: String = query_one(
        &env.db,
        &format!("SELECT raw FROM events WHERE log_id = '{}'", all[0].key),
    );
    assert_eq!(raw, all[0].raw);
    assert_ok(&run(&env, &["verify"]));

    // A saved API page replays too; a broken file fails the import (that it
    // changes nothing is import_with_a_broken_file_changes_nothing).
    let page = env.dir.path().join("page.json");
    std::fs::write(&page, format!("[{}]", all[10].raw)).unwrap();
    let out = run(&env, &["import", "--json", page.to_str().unwrap()]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["duplicates"],
        1
    );
    let bad = env.dir.path().join("bad.json");
    std::fs::write(&bad, "[{\"log_id\": \"1\"").unwrap();
    let out = run(
        &env,
        &["import", page.to_str().unwrap(), bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// A good file given together with a broken one: the import fails and none
/// of the good file's events (all new to the archive) are committed. The
/// broken file comes second, so an import that committed file by file would
/// leave the good one behind.
#[test]
fn import_with_a_broken_file_changes_nothing() {
    let env = Env::new();
    let tenant = tenant_with(events(300, 49));
    assert_ok(&sync(&tenant, &env.db));
    let before = archived(&env.db);
    assert_eq!(before.len(), 300);
    // A saved API page of events the archive does not hold yet.
    let fresh = events_ending(30, 50, "2026-11-21T00:00:00Z");
    assert!(
        fresh
            .iter()
            .all(|e| !before.iter().any(|(id, _)| *id == e.key))
    );
    let good = env.dir.path().join("good.json");
    let raws: Vec<&str> = fresh.iter().map(|e| e.raw.as_str()).collect();
    std::fs::write(&good, format!("[{}]", raws.join(","))).unwrap();
    let bad = env.dir.path().join("bad.json");
    std::fs::write(&bad, "[{\"log_id\": \"1\"").unwrap();

    let out = run(
        &env,
        &["import", good.to_str().unwrap(), bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad.json"), "{}", stderr(&out));
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let leaked: Vec<String> = fresh
        .iter()
        .filter(|e| {
            conn.query_row("SELECT 1 FROM events WHERE log_id = ?1", [&e.key], |_| {
                Ok(())
            })
            .is_ok()
        })
        .map(|e| e.key.clone())
        .collect();
    assert!(
        leaked.is_empty(),
        "{} of the good file's {} events were committed by a failed import: {leaked:?}",
        leaked.len(),
        fresh.len()
    );
    assert_eq!(
        archived(&env.db),
        before,
        "a failed import changed the archive"
    );
    assert_ok(&run(&env, &["verify"]));

    // On its own the good file imports every event: it was the broken one
    // that had to stop it above.
    let out = run(&env, &["import", "--json", good.to_str().unwrap()]);
    assert_ok(&out);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["inserted"], 30, "{s}");
    assert_eq!(archived(&env.db).len(), 330);
}

#[test]
fn prune_needs_confirmation_and_keeps_the_chain_verifiable() {
    let env = Env::new();
    let tenant = tenant_with(events(900, 47));
    assert_ok(&sync(&tenant, &env.db));
    let out = run(&env, &["prune", "--before", "2026-11-19"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--yes"));
    let dry = run(&env, &["prune", "--before", "2026-11-19", "--dry-run"]);
    assert_ok(&dry);
    assert_eq!(
        query_one::<i64>(&env.db, "SELECT count(*) FROM events"),
        900
    );
    let out = run(
        &env,
        &[
            "prune",
            "--before",
            "2026-11-19",
            "--yes",
            "--vacuum",
            "--without-export",
        ],
    );
    assert_ok(&out);
    let left: i64 = query_one(&env.db, "SELECT count(*) FROM events");
    assert!(left < 900 && left > 200, "{left}");
    let newer_kept: i64 = query_one(
        &env.db,
        "SELECT count(*) FROM events WHERE date >= '2026-11-19'",
    );
    let newer_all = tenant.with(|st| {
        st.events()
            .iter()
            .filter(|e| {
                e.raw.contains("\"date\":\"2026-11-19") || e.raw.contains("\"date\":\"2026-11-2")
            })
            .count()
    });
    assert_eq!(
        newer_kept as usize, newer_all,
        "nothing at or after the cut-off is deleted"
    );
    assert_ok(&run(&env, &["verify"]));
    // A later sync still extends a verifiable chain.
    tenant.with(|st| st.push_events(events_ending(100, 48, "2026-11-21T00:00:00Z")));
    assert_ok(&sync(&tenant, &env.db));
    assert_ok(&run(&env, &["verify"]));
}

#[test]
fn json_log_format_gives_machine_readable_errors() {
    let env = Env::new();
    let out = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["--log-format", "json", "sync"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let line: serde_json::Value = serde_json::from_str(stderr(&out).trim()).unwrap();
    assert_eq!(line["level"], "error");
    assert!(line["message"].as_str().unwrap().contains("AUTH0_BASE_URL"));
}

/// The "N new" of the sync summary line a text-mode sync printed.
fn new_in_summary(out: &str) -> u64 {
    let line = out
        .lines()
        .find(|l| l.contains(" fetched, ") && l.contains(" new, "))
        .unwrap_or_else(|| panic!("no sync summary line in: {out}"));
    let after = &line[line.find(" fetched, ").unwrap() + " fetched, ".len()..];
    after[..after.find(" new, ").unwrap()]
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn demo_runs_offline_and_finds_the_planted_attacks() {
    use auth0_archive::simulator::generator::{Spec, generate};
    use chrono::{DurationRound, TimeDelta, Utc};
    // The demo's tenant is anchored to the hour, so two runs within one hour
    // see the same events. A pair straddling the hour legitimately sees new
    // ones; that can only happen once, so it is simply run again.
    let hour = || Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap();
    for attempt in 0..2 {
        let started_in = hour();
        let env = Env::new();
        let demo_db = env.dir.path().join("auth0-demo.db");
        let out = bin()
            .current_dir(env.dir.path())
            .arg("demo")
            .output()
            .unwrap();
        assert_ok(&out);
        let text = stdout(&out);
        assert!(demo_db.exists(), "demo writes ./auth0-demo.db");
        assert!(text.contains("events:"), "status is printed: {text}");
        assert!(text.contains("203.0.113.66"), "brute force found: {text}");
        // Running it again syncs incrementally into the same file.
        let again = bin()
            .current_dir(env.dir.path())
            .arg("demo")
            .output()
            .unwrap();
        assert_ok(&again);
        if hour() != started_in && attempt == 0 {
            eprintln!("the hour turned between the two demo runs; running them again");
            continue;
        }
        // The demo's simulated tenant: 3000 events over the 5 days before
        // the hour (see src/demo.rs).
        let tenant_events = generate(&Spec::recent(3000, 5, started_in));
        let keyed = tenant_events.iter().filter(|e| !e.key.is_empty()).count() as u64;
        assert_eq!(new_in_summary(&text), keyed, "{text}");
        assert_eq!(new_in_summary(&stdout(&again)), 0, "{}", stdout(&again));
        assert_exact_events(&demo_db, &tenant_events);
        return;
    }
}
