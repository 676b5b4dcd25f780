//! Hostile input through the real binary: a tenant (or proxy) that attacks
//! the archiver (`simulator::hostile`), events whose text is the attacker's,
//! and files planted or crafted by another local user. Each test plants the
//! attack and checks the outcome the README promises: the attack is found,
//! no planted link's target changes, memory stays bounded (the kernel's
//! figure), no secret is printed or stored, files are private, no control
//! character reaches a terminal, and oversized rules are refused at once.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use auth0_archive::simulator::TenantState;
use auth0_archive::simulator::hostile::{event_with_id, surrogate_failed_logins};

use crate::common::*;

/// Peak resident memory of one run of the binary, in bytes, as the kernel
/// counts it: the child's `VmHWM` (its own address space's high-water
/// mark), read from `/proc` every few milliseconds while it runs. (The
/// `ru_maxrss` of `wait4` would include this test process's own peak, which
/// the kernel carries into a child spawned with `CLONE_VM`.) Memory that
/// grows with the input grows while the child runs, so it is seen.
fn run_measured(cmd: &mut Command) -> (Output, u64) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let readers = (
        std::thread::spawn(move || {
            let mut o = Vec::new();
            out.read_to_end(&mut o).unwrap();
            o
        }),
        std::thread::spawn(move || {
            let mut e = Vec::new();
            err.read_to_end(&mut e).unwrap();
            e
        }),
    );
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak_kb = peak_kb.max(hwm.unwrap_or(0));
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let output = Output {
        status,
        stdout: readers.0.join().unwrap(),
        stderr: readers.1.join().unwrap(),
    };
    assert!(peak_kb > 0, "no VmHWM read for {status_file}");
    (output, peak_kb * 1024)
}

/// The bound on peak memory in the tests below: the caps are 32 MiB, the
/// unbounded versions took 2 to 3 GB.
const PEAK_BOUND: u64 = 256 * 1024 * 1024;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

// 1. Lone surrogates ---------------------------------------------------------

#[test]
fn failed_logins_with_lone_surrogates_are_archived_whole_and_found_by_brute_force() {
    let env = Env::new();
    // A tenant whose only events carry the attack: a page made of them
    // must still move the checkpoint.
    let attack = surrogate_failed_logins(30, "203.0.113.66", t("2026-11-19T10:00:00Z"));
    let tenant = tenant_with(attack.clone());
    let out = sync(&tenant, &env.db);
    assert_ok(&out);
    let s = summary(&out);
    assert_eq!(
        (s["inserted"].as_u64(), s["rejected"].as_u64()),
        (Some(30), Some(0)),
        "{s}"
    );
    assert_eq!(s["checkpoint"], attack.last().unwrap().key.as_str());
    // `raw` byte for byte, the typed columns readable.
    assert_exact(&env.db, &tenant);
    let name: String = query_one(
        &env.db,
        "SELECT user_name FROM events ORDER BY log_id LIMIT 1",
    );
    assert_eq!(name, "victim0\u{fffd}x");

    let found = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["detect", "--format", "ndjson", "--only", "brute-force"])
        .output()
        .unwrap();
    assert_ok(&found);
    let findings: Vec<serde_json::Value> = stdout(&found)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(findings.len(), 1, "{}", stdout(&found));
    assert_eq!(findings[0]["ip"], "203.0.113.66");
    assert_eq!(findings[0]["events"], 30);

    // Sigma sees the event too (its user agent is a lone low surrogate).
    let rule = env.dir.path().join("ua.yml");
    std::fs::write(
        &rule,
        "title: Bot user agent\nlogsource:\n    product: auth0\ndetection:\n    selection:\n        \
         data.user_agent|endswith: bot\n    condition: selection\nlevel: high\n",
    )
    .unwrap();
    let sigma = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["detect", "--format", "ndjson", "--no-reports", "--sigma"])
        .arg(&rule)
        .output()
        .unwrap();
    assert!(
        stdout(&sigma).contains("Bot user agent") && stdout(&sigma).contains("\"events\":30"),
        "{}\n{}",
        stdout(&sigma),
        stderr(&sigma)
    );
}

// 2. Planted symlinks --------------------------------------------------------

#[test]
fn report_and_export_never_write_through_planted_symlinks() {
    let env = Env::new();
    let tenant = tenant_with(events(120, 5));
    assert_ok(&sync(&tenant, &env.db));
    let victim = env.dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let plant = |link: &Path| {
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&victim, link).unwrap();
    };

    // The names the report and the export used to write.
    let shared = env.dir.path().join("shared");
    plant(&shared.join(".report.html.tmp"));
    let report = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["report", "--out"])
        .arg(shared.join("report.html"))
        .output()
        .unwrap();
    assert_ok(&report);

    let export = env.dir.path().join("export");
    plant(&export.join("_manifest.tmp"));
    plant(&export.join("_SUCCESS.tmp"));
    for day in ["2026-11-17", "2026-11-18", "2026-11-19"] {
        plant(&export.join(format!("date={day}/.events.parquet.tmp")));
    }
    let out = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["query", "export", "--out"])
        .arg(&export)
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(export.join("_SUCCESS").is_file());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

// 3. Memory ------------------------------------------------------------------

#[test]
fn an_endless_logs_answer_is_refused_at_the_cap_with_bounded_memory() {
    let env = Env::new();
    let mut state = TenantState::default();
    state.push_events(events(10, 8));
    state.hostile.endless_body = Some(1_500_000_000);
    let tenant = start_tenant(state);
    let (out, peak) = run_measured(&mut sync_cmd(&tenant, &env.db));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("larger than 32 MiB"),
        "{}",
        stderr(&out)
    );
    assert!(peak < PEAK_BOUND, "peak {} MiB", peak >> 20);
    eprintln!("endless body: peak {} MiB", peak >> 20);

    // A Content-Length past the cap is refused before anything is read.
    tenant.with(|s| {
        s.hostile.endless_body = None;
        s.hostile.promised_length = Some(1 << 40);
    });
    let out = sync(&tenant, &env.db);
    assert!(
        stderr(&out).contains("larger than 32 MiB"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_gzip_bomb_is_refused_at_the_line_cap_with_bounded_memory() {
    use std::io::Write;
    let env = Env::new();
    let bomb = env.dir.path().join("bomb.ndjson.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&bomb).unwrap(),
        flate2::Compression::best(),
    );
    gz.write_all(b"{\"log_id\":\"1\",\"x\":\"").unwrap();
    let block = vec![b'a'; 1 << 20];
    for _ in 0..1024 {
        gz.write_all(&block).unwrap();
    }
    gz.finish().unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 2 << 20);
    let mut cmd = bin();
    cmd.arg("--db").arg(&env.db).arg("import").arg(&bomb);
    let (out, peak) = run_measured(&mut cmd);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 1 is longer than 32 MiB"),
        "{}",
        stderr(&out)
    );
    assert!(peak < PEAK_BOUND, "peak {} MiB", peak >> 20);
    eprintln!("gzip bomb: peak {} MiB", peak >> 20);
    // All or nothing: nothing was archived.
    assert_eq!(query_one::<i64>(&env.db, "SELECT count(*) FROM events"), 0);
}

// 4. Secrets -----------------------------------------------------------------

/// Fails if `secret` is anywhere in the output, the archive's run history
/// or `status --json`.
fn assert_secret_kept(out: &Output, db: &Path, secret: &str) {
    assert_no_secret(out, &[secret]);
    let errors: Vec<String> = {
        let conn = rusqlite::Connection::open(db).unwrap();
        let mut stmt = conn
            .prepare("SELECT coalesce(error, '') FROM sync_runs")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(!errors.is_empty(), "the failed run is recorded");
    for e in &errors {
        assert!(!e.contains(secret), "secret stored in sync_runs.error: {e}");
    }
    assert!(
        errors.iter().any(|e| e.contains("<redacted>")),
        "{errors:?}"
    );
    let status = status_json(db).to_string();
    assert!(!status.contains(secret), "secret in status --json");
}

#[test]
fn a_client_secret_echoed_by_the_token_endpoint_is_never_printed_or_stored() {
    let env = Env::new();
    let mut state = TenantState::default();
    state.push_events(events(10, 9));
    let tenant = start_tenant(state);
    // An archive first: a failed first sync leaves none to look in.
    assert_ok(&sync(&tenant, &env.db));
    tenant.with(|s| s.hostile.echo_client_secret = true);
    let out = sync_cmd(&tenant, &env.db)
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("<redacted>"), "{}", stderr(&out));
    assert_secret_kept(&out, &env.db, CLIENT_SECRET);
}

#[test]
fn a_token_echoed_in_a_server_error_is_never_printed_or_stored() {
    let env = Env::new();
    let mut state = TenantState::default();
    state.push_events(events(10, 10));
    state
        .static_tokens
        .insert("static-token-0123456789".into(), true);
    let tenant = start_tenant(state);
    // An archive first: a failed first sync leaves none to look in.
    assert_ok(&sync(&tenant, &env.db));
    tenant.with(|s| s.hostile.echo_authorization = true);
    for json in [true, false] {
        // The minted token (client credentials), then a given one.
        let mut cmd = sync_cmd(&tenant, &env.db);
        cmd.args(["--max-retries", "2"]).env("RUST_LOG", "warn");
        if !json {
            cmd.env_remove("AUTH0_CLIENT_ID")
                .env_remove("AUTH0_CLIENT_SECRET")
                .env("AUTH0_ACCESS_TOKEN", "static-token-0123456789");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("Bearer <redacted>"),
            "{}",
            stderr(&out)
        );
        assert_secret_kept(&out, &env.db, "static-token-0123456789");
        assert_secret_kept(&out, &env.db, "sim-token-");
        assert_no_secret(&out, &[CLIENT_SECRET]);
    }
}

#[test]
fn passwords_in_the_url_and_mistyped_secrets_in_the_tenants_file_are_not_echoed() {
    let env = Env::new();
    let out = bin()
        .arg("--db")
        .arg(&env.db)
        .args([
            "sync",
            "--base-url",
            "https://admin:url-password-42@acme.example.com",
        ])
        .env("AUTH0_CLIENT_ID", "x")
        .env("AUTH0_CLIENT_SECRET", CLIENT_SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("<redacted>@acme.example.com"),
        "{}",
        stderr(&out)
    );
    assert_no_secret(&out, &["url-password-42"]);

    let file = env.dir.path().join("tenants.toml");
    std::fs::write(
        &file,
        "allow_secrets_in_file = true\n[[tenant]]\nname = \"a\"\nbase_url = \"acme.example.com\"\n\
         client_id = \"x\"\nclient_secret = 98765432101234\n",
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["sync", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("must be a string"),
        "{}",
        stderr(&out)
    );
    assert_no_secret(&out, &["98765432101234"]);
}

// 5. File permissions --------------------------------------------------------

#[test]
fn every_file_the_tool_creates_is_private_to_its_owner() {
    let env = Env::new();
    let tenant = tenant_with(events(150, 11));
    let head = env.dir.path().join("heads.txt");
    let out = sync_cmd(&tenant, &env.db)
        .arg("--head-file")
        .arg(&head)
        .output()
        .unwrap();
    assert_ok(&out);
    let duck = bin()
        .arg("--db")
        .arg(&env.db)
        .args([
            "query",
            "sql",
            "--engine",
            "duckdb",
            "SELECT count(*) FROM events",
        ])
        .output()
        .unwrap();
    assert_ok(&duck);
    let report = env.dir.path().join("report.html");
    assert_ok(
        &bin()
            .arg("--db")
            .arg(&env.db)
            .args(["report", "--out"])
            .arg(&report)
            .output()
            .unwrap(),
    );
    let export = env.dir.path().join("export");
    assert_ok(
        &bin()
            .arg("--db")
            .arg(&env.db)
            .args(["query", "export", "--out"])
            .arg(&export)
            .output()
            .unwrap(),
    );
    let sibling = |suffix: &str| {
        let mut p = env.db.as_os_str().to_owned();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    let mut files = vec![
        env.db.clone(),
        sibling(".lock"),
        sibling(".duckdb"),
        head,
        report,
    ];
    // SQLite's and DuckDB's side files, where they are left.
    for extra in ["-wal", "-shm", ".duckdb.wal"] {
        if sibling(extra).exists() {
            files.push(sibling(extra));
        }
    }
    let mut dirs = vec![export.clone()];
    for entry in walk(&export) {
        if entry.is_dir() {
            dirs.push(entry);
        } else {
            files.push(entry);
        }
    }
    assert!(files.len() >= 9, "{files:?}");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    for d in &dirs {
        assert_eq!(mode(d), 0o700, "{}", d.display());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn the_head_file_is_appended_through_a_symlink_by_design() {
    // An anchor is often a link to a mounted, append-only place: the path
    // the user names is followed, and the target gains one line a run.
    let env = Env::new();
    let tenant = tenant_with(events(20, 12));
    let target = env.dir.path().join("anchor-target.txt");
    std::fs::write(&target, "").unwrap();
    let link = env.dir.path().join("heads.txt");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = sync_cmd(&tenant, &env.db)
        .arg("--head-file")
        .arg(&link)
        .output()
        .unwrap();
    assert_ok(&out);
    let text = std::fs::read_to_string(&target).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

// 6. A crafted log id --------------------------------------------------------

#[test]
fn a_crafted_log_id_never_aims_the_token_at_another_path() {
    let env = Env::new();
    // Sorts after every digit id, so it becomes the checkpoint.
    let crafted = "x/../../../../stray?steal=1#";
    let mut state = TenantState::default();
    state.push_events(events(20, 13));
    state.push_events([event_with_id(crafted, t("2026-11-19T10:00:00Z"))]);
    let tenant = start_tenant(state);
    assert_ok(&sync(&tenant, &env.db));
    assert_eq!(status_json(&env.db)["tenants"][0]["checkpoint"], crafted);
    // A later event well after the checkpoint: the gap check would ask
    // for the checkpoint event by id.
    tenant.with(|s| s.push_events([event_with_id("xz1", t("2026-11-19T12:00:00Z"))]));
    let out = sync(&tenant, &env.db);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("does not look like an Auth0 log id"),
        "{}",
        stderr(&out)
    );
    let stray = tenant.with(|s| s.hostile.stray_requests.clone());
    assert!(stray.is_empty(), "{stray:?}");
}

// 7. Terminal escapes --------------------------------------------------------

#[test]
fn terminal_escapes_in_event_text_are_shown_escaped_and_kept_exact_in_json() {
    let env = Env::new();
    let evil = "z\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m";
    let mut state = TenantState::default();
    state.push_events(events(20, 14));
    state.push_events([event_with_id(evil, t("2026-11-19T10:00:00Z"))]);
    let tenant = start_tenant(state);
    let out = sync_cmd(&tenant, &env.db)
        .args(["--max-events", "1000"])
        .output()
        .unwrap();
    assert_ok(&out);

    let raw_control = |text: &str| text.chars().any(|c| c.is_control() && c != '\n');
    let human = bin()
        .arg("--db")
        .arg(&env.db)
        .arg("status")
        .output()
        .unwrap();
    assert_ok(&human);
    assert!(!raw_control(&stdout(&human)), "{:?}", stdout(&human));
    assert!(stdout(&human).contains("z\\x1b]0;owned\\x07\\x1b[2J\\u{9b}31m"));
    assert_eq!(status_json(&env.db)["tenants"][0]["checkpoint"], evil);

    let sql = "SELECT log_id, user_name FROM events WHERE log_id LIKE 'z%'";
    let table = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["query", "sql", "--format", "table", sql])
        .output()
        .unwrap();
    assert_ok(&table);
    assert!(!raw_control(&stdout(&table)), "{:?}", stdout(&table));
    let json = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["query", "sql", "--format", "json", sql])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows[0]["user_name"], evil);

    // An error quoting the text shows it escaped too.
    let bad = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["query", "run", evil])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(!raw_control(&stderr(&bad)), "{:?}", stderr(&bad));
}

// 8. Sigma limits ------------------------------------------------------------

fn detect_sigma(db: &Path, rules: &Path) -> (Output, Duration) {
    let started = Instant::now();
    let out = bin()
        .arg("--db")
        .arg(db)
        .args(["detect", "--format", "ndjson", "--no-reports", "--sigma"])
        .arg(rules)
        .output()
        .unwrap();
    (out, started.elapsed())
}

#[test]
fn oversized_and_over_deep_sigma_rules_are_refused_at_once() {
    let env = Env::new();
    let tenant = tenant_with(events(30, 15));
    assert_ok(&sync(&tenant, &env.db));
    let rules = env.dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let good = "title: Any login\nlogsource:\n    product: auth0\ndetection:\n    selection:\n        \
                data.type: s\n    condition: selection\nlevel: low\n";
    std::fs::write(rules.join("good.yml"), good).unwrap();
    // 100 000 levels in 200 KB: the YAML parser took 39 s to give up.
    std::fs::write(
        rules.join("deep.yml"),
        format!("{}x\n", "- ".repeat(100_000)),
    )
    .unwrap();
    std::fs::write(
        rules.join("flow.yml"),
        format!("a: {}\n", "[".repeat(100_000)),
    )
    .unwrap();
    // 100 MB: it was read and parsed whole.
    let big = format!("{good}description: {}\n", "y".repeat(100 << 20));
    std::fs::write(rules.join("big.yml"), big).unwrap();
    // A misspelt level: once "skipped" but run at medium.
    std::fs::write(
        rules.join("level.yml"),
        good.replace("Any login", "Misspelt level")
            .replace("level: low", "level: critcal"),
    )
    .unwrap();

    let (out, took) = detect_sigma(&env.db, &rules);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        err.contains("deep.yml skipped: nested deeper than 64"),
        "{err}"
    );
    assert!(
        err.contains("flow.yml skipped: nested deeper than 64"),
        "{err}"
    );
    assert!(
        err.contains("big.yml skipped: larger than the 1024 KiB limit"),
        "{err}"
    );
    assert!(err.contains("invalid level: 'critcal'"), "{err}");
    let found = stdout(&out);
    assert!(found.contains("Any login"), "{found}");
    assert!(!found.contains("Misspelt level"), "{found}");
}
