//! Info-level findings are grouped, and `detect --format table` leads with
//! the count per severity: a tenant managed through the Management API makes
//! hundreds of routine calls a day, and one finding per call buried the few
//! that matter (the first-contact issue: 934 of 957 findings).

use std::path::Path;
use std::process::Output;

use crate::common::*;
use auth0_archive::simulator::generator::log_id_for;

/// One event as Auth0 sends it, `step_s` seconds after `start`.
fn event(start: &str, step_s: i64, seq: u64, fields: &str) -> String {
    let at = t(start) + chrono::Duration::seconds(step_s);
    let id = log_id_for(at, seq);
    format!(
        r#"{{"log_id":"{id}","date":"{}",{fields}}}"#,
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
    )
}

/// `n` Management API writes by `client` from `start`, a minute apart.
fn calls(client: &str, start: &str, n: u64, seq: u64) -> Vec<String> {
    (0..n)
        .map(|i| {
            let what = if i % 4 == 0 { "Delete a connection" } else { "Update a client" };
            event(
                start,
                60 * i as i64,
                seq + i,
                &format!(
                    r#""type":"sapi","description":"{what}","client_id":"{client}","client_name":"{client} app","ip":"192.0.2.50""#
                ),
            )
        })
        .collect()
}

fn import(db: &Path, dir: &Path, name: &str, lines: &[String]) {
    let file = dir.join(name);
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = bin()
        .arg("--db")
        .arg(db)
        .args(["import", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_ok(&out);
}

fn detect(db: &Path, args: &[&str]) -> Output {
    bin()
        .arg("--db")
        .arg(db)
        .arg("detect")
        .args(args)
        .output()
        .unwrap()
}

/// (client_id, day, events) of every admin-actions finding filed.
fn admin_findings(db: &Path) -> Vec<(String, String, i64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT key ->> '$.client_id', key ->> '$.day', events FROM findings
             WHERE detection = 'admin-actions' ORDER BY 2, 1",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn many_admin_calls_by_one_actor_on_one_day_are_one_info_finding() {
    let env = Env::new();
    let dir = env.dir.path();
    // 25 calls in the morning, one run; 15 more in the afternoon, another
    // run: still one finding for the day, with all 40 events.
    import(
        &env.db,
        dir,
        "morning.ndjson",
        &calls("robot", "2026-11-19T08:00:00Z", 25, 1),
    );
    let first = detect(&env.db, &["--only", "admin-actions", "--format", "ndjson"]);
    assert_ok(&first);
    let lines: Vec<serde_json::Value> = stdout(&first)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{}", stdout(&first));
    assert_eq!(lines[0]["severity"], "info");
    assert_eq!(lines[0]["events"], 25);
    assert_eq!(lines[0]["log_ids"].as_array().unwrap().len(), 25);
    assert_eq!(lines[0]["details"]["type"], "sapi");
    assert_eq!(
        lines[0]["details"]["description"],
        "Update a client (18); Delete a connection (7)"
    );

    let mut later = calls("robot", "2026-11-19T14:00:00Z", 15, 100);
    // Another actor the same day, and the first one the next day: their own findings.
    later.extend(calls("other", "2026-11-19T15:00:00Z", 3, 200));
    later.extend(calls("robot", "2026-11-20T09:00:00Z", 2, 300));
    import(&env.db, dir, "afternoon.ndjson", &later);
    assert_ok(&detect(
        &env.db,
        &["--only", "admin-actions", "--format", "ndjson"],
    ));
    assert_eq!(
        admin_findings(&env.db),
        vec![
            ("other".to_string(), "2026-11-19".to_string(), 3),
            ("robot".to_string(), "2026-11-19".to_string(), 40),
            ("robot".to_string(), "2026-11-20".to_string(), 2),
        ]
    );
}

#[test]
fn the_table_leads_with_the_count_per_severity_most_severe_first() {
    let env = Env::new();
    let mut lines = calls("robot", "2026-11-19T08:00:00Z", 5, 1);
    lines.extend(calls("other", "2026-11-19T09:00:00Z", 2, 100));
    // A brute force (high): 12 failed logins from one IP.
    for i in 0..12 {
        lines.push(event(
            "2026-11-19T10:00:00Z",
            10 * i,
            200 + i as u64,
            r#""type":"f","ip":"203.0.113.9","user_name":"victim@example.com""#,
        ));
    }
    import(&env.db, env.dir.path(), "events.ndjson", &lines);
    let out = detect(
        &env.db,
        &[
            "--only",
            "admin-actions",
            "--only",
            "brute-force",
            "--format",
            "table",
        ],
    );
    assert_ok(&out);
    let text = stdout(&out);
    let mut rows = text.lines();
    assert_eq!(rows.next(), Some("1 high, 2 info"), "{text}");
    // The table follows, the high finding first.
    let body: Vec<&str> = rows
        .filter(|l| l.contains("brute-force") || l.contains("admin-actions"))
        .collect();
    assert_eq!(body.len(), 3, "{text}");
    assert!(body[0].contains("brute-force"), "{text}");
    // Nothing new: the line says so.
    let again = detect(&env.db, &["--only", "admin-actions", "--format", "table"]);
    assert_ok(&again);
    assert_eq!(stdout(&again).lines().next(), Some("no findings"));
}
