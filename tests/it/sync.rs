//! The sync foundation, end to end: the real binary against a fake Auth0
//! tenant on loopback, into a real SQLite file.

use crate::common::*;
use auth0_archive::simulator::generator::log_id_for;
use auth0_archive::simulator::{Fault, RateLimit, StoredEvent};
use auth0_archive::store::lock::SyncLock;

#[test]
fn first_sync_archives_every_retained_event() {
    let env = Env::new();
    let tenant = tenant_with(events(1234, 1));
    let out = sync(&tenant, &env.db);
    assert_ok(&out);
    let s = summary(&out);
    assert_eq!(s["fetched"], 1234);
    assert_eq!(s["inserted"], 1234);
    assert_eq!(s["duplicates"], 0);
    assert_eq!(s["outcome"], "ok");
    for key in [
        "requests",
        "retries",
        "rate_limited",
        "checkpoint",
        "last_event_date",
        "elapsed_s",
    ] {
        assert!(s.get(key).is_some(), "summary lacks {key}: {s}");
    }
    assert_exact(&env.db, &tenant);
    let last = tenant.with(|st| st.events().last().unwrap().key.clone());
    assert_eq!(s["checkpoint"], last);
    assert_no_secret(&out, &[CLIENT_SECRET]);
}

#[test]
fn second_sync_fetches_only_new_events() {
    let env = Env::new();
    let tenant = tenant_with(events(450, 2));
    assert_ok(&sync(&tenant, &env.db));
    let more = events_ending(130, 3, "2026-11-21T00:00:00Z");
    tenant.with(|st| st.push_events(more));
    let before = tenant.stats().log_requests;
    let out = sync_cmd(&tenant, &env.db)
        .args(["--concurrency", "1"])
        .output()
        .unwrap();
    assert_ok(&out);
    let s = summary(&out);
    assert_eq!(s["fetched"], 130, "{s}");
    assert_eq!(s["inserted"], 130);
    // Two pages of new events and the empty page that ends the sync.
    assert_eq!(tenant.stats().log_requests - before, 3);
    assert_exact(&env.db, &tenant);

    let again = summary(&sync(&tenant, &env.db));
    assert_eq!(again["fetched"], 0);
    assert_eq!(again["inserted"], 0);
}

#[test]
fn max_events_stops_after_whole_pages_and_the_next_run_resumes() {
    let env = Env::new();
    let tenant = tenant_with(events(1000, 4));
    let mut cmd = sync_cmd(&tenant, &env.db);
    let out = cmd.args(["--max-events", "250"]).output().unwrap();
    assert_ok(&out);
    assert_eq!(summary(&out)["inserted"], 300);
    assert_eq!(
        query_one::<i64>(&env.db, "SELECT count(*) FROM events"),
        300
    );
    let out = sync(&tenant, &env.db);
    assert_eq!(summary(&out)["inserted"], 700);
    assert_exact(&env.db, &tenant);
}

#[test]
fn a_failed_sync_keeps_its_checkpoint_and_the_next_one_completes_exactly() {
    let env = Env::new();
    let tenant = tenant_with(events(700, 5));
    // Three good pages, then the server fails every request.
    tenant.with(|st| {
        st.fault_rate = 0.0;
        for _ in 0..3 {
            st.scripted.push_back(Fault::Slow(0));
        }
        for _ in 0..20 {
            st.scripted.push_back(Fault::ServerError);
        }
    });
    let mut cmd = sync_cmd(&tenant, &env.db);
    let out = cmd.args(["--max-retries", "3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("giving up after 4 attempts") && err.contains("500"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line of error: {err}");
    let s = summary(&out);
    assert_eq!(s["outcome"], "failed");
    assert_eq!(s["inserted"], 300);
    let cp: String = query_one(&env.db, "SELECT log_id FROM checkpoints");
    let third_page_end = tenant.with(|st| st.events()[299].key.clone());
    assert_eq!(cp, third_page_end);

    tenant.with(|st| st.scripted.clear());
    let out = sync(&tenant, &env.db);
    assert_ok(&out);
    assert_eq!(summary(&out)["inserted"], 400);
    assert_eq!(summary(&out)["duplicates"], 0);
    assert_exact(&env.db, &tenant);
    let outcomes: String = query_one(
        &env.db,
        "SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM sync_runs ORDER BY id)",
    );
    assert_eq!(outcomes, "failed,ok");
}

#[test]
fn access_token_auth_works_and_is_never_printed() {
    let env = Env::new();
    let tenant = tenant_with(events(250, 6));
    let token = "static-token-7f3a9c-do-not-print";
    tenant.with(|st| {
        st.static_tokens.insert(token.to_string(), true);
    });
    let out = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["sync", "--json", "--quiet"])
        .env("AUTH0_BASE_URL", tenant.base_url())
        .env("AUTH0_ACCESS_TOKEN", token)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(summary(&out)["inserted"], 250);
    assert_eq!(tenant.stats().token_requests, 0);
    assert_no_secret(&out, &[token]);
    assert_exact(&env.db, &tenant);
}

#[test]
fn an_invalid_access_token_exits_3_with_clear_words() {
    let env = Env::new();
    let tenant = tenant_with(events(50, 7));
    let out = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["sync", "--quiet"])
        .env("AUTH0_BASE_URL", tenant.base_url())
        .env("AUTH0_ACCESS_TOKEN", "revoked-token-abc123")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
    assert!(stderr(&out).contains("expired or invalid"));
    assert_no_secret(&out, &["revoked-token-abc123"]);
}

#[test]
fn a_token_without_read_logs_exits_3() {
    let env = Env::new();
    let tenant = tenant_with(events(50, 8));
    tenant.with(|st| {
        st.static_tokens.insert("no-scope-token".into(), false);
    });
    let out = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["sync", "--quiet"])
        .env("AUTH0_BASE_URL", tenant.base_url())
        .env("AUTH0_ACCESS_TOKEN", "no-scope-token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("403") && stderr(&out).contains("read:logs"),
        "{}",
        stderr(&out)
    );

    // A minted token that lacks the scope is caught before the first page.
    tenant.with(|st| st.minted_scope = "read:users".into());
    let out = sync(&tenant, &env.db);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("read:logs"));
}

#[test]
fn wrong_client_secret_and_wrong_audience_exit_3() {
    let env = Env::new();
    let tenant = tenant_with(events(50, 9));
    let out = sync_cmd(&tenant, &env.db)
        .env("AUTH0_CLIENT_SECRET", "wrong-secret-xyz")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("AUTH0_CLIENT_SECRET"),
        "{}",
        stderr(&out)
    );
    assert_no_secret(&out, &["wrong-secret-xyz"]);

    let out = sync_cmd(&tenant, &env.db)
        .env("AUTH0_AUDIENCE", "https://other.example/api/v2/")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("audience"), "{}", stderr(&out));
}

#[test]
fn an_expired_token_is_renewed_mid_sync() {
    let env = Env::new();
    let tenant = tenant_with(events(900, 10));
    tenant.with(|st| st.token_lifetime_requests = Some(3));
    let out = sync(&tenant, &env.db);
    assert_ok(&out);
    assert_eq!(summary(&out)["inserted"], 900);
    assert!(tenant.stats().token_requests >= 3, "{:?}", tenant.stats());
    assert!(tenant.stats().unauthorized >= 2);
    assert_exact(&env.db, &tenant);
}

#[test]
fn missing_or_contradictory_settings_exit_2_naming_what_is_missing() {
    let env = Env::new();
    // (settings, words the one-line error must contain)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: &[Case] = &[
        (&[], &["AUTH0_BASE_URL"]),
        (
            &[("AUTH0_BASE_URL", "acme.us.auth0.com")],
            &["AUTH0_CLIENT_ID", "AUTH0_ACCESS_TOKEN"],
        ),
        (
            &[
                ("AUTH0_BASE_URL", "acme.us.auth0.com"),
                ("AUTH0_CLIENT_ID", "abc"),
            ],
            &["AUTH0_CLIENT_SECRET"],
        ),
        (
            &[
                ("AUTH0_BASE_URL", "acme.us.auth0.com"),
                ("AUTH0_CLIENT_ID", "abc"),
                ("AUTH0_CLIENT_SECRET", "s3cr3t-value"),
                ("AUTH0_ACCESS_TOKEN", "tok-value"),
            ],
            &["--auth-type"],
        ),
        (
            &[
                ("AUTH0_BASE_URL", "http://acme.us.auth0.com"),
                ("AUTH0_ACCESS_TOKEN", "tok-value"),
            ],
            &["loopback"],
        ),
        (
            &[
                ("AUTH0_BASE_URL", "acme.us.auth0.com"),
                ("AUTH0_ACCESS_TOKEN", "tok-value"),
            ],
            &["--max-events"],
        ),
    ];
    for (i, (settings, words)) in cases.iter().enumerate() {
        let mut cmd = bin();
        cmd.arg("--db")
            .arg(&env.db)
            .arg("sync")
            .envs(settings.iter().copied());
        if i == cases.len() - 1 {
            cmd.args(["--max-events", "0"]);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{settings:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).trim().lines().count(),
            1,
            "one line: {}",
            stderr(&out)
        );
        for w in *words {
            assert!(stderr(&out).contains(w), "{settings:?}: {}", stderr(&out));
        }
        assert_no_secret(&out, &["s3cr3t-value", "tok-value"]);
    }
    assert!(
        !env.db.exists(),
        "a usage error must not create the archive"
    );
}

#[test]
fn a_second_concurrent_sync_exits_4_and_touches_nothing() {
    let env = Env::new();
    let tenant = tenant_with(events(100, 11));
    let lock = SyncLock::acquire(&env.db).unwrap();
    let out = sync(&tenant, &env.db);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("another sync"));
    assert!(!env.db.exists());
    assert_eq!(tenant.stats().requests, 0);
    drop(lock);
    assert_ok(&sync(&tenant, &env.db));
}

#[test]
fn every_column_is_normalized_and_nulls_are_null() {
    let env = Env::new();
    let full = r#"{"date":"2026-11-19T08:15:30.250Z","type":"s","description":"Success Login","connection":"Username-Password-Authentication","connection_id":"con_1","client_id":"cid","client_name":"App","ip":"81.2.69.142","client_ip":"10.0.0.1","user_agent":"UA/1.0","hostname":"acme.eu.auth0.com","user_id":"auth0|abc","user_name":"a@example.com","audience":"https://acme.eu.auth0.com/userinfo","scope":["openid","email"],"strategy":"auth0","strategy_type":"database","isMobile":true,"tenant_name":"acme","environment_name":"prod","log_id":"90020261119081530250000000000000000000000000000000000001","location_info":{"country_code":"GB","country_code3":"GBR","country_name":"United Kingdom","city_name":"London","subdivision_code":"ENG","subdivision_name":"England","latitude":"51.5142","longitude":-0.0931,"time_zone":"Europe/London","continent_code":"EU"},"details":{"prompts":[{"name":"login"}]},"new_field":{"x":1}}"#;
    let sparse = r#"{"date":"2026-11-19T08:15:31Z","type":"seccft","description":"","client_id":null,"user_id":"","log_id":"90020261119081531000000000000000000000000000000000000002","location_info":{},"is_mobile":false}"#;
    let tenant = tenant_with(vec![
        StoredEvent::from_json(full),
        StoredEvent::from_json(sparse),
    ]);
    assert_ok(&sync(&tenant, &env.db));
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let row: Vec<rusqlite::types::Value> = conn
        .query_row(
            "SELECT tenant, date, ts, type, description, connection, connection_id, client_id, client_name, ip,
                    client_ip, user_agent, hostname, user_id, user_name, audience, scope, strategy, strategy_type,
                    is_mobile, tenant_name, environment_name, country_code, country_code3, country_name, city_name,
                    subdivision_code, subdivision_name, latitude, longitude, time_zone, continent_code, details, raw
             FROM events WHERE log_id LIKE '%1'",
            [],
            |r| (0..34).map(|i| r.get(i)).collect(),
        )
        .unwrap();
    use rusqlite::types::Value::{Integer as I, Real as R, Text as T};
    let text = |s: &str| T(s.to_string());
    let expected = vec![
        text("127.0.0.1"),
        text("2026-11-19T08:15:30.250Z"),
        I(1_795_076_130_250),
        text("s"),
        text("Success Login"),
        text("Username-Password-Authentication"),
        text("con_1"),
        text("cid"),
        text("App"),
        text("81.2.69.142"),
        text("10.0.0.1"),
        text("UA/1.0"),
        text("acme.eu.auth0.com"),
        text("auth0|abc"),
        text("a@example.com"),
        text("https://acme.eu.auth0.com/userinfo"),
        text("openid email"),
        text("auth0"),
        text("database"),
        I(1),
        text("acme"),
        text("prod"),
        text("GB"),
        text("GBR"),
        text("United Kingdom"),
        text("London"),
        text("ENG"),
        text("England"),
        R(51.5142),
        R(-0.0931),
        text("Europe/London"),
        text("EU"),
        text(r#"{"prompts":[{"name":"login"}]}"#),
        text(full),
    ];
    assert_eq!(row, expected);

    let nulls: i64 = conn
        .query_row(
            "SELECT (description IS NULL) + (client_id IS NULL) + (user_id IS NULL) + (country_code IS NULL)
                    + (latitude IS NULL) + (details IS NULL) + (ip IS NULL) + (is_mobile = 0)
                    + (date = '2026-11-19T08:15:31.000Z') + (ts = 1795076131000)
             FROM events WHERE log_id LIKE '%2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(nulls, 10);
}

#[test]
fn hostile_strings_round_trip_verbatim() {
    let env = Env::new();
    let hostile = [
        "Robert'); DROP TABLE events;--",
        "\"quoted\" and 'single' ;-- /* comment */",
        "\u{202e}evil\u{202c} rtl",
        "emoji 🔐🦀 and NUL-free \\u0000 text",
        &"x".repeat(5 * 1024),
    ];
    let evs: Vec<StoredEvent> = hostile
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let id = log_id_for(t("2026-11-19T00:00:00Z"), i as u64);
            StoredEvent::from_json(
                serde_json::json!({"log_id": id, "date": "2026-11-19T00:00:00.000Z", "type": "f",
                    "description": h, "user_name": h, "details": {"note": h}})
                .to_string(),
            )
        })
        .collect();
    let tenant = tenant_with(evs);
    assert_ok(&sync(&tenant, &env.db));
    assert_exact(&env.db, &tenant);
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let mut stmt = conn
        .prepare("SELECT description, user_name FROM events ORDER BY log_id")
        .unwrap();
    let got: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (g, h) in got.iter().zip(hostile) {
        assert_eq!(g.0, h);
        assert_eq!(g.1, h);
    }
}

#[test]
fn events_without_log_id_are_kept_as_rejects_and_reported() {
    let env = Env::new();
    let mut evs = events(120, 12);
    evs.push(StoredEvent {
        key: evs[50].key.replace("000000000", "000000001"),
        raw: r#"{"date":"2026-11-18T00:00:00.000Z","type":"f","description":"no id here"}"#.into(),
    });
    let tenant = tenant_with(evs);
    let out = sync(&tenant, &env.db);
    assert_ok(&out);
    let s = summary(&out);
    assert_eq!(s["rejected"], 1);
    assert_eq!(s["inserted"], 120);
    let raw: String = query_one(&env.db, "SELECT raw FROM rejects");
    assert!(raw.contains("no id here"));
    // Re-fetching the same page never duplicates a reject.
    assert_ok(&sync(&tenant, &env.db));
    assert_eq!(query_one::<i64>(&env.db, "SELECT count(*) FROM rejects"), 1);
}

#[test]
fn pages_in_any_order_advance_by_the_greatest_log_id() {
    let env = Env::new();
    let tenant = tenant_with(events(777, 13));
    tenant.with(|st| st.shuffle_pages = true);
    assert_ok(&sync(&tenant, &env.db));
    assert_exact(&env.db, &tenant);
}

#[test]
fn rate_limits_and_server_faults_are_retried_to_an_exact_archive() {
    let env = Env::new();
    let tenant = tenant_with(events(1500, 14));
    tenant.with(|st| {
        st.set_rate_limit(Some(RateLimit {
            per_second: 20.0,
            burst: 5.0,
        }));
        st.scripted.extend([
            Fault::RateLimited,
            Fault::RateLimited,
            Fault::ServerError,
            Fault::InvalidJson,
        ]);
        st.fault_rate = 0.15;
        st.fault_kinds = vec![
            Fault::ServerError,
            Fault::Html200,
            Fault::Html502,
            Fault::TruncatedBody,
            Fault::InvalidJson,
            Fault::DropBeforeResponse,
            Fault::DropMidBody,
        ];
    });
    let out = sync(&tenant, &env.db);
    assert_ok(&out);
    let s = summary(&out);
    assert!(s["retries"].as_u64().unwrap() >= 2, "{s}");
    assert!(s["rate_limited"].as_u64().unwrap() >= 2, "{s}");
    assert_exact(&env.db, &tenant);
}

#[test]
fn non_auth0_shaped_ids_are_paged_from_the_bottom() {
    let env = Env::new();
    let evs: Vec<StoredEvent> = (1..=250)
        .map(|i| {
            StoredEvent::from_json(format!(
                r#"{{"log_id":"{}","date":"2023-02-11T11:15:36.961Z","type":"test"}}"#,
                1000 + i
            ))
        })
        .collect();
    let tenant = tenant_with(evs);
    let out = sync(&tenant, &env.db);
    assert_ok(&out);
    assert_eq!(summary(&out)["inserted"], 250);
    assert_exact(&env.db, &tenant);
}

#[test]
fn status_reports_counts_checkpoint_and_last_run() {
    let env = Env::new();
    let tenant = tenant_with(events(321, 15));
    assert_ok(&sync(&tenant, &env.db));
    let s = status_json(&env.db);
    assert_eq!(s["events"], 321);
    assert_eq!(s["schema_version"], auth0_archive::store::SCHEMA_VERSION);
    assert_eq!(s["deferred_indexes"], serde_json::json!([]));
    assert_eq!(s["tenants"][0]["last_sync"]["outcome"], "ok");
    assert!(s["first_event_date"].as_str().unwrap() < s["last_event_date"].as_str().unwrap());
    let out = bin()
        .arg("--db")
        .arg(&env.db)
        .arg("status")
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(stdout(&out).contains("321"));

    let missing = bin()
        .arg("--db")
        .arg(env.dir.path().join("nope.db"))
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(5));
}

#[test]
fn a_retention_gap_is_recorded_warned_and_shown() {
    let env = Env::new();
    let first = events(300, 16);
    let tenant = tenant_with(first.clone());
    assert_ok(&sync(&tenant, &env.db));
    // A day later: new events arrive and everything synced so far expired.
    let later: Vec<StoredEvent> = (0..50)
        .map(|i| {
            let id = log_id_for(t("2026-11-22T00:00:00Z"), i);
            StoredEvent::from_json(format!(
                r#"{{"log_id":"{id}","date":"2026-11-22T00:00:00.000Z","type":"s"}}"#
            ))
        })
        .collect();
    let first_new = later[0].key.clone();
    tenant.with(|st| {
        st.push_events(later);
        st.expire_before(&first_new);
    });
    let out = sync(&tenant, &env.db);
    assert_ok(&out);
    assert!(stderr(&out).contains("retention gap"), "{}", stderr(&out));
    assert_eq!(summary(&out)["gaps"].as_array().unwrap().len(), 1);
    assert_eq!(query_one::<i64>(&env.db, "SELECT count(*) FROM gaps"), 1);
    let st = bin()
        .arg("--db")
        .arg(&env.db)
        .arg("status")
        .output()
        .unwrap();
    assert!(stdout(&st).contains("gap"));

    // A quiet period with the checkpoint still retained is not a gap.
    let quiet: Vec<StoredEvent> = (0..5)
        .map(|i| {
            let id = log_id_for(t("2026-11-25T00:00:00Z"), i);
            StoredEvent::from_json(format!(
                r#"{{"log_id":"{id}","date":"2026-11-25T00:00:00.000Z","type":"s"}}"#
            ))
        })
        .collect();
    tenant.with(|st| st.push_events(quiet));
    let out = sync(&tenant, &env.db);
    assert_ok(&out);
    assert!(!stderr(&out).contains("retention gap"));
    assert_eq!(query_one::<i64>(&env.db, "SELECT count(*) FROM gaps"), 1);
}

#[test]
fn a_long_backfill_defers_the_random_order_indexes_and_a_resumed_run_builds_them() {
    let env = Env::new();
    let tenant = tenant_with(events(20_000, 31));
    tenant.with(|st| st.latency = std::time::Duration::from_millis(20));
    let fresh = index_definitions(&{
        let other = env.dir.path().join("fresh.db");
        drop(auth0_archive::store::open_for_write(&other).unwrap());
        other
    });

    // Stop the first run mid-backfill: the slices are planned and the ip,
    // user and login indexes are set aside, their definitions kept.
    let mut child = sync_cmd(&tenant, &env.db)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no backfill plan appeared"
        );
        let planned = env.db.exists()
            && rusqlite::Connection::open(&env.db)
                .and_then(|c| {
                    c.query_row("SELECT count(*) FROM backfill_slices", [], |r| {
                        r.get::<_, i64>(0)
                    })
                })
                .is_ok_and(|n| n > 0);
        if planned {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();

    let during = index_definitions(&env.db);
    for name in ["events_ip", "events_user_ts", "events_login_user"] {
        assert!(!during.iter().any(|(n, _)| n == name), "{name} kept");
    }
    let s = status_json(&env.db);
    assert_eq!(
        s["deferred_indexes"],
        serde_json::json!(["events_ip", "events_login_user", "events_user_ts"])
    );

    // The run that completes the backfill builds them, identical to a
    // fresh archive's, and the archive is exact.
    let out = sync(&tenant, &env.db);
    assert_ok(&out);
    assert_eq!(index_definitions(&env.db), fresh);
    let left: i64 = query_one(&env.db, "SELECT count(*) FROM deferred_indexes");
    assert_eq!(left, 0);
    assert_exact(&env.db, &tenant);
}

/// (name, sql) of every explicitly created index.
fn index_definitions(db: &std::path::Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}
