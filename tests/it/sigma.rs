//! Sigma rules (`auth0_archive::sigma`) over events shaped as Auth0 writes
//! them, with the rules under `tests/sigma/`.

use std::path::PathBuf;

use auth0_archive::sigma::{self, RuleSet, SigmaMatch};
use auth0_archive::simulator::generator::{Spec, generate};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

fn data(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sigma")
        .join(dir)
}

fn rules() -> RuleSet {
    let (set, problems) = sigma::load(&[data("rules")]);
    assert!(problems.is_empty(), "{problems:?}");
    set
}

fn titles(set: &RuleSet, event: &Value) -> Vec<String> {
    let raw = event.to_string();
    let mut t: Vec<String> = set
        .matches("90020260101000000000000000000000000000000001", &raw)
        .into_iter()
        .map(|m| m.title)
        .collect();
    t.sort();
    t
}

#[test]
fn only_auth0_rules_load_and_other_files_are_passed_over() {
    // Three auth0 rules; the Windows rule is skipped without a problem, and
    // README.txt is not read.
    assert_eq!(rules().len(), 3);
    assert!(!rules().is_empty());
}

#[test]
fn a_rule_on_data_type_fires_on_matching_events_only() {
    let set = rules();
    for code in ["f", "fp", "fu"] {
        let event = json!({"type": code, "description": "Wrong email or password."});
        assert_eq!(titles(&set, &event), ["Failed login"], "type {code}");
    }
    for code in ["s", "ssa", "fpx", "ff"] {
        let event = json!({"type": code});
        assert!(titles(&set, &event).is_empty(), "type {code}");
    }
    // Sigma compares strings without regard to case.
    assert_eq!(titles(&set, &json!({"type": "FP"})), ["Failed login"]);
    // A field of the same name elsewhere is not `data.type`.
    assert!(titles(&set, &json!({"details": {"type": "f"}})).is_empty());

    let log_id = "90020260101000000000000000000000000000000042";
    let found = set.matches(log_id, r#"{"type":"fp"}"#);
    assert_eq!(
        found,
        [SigmaMatch {
            title: "Failed login".into(),
            id: Some("0b7c1d2e-0001-4000-8000-000000000001".into()),
            level: Some("low".into()),
            log_id: log_id.into(),
        }]
    );
}

#[test]
fn nested_request_path_with_contains_and_endswith() {
    let set = rules();
    let title = "Tenant settings changed through the Management API";
    let event = |method: &str, path: &str| json!({"type": "sapi", "details": {"request": {"method": method, "path": path}}});
    assert_eq!(
        titles(&set, &event("patch", "/api/v2/tenants/settings")),
        [title]
    );
    // contains holds but endswith does not, and the other way round.
    assert!(titles(&set, &event("patch", "/api/v2/tenants/settings/x")).is_empty());
    assert!(titles(&set, &event("patch", "/api/v2/clients/settings")).is_empty());
    // The filter excludes reads.
    assert!(titles(&set, &event("get", "/api/v2/tenants/settings")).is_empty());
    // No request at all.
    assert!(titles(&set, &json!({"type": "sapi", "details": {}})).is_empty());
    assert!(titles(&set, &json!({"type": "sapi"})).is_empty());
}

#[test]
fn an_array_field_with_braces_matches_when_any_element_does() {
    let set = rules();
    let title = "Dangerous scope granted";
    let scopes =
        |s: Value| json!({"type": "sapi", "details": {"response": {"body": {"scopes": s}}}});
    assert_eq!(
        titles(&set, &scopes(json!(["read:users", "delete:users"]))),
        [title]
    );
    assert_eq!(titles(&set, &scopes(json!(["update:clients"]))), [title]);
    assert!(titles(&set, &scopes(json!(["read:users", "read:clients"]))).is_empty());
    assert!(titles(&set, &scopes(json!([]))).is_empty());
    // A single value where the catalogue expects an array still matches.
    assert_eq!(titles(&set, &scopes(json!("delete:users"))), [title]);
}

#[test]
fn a_broken_file_is_a_problem_while_the_others_load() {
    let (set, problems) = sigma::load(&[data("broken")]);
    // good.yml and the detection rule of correlated.yml, with its correlation.
    assert_eq!(set.len(), 2, "{problems:?}");
    assert_eq!(set.correlation_count(), 1, "{problems:?}");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].path.ends_with("broken.yml"));
    assert!(
        problems[0].reason.contains("YAML"),
        "{}",
        problems[0].reason
    );
    assert_eq!(
        titles(&set, &json!({"type": "pwd_leak"})),
        ["Breached password"]
    );
    // `matches` is the detection rules alone: a rule a correlation counts
    // matches too.
    assert_eq!(
        titles(&set, &json!({"type": "fp"})),
        ["Failed login by user"]
    );
}

#[test]
fn a_correlation_over_an_unknown_rule_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dangling.yml"),
        "title: Failed login\nname: selected_events\nlogsource:\n    product: auth0\n\
         detection:\n    selection:\n        data.type: fp\n    condition: selection\n---\n\
         title: Counts another file's rule\ncorrelation:\n    type: event_count\n    rules:\n\
         \x20       - elsewhere\n    group-by:\n        - data.ip\n    timespan: 5m\n\
         \x20   condition:\n        gte: 3\n",
    )
    .unwrap();
    let (set, problems) = sigma::load(&[dir.path().to_path_buf()]);
    assert_eq!((set.len(), set.correlation_count()), (1, 0));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].reason.contains("\"elsewhere\""),
        "{}",
        problems[0].reason
    );
}

#[test]
fn files_and_directories_load_together_and_missing_paths_are_problems() {
    let (set, problems) = sigma::load(&[
        data("rules/failed_logins.yml"),
        data("broken/good.yml"),
        data("absent"),
    ]);
    assert_eq!(set.len(), 2);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].path.ends_with("absent"));

    let (set, problems) = sigma::load(&[]);
    assert!(set.is_empty() && problems.is_empty());
    assert!(set.matches("x", r#"{"type":"fp"}"#).is_empty());
}

#[test]
fn text_that_is_not_json_matches_nothing() {
    assert!(rules().matches("x", "not json").is_empty());
}

#[test]
fn simulated_tenant_events_fire_the_rules_they_should() {
    let end: DateTime<Utc> = "2026-11-20T00:00:00Z".parse().unwrap();
    let events = generate(&Spec::recent(5_000, 3, end));
    let set = rules();
    let mut failed = 0;
    let mut settings = 0;
    for e in &events {
        let v: Value = serde_json::from_str(&e.raw).unwrap();
        for m in set.matches(&e.key, &e.raw) {
            assert_eq!(m.log_id, e.key);
            match m.title.as_str() {
                "Failed login" => {
                    assert!(["f", "fp", "fu"].contains(&v["type"].as_str().unwrap()));
                    failed += 1;
                }
                "Tenant settings changed through the Management API" => settings += 1,
                other => panic!("unexpected match {other}"),
            }
        }
    }
    let expected_failed = events
        .iter()
        .filter(|e| {
            let v: Value = serde_json::from_str(&e.raw).unwrap();
            ["f", "fp", "fu"].contains(&v["type"].as_str().unwrap())
        })
        .count();
    assert_eq!(failed, expected_failed);
    // The three planted admin actions patch /api/v2/tenants/settings, and
    // so do two events of the planted-attack corpus (an unescaped error
    // page and its near miss).
    assert_eq!(settings, 5);
}
