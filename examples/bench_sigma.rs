//! Sigma benchmark: generates N simulated events (default 1,000,000), writes
//! 35 auth0 rules of the kinds the public catalogues use (type lists, nested
//! paths with `contains`/`endswith`/`startswith`, descriptions, arrays with
//! `{}`, negated filters, a regex) and 8 correlations over them (one of each
//! type rsigma supports), loads them with `sigma::load` and times
//! `RuleSet::matches` over every event; then archives the events in a
//! SQLite file and times the `detect --sigma` pass (`sigma::pass::run`:
//! reading, correlating, filing findings and the saved state), first over
//! every event, then with nothing new. Prints figures, asserts nothing.
//! Given a RULES path (a file or directory), loads those rules instead.
//!
//! ```sh
//! export CARGO_TARGET_DIR=$HOME/.cache/auth0-archive/target
//! cargo run --release --example bench_sigma -- [EVENTS] [RULES]
//! ```

use std::collections::BTreeMap;
use std::time::Instant;

use auth0_archive::sigma;
use auth0_archive::simulator::generator::{Spec, generate};
use chrono::{DateTime, Utc};

/// (title, detection block) — the condition is always `selection` unless the
/// block names its own.
const RULES: &[(&str, &str)] = &[
    ("Failed logins", "selection:\n    data.type: [f, fp, fu]"),
    (
        "Credential stuffing signals",
        "selection:\n    data.type: [f, fu, fp, pwd_leak, limit_wc, limit_sul, limit_mu, fcoa]",
    ),
    ("Breached password", "selection:\n    data.type: pwd_leak"),
    (
        "Blocked account",
        "selection:\n    data.type: [limit_wc, limit_sul, limit_mu]",
    ),
    (
        "Refresh token reuse",
        "selection:\n    data.type: ferrt\n    data.description: 'Unsuccessful Refresh Token exchange, reused refresh token detected'",
    ),
    ("Push fatigue", "selection:\n    data.type: gd_send_pn"),
    (
        "MFA factor deleted",
        "selection:\n    data.type: [gd_unenroll, gd_enrollment_complete]",
    ),
    (
        "Guardian user deleted",
        "selection:\n    data.type: sapi\n    data.details.request.path|startswith: '/api/v2/guardian/enrollments/'\n    data.details.request.method: delete",
    ),
    (
        "Tenant settings patched",
        "selection:\n    data.type: sapi\n    data.details.request.path|contains: '/api/v2/tenants/'\n    data.details.request.path|endswith: '/settings'",
    ),
    (
        "Attack protection off",
        "selection:\n    data.type: sapi\n    data.details.request.path|contains: '/api/v2/attack-protection/'\n    data.details.request.body.enabled: false",
    ),
    (
        "Bot detection off",
        "selection:\n    data.type: sapi\n    data.details.request.path|endswith: '/bot-detection'",
    ),
    (
        "Breached password detection settings",
        "selection:\n    data.type: sapi\n    data.details.request.path|endswith: '/breached-password-detection'",
    ),
    (
        "Brute force settings",
        "selection:\n    data.type: sapi\n    data.details.request.path|endswith: '/brute-force-protection'",
    ),
    (
        "Suspicious IP throttling",
        "selection:\n    data.type: sapi\n    data.details.request.path|endswith: '/suspicious-ip-throttling'",
    ),
    (
        "Cross origin enabled",
        "selection:\n    data.type: sapi\n    data.details.request.path|startswith: '/api/v2/clients'\n    data.details.request.body.cross_origin_authentication: true",
    ),
    (
        "Client secret read",
        "selection:\n    data.type: mgmt_api_read\n    data.details.response.body.client_secret|exists: true",
    ),
    (
        "Client created",
        "selection:\n    data.type: sapi\n    data.description: 'Create a client'",
    ),
    (
        "Connection deleted",
        "selection:\n    data.type: sapi\n    data.description|contains: 'Delete a connection'",
    ),
    (
        "Dangerous scopes granted",
        "selection:\n    data.type: sapi\n    data.details.response.body.scopes{}: ['delete:users', 'update:clients', 'create:client_grants']",
    ),
    (
        "Grant with management scopes",
        "selection:\n    data.details.request.body.scope{}|startswith: 'create:'\n    data.details.request.path|contains: 'client-grants'",
    ),
    (
        "Insecure grant types",
        "selection:\n    data.details.request.body.grant_types{}: [password, 'http://auth0.com/oauth/grant-type/password-realm']",
    ),
    (
        "Management API token",
        "selection:\n    data.type: seccft\n    data.audience|endswith: '/api/v2/'",
    ),
    (
        "Many unverified signups",
        "selection:\n    data.type: ss\n    data.details.body.email_verified: false",
    ),
    (
        "Disposable email signup",
        "selection:\n    data.type: ss\n    data.user_name|endswith: ['@mailinator.com', '@guerrillamail.com', '@10minutemail.com']",
    ),
    (
        "Signup fraud volume",
        "selection:\n    data.type: [ss, fs]\n    data.connection|contains: 'Username'",
    ),
    (
        "Logins from a proxy country",
        "selection:\n    data.type: s\n    data.location_info.country_code: [KP, IR, SY]",
    ),
    (
        "Suspicious TLS fingerprint",
        "selection:\n    data.type: [s, f, fp]\n    data.security_context.ja4|startswith: ['t13d1516h2_8daaf6152771', 't13d190900_9dc949149365']",
    ),
    (
        "Tenant name URL used",
        "selection:\n    data.type: [s, f, fs, ss, w, fp, scoa, fcoa, sepft, fepft]\n    data.hostname: 'demo.auth0.com'",
    ),
    (
        "Phone numbers registered",
        "selection:\n    data.type: gd_enrollment_complete\n    data.details.authenticator.type: phone",
    ),
    (
        "Guardian app reused",
        "selection:\n    data.type: gd_enrollment_complete\n    data.details.authenticator.type: push",
    ),
    (
        "Dynamic client registration",
        "selection:\n    data.type: sapi\n    data.details.request.path: '/oidc/register'",
    ),
    (
        "Refresh token multiple agents",
        "selection:\n    data.type: sertft\n    data.user_agent|contains: ['curl/', 'python-requests', 'Go-http-client']",
    ),
    (
        "LiquidJS XSS",
        "selection:\n    data.type: sapi\n    data.details.request.body.template|re: '\\{\\{.*(constructor|process).*\\}\\}'",
    ),
    (
        "IP allowlist change",
        "selection:\n    data.type: sapi\n    data.details.request.path|contains: 'network-acls'\nfilter_reads:\n    data.details.request.method: get\ncondition: selection and not filter_reads",
    ),
    (
        "Admin logged in from new country",
        "selection:\n    data.type: s\n    data.client_name: 'All Applications'\nfilter_home:\n    data.location_info.country_code: [US, GB]\ncondition: selection and not filter_home",
    ),
];

/// (type, rule indexes counted, group-by, condition): correlations over the
/// rules above, found by id from their own files.
const CORRELATIONS: &[(&str, &[usize], &str, &str)] = &[
    ("event_count", &[0], "data.ip", "gte: 20"),
    (
        "value_count",
        &[1],
        "data.ip",
        "gte: 10\n        field: data.user_name",
    ),
    ("temporal", &[2, 3], "data.user_id", "gte: 2"),
    ("temporal_ordered", &[0, 25], "data.user_id", "gte: 2"),
    (
        "value_sum",
        &[0],
        "data.ip",
        "gte: 1000\n        field: data.location_info.latitude",
    ),
    (
        "value_avg",
        &[1],
        "data.ip",
        "gte: 60\n        field: data.location_info.latitude",
    ),
    (
        "value_percentile",
        &[0],
        "data.user_id",
        "gte: 60\n        percentile: 90\n        field: data.location_info.latitude",
    ),
    (
        "value_median",
        &[1],
        "data.user_id",
        "gte: 60\n        field: data.location_info.latitude",
    ),
];

fn correlation_yaml(kind: &str, refs: &[usize], group: &str, condition: &str) -> String {
    let rules: String = refs
        .iter()
        .map(|i| format!("        - 00000000-0000-4000-8000-{i:012}\n"))
        .collect();
    format!(
        "title: Bench {kind}\ncorrelation:\n    type: {kind}\n    rules:\n{rules}    group-by:\n        - {group}\n    timespan: 10m\n    condition:\n        {condition}\nlevel: high\n"
    )
}

fn rule_yaml(i: usize, title: &str, block: &str) -> String {
    let mut detection = String::new();
    for line in block.lines() {
        detection.push_str("    ");
        detection.push_str(line);
        detection.push('\n');
    }
    if !block.contains("condition:") {
        detection.push_str("    condition: selection\n");
    }
    format!(
        "title: {title}\nid: 00000000-0000-4000-8000-{i:012}\nstatus: test\nlogsource:\n    product: auth0\ndetection:\n{detection}level: medium\n"
    )
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("EVENTS is a number"))
        .unwrap_or(1_000_000);

    let dir = tempfile::tempdir().expect("temp dir");
    for (i, (title, block)) in RULES.iter().enumerate() {
        std::fs::write(
            dir.path().join(format!("rule_{i:02}.yml")),
            rule_yaml(i, title, block),
        )
        .expect("write rule");
    }
    for (kind, refs, group, condition) in CORRELATIONS {
        std::fs::write(
            dir.path().join(format!("correlation_{kind}.yml")),
            correlation_yaml(kind, refs, group, condition),
        )
        .expect("write correlation");
    }
    let started = Instant::now();
    let rules = std::env::args()
        .nth(2)
        .map_or_else(|| dir.path().to_path_buf(), std::path::PathBuf::from);
    let (set, problems) = sigma::load(&[rules]);
    for p in &problems {
        eprintln!("problem: {}: {}", p.path.display(), p.reason);
    }
    println!(
        "loaded {} rules and {} correlations ({} problems) in {:.1} ms",
        set.len(),
        set.correlation_count(),
        problems.len(),
        started.elapsed().as_secs_f64() * 1e3
    );

    let started = Instant::now();
    let end: DateTime<Utc> = "2026-11-20T00:00:00Z".parse().expect("date");
    let events = generate(&Spec::recent(n, 30, end));
    let bytes: usize = events.iter().map(|e| e.raw.len()).sum();
    println!(
        "generated {} events ({:.0} MB of JSON) in {:.1} s",
        events.len(),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    let mut total = 0u64;
    for e in &events {
        for m in set.matches(&e.key, &e.raw) {
            total += 1;
            *by_rule.entry(m.title).or_default() += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "evaluated {} rules over {} events in {:.2} s ({:.0} events/s, {:.2} µs/event), {} matches",
        set.len(),
        events.len(),
        secs,
        events.len() as f64 / secs,
        secs * 1e6 / events.len() as f64,
        total
    );
    for (title, count) in by_rule {
        println!("  {count:>9}  {title}");
    }

    let started = Instant::now();
    for e in &events {
        std::hint::black_box(serde_json::from_str::<serde_json::Value>(&e.raw).ok());
    }
    println!(
        "JSON parsing alone: {:.2} s",
        started.elapsed().as_secs_f64()
    );

    detect_pass(&set, &events);
}

/// Archives `events` in a fresh SQLite file and times the Sigma pass of
/// `detect` over them, then once more with nothing new.
fn detect_pass(set: &sigma::RuleSet, events: &[auth0_archive::simulator::StoredEvent]) {
    use auth0_archive::store::{self, findings};
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("bench.db");
    let started = Instant::now();
    let mut conn = store::open_for_write(&db).expect("archive");
    for chunk in events.chunks(10_000) {
        let body = format!(
            "[{}]",
            chunk
                .iter()
                .map(|e| e.raw.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        let page = auth0_archive::event::parse_page(body.as_bytes()).expect("page");
        let tx = conn.transaction().expect("tx");
        store::events::insert_rows(&tx, "bench.us.auth0.com", &page).expect("insert");
        tx.commit().expect("commit");
    }
    println!(
        "archived {} events in {:.1} s",
        events.len(),
        started.elapsed().as_secs_f64()
    );
    for label in ["first run over every event", "nothing new"] {
        let started = Instant::now();
        let run_id = findings::begin_run(&conn, "*").expect("run");
        let upto = findings::newest_rowid(&conn).expect("rowid");
        let found =
            sigma::pass::run(&mut conn, set, "*", None, None, upto, run_id).expect("sigma pass");
        let secs = started.elapsed().as_secs_f64();
        let correlated = found
            .iter()
            .filter(|(f, _)| f.summary.starts_with("Sigma correlation"))
            .count();
        println!(
            "detect --sigma pass, {label}: {secs:.2} s, {} findings ({correlated} from correlations)",
            found.len()
        );
    }
    let state: i64 = conn
        .query_row("SELECT length(state) FROM sigma_state", [], |r| r.get(0))
        .unwrap_or(0);
    println!("saved correlation state: {:.1} KB", state as f64 / 1e3);
}
