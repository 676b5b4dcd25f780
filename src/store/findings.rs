//! What `detect` found and how far it looked: findings, per-detection
//! watermarks (the greatest `events.rowid` examined) and the run history.
//! A detection's new findings and its moved watermark commit together, so a
//! crash or a rerun never reports a finding twice or skips events.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::Result;
use crate::time::now_iso;

/// Most event ids a finding keeps (the events it rests on).
pub const MAX_LOG_IDS: usize = 100;

/// One finding as a detection produced it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub detection: String,
    pub source: String,
    pub severity: String,
    /// The key columns (`{"ip": "..."}`), identifying the finding.
    pub key: serde_json::Map<String, serde_json::Value>,
    pub summary: String,
    pub first_seen: String,
    pub last_seen: String,
    pub events: i64,
    pub log_ids: Vec<String>,
    /// The report's other columns.
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// What `record` did: the `findings` row the finding went into (its id,
/// stable across runs and deliveries), and whether it is a new row or a
/// known finding extended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub id: i64,
    pub new: bool,
}

/// The greatest `events.rowid` now: what a run examines up to.
pub fn newest_rowid(conn: &Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT coalesce(max(rowid), 0) FROM events", [], |r| {
            r.get(0)
        })?,
    )
}

/// How far `detection` has examined events of `scope`.
pub fn watermark(conn: &Connection, detection: &str, scope: &str) -> Result<i64> {
    Ok(conn
        .query_row(
            "SELECT examined_to FROM detect_watermarks WHERE detection = ?1 AND scope = ?2",
            [detection, scope],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

pub fn set_watermark(tx: &Transaction<'_>, detection: &str, scope: &str, to: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO detect_watermarks (detection, scope, examined_to, updated_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (detection, scope) DO UPDATE
         SET examined_to = excluded.examined_to, updated_at = excluded.updated_at",
    )?
    .execute(params![detection, scope, to, now_iso()])?;
    Ok(())
}

/// The event times of the events after `after` up to `upto` (rowids), as
/// epoch ms: what a run must look at. `None` when there are none with a time.
pub fn unexamined_span(
    conn: &Connection,
    after: i64,
    upto: i64,
    tenant: Option<&str>,
) -> Result<Option<(i64, i64)>> {
    // Every row unexamined (a first run): the ends of the `ts` index give
    // the span without reading the table, which at 10M events is a scan of
    // gigabytes per detection.
    let rowid = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0));
    let lowest = rowid("SELECT min(rowid) FROM events")?;
    let newest = rowid("SELECT max(rowid) FROM events")?;
    if tenant.is_none()
        && lowest.is_some_and(|lo| lo > after)
        && newest.is_some_and(|hi| hi <= upto)
    {
        // Two statements: SQLite answers a lone min() or max() from the
        // index end, but both in one statement by scanning it.
        let end = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0));
        let (lo, hi) = (
            end("SELECT min(ts) FROM events")?,
            end("SELECT max(ts) FROM events")?,
        );
        return Ok(lo.zip(hi));
    }
    let span: (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT min(ts), max(ts) FROM events
         WHERE rowid > ?1 AND rowid <= ?2 AND ts IS NOT NULL AND (?3 IS NULL OR tenant = ?3)",
        params![after, upto, tenant],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(span.0.zip(span.1))
}

/// Files a finding: extends a known one with the same detection, scope and
/// key whose span lies within `window_ms` of this one's, or adds it.
pub fn record(
    tx: &Transaction<'_>,
    f: &Finding,
    scope: &str,
    window_ms: i64,
    run_id: i64,
) -> Result<Recorded> {
    let key = serde_json::Value::Object(f.key.clone()).to_string();
    let pad = |iso: &str, by: i64| -> String {
        crate::time::parse_ms(iso, false)
            .ok()
            .and_then(|ms| crate::time::epoch_iso(ms + by))
            .unwrap_or_else(|| iso.to_string())
    };
    // Stored times are fixed-width ISO text, so they compare as text.
    let known: Option<(i64, String, String, i64, String)> = tx
        .prepare_cached(
            "SELECT id, first_seen, last_seen, events, log_ids FROM findings
             WHERE detection = ?1 AND scope = ?2 AND key = ?3
               AND first_seen <= ?4 AND last_seen >= ?5
             ORDER BY last_seen DESC LIMIT 1",
        )?
        .query_row(
            params![
                f.detection,
                scope,
                key,
                pad(&f.last_seen, window_ms),
                pad(&f.first_seen, -window_ms)
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let now = now_iso();
    match known {
        Some((id, first, last, events, ids)) => {
            let mut log_ids: Vec<String> = serde_json::from_str(&ids).unwrap_or_default();
            for log_id in &f.log_ids {
                if log_ids.len() >= MAX_LOG_IDS {
                    break;
                }
                if !log_ids.contains(log_id) {
                    log_ids.push(log_id.clone());
                }
            }
            tx.prepare_cached(
                "UPDATE findings SET first_seen = ?2, last_seen = ?3, events = ?4, log_ids = ?5,
                        summary = ?6, updated_at = ?7 WHERE id = ?1",
            )?
            .execute(params![
                id,
                first.min(f.first_seen.clone()),
                last.max(f.last_seen.clone()),
                events.max(f.events),
                serde_json::to_string(&log_ids).unwrap_or_default(),
                f.summary,
                now
            ])?;
            Ok(Recorded { id, new: false })
        }
        None => {
            let ids: Vec<&String> = f.log_ids.iter().take(MAX_LOG_IDS).collect();
            tx.prepare_cached(
                "INSERT INTO findings (detection, source, severity, scope, key, summary, first_seen,
                     last_seen, events, log_ids, details, found_at, updated_at, run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)",
            )?
            .execute(params![
                f.detection,
                f.source,
                f.severity,
                scope,
                key,
                f.summary,
                f.first_seen,
                f.last_seen,
                f.events,
                serde_json::to_string(&ids).unwrap_or_default(),
                serde_json::Value::Object(f.details.clone()).to_string(),
                now,
                run_id
            ])?;
            Ok(Recorded {
                id: tx.last_insert_rowid(),
                new: true,
            })
        }
    }
}

/// Creates a TEMP `findings` table on `conn` with the archive's columns.
/// SQLite resolves an unqualified name in `temp` first, so everything that
/// files or reads findings through `conn` uses it instead of the stored
/// table, even on a read-only connection: how a read-only archive's report
/// shows what the detections find without writing the file.
pub fn shadow_in_memory(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TEMP TABLE findings (
            id INTEGER PRIMARY KEY, detection TEXT NOT NULL, source TEXT NOT NULL,
            severity TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL,
            summary TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
            events INTEGER NOT NULL, log_ids TEXT NOT NULL, details TEXT,
            found_at TEXT NOT NULL, updated_at TEXT NOT NULL, run_id INTEGER);
         CREATE INDEX temp.findings_identity ON findings (detection, scope, key, last_seen);",
    )?;
    Ok(())
}

pub fn begin_run(conn: &Connection, scope: &str) -> Result<i64> {
    conn.execute(
        "INSERT INTO detect_runs (started_at, scope) VALUES (?1, ?2)",
        params![now_iso(), scope],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn finish_run(
    conn: &Connection,
    id: i64,
    outcome: &str,
    detections: usize,
    new_findings: usize,
    error: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE detect_runs SET finished_at = ?2, outcome = ?3, detections = ?4,
                new_findings = ?5, error = ?6 WHERE id = ?1",
        params![
            id,
            now_iso(),
            outcome,
            detections as i64,
            new_findings as i64,
            error
        ],
    )?;
    Ok(())
}

/// The last `detect` run and the findings per severity, for `status`.
#[derive(Debug, Serialize, Default)]
pub struct DetectStatus {
    pub last_run_at: Option<String>,
    pub last_run_outcome: Option<String>,
    pub findings: std::collections::BTreeMap<String, i64>,
}

pub fn status(conn: &Connection) -> Result<DetectStatus> {
    let last: Option<(Option<String>, String, Option<String>)> = conn
        .query_row(
            "SELECT finished_at, started_at, outcome FROM detect_runs ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let mut findings = std::collections::BTreeMap::new();
    let mut stmt = conn.prepare("SELECT severity, count(*) FROM findings GROUP BY severity")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (severity, n) = row?;
        findings.insert(severity, n);
    }
    Ok(DetectStatus {
        last_run_at: last.as_ref().map(|l| l.0.clone().unwrap_or(l.1.clone())),
        last_run_outcome: last.and_then(|l| l.2),
        findings,
    })
}
