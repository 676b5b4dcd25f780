//! `auth0-archive status`: what is archived, up to when, and how the last
//! sync went.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::config::commands::StatusOptions;
use crate::error::Result;
use crate::store;

#[derive(Debug, Serialize)]
pub struct Status {
    pub db: String,
    pub db_bytes: u64,
    pub schema_version: u32,
    pub events: i64,
    pub first_event_date: Option<String>,
    pub last_event_date: Option<String>,
    pub rejects: i64,
    pub tenants: Vec<TenantStatus>,
    pub gaps: Vec<GapStatus>,
    /// Indexes set aside by a backfill that has not completed yet (queries
    /// work, some slower, until the next sync completes it).
    pub deferred_indexes: Vec<String>,
    /// The integrity chain's head (`SEQ:LINK`): record it outside the
    /// archive and check it later with `verify --expect-head`.
    pub chain_head: Option<String>,
    /// Events that arrived again with other content, kept for review.
    pub conflicts: i64,
    /// The last `detect` run and the findings per severity.
    pub detect: store::findings::DetectStatus,
    /// Findings not yet delivered, per webhook fingerprint (as `detect`
    /// names it in its warnings); empty when all went out.
    pub pending_deliveries: Vec<store::deliveries::Pending>,
    /// Whether `raw` is stored as zstd BLOBs (after the archive trained its
    /// dictionary): other SQLite tools then need another way to its JSON.
    pub raw_compressed: bool,
}

#[derive(Debug, Serialize)]
pub struct TenantStatus {
    pub tenant: String,
    pub events: i64,
    pub checkpoint: Option<String>,
    pub last_sync: Option<LastSync>,
    /// When the last sync that ended `ok` finished.
    pub last_success_at: Option<String>,
    pub days_since_success: Option<f64>,
    /// Set when the time since the last success nears the retention window.
    pub warning: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LastSync {
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: String,
    pub fetched: i64,
    pub inserted: i64,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct GapStatus {
    pub tenant: String,
    pub after_date: Option<String>,
    pub before_date: Option<String>,
    pub detected_at: String,
}

pub fn run(db: &Path, args: &StatusOptions) -> Result<()> {
    let conn = store::open_read_only(db)?;
    let status = read(&conn, db, args.retention_days)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&status).unwrap_or_default()
        );
    } else {
        print_human(&status);
    }
    Ok(())
}

pub fn read(conn: &Connection, db: &Path, retention_days: Option<f64>) -> Result<Status> {
    let db_bytes = ["", "-wal"]
        .iter()
        .filter_map(|suffix| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(p).ok().map(|m| m.len())
        })
        .sum();
    let schema_version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let events: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
    let first_event_date = conn
        .query_row(
            "SELECT date FROM events WHERE ts IS NOT NULL ORDER BY ts LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let last_event_date = conn
        .query_row(
            "SELECT date FROM events WHERE ts IS NOT NULL ORDER BY ts DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let rejects: i64 = conn.query_row("SELECT count(*) FROM rejects", [], |r| r.get(0))?;

    let tenants = tenants(conn, retention_days)?;
    let gaps = gaps(conn)?;
    // Archives written before schema version 2 have no such table.
    let deferred_indexes = if schema_version >= 2 {
        store::indexes::deferred(conn)?
    } else {
        Vec::new()
    };

    Ok(Status {
        db: db.display().to_string(),
        db_bytes,
        schema_version,
        events,
        first_event_date,
        last_event_date,
        rejects,
        tenants,
        gaps,
        deferred_indexes,
        chain_head: store::chain::head(conn)?.map(|h| h.to_string()),
        // Archives written before schema version 3 have no such table.
        detect: if schema_version >= 4 {
            store::findings::status(conn)?
        } else {
            Default::default()
        },
        pending_deliveries: store::deliveries::status(conn)?,
        conflicts: if schema_version >= 3 {
            conn.query_row("SELECT count(*) FROM conflicts", [], |r| r.get(0))?
        } else {
            0
        },
        raw_compressed: schema_version >= 5
            && conn.query_row("SELECT EXISTS (SELECT 1 FROM raw_dictionaries)", [], |r| {
                r.get(0)
            })?,
    })
}

/// Each tenant the archive has a checkpoint or a sync run for.
fn tenants(conn: &Connection, retention_days: Option<f64>) -> Result<Vec<TenantStatus>> {
    let mut stmt = conn.prepare(
        "SELECT t.tenant, (SELECT count(*) FROM events e WHERE e.tenant = t.tenant),
                (SELECT log_id FROM checkpoints c WHERE c.tenant = t.tenant)
         FROM (SELECT tenant FROM checkpoints UNION SELECT tenant FROM sync_runs) t ORDER BY t.tenant",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<(String, i64, Option<String>)>>>()?;
    rows.into_iter()
        .map(|(tenant, events, checkpoint)| {
            tenant_status(conn, tenant, events, checkpoint, retention_days)
        })
        .collect()
}

/// One tenant: its last sync, its last success, and a warning when the
/// tenant's retention puts events at risk.
fn tenant_status(
    conn: &Connection,
    tenant: String,
    events: i64,
    checkpoint: Option<String>,
    retention_days: Option<f64>,
) -> Result<TenantStatus> {
    let last_sync = conn
        .query_row(
            "SELECT started_at, finished_at, outcome, fetched, inserted, error FROM sync_runs
             WHERE tenant = ?1 ORDER BY id DESC LIMIT 1",
            [&tenant],
            |r| {
                Ok(LastSync {
                    started_at: r.get(0)?,
                    finished_at: r.get(1)?,
                    outcome: r.get(2)?,
                    fetched: r.get(3)?,
                    inserted: r.get(4)?,
                    error: r.get(5)?,
                })
            },
        )
        .optional()?;
    let last_success_at: Option<String> = conn
        .query_row(
            "SELECT finished_at FROM sync_runs WHERE tenant = ?1 AND outcome = 'ok' ORDER BY id DESC LIMIT 1",
            [&tenant],
            |r| r.get(0),
        )
        .optional()?;
    let days_since_success = last_success_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| {
            (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds() as f64 / 86_400.0
        });
    let warning = match (days_since_success, retention_days) {
        (Some(d), Some(r)) if d >= r * 0.8 => Some(format!(
            "last successful sync was {d:.1} days ago and the tenant keeps logs for {r} days: \
             sync now or events will expire unarchived"
        )),
        (None, _) => Some("no successful sync yet".to_string()),
        _ => None,
    };
    Ok(TenantStatus {
        tenant,
        events,
        checkpoint,
        last_sync,
        last_success_at,
        days_since_success,
        warning,
    })
}

/// The retention gaps recorded.
fn gaps(conn: &Connection) -> Result<Vec<GapStatus>> {
    let mut stmt =
        conn.prepare("SELECT tenant, after_date, before_date, detected_at FROM gaps ORDER BY id")?;
    let gaps = stmt
        .query_map([], |r| {
            Ok(GapStatus {
                tenant: r.get(0)?,
                after_date: r.get(1)?,
                before_date: r.get(2)?,
                detected_at: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(gaps)
}

/// Event data reaches these lines (a checkpoint is a server-sent `log_id`,
/// an error quotes the server): control characters are shown escaped.
fn print_human(s: &Status) {
    macro_rules! println {
        ($($arg:tt)*) => {
            std::println!("{}", crate::terminal::printable(&format!($($arg)*)))
        };
    }
    println!(
        "archive:        {} ({:.1} MB, schema v{})",
        s.db,
        s.db_bytes as f64 / 1e6,
        s.schema_version
    );
    println!("events:         {}", s.events);
    println!(
        "covering:       {} .. {}",
        s.first_event_date.as_deref().unwrap_or("-"),
        s.last_event_date.as_deref().unwrap_or("-")
    );
    if s.rejects > 0 {
        println!(
            "rejects:        {} (events without a log_id, kept in the rejects table)",
            s.rejects
        );
    }
    for t in &s.tenants {
        println!("tenant:         {} ({} events)", t.tenant, t.events);
        println!("  checkpoint:   {}", t.checkpoint.as_deref().unwrap_or("-"));
        match &t.last_sync {
            Some(l) => {
                println!(
                    "  last sync:    {} at {} ({} fetched, {} new)",
                    l.outcome,
                    l.finished_at.as_deref().unwrap_or(&l.started_at),
                    l.fetched,
                    l.inserted
                );
                if let Some(e) = &l.error {
                    println!("  last error:   {e}");
                }
            }
            None => println!("  last sync:    never"),
        }
        if let Some(d) = t.days_since_success {
            println!("  last success: {d:.1} days ago");
        }
        if let Some(w) = &t.warning {
            println!("  warning:      {w}");
        }
    }
    for g in &s.gaps {
        println!(
            "gap:            {} between {} and {} (detected {})",
            g.tenant,
            g.after_date.as_deref().unwrap_or("?"),
            g.before_date.as_deref().unwrap_or("?"),
            g.detected_at
        );
    }
    if !s.deferred_indexes.is_empty() {
        println!(
            "indexes:        {} deferred until the backfill completes (the next sync finishes it; queries work, some slower)",
            s.deferred_indexes.join(", ")
        );
    }
    if s.conflicts > 0 {
        println!(
            "conflicts:      {} (log_ids that arrived again with other content; see the conflicts table)",
            s.conflicts
        );
    }
    if s.raw_compressed {
        println!(
            "raw:            zstd-compressed BLOBs (10x smaller); for its JSON use `auth0-archive query sql`, \
             --engine duckdb or the Parquet export, not sqlite3's json_extract (docs/STORAGE.md)"
        );
    }
    println!("chain head:     {}", s.chain_head.as_deref().unwrap_or("-"));
    if let Some(at) = &s.detect.last_run_at {
        let counts: Vec<String> = ["high", "medium", "low", "info"]
            .iter()
            .filter_map(|sev| s.detect.findings.get(*sev).map(|n| format!("{n} {sev}")))
            .collect();
        println!(
            "detect:         last run {} at {at}; findings: {}",
            s.detect.last_run_outcome.as_deref().unwrap_or("unfinished"),
            if counts.is_empty() {
                "none".to_string()
            } else {
                counts.join(", ")
            }
        );
    }
    for p in &s.pending_deliveries {
        println!(
            "webhook:        {} pending for {} (oldest queued {}, {}){}",
            crate::text::count(p.pending as u64, "finding"),
            p.destination,
            p.oldest_queued_at,
            age(p.oldest_age_s),
            p.last_error
                .as_deref()
                .map(|e| format!("; last attempt: {e}"))
                .unwrap_or_default()
        );
    }
}

/// `42 s ago`, `17 min ago`, `5 h ago`.
fn age(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s ago"),
        s if s < 7200 => format!("{} min ago", s / 60),
        s => format!("{} h ago", s / 3600),
    }
}
