//! Evidence-grade integrity, through the real binary: `verify` catches a
//! change to any column, a forged prune and a truncated chain (given a
//! recorded head); a keyed chain needs its key; import keeps conflicting
//! copies aside; outcomes never claim success that did not happen.

use std::path::Path;
use std::process::Output;

use crate::common::*;
use auth0_archive::simulator::{Fault, StoredEvent};

const KEY: &str = "correct horse battery staple";

fn run(db: &Path, args: &[&str]) -> Output {
    bin().arg("--db").arg(db).args(args).output().unwrap()
}

fn run_keyed(db: &Path, key: &str, args: &[&str]) -> Output {
    bin()
        .env("AUTH0_ARCHIVE_CHAIN_KEY", key)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

fn sql(db: &Path, statement: &str) {
    rusqlite::Connection::open(db)
        .unwrap()
        .execute_batch(statement)
        .unwrap();
}

fn assert_verify_fails(out: &Output, words: &[&str]) {
    assert_eq!(out.status.code(), Some(6), "{}", stderr(out));
    let err = stderr(out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for w in words {
        assert!(err.contains(w), "{w:?} not in: {err}");
    }
}

/// A synced archive of 300 events with an intact chain.
fn archive() -> (Env, auth0_archive::simulator::FakeTenant) {
    let env = Env::new();
    let tenant = tenant_with(events(300, 71));
    assert_ok(&sync(&tenant, &env.db));
    assert_ok(&run(&env.db, &["verify"]));
    (env, tenant)
}

/// The events of `archive` synced in four rounds, so the chain has several
/// links.
fn archive_of_several_links() -> (Env, auth0_archive::simulator::FakeTenant) {
    let env = Env::new();
    let mut all = events(300, 71);
    all.sort_by(|a, b| auth0_archive::auth0::log_id::compare(&a.key, &b.key));
    let tenant = tenant_with(Vec::new());
    for round in all.chunks(75) {
        tenant.with(|s| s.push_events(round.to_vec()));
        assert_ok(&sync(&tenant, &env.db));
    }
    assert_ok(&run(&env.db, &["verify"]));
    (env, tenant)
}

fn some_log_id(db: &Path) -> String {
    query_one(
        db,
        "SELECT log_id FROM events ORDER BY log_id LIMIT 1 OFFSET 17",
    )
}

/// An event of the chain's first link and one of its last: `verify` checks
/// the columns of the first three tenths of the links on the walk's thread
/// and the rest on a second one.
fn early_and_late_log_ids(db: &Path) -> (String, String) {
    let at = |order: &str| {
        query_one::<String>(
            db,
            &format!("SELECT log_id FROM events ORDER BY chain_seq {order}, log_id LIMIT 1"),
        )
    };
    let (early, late) = (at("ASC"), at("DESC"));
    let seq = |id: &str| {
        query_one::<i64>(
            db,
            &format!("SELECT chain_seq FROM events WHERE log_id = '{id}'"),
        )
    };
    assert!(
        seq(&late) - seq(&early) >= 3,
        "the archive has too few links"
    );
    (early, late)
}

#[test]
fn verify_names_the_first_altered_event_in_chain_order_on_either_thread() {
    let (env, _tenant) = archive_of_several_links();
    let (early, late) = early_and_late_log_ids(&env.db);
    sql(
        &env.db,
        &format!("UPDATE events SET ip = '203.0.113.250' WHERE log_id = '{late}'"),
    );
    assert_verify_fails(&run(&env.db, &["verify"]), &[&late, "column ip"]);
    sql(
        &env.db,
        &format!("UPDATE events SET user_id = 'auth0|x' WHERE log_id = '{early}'"),
    );
    assert_verify_fails(&run(&env.db, &["verify"]), &[&early, "column user_id"]);
}

#[test]
fn verify_names_the_event_and_column_of_any_altered_typed_column() {
    let (env, _tenant) = archive_of_several_links();
    let (early, late) = early_and_late_log_ids(&env.db);
    for (id, (column, value)) in [early, late, some_log_id(&env.db)]
        .into_iter()
        .flat_map(|id| {
            [
                ("ip", "'203.0.113.250'"),
                ("user_id", "'auth0|someone-else'"),
                ("ts", "ts + 1"),
                ("latitude", "coalesce(latitude, 0) + 0.5"),
                ("tenant", "'other.eu.auth0.com'"),
                ("details", "'{\"forged\":true}'"),
                ("is_mobile", "1 - coalesce(is_mobile, 0)"),
            ]
            .map(|c| (id.clone(), c))
        })
    {
        sql(
            &env.db,
            &format!(
                "CREATE TABLE bak AS SELECT * FROM events WHERE log_id = '{id}';
                 UPDATE events SET {column} = {value} WHERE log_id = '{id}'"
            ),
        );
        let out = run(&env.db, &["verify"]);
        assert_verify_fails(&out, &[&id, &format!("column {column}")]);
        sql(
            &env.db,
            &format!(
                "UPDATE events SET {column} = (SELECT {column} FROM bak) WHERE log_id = '{id}';
                 DROP TABLE bak"
            ),
        );
        assert_ok(&run(&env.db, &["verify"]));
    }
}

#[test]
fn a_prune_is_sealed_and_a_forged_one_is_caught() {
    let env = Env::new();
    let tenant = tenant_with(events(900, 72));
    assert_ok(&sync(&tenant, &env.db));
    let before = "2026-11-19";
    assert_ok(&run(
        &env.db,
        &["prune", "--before", before, "--yes", "--without-export"],
    ));
    let out = run(&env.db, &["verify", "--json"]);
    assert_ok(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["pruned_links"].as_u64().unwrap() > 0, "{report}");
    let prune_links: i64 = query_one(&env.db, "SELECT count(*) FROM chain WHERE kind = 'prune'");
    assert_eq!(prune_links, 1);

    // A link marked pruned by hand, its events deleted: not recorded.
    let seq: i64 = query_one(
        &env.db,
        "SELECT seq FROM chain WHERE kind = 'events' AND pruned_at IS NULL ORDER BY seq LIMIT 1",
    );
    sql(
        &env.db,
        &format!(
            "DELETE FROM events WHERE chain_seq = {seq};
             UPDATE chain SET pruned_at = (SELECT max(pruned_at) FROM chain) WHERE seq = {seq};"
        ),
    );
    assert_verify_fails(
        &run(&env.db, &["verify"]),
        &[&format!("chain link {seq}"), "no prune recorded it"],
    );
}

#[test]
fn unpruning_a_link_by_hand_is_caught() {
    let env = Env::new();
    let tenant = tenant_with(events(900, 73));
    assert_ok(&sync(&tenant, &env.db));
    assert_ok(&run(
        &env.db,
        &[
            "prune",
            "--before",
            "2026-11-19",
            "--yes",
            "--without-export",
        ],
    ));
    // Clearing pruned_at makes the link claim events it no longer has.
    sql(
        &env.db,
        "UPDATE chain SET pruned_at = NULL WHERE seq = (SELECT min(seq) FROM chain WHERE pruned_at IS NOT NULL)",
    );
    assert_verify_fails(&run(&env.db, &["verify"]), &["recorded as pruned"]);
}

#[test]
fn a_recorded_head_catches_a_deleted_tail_that_verify_alone_cannot() {
    let env = Env::new();
    let heads = env.dir.path().join("heads.txt");
    let tenant = tenant_with(events(250, 74));
    let first = sync_cmd(&tenant, &env.db)
        .arg("--head-file")
        .arg(&heads)
        .output()
        .unwrap();
    assert_ok(&first);
    let head = summary(&first)["chain_head"].as_str().unwrap().to_string();
    let recorded = std::fs::read_to_string(&heads).unwrap();
    assert_eq!(recorded.lines().count(), 1);
    assert!(recorded.starts_with(&format!("{head}\t")), "{recorded}");

    // A sync that adds nothing does not append; one that adds does.
    assert_ok(
        &sync_cmd(&tenant, &env.db)
            .arg("--head-file")
            .arg(&heads)
            .output()
            .unwrap(),
    );
    assert_eq!(std::fs::read_to_string(&heads).unwrap().lines().count(), 1);
    tenant.with(|st| st.push_events(events_ending(20, 75, "2030-01-01T00:00:00Z")));
    let second = sync_cmd(&tenant, &env.db)
        .arg("--head-file")
        .arg(&heads)
        .output()
        .unwrap();
    assert_ok(&second);
    let last_line = std::fs::read_to_string(&heads)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();
    let new_head = summary(&second)["chain_head"].as_str().unwrap().to_string();
    assert!(last_line.starts_with(&new_head));
    // The head-file line itself is accepted.
    assert_ok(&run(&env.db, &["verify", "--expect-head", &last_line]));
    let v: serde_json::Value =
        serde_json::from_slice(&run(&env.db, &["verify", "--json"]).stdout).unwrap();
    assert_eq!(v["head"], serde_json::json!(new_head));
    assert_eq!(
        status_json(&env.db)["chain_head"],
        serde_json::json!(new_head)
    );

    // Delete the newest link with its events: the rest still chains.
    sql(
        &env.db,
        "DELETE FROM events WHERE chain_seq = (SELECT max(seq) FROM chain);
         DELETE FROM chain WHERE seq = (SELECT max(seq) FROM chain);",
    );
    assert_ok(&run(&env.db, &["verify"]));
    assert_verify_fails(
        &run(&env.db, &["verify", "--expect-head", &new_head]),
        &["no longer contains the expected head"],
    );
    // The older head is still in the chain.
    assert_ok(&run(&env.db, &["verify", "--expect-head", &head]));
    assert_eq!(
        run(&env.db, &["verify", "--expect-head", "not-a-head"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_keyed_chain_needs_its_key_and_cannot_be_rewritten_without_it() {
    let env = Env::new();
    let tenant = tenant_with(events(200, 76));
    let out = sync_cmd(&tenant, &env.db)
        .env("AUTH0_ARCHIVE_CHAIN_KEY", KEY)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_no_secret(&out, &[KEY]);
    assert_ok(&run_keyed(&env.db, KEY, &["verify"]));

    // Without the key: cannot vouch (exit 2), and says why.
    let out = run(&env.db, &["verify"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot check a keyed chain"));
    // With another key: not this chain's key.
    assert_verify_fails(&run_keyed(&env.db, "wrong", &["verify"]), &["another key"]);
    // Adding to it without the key is refused, nothing written.
    tenant.with(|st| st.push_events(events_ending(10, 77, "2030-01-01T00:00:00Z")));
    let refused = sync(&tenant, &env.db);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("AUTH0_ARCHIVE_CHAIN_KEY"));

    // Someone with the file alone recomputes every link without the key:
    // the chain is consistent again, but not under the key.
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    sql(
        &env.db,
        "UPDATE events SET raw = replace(raw, '\"type\"', '\"type\" ') WHERE rowid = 5",
    );
    let mut links: Vec<(i64, String)> = conn
        .prepare("SELECT seq, tenant FROM chain ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = auth0_archive::store::chain::GENESIS.to_string();
    for (seq, tenant_name) in links.drain(..) {
        let rows: Vec<(String, String)> = conn
            .prepare("SELECT log_id, raw FROM events WHERE chain_seq = ?1")
            .unwrap()
            .query_map([seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut refs: Vec<(&str, &str)> =
            rows.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let seal = auth0_archive::store::chain::Seal {
            version: 2,
            kind: "events",
            tenant: &tenant_name,
            detail: None,
        };
        let link = auth0_archive::store::chain::link_digest(&prev, &seal, None, &mut refs);
        conn.execute(
            "UPDATE chain SET link = ?1, key_id = NULL WHERE seq = ?2",
            rusqlite::params![link, seq],
        )
        .unwrap();
        prev = link;
    }
    // An unkeyed verify now passes: the file alone proves nothing...
    assert_ok(&run(&env.db, &["verify"]));
    // ...but under the key the rewrite shows.
    assert_verify_fails(
        &run_keyed(&env.db, KEY, &["verify"]),
        &["not sealed with the key"],
    );
}

#[test]
fn import_keeps_a_conflicting_copy_aside_and_counts_it() {
    let (env, _tenant) = archive();
    let id = some_log_id(&env.db);
    let raw: String = query_one(
        &env.db,
        &format!("SELECT raw FROM events WHERE log_id = '{id}'"),
    );
    // The same event written differently is a duplicate, not a conflict.
    let reformatted =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&raw).unwrap())
            .unwrap();
    let mut altered: serde_json::Value = serde_json::from_str(&raw).unwrap();
    altered["ip"] = serde_json::json!("198.51.100.99");
    let file = env.dir.path().join("dump.json");
    std::fs::write(
        &file,
        serde_json::to_string(&vec![
            serde_json::from_str::<serde_json::Value>(&reformatted).unwrap(),
            altered.clone(),
        ])
        .unwrap(),
    )
    .unwrap();
    let out = run(&env.db, &["import", file.to_str().unwrap(), "--json"]);
    assert_ok(&out);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            s["inserted"].as_u64(),
            s["duplicates"].as_u64(),
            s["conflicts"].as_u64()
        ),
        (Some(0), Some(1), Some(1)),
        "{s}"
    );
    assert!(stderr(&out).contains("conflicts table"), "{}", stderr(&out));
    let text = run(&env.db, &["import", file.to_str().unwrap()]);
    assert!(stdout(&text).contains("1 conflicts"), "{}", stdout(&text));
    // The first copy stays; the other waits for review, once.
    let kept: String = query_one(
        &env.db,
        &format!("SELECT raw FROM events WHERE log_id = '{id}'"),
    );
    assert_eq!(kept, raw);
    let (n, aside): (i64, String) = rusqlite::Connection::open(&env.db)
        .unwrap()
        .query_row("SELECT count(*), max(raw) FROM conflicts", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&aside).unwrap(),
        altered
    );
    assert_ok(&run(&env.db, &["verify"]));
    assert_eq!(status_json(&env.db)["conflicts"], 1);
}

#[test]
fn import_files_events_under_the_archives_only_tenant() {
    let (env, _tenant) = archive();
    let synced: String = query_one(&env.db, "SELECT tenant FROM checkpoints");
    let file = env.dir.path().join("late.ndjson");
    std::fs::write(
        &file,
        r#"{"log_id":"90020200101000000000000000000000000000000000000000000001","date":"2020-01-01T00:00:00.000Z","type":"s","hostname":"login.example.com"}"#,
    )
    .unwrap();
    assert_ok(&run(&env.db, &["import", file.to_str().unwrap()]));
    let t: String = query_one(
        &env.db,
        "SELECT tenant FROM events WHERE log_id = '90020200101000000000000000000000000000000000000000000001'",
    );
    assert_eq!(t, synced);
}

#[test]
fn a_network_failure_on_the_fallback_cursor_is_a_failure_not_ok() {
    let env = Env::new();
    // Ids that do not follow Auth0's layout: the synthetic start cursor
    // finds nothing, so the sync pages again from the lowest cursor, and
    // that request fails for good.
    let tenant = tenant_with(
        (1..=5)
            .map(|i| StoredEvent::from_json(format!(r#"{{"log_id":"{i}","type":"s"}}"#)))
            .collect(),
    );
    tenant.with(|st| {
        st.scripted.push_back(Fault::Slow(0));
        for _ in 0..4 {
            st.scripted.push_back(Fault::ServerError);
        }
    });
    let out = sync_cmd(&tenant, &env.db)
        .args(["--max-retries", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(summary(&out)["outcome"], "failed");
    assert_eq!(query_one::<i64>(&env.db, "SELECT count(*) FROM events"), 0);
    // Once the tenant answers, the same archive fills.
    assert_ok(&sync(&tenant, &env.db));
    assert_eq!(query_one::<i64>(&env.db, "SELECT count(*) FROM events"), 5);
}

#[test]
fn a_page_that_does_not_move_past_the_checkpoint_exits_1_and_says_so() {
    let env = Env::new();
    let id = |n: u32| format!("900202611200000000{n:038}");
    let event = |key: u32, log_id: u32| StoredEvent {
        key: id(key),
        raw: format!(
            r#"{{"log_id":"{}","date":"2026-11-20T00:00:00.000Z","type":"s"}}"#,
            id(log_id)
        ),
    };
    // The tenant files event 2 after event 3 but labels it with an older id:
    // paging from 3 brings back an event that does not move the cursor.
    let tenant = tenant_with(vec![event(1, 1), event(3, 3)]);
    assert_ok(&sync(&tenant, &env.db));
    tenant.with(|st| st.push_events(vec![event(4, 2)]));
    let out = sync(&tenant, &env.db);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not move past the checkpoint"),
        "{}",
        stderr(&out)
    );
    assert_eq!(summary(&out)["outcome"], "failed");
    // What it held is archived; the checkpoint stayed.
    assert_eq!(query_one::<i64>(&env.db, "SELECT count(*) FROM events"), 3);
    assert_eq!(
        query_one::<String>(&env.db, "SELECT log_id FROM checkpoints"),
        id(3)
    );
}

#[test]
fn a_problem_found_on_the_second_thread_before_the_walks_is_the_one_named() {
    let (env, _tenant) = archive_of_several_links();
    let (_, late) = early_and_late_log_ids(&env.db);
    // An event of the link before the last one: its columns are checked on
    // the second thread; the last link's tenant is the walk's to check.
    let middle: String = query_one(
        &env.db,
        &format!(
            "SELECT log_id FROM events WHERE chain_seq =
               (SELECT chain_seq FROM events WHERE log_id = '{late}') - 1 LIMIT 1"
        ),
    );
    sql(
        &env.db,
        &format!(
            "UPDATE events SET tenant = 'other.eu.auth0.com' WHERE log_id = '{late}';
             UPDATE events SET ip = '203.0.113.250' WHERE log_id = '{middle}'"
        ),
    );
    assert_verify_fails(&run(&env.db, &["verify"]), &[&middle, "column ip"]);
}
