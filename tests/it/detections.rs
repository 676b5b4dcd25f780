//! The detection reports: each finds its planted attack and not its near
//! miss, on both engines (each `report` call checks SQLite and DuckDB agree).
//! The column contract of every detection is checked in `query_reports`.

use crate::query_support::*;
use serde_json::{Map, Value, json};

fn fixture() -> Archive {
    archive(&detection_events())
}

fn col<'a>(rows: &'a [Map<String, Value>], key: &str) -> Vec<&'a str> {
    rows.iter().map(|r| r[key].as_str().unwrap_or("")).collect()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[test]
fn security_settings_weakened_finds_protections_turned_off_not_on() {
    let a = fixture();
    let rows = report(
        &a.db,
        "security-settings-weakened",
        &["known_allowlist=192.0.2.0/24"],
    );
    assert_eq!(
        col(&rows, "change"),
        vec![
            "brute-force protection disabled",
            "suspicious IP throttling set to monitor only",
            "breached password detection set to monitor only",
            "bot detection off",
            "bot detection captcha policy off",
            "unknown allowlist entry 45.155.205.233",
        ]
    );
    assert!(
        rows.iter()
            .all(|r| r["actor"] == json!("mallory@acme.example"))
    );
    check_evidence(&a.db, "security-settings-weakened", &rows);
    // Without a known list, every allowlist entry is unknown.
    let rows = report(&a.db, "security-settings-weakened", &[]);
    assert_eq!(
        rows.iter()
            .filter(|r| r["change"]
                .as_str()
                .unwrap()
                .starts_with("unknown allowlist"))
            .count(),
        2
    );
}

#[test]
fn mfa_weakened_finds_never_disabled_factors_and_risk_assessment_off() {
    let a = fixture();
    let rows = report(&a.db, "mfa-weakened", &[]);
    assert_eq!(
        col(&rows, "change"),
        vec![
            "MFA policy set to Never",
            "MFA factor disabled: push-notification",
            "risk assessment disabled",
        ]
    );
    assert!(
        rows.iter()
            .all(|r| r["actor"] == json!("mallory@acme.example"))
    );
}

#[test]
fn tenant_takeover_needs_deletions_after_the_owner_invitation() {
    let a = fixture();
    let rows = report(&a.db, "tenant-takeover", &[]);
    let takeovers: Vec<_> = rows
        .iter()
        .filter(|r| r["finding"].as_str().unwrap().starts_with("takeover"))
        .collect();
    assert_eq!(takeovers.len(), 1, "{rows:?}");
    assert_eq!(takeovers[0]["actor"], json!("mallory@acme.example"));
    assert_eq!(int(&takeovers[0]["events"]), 3);
    let findings: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["finding"].as_str().unwrap(), r["actor"].as_str().unwrap()))
        .collect();
    assert!(findings.contains(&("invitation accepted", "evil@gmail.com")));
    assert!(findings.contains(&("owner invited", "alice@acme.example")));
    assert_eq!(
        findings.iter().filter(|f| f.0 == "member deleted").count(),
        3
    );
    // The user-role invitation is not an admin invitation.
    assert!(
        !rows
            .iter()
            .any(|r| r["subject"].as_str().unwrap_or("").contains("erin"))
    );
    check_evidence(&a.db, "tenant-takeover", &rows);
    // Two deletions are needed: with three, nobody took over.
    let rows = report(&a.db, "tenant-takeover", &["min_deletions=3"]);
    assert!(
        !rows
            .iter()
            .any(|r| r["finding"].as_str().unwrap().starts_with("takeover"))
    );
}

#[test]
fn risky_client_changes_lists_each_risky_change_once() {
    let a = fixture();
    let rows = report(&a.db, "risky-client-changes", &[]);
    let changes: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["change"].as_str().unwrap(), r["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changes,
        vec![
            (
                "cross-origin authentication enabled",
                "/api/v2/clients/spaCOA1"
            ),
            ("implicit grant enabled", "/api/v2/clients/spaIMPL1"),
            ("Management API write scopes granted", "m2mWRITE"),
            ("over-permissive client grant", "m2mBROAD"),
            ("custom role created", "support-admin"),
            (
                "post-login action bindings changed",
                "/api/v2/actions/triggers/post-login/bindings"
            ),
            ("integration installed", "shady-integration"),
            (
                "error page template with unescaped variables",
                "/api/v2/tenants/settings"
            ),
            ("dynamic client registration burst", "/oidc/register"),
        ]
    );
    assert_eq!(int(&rows[8]["events"]), 12);
    check_evidence(&a.db, "risky-client-changes", &rows);
}

#[test]
fn secret_exposure_finds_secret_reads_and_explorer_tokens() {
    let a = fixture();
    let rows = report(&a.db, "secret-exposure", &[]);
    assert_eq!(
        col(&rows, "exposure"),
        vec!["client secret read", "API Explorer token minted"]
    );
    assert_eq!(rows[0]["target"], json!("m2mWRITE"));
    assert_eq!(rows[1]["client_id"], json!("explorer1"));
    // The Explorer can also be named by its client id.
    let rows = report(&a.db, "secret-exposure", &["explorer_client_id=m2mREAD"]);
    assert_eq!(rows.len(), 3);
}

#[test]
fn success_after_attack_needs_the_attack_first() {
    let a = fixture();
    let rows = report(&a.db, "success-after-attack", &[]);
    assert_eq!(col(&rows, "ip"), vec!["203.0.113.200", "203.0.113.202"]);
    assert_eq!(rows[0]["signals"], json!("pwd_leak"));
    assert_eq!(rows[0]["users"], json!("auth0|victim"));
    assert_eq!(rows[1]["signals"], json!("pla"));
    assert_eq!(int(&rows[1]["events"]), 2);
    check_evidence(&a.db, "success-after-attack", &rows);
}

#[test]
fn refresh_token_spread_needs_many_ips_or_agents() {
    let a = fixture();
    let rows = report(&a.db, "refresh-token-spread", &[]);
    assert_eq!(col(&rows, "family_id"), vec!["fam-stolen"]);
    assert_eq!(int(&rows[0]["distinct_ips"]), 6);
    assert_eq!(int(&rows[0]["distinct_agents"]), 3);
}

#[test]
fn account_linking_takeover_flags_unverified_or_foreign_emails() {
    let a = fixture();
    let rows = report(&a.db, "account-linking-takeover", &[]);
    let found: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["user_id"].as_str().unwrap(),
                r["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("auth0|linkvictim", "unverified email"),
            ("auth0|linkswap", "different email")
        ]
    );
}

#[test]
fn sms_bombing_finds_the_burst_only() {
    let a = fixture();
    let rows = report(&a.db, "sms-bombing", &[]);
    assert_eq!(col(&rows, "user_id"), vec!["auth0|smsvictim"]);
    assert_eq!(int(&rows[0]["sms"]), 6);
    assert_eq!(int(&rows[0]["voice"]), 2);
}

#[test]
fn shared_guardian_device_needs_two_users() {
    let a = fixture();
    let rows = report(&a.db, "shared-guardian-device", &[]);
    assert_eq!(col(&rows, "device"), vec!["dev-shared-1"]);
    assert_eq!(int(&rows[0]["users"]), 2);
}

#[test]
fn authorize_probing_counts_parameter_errors_not_wrong_passwords() {
    let a = fixture();
    let rows = report(&a.db, "authorize-probing", &[]);
    assert_eq!(col(&rows, "ip"), vec!["198.51.100.66"]);
    assert_eq!(int(&rows[0]["events"]), 12);
}

#[test]
fn unverified_signups_reports_bursts_and_throwaway_domains() {
    let a = fixture();
    let rows = report(&a.db, "unverified-signups", &[]);
    assert_eq!(col(&rows, "domain"), vec!["spam.example", "mailinator.com"]);
    assert_eq!(int(&rows[0]["events"]), 12);
    assert_eq!(int(&rows[1]["disposable"]), 1);
}

#[test]
fn tenant_domain_bypass_needs_an_app_that_uses_the_custom_domain() {
    let a = fixture();
    let rows = report(&a.db, "tenant-domain-bypass", &[]);
    assert_eq!(col(&rows, "client_id"), vec!["mobile1"]);
    assert_eq!(rows[0]["hostname"], json!("acme.us.auth0.com"));
    assert_eq!(rows[0]["custom_domain"], json!("login.acme.example"));
    assert_eq!(int(&rows[0]["events"]), 2);
}

/// Panther's `Auth0.Limits`: a single block by Auth0's attack protection is
/// a medium finding; blocks of one type, IP and user within the hour are
/// one; a rate-limit warning is none. Found in the simulator's planted
/// corpus through `detect`.
#[test]
fn rate_limit_blocks_are_medium_findings_and_warnings_are_not() {
    use crate::common::{Env, assert_ok, bin, stdout, sync, t, tenant_with};
    use auth0_archive::simulator::generator::{Spec, generate};
    let env = Env::new();
    let mut spec = Spec::recent(1000, 3, t("2026-11-20T00:00:00Z"));
    spec.seed = 5;
    assert_ok(&sync(&tenant_with(generate(&spec)), &env.db));
    let out = bin()
        .arg("--db")
        .arg(&env.db)
        .args([
            "detect",
            "--only",
            "rate-limit-events",
            "--format",
            "ndjson",
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    let found: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(String, String, i64)> = found
        .iter()
        .map(|f| {
            (
                f["type"].as_str().unwrap().to_string(),
                f["ip"].as_str().unwrap().to_string(),
                int(&f["events"]),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("limit_wc".to_string(), "203.0.113.204".to_string(), 1),
            ("limit_wc".to_string(), "198.51.100.201".to_string(), 3),
            ("api_limit".to_string(), "192.0.2.202".to_string(), 1),
        ],
        "{found:?}"
    );
    assert!(found.iter().all(|f| f["severity"] == "medium"));
    assert_eq!(found[1]["user_name"], "ratelimited@example.com");
}

/// The simulated tenant plants the same corpus as these tests: every
/// detection that finds something in the corpus alone finds it in the
/// simulated tenant's traffic too.
#[test]
fn the_simulated_tenant_plants_the_corpus_these_tests_check() {
    use auth0_archive::simulator::generator::{Spec, generate};
    use std::collections::BTreeSet;
    let detections = |db: &std::path::Path| -> BTreeSet<String> {
        let out = cli(db, &["detect", "--quiet", "--format", "ndjson"]);
        ok(&out)
            .lines()
            .map(|l| {
                let f: Value = serde_json::from_str(l).unwrap();
                f["detection"].as_str().unwrap().to_string()
            })
            .collect()
    };
    let corpus = detections(&fixture().db);
    assert!(corpus.len() >= 15, "{corpus:?}");
    let end = chrono::DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap();
    let tenant: Vec<Ev> = generate(&Spec::recent(2000, 3, end.to_utc()))
        .iter()
        .map(|e| Ev(serde_json::from_str(&e.raw).unwrap()))
        .collect();
    let found = detections(&archive(&tenant).db);
    let missing: Vec<_> = corpus.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "not found in the simulated tenant: {missing:?}"
    );
}
