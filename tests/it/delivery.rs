//! Unattended detection and delivery through the real binary:
//! `sync --follow --detect` files findings after each catch-up and POSTs
//! them to webhooks at least once, across refusals, dropped connections
//! and a SIGKILL; `detect` runs beside a follow; the webhook URL (a secret)
//! never shows up in any output or in the archive.

use std::collections::{BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;

/// In every webhook URL's path, as Slack's token is.
const TOKEN: &str = "T0KEN-hooks-s3cr3t-4f9a";

/// What the receiver does with a request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reply {
    Status(u16),
    /// Read the request, close the connection without an answer.
    Drop,
}

#[derive(Debug, Clone)]
struct Received {
    path: String,
    key: Option<String>,
    body: String,
    reply: Reply,
}

/// A webhook receiver on loopback: answers from a script, then with a
/// default reply; remembers every request.
#[derive(Clone)]
struct Receiver {
    port: u16,
    script: Arc<Mutex<VecDeque<Reply>>>,
    default: Arc<Mutex<Reply>>,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(default: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let r = Receiver {
            port: listener.local_addr().unwrap().port(),
            script: Arc::default(),
            default: Arc::new(Mutex::new(default)),
            log: Arc::default(),
        };
        let server = r.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                server.serve(stream);
            }
        });
        r
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook/{TOKEN}", self.port)
    }

    fn then(&self, replies: &[Reply], default: Reply) {
        self.script.lock().unwrap().extend(replies);
        *self.default.lock().unwrap() = default;
    }

    fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    /// Idempotency-Keys of the requests answered 2xx.
    fn accepted_keys(&self) -> BTreeSet<String> {
        self.received()
            .into_iter()
            .filter(|r| matches!(r.reply, Reply::Status(200..=299)))
            .filter_map(|r| r.key)
            .collect()
    }

    fn serve(&self, stream: TcpStream) {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.is_empty() {
            return;
        }
        let path = line.split(' ').nth(1).unwrap_or_default().to_string();
        let (mut key, mut length) = (None, 0usize);
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((&header, ""));
            match name.trim().to_ascii_lowercase().as_str() {
                "idempotency-key" => key = Some(value.trim().to_string()),
                "content-length" => length = value.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
        let mut body = vec![0u8; length];
        let _ = reader.read_exact(&mut body);
        let reply = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(*self.default.lock().unwrap());
        self.log.lock().unwrap().push(Received {
            path,
            key,
            body: String::from_utf8_lossy(&body).to_string(),
            reply,
        });
        let mut stream = reader.into_inner();
        if let Reply::Status(code) = reply {
            let _ = write!(
                stream,
                "HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    }
}

/// Waits (bounded) until `done` holds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting until {what}");
}

fn count(db: &Path, sql: &str) -> i64 {
    if !db.exists() {
        return 0;
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or(0)
}

fn finding_ids(db: &Path) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare("SELECT id FROM findings").unwrap();
    stmt.query_map([], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|id| id.unwrap().to_string())
        .collect()
}

/// The findings a run printed (whole lines with a `detection`; a killed
/// run may leave half a line, and sync's summaries share stdout).
fn printed(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|f| f.get("detection").is_some())
        .collect()
}

fn follow(tenant: &auth0_archive::simulator::FakeTenant, db: &Path, extra: &[&str]) -> Child {
    sync_cmd(tenant, db)
        .args(["--follow", "--interval", "200ms", "--detect"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, sig) };
}

/// Every file in `dir` except `skip`, as bytes, must not hold the token.
fn assert_token_in_no_file(dir: &Path, skip: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path == skip || !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
            "the webhook URL is in {}",
            path.display()
        );
    }
}

#[test]
fn follow_delivers_every_finding_across_refusals_and_a_sigkill() {
    let env = Env::new();
    let mut all = events(200, 301);
    all.extend(failures("203.0.113.61", "2026-11-20T03:00:00Z", 12, 20, 1));
    let tenant = tenant_with(all);
    let receiver = Receiver::start(Reply::Status(500));
    receiver.then(&[Reply::Drop], Reply::Status(500));
    let hooks = env.dir.path().join("hooks.txt");
    std::fs::write(&hooks, format!("# ops\n{}\n", receiver.url())).unwrap();
    let hooks_arg = ["--webhook-file", hooks.to_str().unwrap()];

    // The receiver refuses everything: the finding is filed, the delivery
    // is tried and stays pending when the follow is killed.
    let first = follow(&tenant, &env.db, &hooks_arg);
    wait_until("a finding is filed and its delivery refused twice", || {
        count(&env.db, "SELECT count(*) FROM findings") >= 1 && receiver.received().len() >= 2
    });
    signal(&first, libc::SIGKILL);
    let first = first.wait_with_output().unwrap();
    assert!(receiver.accepted_keys().is_empty());
    assert!(
        count(
            &env.db,
            "SELECT count(*) FROM deliveries WHERE delivered_at IS NULL"
        ) >= 1
    );

    // Back up after one more refusal and a dropped connection; a new attack
    // arrives meanwhile.
    receiver.then(&[Reply::Status(503), Reply::Drop], Reply::Status(200));
    tenant.with(|st| {
        st.push_events(failures(
            "203.0.113.62",
            "2026-11-21T03:00:00Z",
            12,
            20,
            500,
        ))
    });
    let second = follow(&tenant, &env.db, &hooks_arg);
    wait_until("both attacks are filed and delivered", || {
        count(
            &env.db,
            "SELECT count(DISTINCT key) FROM findings WHERE detection = 'brute-force'",
        ) >= 2
            && count(
                &env.db,
                "SELECT count(*) FROM deliveries WHERE delivered_at IS NULL",
            ) == 0
            && receiver.accepted_keys().len() as i64
                == count(&env.db, "SELECT count(*) FROM findings")
    });
    signal(&second, libc::SIGTERM);
    let second = second.wait_with_output().unwrap();
    assert!(second.status.success(), "{}", stderr(&second));

    let ids = finding_ids(&env.db);
    assert_eq!(receiver.accepted_keys(), ids, "every finding delivered");
    for r in receiver.received() {
        let key = r
            .key
            .as_deref()
            .expect("every request has an Idempotency-Key");
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["id"].to_string(), key, "the key is the finding's id");
        assert!(body["detection"].is_string() && body["summary"].is_string());
        assert_eq!(r.path, format!("/hook/{TOKEN}"));
    }
    // Standard output too is at least once: each finding was printed by
    // one of the runs, with the same id.
    let mut shown: BTreeSet<String> = BTreeSet::new();
    for out in [&first, &second] {
        shown.extend(printed(out).iter().map(|f| f["id"].to_string()));
        assert!(!stdout(out).contains(TOKEN) && !stderr(out).contains(TOKEN));
    }
    assert_eq!(shown, ids);
    let status = bin()
        .arg("--db")
        .arg(&env.db)
        .arg("status")
        .output()
        .unwrap();
    assert!(!stdout(&status).contains(TOKEN));
    assert_token_in_no_file(env.dir.path(), &hooks);
}

#[test]
fn detect_beside_a_follow_waits_its_turn_and_each_finding_is_filed_and_printed_once() {
    let env = Env::new();
    let mut all = events(200, 302);
    all.extend(failures("198.51.100.71", "2026-11-20T03:00:00Z", 12, 20, 1));
    let tenant = tenant_with(all);
    let child = follow(&tenant, &env.db, &[]);
    wait_until("the follow files its first finding", || {
        count(&env.db, "SELECT count(*) FROM findings") >= 1
    });
    let mut by_hand = Vec::new();
    for (i, ip) in ["198.51.100.72", "198.51.100.73", "198.51.100.74"]
        .iter()
        .enumerate()
    {
        let start = format!("2026-11-2{}T03:00:00Z", i + 1);
        tenant.with(|st| st.push_events(failures(ip, &start, 12, 20, 1000 * (i as u64 + 1))));
        // Run while the follow syncs and examines the same events; once on
        // the DuckDB copy, which a sync may outgrow while it is read.
        let engine = if i == 1 { "duckdb" } else { "sqlite" };
        let out = bin()
            .arg("--db")
            .arg(&env.db)
            .args(["detect", "--format", "ndjson", "--engine", engine])
            .output()
            .unwrap();
        assert_ok(&out);
        by_hand.push(out);
    }
    wait_until("every attack is filed", || {
        count(
            &env.db,
            "SELECT count(DISTINCT key) FROM findings WHERE detection = 'brute-force'",
        ) >= 4
    });
    // A pass under way when the signal comes still prints what it filed.
    signal(&child, libc::SIGTERM);
    let followed = child.wait_with_output().unwrap();
    assert!(followed.status.success(), "{}", stderr(&followed));

    assert_eq!(
        count(
            &env.db,
            "SELECT count(*) FROM findings WHERE detection = 'brute-force'"
        ),
        4,
        "each attack filed once, whoever examined it"
    );
    let mut printed_ids: Vec<String> = std::iter::once(&followed)
        .chain(&by_hand)
        .flat_map(printed)
        .map(|f| f["id"].to_string())
        .collect();
    printed_ids.sort();
    let mut ids: Vec<String> = finding_ids(&env.db).into_iter().collect();
    ids.sort();
    assert_eq!(
        printed_ids, ids,
        "each finding printed once, by one of them"
    );
}

#[test]
fn min_severity_filters_and_slack_gets_a_text_body() {
    let env = Env::new();
    let tenant = tenant_with(failures("192.0.2.81", "2026-11-22T08:00:00Z", 15, 10, 1));
    assert_ok(&sync(&tenant, &env.db));
    let receiver = Receiver::start(Reply::Status(200));
    let out = bin()
        .arg("--db")
        .arg(&env.db)
        .args([
            "detect",
            "--format",
            "ndjson",
            "--only",
            "brute-force",
            "--sigma",
        ])
        .arg(format!("{}/tests/sigma/rules", env!("CARGO_MANIFEST_DIR")))
        .args(["--webhook", &receiver.url()])
        .args([
            "--webhook-min-severity",
            "medium",
            "--webhook-format",
            "slack",
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    let found = printed(&out);
    let severe: BTreeSet<String> = found
        .iter()
        .filter(|f| f["severity"] == "high" || f["severity"] == "medium")
        .map(|f| f["id"].to_string())
        .collect();
    assert!(
        found.iter().any(|f| f["severity"] == "low"),
        "a finding below the minimum: {found:?}"
    );
    assert!(found.iter().any(|f| f["detection"] == "brute-force"));
    assert_eq!(
        receiver.accepted_keys(),
        severe,
        "only findings of medium or higher"
    );
    let bodies: Vec<serde_json::Value> = receiver
        .received()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    for body in &bodies {
        assert!(
            body["text"].is_string(),
            "a Slack body is {{\"text\": ...}}: {body}"
        );
        assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    }
    assert!(
        bodies.iter().any(|b| {
            let text = b["text"].as_str().unwrap();
            text.contains("[HIGH]") && text.contains("192.0.2.81")
        }),
        "{bodies:?}"
    );
    assert!(!stdout(&out).contains(TOKEN) && !stderr(&out).contains(TOKEN));
}

#[test]
fn status_shows_pending_deliveries_while_the_receiver_is_down() {
    let env = Env::new();
    let tenant = tenant_with(failures("192.0.2.91", "2026-11-22T08:00:00Z", 15, 10, 1));
    assert_ok(&sync(&tenant, &env.db));
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook/{TOKEN}");
    let out = bin()
        .arg("--db")
        .arg(&env.db)
        .args(["detect", "--format", "ndjson", "--only", "brute-force"])
        .env("AUTH0_ARCHIVE_WEBHOOK", &url)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(printed(&out).len(), 1, "printed, though not delivered");
    let err = stderr(&out);
    assert!(
        err.contains("webhook #1 (host 127.0.0.1)") && err.contains("1 finding pending"),
        "{err}"
    );
    let status = status_json(&env.db);
    let pending = &status["pending_deliveries"];
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    assert_eq!(pending[0]["pending"], 1);
    assert!(pending[0]["oldest_age_s"].as_i64().unwrap() >= 0);
    assert_eq!(pending[0]["last_error"], "cannot connect");
    let text = bin()
        .arg("--db")
        .arg(&env.db)
        .arg("status")
        .output()
        .unwrap();
    assert!(
        stdout(&text).contains("1 finding pending for"),
        "{}",
        stdout(&text)
    );
    for o in [&out, &text] {
        assert!(!stdout(o).contains(TOKEN) && !stderr(o).contains(TOKEN));
    }
    assert_token_in_no_file(env.dir.path(), Path::new(""));
}
