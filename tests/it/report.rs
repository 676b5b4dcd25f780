//! `report`: one self-contained HTML page. Built from a synced archive with
//! the simulator's planted attacks, hostile events imported beside them and
//! `detect` run; the numbers on the page are checked against SQL, the page
//! against external resources and unescaped event text, and it is loaded in
//! headless Chromium with the network cut off.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::*;
use auth0_archive::simulator::generator::{Spec, generate};

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "<img src=x onerror=alert(1)>";
const SCRIPT_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";
const IMG_ESCAPED: &str = "&lt;img src=x onerror=alert(1)&gt;";
const EVIL_USER: &str = "auth0|evil";

/// Events whose user name, user agent, description, client and Management
/// API actor and path carry markup: 30 failed logins from one IP (a brute
/// force, so a finding shows the hostile fields too), a login and a `sapi`.
fn hostile_ndjson() -> String {
    let mut lines = Vec::new();
    let ev = |i: usize, ty: &str, extra: serde_json::Value| {
        let mut e = serde_json::json!({
            "log_id": format!("900202611190000000000000000000000000000000000000000{i:05}"),
            "date": format!("2026-11-19T10:{:02}:{:02}.000Z", i / 60, i % 60),
            "type": ty,
            "ip": "198.18.0.66",
            "user_id": EVIL_USER,
            "user_name": SCRIPT,
            "user_agent": IMG,
            "client_name": SCRIPT,
            "description": IMG,
            "connection": SCRIPT,
            "location_info": {"country_code": "NL", "country_name": IMG, "city_name": SCRIPT,
                              "latitude": 52.37, "longitude": 4.89}
        });
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e.to_string()
    };
    for i in 0..30 {
        lines.push(ev(i, "fp", serde_json::json!({})));
    }
    lines.push(ev(30, "s", serde_json::json!({})));
    lines.push(ev(
        31,
        "sapi",
        serde_json::json!({"details": {"request": {"method": "patch", "path": IMG,
            "auth": {"user": {"email": SCRIPT, "user_id": EVIL_USER}}}}}),
    ));
    lines.push(ev(
        32,
        "gd_send_pn",
        serde_json::json!({"description": SCRIPT}),
    ));
    lines.join("\n") + "\n"
}

struct Fixture {
    env: Env,
    /// The reports written: all, --engine duckdb, --user.
    all: String,
    duck: String,
    user: String,
    user_path: PathBuf,
}

fn run(db: &Path, args: &[&str]) -> std::process::Output {
    bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run binary")
}

/// One archive and its reports for every test of this file.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let env = Env::new();
        let mut spec = Spec::recent(2500, 3, t("2026-11-20T00:00:00Z"));
        spec.seed = 11;
        let tenant = tenant_with(generate(&spec));
        assert_ok(&sync(&tenant, &env.db));
        let file = env.dir.path().join("hostile.ndjson");
        std::fs::write(&file, hostile_ndjson()).unwrap();
        assert_ok(&run(&env.db, &["import", file.to_str().unwrap()]));
        assert_ok(&run(&env.db, &["detect", "--quiet", "--format", "ndjson"]));
        let write = |name: &str, extra: &[&str]| -> (PathBuf, String) {
            let out = env.dir.path().join(name);
            let mut args = vec!["report", "--out", out.to_str().unwrap()];
            args.extend_from_slice(extra);
            let o = run(&env.db, &args);
            assert_ok(&o);
            assert_eq!(stdout(&o).trim(), out.to_str().unwrap());
            let html = std::fs::read_to_string(&out).unwrap();
            (out, html)
        };
        let (_, all) = write("all.html", &[]);
        let (_, duck) = write("duck.html", &["--engine", "duckdb"]);
        let (user_path, user) = write("user.html", &["--user", EVIL_USER]);
        Fixture {
            env,
            all,
            duck,
            user,
            user_path,
        }
    })
}

/// The text of the element with `id` (up to its first tag), commas removed.
fn by_id(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element with id {id}"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap() + start;
    rest[start..end].replace(',', "")
}

fn number(html: &str, id: &str) -> i64 {
    by_id(html, id)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{id} is not a number: {:?}", by_id(html, id)))
}

const FAILED_LOGIN: &str =
    "type IN (SELECT code FROM event_types WHERE category = 'login_failure')";

#[test]
fn every_section_is_there() {
    let f = fixture();
    for html in [&f.all, &f.duck, &f.user] {
        for id in [
            "overview",
            "activity",
            "attacks",
            "geography",
            "who",
            "management",
        ] {
            assert!(
                html.contains(&format!("<section id=\"{id}\"")),
                "section {id} missing"
            );
        }
        assert!(html.contains("All times are UTC"));
        assert!(html.contains("class=\"map\""), "the map is drawn");
        assert!(html.len() < 2_000_000);
    }
    assert!(f.user.contains("<section id=\"user\""));
    assert!(!f.all.contains("<section id=\"user\""));
}

#[test]
fn numbers_equal_the_sql_behind_them() {
    let f = fixture();
    let db = &f.env.db;
    let events: i64 = query_one(db, "SELECT count(*) FROM events");
    let failed: i64 = query_one(
        db,
        &format!("SELECT count(*) FROM events WHERE {FAILED_LOGIN}"),
    );
    let (top_ip, top_n): (String, i64) = rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            &format!(
                "SELECT ip, count(*) AS n FROM events WHERE {FAILED_LOGIN} AND ip IS NOT NULL
                 GROUP BY ip ORDER BY n DESC, ip LIMIT 1"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let findings: i64 = query_one(db, "SELECT count(*) FROM findings");
    let management: i64 = query_one(
        db,
        "SELECT count(*) FROM events WHERE type IN ('sapi', 'fapi')",
    );
    assert!(findings > 0 && failed > 0 && management > 0);
    for html in [&f.all, &f.duck] {
        assert_eq!(number(html, "n-events"), events);
        assert_eq!(number(html, "n-logins-failed"), failed);
        assert_eq!(by_id(html, "top-failing-ip"), top_ip);
        assert_eq!(number(html, "top-failing-ip-count"), top_n);
        assert_eq!(number(html, "n-findings"), findings);
        assert_eq!(number(html, "n-management"), management);
        assert_eq!(by_id(html, "verify"), "ok");
    }
    let high: i64 = query_one(db, "SELECT count(*) FROM findings WHERE severity = 'high'");
    assert_eq!(number(&f.all, "sev-high"), high);
    let mine: i64 = query_one(
        db,
        &format!("SELECT count(*) FROM events WHERE user_id = '{EVIL_USER}'"),
    );
    assert_eq!(number(&f.user, "n-user-events"), mine);
}

#[test]
fn a_time_window_narrows_the_numbers() {
    let f = fixture();
    let out = f.env.dir.path().join("window.html");
    let o = run(
        &f.env.db,
        &[
            "report",
            "--out",
            out.to_str().unwrap(),
            "--since",
            "2026-11-19",
            "--until",
            "2026-11-19",
            "--no-verify",
        ],
    );
    assert_ok(&o);
    let html = std::fs::read_to_string(&out).unwrap();
    let n: i64 = query_one(
        &f.env.db,
        "SELECT count(*) FROM events WHERE date >= '2026-11-19' AND date < '2026-11-20'",
    );
    assert_eq!(number(&html, "n-events"), n);
    assert_eq!(by_id(&html, "verify"), "not run");
}

#[test]
fn nothing_is_loaded_from_anywhere() {
    let f = fixture();
    for html in [&f.all, &f.user] {
        let lower = html.to_lowercase();
        for bad in [
            "<script",
            "<link",
            "<img",
            "<iframe",
            "<object",
            "<embed",
            "@import",
            "url(",
            "src=\"",
            "src='",
            "http-equiv=\"refresh",
        ] {
            assert!(!lower.contains(bad), "the page contains {bad}");
        }
        // Every link is an anchor within the page.
        for (i, _) in lower.match_indices("href=") {
            let v = &lower[i + 5..];
            assert!(
                v.starts_with("\"#"),
                "external link: {}",
                &v[..40.min(v.len())]
            );
        }
    }
}

#[test]
fn every_event_field_is_escaped() {
    let f = fixture();
    for html in [&f.all, &f.duck, &f.user] {
        assert!(!html.contains(SCRIPT), "a planted script tag survived");
        assert!(!html.contains(IMG), "a planted img tag survived");
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
        // Each onerror= is inside the escaped text.
        let total = html.matches("onerror=").count();
        assert_eq!(total, html.matches(IMG_ESCAPED).count());
        assert!(
            html.contains(SCRIPT_ESCAPED),
            "the script text is shown escaped"
        );
        assert!(html.contains(IMG_ESCAPED), "the img text is shown escaped");
    }
    // The hostile user name and user agent reach the top lists, the
    // management table and the user's section, escaped.
    let who = section(&f.all, "who");
    assert!(who.contains(SCRIPT_ESCAPED) && who.contains(IMG_ESCAPED));
    assert!(section(&f.all, "management").contains(IMG_ESCAPED));
    assert!(section(&f.user, "user").contains(IMG_ESCAPED));
}

fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("<section id=\"{id}\"")).unwrap();
    let end = html[start..].find("</section>").unwrap() + start;
    &html[start..end]
}

#[test]
fn a_missing_archive_is_an_error() {
    let env = Env::new();
    let out = env.dir.path().join("r.html");
    let o = run(&env.db, &["report", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(!out.exists());
}

/// Chromium on PATH, if any.
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(o) = Command::new("which").arg(name).output()
            && o.status.success()
        {
            return Some(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        }
    }
    None
}

#[test]
fn it_renders_in_headless_chromium_without_errors() {
    let Some(browser) = chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "chromium is not installed: CI must install it (apt-get install -y chromium) \
                 for the report's browser test"
            );
        }
        eprintln!("note: chromium not found; the report's browser test is skipped");
        return;
    };
    let f = fixture();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(shots).unwrap();
    let url = format!("file://{}", f.user_path.display());
    let profile = f.env.dir.path().join("chromium-profile");
    let browse = |extra: &[&str]| {
        let o = Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--no-first-run",
                "--enable-logging=stderr",
                "--v=0",
                // No network: every host fails to resolve and any proxy use
                // goes nowhere.
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--proxy-server=127.0.0.1:9",
                "--window-size=1280,2400",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("run chromium");
        assert!(o.status.success(), "chromium failed: {}", stderr(&o));
        o
    };
    let dom = browse(&["--dump-dom"]);
    let text = stdout(&dom);
    assert!(
        text.contains("id=\"geography\""),
        "the DOM was not rendered"
    );
    let log = stderr(&dom);
    for line in log.lines() {
        let l = line.to_lowercase();
        assert!(
            !(l.contains("console") && (l.contains("error") || l.contains("uncaught"))),
            "console error: {line}"
        );
        assert!(
            !l.contains("refused to") && !l.contains("content security policy"),
            "blocked resource: {line}"
        );
        assert!(
            !l.contains("err_name_not_resolved"),
            "network access: {line}"
        );
    }
    let shot = shots.join("report.png");
    let _ = std::fs::remove_file(&shot);
    browse(&[&format!("--screenshot={}", shot.display())]);
    assert!(
        std::fs::metadata(&shot)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false),
        "no screenshot at {}",
        shot.display()
    );
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn demo_writes_its_report_beside_the_database() {
    let env = Env::new();
    let out = bin()
        .current_dir(env.dir.path())
        .args(["demo", "--events", "600"])
        .output()
        .unwrap();
    assert_ok(&out);
    let page = env.dir.path().join("auth0-demo-report.html");
    assert!(
        stdout(&out).contains("./auth0-demo-report.html"),
        "its path is printed"
    );
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("<section id=\"attacks\""));
    let events: i64 = query_one(
        &env.dir.path().join("auth0-demo.db"),
        "SELECT count(*) FROM events",
    );
    assert_eq!(number(&html, "n-events"), events);
}

/// A synced archive with the planted attacks on which `detect` never ran.
fn undetected_archive() -> Env {
    let env = Env::new();
    let mut spec = Spec::recent(1500, 3, t("2026-11-20T00:00:00Z"));
    spec.seed = 23;
    let tenant = tenant_with(generate(&spec));
    assert_ok(&sync(&tenant, &env.db));
    env
}

fn write_report(db: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["report", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    assert_ok(&run(db, &args));
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn a_report_first_files_what_the_detections_find() {
    let env = undetected_archive();
    let html = write_report(&env.db, &env.dir.path().join("r.html"), &[]);
    let filed: i64 = query_one(&env.db, "SELECT count(*) FROM findings");
    let high: i64 = query_one(
        &env.db,
        "SELECT count(*) FROM findings WHERE severity = 'high'",
    );
    assert!(high > 0, "the planted attacks are found");
    assert_eq!(number(&html, "n-findings"), filed);
    assert_eq!(number(&html, "sev-high"), high);
    assert!(by_id(&html, "detect-note").contains(&format!("filed {filed} new findings")));
    // Filed as `detect` files them, and queued like any pass's: the next
    // detect finds nothing new but still prints each of them once, marked
    // pending (so `detect >> findings.ndjson` misses none); the one after
    // prints nothing.
    let out = run(&env.db, &["detect", "--format", "ndjson", "--quiet"]);
    assert_ok(&out);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as i64, filed);
    assert!(lines.iter().all(|f| f["pending"] == true), "{lines:?}");
    let out = run(&env.db, &["detect", "--format", "ndjson", "--quiet"]);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "");
}

#[test]
fn no_detect_shows_the_findings_filed_before_and_says_so() {
    let env = undetected_archive();
    let html = write_report(&env.db, &env.dir.path().join("r.html"), &["--no-detect"]);
    assert_eq!(
        query_one::<i64>(&env.db, "SELECT count(*) FROM findings"),
        0
    );
    assert_eq!(number(&html, "n-findings"), 0);
    assert!(html.contains("id=\"detect-note\""));
    assert!(section(&html, "attacks").contains("--no-detect"));
}

/// Bytes and modification time of a file.
fn fingerprint(path: &Path) -> (Vec<u8>, std::time::SystemTime) {
    (
        std::fs::read(path).unwrap(),
        std::fs::metadata(path).unwrap().modified().unwrap(),
    )
}

#[test]
fn a_read_only_archive_shows_the_findings_unfiled_and_stays_unchanged() {
    use std::os::unix::fs::PermissionsExt;
    let filed = {
        // What the same events give when filed: the page must show as many.
        let env = undetected_archive();
        write_report(&env.db, &env.dir.path().join("r.html"), &[]);
        query_one::<i64>(&env.db, "SELECT count(*) FROM findings")
    };
    let out_dir = tempfile::tempdir().unwrap();
    // A copy marked read-only (mode 0444), then one in a read-only directory.
    for case in ["file", "directory"] {
        let env = undetected_archive();
        let (db, dir) = (env.db.clone(), env.dir.path().to_path_buf());
        let mode = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        if case == "file" {
            mode(&db, 0o444);
        } else {
            mode(&dir, 0o555);
        }
        let before = fingerprint(&db);
        let html = write_report(&db, &out_dir.path().join(format!("{case}.html")), &[]);
        let after = fingerprint(&db);
        mode(&dir, 0o755);
        mode(&db, 0o644);
        assert!(before == after, "{case}: the archive was written");
        assert_eq!(number(&html, "n-findings"), filed, "{case}");
        assert!(number(&html, "sev-high") > 0, "{case}");
        let note = by_id(&html, "detect-note");
        assert!(
            note.contains("Not filed") && note.contains("read-only"),
            "{case}: {note}"
        );
        assert_eq!(
            query_one::<i64>(&db, "SELECT count(*) FROM findings"),
            0,
            "{case}"
        );
    }
}
