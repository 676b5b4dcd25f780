//! A new user's first hour, through the real binary: help with examples,
//! completions and a man page, quiet broken pipes, JSON-only stderr when
//! asked, one rule for reversed dates, errors that say what to check, and
//! no debris from a failed first sync.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output, Stdio};

use clap::CommandFactory;

use crate::common::*;

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run binary")
}

/// Every subcommand path: `["sync"]`, `["query", "run"]`, ...
fn subcommand_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands() {
            let mut path = prefix.clone();
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            walk(sub, path, out);
        }
    }
    let mut out = Vec::new();
    walk(&auth0_archive::cli::Cli::command(), Vec::new(), &mut out);
    out
}

#[test]
fn every_help_ends_with_real_examples() {
    let paths = subcommand_paths();
    assert!(paths.len() >= 14, "{paths:?}");
    for mut path in paths.into_iter().chain([vec![]]) {
        path.push("--help".into());
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let out = run(&args);
        assert_ok(&out);
        let help = stdout(&out);
        let examples = help
            .split("Examples:")
            .nth(1)
            .unwrap_or_else(|| panic!("{args:?} --help has no Examples:\n{help}"));
        let lines: Vec<&str> = examples
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("auth0-archive ") || l.contains(" auth0-archive "))
            .collect();
        assert!(
            (2..=4).contains(&lines.len()),
            "{args:?}: {} example lines\n{help}",
            lines.len()
        );
        // Each example parses: its flags exist (the shell parts aside).
        for line in lines {
            let words = example_words(line);
            let parsed = auth0_archive::cli::Cli::command().try_get_matches_from(&words);
            assert!(
                parsed.is_ok(),
                "{args:?}: the example `{line}` does not parse: {}",
                parsed.err().map(|e| e.to_string()).unwrap_or_default()
            );
        }
    }
}

/// The words of the first `auth0-archive` command on a shell line, as a
/// POSIX shell splits them: quotes group, and an unquoted `|`, `>`, `&`,
/// `;` or `#` ends the command.
fn example_words(line: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let (mut quote, mut in_word) = (None, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '|' | '>' | '&' | ';' | '#') => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    let start = words.iter().position(|w| w == "auth0-archive").unwrap_or(0);
    words.split_off(start)
}

#[test]
fn completions_are_valid_scripts_and_the_man_page_is_roff() {
    let bash = run(&["completions", "bash"]);
    assert_ok(&bash);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("auth0-archive.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(check.status.success(), "bash -n: {}", stderr(&check));
    assert!(stdout(&bash).contains("detect") && stdout(&bash).contains("--since"));
    for shell in ["zsh", "fish", "powershell"] {
        let out = run(&["completions", shell]);
        assert_ok(&out);
        assert!(stdout(&out).contains("sync"), "{shell}");
    }
    let bad = run(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
    let man = run(&["man"]);
    assert_ok(&man);
    let page = stdout(&man);
    assert!(page.starts_with(".ie") || page.contains("\n.TH") || page.starts_with(".TH"));
    assert!(
        page.contains(".TH auth0-archive"),
        "{}",
        &page[..200.min(page.len())]
    );
    assert!(page.contains("sync") && page.contains("detect"));
}

/// Spawns `args` with stdout a pipe whose reader is gone before anything is
/// written: the process must end without a panic.
fn with_closed_stdout(args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap(), err)
}

#[test]
fn a_closed_stdout_ends_quietly_for_every_command() {
    let env = Env::new();
    let tenant = tenant_with(events(150, 71));
    assert_ok(&sync(&tenant, &env.db));
    let db = env.db.to_str().unwrap();
    for args in [
        vec!["--db", db, "status"],
        vec!["--db", db, "status", "--json"],
        vec!["--db", db, "query", "list"],
        vec!["--db", db, "query", "sql", "SELECT * FROM events"],
        vec!["--db", db, "detect", "--format", "ndjson"],
        vec!["completions", "bash"],
        vec!["man"],
        vec!["--help"],
    ] {
        let (status, err) = with_closed_stdout(&args);
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "{args:?}: {err}"
        );
        assert!(
            status.success() || status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {status:?} {err}"
        );
    }
}

fn assert_stderr_is_json(out: &Output, what: &str) {
    let err = stderr(out);
    assert!(!err.trim().is_empty(), "{what}: nothing on stderr");
    for line in err.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{what}: a stderr line is not JSON ({e}): {line}"));
        assert!(
            v.get("level").is_some() && v.get("message").is_some(),
            "{what}: {line}"
        );
    }
}

#[test]
fn with_json_logs_every_stderr_line_is_json_whatever_goes_wrong() {
    let env = Env::new();
    let tenant = tenant_with(events(120, 72));
    let db = env.db.to_str().unwrap();
    let cases: Vec<(&str, Output)> = vec![
        (
            "a bad flag",
            run(&["--log-format", "json", "status", "--no-such-flag"]),
        ),
        (
            "a bad flag, format from the environment",
            bin()
                .env("AUTH0_ARCHIVE_LOG_FORMAT", "json")
                .args(["sync", "--no-such-flag"])
                .output()
                .unwrap(),
        ),
        (
            "no archive",
            run(&["--log-format=json", "--db", db, "status"]),
        ),
        (
            "an unknown report",
            run(&["--log-format", "json", "--db", db, "query", "run", "nope"]),
        ),
        (
            "a refused connection",
            run(&[
                "--log-format",
                "json",
                "--db",
                db,
                "sync",
                "--base-url",
                "http://127.0.0.1:9",
                "--access-token",
                "t",
                "--retry-delay-ms",
                "1",
            ]),
        ),
    ];
    for (what, out) in &cases {
        assert!(!out.status.success(), "{what}");
        assert_stderr_is_json(out, what);
    }
    // A sync that works, with its progress lines, and detect's summary.
    let mut ok = sync_cmd(&tenant, &env.db);
    let out = ok.arg("--log-format").arg("json").output().unwrap();
    assert_ok(&out);
    let out = run(&[
        "--log-format",
        "json",
        "--db",
        db,
        "detect",
        "--format",
        "ndjson",
    ]);
    assert_ok(&out);
    assert_stderr_is_json(&out, "detect");
}

#[test]
fn a_reversed_range_exits_2_naming_both_dates_for_every_command() {
    let env = Env::new();
    let tenant = tenant_with(events(120, 73));
    assert_ok(&sync(&tenant, &env.db));
    let db = env.db.to_str().unwrap();
    let out_dir = env.dir.path().join("export");
    let page = env.dir.path().join("page.html");
    let (late, early) = ("2026-11-19", "2026-11-10");
    for args in [
        vec![
            "report",
            "--out",
            page.to_str().unwrap(),
            "--since",
            late,
            "--until",
            early,
        ],
        vec!["detect", "--since", late, "--until", early],
        vec![
            "query",
            "export",
            "--out",
            out_dir.to_str().unwrap(),
            "--since",
            late,
            "--until",
            early,
        ],
        vec![
            "query",
            "run",
            "brute-force",
            "--param",
            "since=2026-11-19",
            "--param",
            "until=2026-11-10",
        ],
    ] {
        let mut full = vec!["--db", db];
        full.extend(&args);
        let out = run(&full);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(late) && err.contains(early), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert!(!page.exists(), "no empty page is written");
}

#[test]
fn the_demo_names_its_archive_in_the_next_commands_and_says_when_it_reuses_one() {
    let dir = tempfile::tempdir().unwrap();
    let demo = |extra: &[&str]| {
        bin()
            .current_dir(dir.path())
            .arg("demo")
            .args(["--events", "400"])
            .args(extra)
            .output()
            .unwrap()
    };
    let first = demo(&[]);
    assert_ok(&first);
    let err = stderr(&first);
    assert!(!err.contains("reusing"), "{err}");
    for next in ["status", "query list", "query run credential-stuffing"] {
        let line = format!("auth0-archive --db ./auth0-demo.db {next}");
        assert!(err.contains(&line), "missing `{line}` in:\n{err}");
    }
    // The printed next command works as printed, from the same directory.
    let status = bin()
        .current_dir(dir.path())
        .args(["--db", "./auth0-demo.db", "status", "--json"])
        .output()
        .unwrap();
    assert_ok(&status);
    let again = demo(&[]);
    assert_ok(&again);
    assert!(
        stderr(&again).contains("reusing the demo archive"),
        "{}",
        stderr(&again)
    );
    assert!(stderr(&again).contains("--fresh"));
    let fresh = demo(&["--fresh"]);
    assert_ok(&fresh);
    assert!(!stderr(&fresh).contains("reusing"));
}

#[test]
fn a_host_that_refuses_is_named_with_the_cause_and_leaves_no_archive() {
    let env = Env::new();
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["sync", "--quiet", "--retry-delay-ms", "1"])
        .env("AUTH0_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("AUTH0_ACCESS_TOKEN", "some-token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.contains("refused"), "{err}");
    assert!(err.contains("--base-url"), "says what to check: {err}");
    assert!(
        err.contains("after 3 attempts"),
        "not a minute of retries: {err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!env.db.exists(), "a failed first sync leaves no archive");
}

#[test]
fn bad_credentials_on_a_first_sync_leave_no_archive_behind() {
    let env = Env::new();
    let tenant = tenant_with(events(50, 74));
    let out = sync_cmd(&tenant, &env.db)
        .env("AUTH0_CLIENT_SECRET", "wrong-secret")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // An archive that exists keeps its history of failed runs.
    assert_ok(&sync(&tenant, &env.db));
    let out = sync_cmd(&tenant, &env.db)
        .env("AUTH0_CLIENT_SECRET", "wrong-secret")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(env.db.exists());
}

#[test]
fn counts_are_singular_or_plural_as_they_should_be() {
    let env = Env::new();
    let tenant = tenant_with(events_ending(30, 75, "2026-11-20T12:00:00Z"));
    assert_ok(&sync(&tenant, &env.db));
    let db = env.db.to_str().unwrap();
    let dir = env.dir.path().join("one-day");
    let out = run(&[
        "--db",
        db,
        "query",
        "export",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_ok(&out);
    let said = stdout(&out);
    assert!(said.contains("exported 1 day (30 events)"), "{said}");
    let out = run(&["--db", db, "detect", "--format", "ndjson"]);
    assert_ok(&out);
    let all = format!("{said}{}", stderr(&out));
    for lazy in [
        "(s)",
        " 1 events",
        " 1 findings",
        " 1 days",
        " 1 detections",
    ] {
        assert!(!all.contains(lazy), "{lazy:?} in {all}");
    }
}

#[test]
fn an_unknown_name_leads_with_what_was_probably_meant() {
    let env = Env::new();
    let tenant = tenant_with(events(20, 76));
    assert_ok(&sync(&tenant, &env.db));
    let db = env.db.to_str().unwrap();
    let out = run(&["--db", db, "query", "run", "brute-forse"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("did you mean `brute-force`?"), "{err}");
    assert!(
        !err.contains("account-linking-takeover"),
        "not all 28 names: {err}"
    );
    let out = run(&["--db", db, "detect", "--only", "credential-stufing"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`credential-stuffing`"),
        "{}",
        stderr(&out)
    );
    // Nothing close: the whole list, as before.
    let out = run(&["--db", db, "query", "run", "zzzz"]);
    assert!(stderr(&out).contains("brute-force") && stderr(&out).contains("user-timeline"));
}

#[test]
fn a_table_never_cuts_an_identifier() {
    let env = Env::new();
    let tenant = tenant_with(events(20, 77));
    assert_ok(&sync(&tenant, &env.db));
    let id = "9".repeat(56);
    let ids = format!("{id} {id} {id}");
    let prose = "a long sentence of prose that goes on and on ".repeat(4);
    let sql = format!("SELECT '{ids}' AS log_ids, 'auth0|{id}' AS actor, '{prose}' AS summary");
    let out = run(&[
        "--db",
        env.db.to_str().unwrap(),
        "query",
        "sql",
        &sql,
        "--format",
        "table",
    ]);
    assert_ok(&out);
    let table = stdout(&out);
    assert!(table.contains(&ids), "{table}");
    assert!(table.contains(&format!("auth0|{id}")), "{table}");
    assert!(
        !table.contains(prose.trim()) && table.contains('…'),
        "{table}"
    );
}
