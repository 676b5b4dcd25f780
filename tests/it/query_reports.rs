//! Every saved report on a fixture that plants its pattern next to a
//! near-miss, on both engines (each call checks SQLite and DuckDB agree).

use crate::query_support::*;
use serde_json::{Value, json};

const BERLIN: (f64, f64) = (52.52, 13.405);
const NEW_YORK: (f64, f64) = (40.7128, -74.006);
const PARIS: (f64, f64) = (48.8566, 2.3522);
const SYDNEY: (f64, f64) = (-33.8688, 151.2093);

/// One archive with every pattern and its near-miss.
fn fixture() -> Archive {
    let mut e = Vec::new();
    let t0 = 10 * HOUR;

    // brute-force: 12 wrong passwords from one IP; 9 from another (near-miss).
    for i in 0..12 {
        e.push(ev("fp", t0 + i).ip("203.0.113.10").user("auth0|alice"));
    }
    for i in 0..9 {
        e.push(ev("fp", t0 + i).ip("203.0.113.11").user("auth0|bob"));
    }
    // credential-stuffing: one IP against 12 users; another against 9.
    for i in 0..12 {
        e.push(
            ev("fu", t0 + 100 + i)
                .ip("198.51.100.7")
                .user_name(&format!("victim{i}@example.com")),
        );
    }
    for i in 0..9 {
        e.push(
            ev("fu", t0 + 100 + i)
                .ip("198.51.100.8")
                .user_name(&format!("other{i}@example.com")),
        );
    }
    // impossible-travel: Berlin then New York an hour later; the commuter
    // goes Berlin to Paris in three hours; a failed login in Sydney between
    // the traveller's two logins must not count.
    e.push(
        ev("s", t0)
            .user("auth0|traveler")
            .place("Berlin", "DE", BERLIN.0, BERLIN.1),
    );
    e.push(
        ev("f", t0 + 30 * MIN)
            .user("auth0|traveler")
            .place("Sydney", "AU", SYDNEY.0, SYDNEY.1),
    );
    e.push(
        ev("s", t0 + HOUR)
            .user("auth0|traveler")
            .place("New York", "US", NEW_YORK.0, NEW_YORK.1),
    );
    e.push(
        ev("s", t0)
            .user("auth0|commuter")
            .place("Berlin", "DE", BERLIN.0, BERLIN.1),
    );
    e.push(
        ev("ssa", t0 + 3 * HOUR)
            .user("auth0|commuter")
            .place("Paris", "FR", PARIS.0, PARIS.1),
    );
    // breached-passwords: two detections; a plain wrong password is not one.
    e.push(ev("pwd_leak", t0 + 200).user("auth0|leaky").ip("192.0.2.1"));
    e.push(
        ev("signup_pwd_leak", t0 + 300)
            .user_name("new@example.com")
            .ip("192.0.2.2"),
    );
    e.push(ev("fp", t0 + 400).user("auth0|leaky").ip("192.0.2.1"));
    // mfa-push-bombing: six pushes 10 s apart; five pushes 2 min apart;
    // four pushes within 40 s.
    for i in 0..6 {
        e.push(ev("gd_send_pn", t0 + i * 10).user("auth0|bombed"));
    }
    for i in 0..5 {
        e.push(ev("gd_send_pn", t0 + i * 2 * MIN).user("auth0|calm"));
    }
    for i in 0..4 {
        e.push(ev("gd_send_pn", t0 + i * 10).user("auth0|four"));
    }
    // admin-actions: a Management API write and an MFA policy change; a
    // secrets read and a login are not admin actions.
    e.push(
        ev("sapi", t0 + 500)
            .desc("Update tenant settings")
            .client("mgmt1")
            .ip("192.0.2.9"),
    );
    e.push(
        ev("gd_tenant_update", t0 + 600)
            .desc("Guardian tenant update")
            .ip("192.0.2.9"),
    );
    e.push(
        ev("mgmt_api_read", t0 + 700)
            .desc("Get client secret")
            .client("mgmt1"),
    );
    e.push(ev("s", t0 + 800).client("mgmt1").user("auth0|admin"));
    // rate-limit-events: Auth0 blocks; a warning is not a block.
    e.push(
        ev("limit_wc", t0 + 900)
            .ip("203.0.113.10")
            .user("auth0|alice"),
    );
    e.push(ev("api_limit", t0 + 901).client("mgmt1"));
    e.push(ev("api_limit_warning", t0 + 902).client("mgmt1"));
    // refresh-token-reuse: a reused token; an expired one is a near-miss.
    e.push(
        ev("ferrt", t0 + 1000)
            .user("auth0|replayed")
            .desc("Unsuccessful Refresh Token exchange, reused refresh token detected"),
    );
    e.push(
        ev("ferrt", t0 + 1001)
            .user("auth0|expired")
            .desc("Unsuccessful Refresh Token exchange, invalid refresh token"),
    );
    // cross-origin-auth: 6 failures and a success from one IP; 4 failures
    // from another; 10 successes from a third.
    for i in 0..6 {
        e.push(ev("fcoa", t0 + 1100 + i).ip("192.0.2.50").user("auth0|coa"));
    }
    e.push(ev("scoa", t0 + 1110).ip("192.0.2.50").user("auth0|coa"));
    for i in 0..4 {
        e.push(
            ev("fcoa", t0 + 1100 + i)
                .ip("192.0.2.51")
                .user("auth0|coa2"),
        );
    }
    for i in 0..10 {
        e.push(
            ev("scoa", t0 + 1100 + i)
                .ip("192.0.2.52")
                .user(&format!("auth0|fine{i}")),
        );
    }
    // shared-mfa-phone: one phone for two users; another phone enrolled
    // twice by the same user.
    let phone = |p: &str| json!({ "authenticator": { "type": "phone", "phone_number": p } });
    e.push(
        ev("gd_enrollment_complete", t0 + 1200)
            .user("auth0|p1")
            .details(phone("+15550100")),
    );
    e.push(
        ev("gd_enrollment_complete", t0 + 1300)
            .user("auth0|p2")
            .details(phone("+15550100")),
    );
    e.push(
        ev("gd_enrollment_complete", t0 + 1400)
            .user("auth0|p3")
            .details(phone("+15550199")),
    );
    e.push(
        ev("gd_enrollment_complete", t0 + 1500)
            .user("auth0|p3")
            .details(phone("+15550199")),
    );
    // signup-surge: 25 sign-ups in one hour, 19 in another (day 3).
    for i in 0..25 {
        e.push(
            ev("ss", 2 * DAY + 14 * HOUR + i * 60)
                .user(&format!("auth0|s{i}"))
                .ip("198.51.100.99"),
        );
    }
    for i in 0..19 {
        e.push(ev("ss", 2 * DAY + 16 * HOUR + i * 60).user(&format!("auth0|t{i}")));
    }
    // unknown-event-types: a code Auth0 may add some day.
    e.push(ev("brand_new_type", t0 + 1600));
    e.push(ev("brand_new_type", DAY + t0));
    // new-country-for-user: DE, DE, then FR; a user who stays home.
    e.push(ev("s", t0).user("auth0|roamer").country("DE"));
    e.push(ev("s", DAY + t0).user("auth0|roamer").country("DE"));
    e.push(ev("s", 2 * DAY + t0).user("auth0|roamer").country("FR"));
    for d in 0..3 {
        e.push(ev("s", d * DAY + t0).user("auth0|homebody").country("DE"));
    }
    archive(&e)
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn ips(rows: &[serde_json::Map<String, Value>]) -> Vec<String> {
    rows.iter()
        .map(|r| r["ip"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn brute_force_reports_the_ip_over_the_threshold_only() {
    let a = fixture();
    let rows = report(&a.db, "brute-force", &[]);
    let hit = with(&rows, "ip", "203.0.113.10");
    assert_eq!(hit.len(), 1);
    assert_eq!(int(&hit[0]["failures"]), 12);
    assert_eq!(hit[0]["first_seen"], json!(at(10 * HOUR)));
    assert_eq!(hit[0]["last_seen"], json!(at(10 * HOUR + 11)));
    assert!(with(&rows, "ip", "203.0.113.11").is_empty());
    // The threshold is a parameter.
    let rows = report(&a.db, "brute-force", &["threshold=9"]);
    assert_eq!(with(&rows, "ip", "203.0.113.11").len(), 1);
}

#[test]
fn credential_stuffing_needs_many_distinct_users() {
    let a = fixture();
    let rows = report(&a.db, "credential-stuffing", &[]);
    assert_eq!(ips(&rows), vec!["198.51.100.7"]);
    assert_eq!(int(&rows[0]["distinct_users"]), 12);
    assert_eq!(int(&rows[0]["failures"]), 12);
}

#[test]
fn impossible_travel_flags_a_jump_faster_than_a_plane() {
    let a = fixture();
    let rows = report(&a.db, "impossible-travel", &[]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(r["user_id"], json!("auth0|traveler"));
    assert_eq!(r["from_city"], json!("Berlin"));
    assert_eq!(r["to_city"], json!("New York"));
    let km = r["km"].as_f64().unwrap();
    assert!(
        (6300.0..6450.0).contains(&km),
        "Berlin–New York is about 6385 km, got {km}"
    );
    assert_eq!(r["minutes"].as_f64().unwrap(), 60.0);
    assert!((r["kmh"].as_f64().unwrap() - km).abs() < 1.0);
    // Berlin–Paris in three hours (about 290 km/h) is reported only when
    // the speed limit is set below it.
    let rows = report(&a.db, "impossible-travel", &["max_kmh=250"]);
    assert_eq!(with(&rows, "user_id", "auth0|commuter").len(), 1);
}

#[test]
fn breached_passwords_lists_detections_not_wrong_passwords() {
    let a = fixture();
    let rows = report(&a.db, "breached-passwords", &[]);
    let types: Vec<&str> = rows.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["pwd_leak", "signup_pwd_leak"]);
    assert_eq!(rows[0]["user_id"], json!("auth0|leaky"));
    assert_eq!(rows[0]["ip"], json!("192.0.2.1"));
    assert_eq!(rows[0]["date"], json!(at(10 * HOUR + 200)));
    assert_eq!(rows[1]["user_id"], Value::Null);
}

#[test]
fn mfa_push_bombing_finds_the_burst_not_slow_or_short_series() {
    let a = fixture();
    let rows = report(&a.db, "mfa-push-bombing", &[]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["user_id"], json!("auth0|bombed"));
    assert_eq!(int(&rows[0]["pushes"]), 6);
    assert_eq!(rows[0]["first_seen"], json!(at(10 * HOUR)));
    assert_eq!(rows[0]["last_seen"], json!(at(10 * HOUR + 50)));
}

#[test]
fn admin_actions_lists_writes_and_tenant_changes_only() {
    let a = fixture();
    let rows = report(&a.db, "admin-actions", &[]);
    let types: Vec<&str> = rows.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["sapi", "gd_tenant_update"]);
    assert_eq!(rows[0]["description"], json!("Update tenant settings"));
    assert_eq!(rows[0]["client_id"], json!("mgmt1"));
    assert_eq!(rows[0]["ip"], json!("192.0.2.9"));
}

#[test]
fn event_summary_counts_per_day_and_type_with_names() {
    let a = fixture();
    let rows = report(&a.db, "event-summary", &[]);
    let fp: Vec<_> = rows
        .iter()
        .filter(|r| r["day"] == json!("2026-10-01") && r["type"] == json!("fp"))
        .collect();
    assert_eq!(fp.len(), 1);
    assert_eq!(int(&fp[0]["events"]), 22);
    assert_eq!(
        fp[0]["name"],
        json!("Login failed because the password was wrong")
    );
    let unknown: Vec<_> = rows
        .iter()
        .filter(|r| r["type"] == json!("brand_new_type"))
        .collect();
    assert_eq!(unknown.len(), 2, "one row per day");
    assert_eq!(unknown[0]["name"], Value::Null);
    let total: i64 = rows.iter().map(|r| int(&r["events"])).sum();
    assert_eq!(total, sql_count(&a.db, "SELECT count(*) FROM events"));
    // A window keeps only its days.
    let rows = report(
        &a.db,
        "event-summary",
        &["since=2026-10-02", "until=2026-10-02"],
    );
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["day"] == json!("2026-10-02")));
}

#[test]
fn user_timeline_shows_one_users_events_in_order() {
    let a = fixture();
    let rows = report(&a.db, "user-timeline", &["user=auth0|traveler"]);
    let types: Vec<&str> = rows.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["s", "f", "s"]);
    assert_eq!(rows[1]["city_name"], json!("Sydney"));
    assert_eq!(rows[2]["date"], json!(at(11 * HOUR)));
    // The user is required.
    let out = cli(&a.db, &["query", "run", "user-timeline"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("user"));
}

#[test]
fn rate_limit_events_reports_blocks_but_not_warnings() {
    let a = fixture();
    let rows = report(&a.db, "rate-limit-events", &[]);
    let mut types: Vec<&str> = rows.iter().map(|r| r["type"].as_str().unwrap()).collect();
    types.sort();
    assert_eq!(types, vec!["api_limit", "limit_wc"]);
    assert_eq!(
        with(&rows, "type", "limit_wc")[0]["ip"],
        json!("203.0.113.10")
    );
}

#[test]
fn refresh_token_reuse_ignores_other_refresh_failures() {
    let a = fixture();
    let rows = report(&a.db, "refresh-token-reuse", &[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["user_id"], json!("auth0|replayed"));
}

#[test]
fn cross_origin_auth_needs_enough_failures() {
    let a = fixture();
    let rows = report(&a.db, "cross-origin-auth", &[]);
    assert_eq!(ips(&rows), vec!["192.0.2.50"]);
    assert_eq!(int(&rows[0]["failures"]), 6);
    assert_eq!(int(&rows[0]["successes"]), 1);
}

#[test]
fn shared_mfa_phone_needs_two_different_users() {
    let a = fixture();
    let rows = report(&a.db, "shared-mfa-phone", &[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["phone"], json!("+15550100"));
    assert_eq!(int(&rows[0]["users"]), 2);
}

#[test]
fn signup_surge_reports_the_busy_hour() {
    let a = fixture();
    let rows = report(&a.db, "signup-surge", &["threshold=20"]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["hour"], json!("2026-10-03T14:00:00.000Z"));
    assert_eq!(int(&rows[0]["signups"]), 25);
    assert_eq!(int(&rows[0]["distinct_ips"]), 1);
    // The default threshold (50) reports neither hour.
    assert!(report(&a.db, "signup-surge", &[]).is_empty());
}

#[test]
fn unknown_event_types_lists_codes_missing_from_the_catalogue() {
    let a = fixture();
    let rows = report(&a.db, "unknown-event-types", &[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["type"], json!("brand_new_type"));
    assert_eq!(int(&rows[0]["events"]), 2);
    assert_eq!(rows[0]["first_seen"], json!(at(10 * HOUR + 1600)));
}

#[test]
fn new_country_for_user_skips_first_logins_and_known_countries() {
    let a = fixture();
    let rows = report(&a.db, "new-country-for-user", &[]);
    let roamer = with(&rows, "user_id", "auth0|roamer");
    assert_eq!(roamer.len(), 1);
    assert_eq!(roamer[0]["country_code"], json!("FR"));
    assert_eq!(int(&roamer[0]["earlier_logins"]), 2);
    assert!(with(&rows, "user_id", "auth0|homebody").is_empty());
    // History before the window still counts: from day 3 on, FR is new.
    let rows = report(&a.db, "new-country-for-user", &["since=2026-10-03"]);
    assert_eq!(with(&rows, "user_id", "auth0|roamer").len(), 1);
}

#[test]
fn every_saved_report_gives_the_same_rows_on_both_engines() {
    let a = fixture();
    add(&a.db, &detection_events());
    let list: Value =
        serde_json::from_str(&ok(&cli(&a.db, &["query", "list", "--format", "json"]))).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.len() >= 28);
    for name in names {
        let params: &[&str] = if name == "user-timeline" {
            &["user=auth0|traveler"]
        } else {
            &[]
        };
        // `report` asserts equality; every report also finds something here.
        let rows = report(&a.db, name, params);
        let rows = if rows.is_empty() && name == "signup-surge" {
            report(&a.db, name, &["threshold=20"])
        } else {
            rows
        };
        assert!(
            !rows.is_empty(),
            "report {name} found nothing in the fixture"
        );
    }
}

#[test]
fn every_detection_returns_the_contract_columns() {
    let a = fixture();
    add(&a.db, &detection_events());
    let reports = auth0_archive::query::catalog::reports().unwrap();
    let detections: Vec<_> = reports.iter().filter(|r| r.detection.is_some()).collect();
    assert_eq!(detections.len(), 25);
    for r in detections {
        let d = r.detection.as_ref().unwrap();
        let params: &[&str] = if r.name == "signup-surge" {
            &["threshold=20"]
        } else {
            &[]
        };
        let rows = report(&a.db, &r.name, params);
        assert!(!rows.is_empty(), "detection {} found nothing", r.name);
        for row in &rows {
            let mut needed = vec!["first_seen", "last_seen", "events", "log_ids"];
            needed.extend(d.key.iter().map(String::as_str));
            for c in needed {
                assert!(row.contains_key(c), "{}: no column {c} in {row:?}", r.name);
            }
            assert!(int(&row["events"]) >= 1, "{}: {row:?}", r.name);
            let (first, last) = (
                row["first_seen"].as_str().unwrap(),
                row["last_seen"].as_str().unwrap(),
            );
            assert!(first <= last, "{}: {row:?}", r.name);
        }
        check_evidence(&a.db, &r.name, &rows);
    }
}

/// Rows of a saved report over a Parquet export (`--parquet DIR`).
fn report_over_parquet(
    dir: &std::path::Path,
    name: &str,
    params: &[&str],
) -> Vec<serde_json::Map<String, Value>> {
    let mut args = vec![
        "query",
        "run",
        name,
        "--format",
        "json",
        "--parquet",
        dir.to_str().unwrap(),
    ];
    for p in params {
        args.push("--param");
        args.push(p);
    }
    // No archive is needed: point --db at a file that does not exist.
    let out = ok(&cli(&dir.join("no-archive.db"), &args));
    let v: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: bad JSON {e}: {out}"));
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

#[test]
fn every_saved_report_over_the_parquet_export_gives_the_archives_rows() {
    let a = fixture();
    add(&a.db, &detection_events());
    let dir = a.dir.path().join("cold");
    ok(&cli(
        &a.db,
        &["query", "export", "--out", dir.to_str().unwrap()],
    ));
    let reports = auth0_archive::query::catalog::reports().unwrap();
    assert!(reports.len() >= 28);
    for r in &reports {
        let params: &[&str] = match r.name.as_str() {
            "user-timeline" => &["user=auth0|traveler"],
            "signup-surge" => &["threshold=20"],
            _ => &[],
        };
        let lite = report_on(&a.db, "sqlite", &r.name, params);
        let duck = report_on(&a.db, "duckdb", &r.name, params);
        let cold = report_over_parquet(&dir, &r.name, params);
        assert!(!lite.is_empty(), "report {} found nothing", r.name);
        assert_eq!(
            cold, lite,
            "report {} differs over --parquet from sqlite",
            r.name
        );
        assert_eq!(
            cold, duck,
            "report {} differs over --parquet from duckdb",
            r.name
        );
    }
    // Ad-hoc SQL sees `date` and `ts` as the archive has them.
    let sql = "SELECT log_id, date, ts, typeof(ts) AS t FROM events ORDER BY log_id LIMIT 5";
    let lite = ok(&cli(&a.db, &["query", "sql", "--format", "json", sql]));
    let cold = ok(&cli(
        &a.db,
        &[
            "query",
            "sql",
            "--format",
            "json",
            "--parquet",
            dir.to_str().unwrap(),
            sql,
        ],
    ));
    let strip = |s: &str| -> Vec<(Value, Value, Value)> {
        serde_json::from_str::<Vec<serde_json::Map<String, Value>>>(s)
            .unwrap()
            .into_iter()
            .map(|r| (r["log_id"].clone(), r["date"].clone(), r["ts"].clone()))
            .collect()
    };
    assert_eq!(strip(&cold), strip(&lite));
}
