//! The incremental sync: fetch pages from the stored checkpoint on, and
//! commit each page together with its checkpoint. Fetching and writing run
//! side by side (the next page downloads while the previous one commits),
//! joined by a small bounded channel so memory stays flat.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::auth0::client::{Auth0Client, MAX_TAKE};
use crate::auth0::event::{Page, compare_log_ids};
use crate::auth0::log_id;
use crate::config::SyncConfig;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::lock::SyncLock;
use crate::store::runs::{self, RunCounters};
use crate::store::writer::{self, Gap};
use crate::store;

/// Pages in flight between the fetcher and the writer.
const PIPELINE_DEPTH: usize = 4;
/// A first new event this much later than the checkpoint makes us ask
/// whether the checkpoint event is still retained (see `detect_gap`).
const GAP_SUSPICION_MS: i64 = 10 * 60 * 1000;
/// Fallback cursor for tenants whose ids do not follow the `900<time>` layout.
const LOWEST_CURSOR: &str = "0";

/// The result of one sync, printed as the summary (`--json` prints it as is).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub tenant: String,
    pub outcome: String,
    pub fetched: u64,
    pub inserted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub requests: u64,
    pub retries: u64,
    pub rate_limited: u64,
    pub checkpoint: Option<String>,
    pub last_event_date: Option<String>,
    pub elapsed_s: f64,
    pub gaps: Vec<GapSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapSummary {
    pub after_date: Option<String>,
    pub before_date: Option<String>,
}

/// A page on its way to the writer.
struct Batch {
    page: Page,
    checkpoint: Option<String>,
    gap: Option<Gap>,
    counters: RunCounters,
}

/// Entry point for `auth0-archive sync`: runs the sync on a tokio runtime,
/// prints the summary, and maps the outcome to an exit code.
pub fn run_blocking(cfg: SyncConfig) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::runtime(format!("cannot start the runtime: {e}")))?;
    let stop = Arc::new(AtomicBool::new(false));
    let output = cfg.output;
    let (summary, result) = runtime.block_on(async {
        watch_signals(stop.clone());
        run(&cfg, stop).await
    });
    if let Some(summary) = summary {
        print_summary(&summary, output.json);
    }
    result
}

fn print_summary(s: &Summary, json: bool) {
    if json {
        println!("{}", serde_json::to_string(s).unwrap_or_default());
        return;
    }
    println!(
        "{}: {} fetched, {} new, {} duplicates, {} rejected; {} requests, {} retries, {} rate-limited; \
         last event {}; {:.1}s",
        s.outcome,
        s.fetched,
        s.inserted,
        s.duplicates,
        s.rejected,
        s.requests,
        s.retries,
        s.rate_limited,
        s.last_event_date.as_deref().unwrap_or("none"),
        s.elapsed_s
    );
}

/// SIGINT/SIGTERM ask the sync to stop after the page being committed.
fn watch_signals(stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        stop.store(true, Ordering::SeqCst);
    });
}

/// Runs one sync. Returns the summary whenever a run was recorded (also on
/// failure, so `--json` users see what happened) and the outcome.
pub async fn run(cfg: &SyncConfig, stop: Arc<AtomicBool>) -> (Option<Summary>, Result<()>) {
    let started = Instant::now();
    // Lock before the database is opened: a second sync must touch nothing.
    let _lock = match SyncLock::acquire(&cfg.db) {
        Ok(l) => l,
        Err(e) => return (None, Err(e)),
    };
    let conn = match store::open_for_write(&cfg.db) {
        Ok(c) => c,
        Err(e) => return (None, Err(e)),
    };
    let prepared = (|| -> Result<_> {
        let stored = writer::checkpoint(&conn, &cfg.tenant)?;
        let stored_date = match &stored {
            Some(cp) => writer::event_date(&conn, cp)?,
            None => None,
        };
        let run_id = runs::begin_run(&conn, &cfg.tenant, stored.as_deref())?;
        Ok((stored, stored_date, run_id))
    })();
    let (stored, stored_date, run_id) = match prepared {
        Ok(p) => p,
        Err(e) => return (None, Err(e)),
    };

    let mut progress = Progress::new(cfg.output.quiet);
    let (tx, rx) = mpsc::channel::<Batch>(PIPELINE_DEPTH);
    let tenant = cfg.tenant.clone();
    let writer_task = tokio::task::spawn_blocking(move || write_pages(conn, &tenant, run_id, rx));

    let mut client = match Auth0Client::new(cfg.base_url.clone(), cfg.auth.clone(), cfg.http) {
        Ok(c) => c,
        Err(e) => return (None, Err(e)),
    };
    let fetched = fetch_pages(cfg, &mut client, stored, stored_date, &tx, &stop, &mut progress).await;
    drop(tx);
    let counters = client.counters;

    let (conn, written) = match writer_task.await {
        Ok(r) => r,
        Err(e) => return (None, Err(Error::runtime(format!("the writer stopped: {e}")))),
    };
    progress.finish();
    let written_result = written.as_ref().map(|_| ()).map_err(|e| Error::Database(e.to_string()));
    // A write failure is the root cause when both sides failed (the fetcher
    // then only saw the channel close).
    let result = match (written_result, fetched) {
        (Err(e), _) => Err(e),
        (Ok(()), Err(e)) => Err(e),
        (Ok(()), Ok(())) => Ok(()),
    };
    let outcome = match &result {
        Ok(()) if stop.load(Ordering::SeqCst) => "interrupted",
        Ok(()) => "ok",
        Err(_) => "failed",
    };
    let error_text = result.as_ref().err().map(|e| e.to_string());
    let totals = written.unwrap_or_default();
    let mut summary = Summary {
        tenant: cfg.tenant.clone(),
        outcome: outcome.to_string(),
        fetched: totals.fetched,
        inserted: totals.inserted,
        duplicates: totals.duplicates,
        rejected: totals.rejected,
        requests: counters.requests,
        retries: counters.retries,
        rate_limited: counters.rate_limited,
        elapsed_s: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        gaps: totals.gaps,
        error: error_text.clone(),
        ..Summary::default()
    };
    // Closing the run is bookkeeping: if the disk is full it fails too, and
    // the original error is the one worth reporting.
    let _ = runs::finish_run(&conn, run_id, outcome, error_text.as_deref(), &counters);
    summary.checkpoint = writer::checkpoint(&conn, &cfg.tenant).ok().flatten();
    summary.last_event_date = last_event_date(&conn, &cfg.tenant);
    for g in &summary.gaps {
        eprintln!(
            "auth0-archive: warning: retention gap: events between {} and {} expired from the tenant \
             before they were archived (recorded in the gaps table; sync more often than the tenant's retention)",
            g.after_date.as_deref().unwrap_or("the last checkpoint"),
            g.before_date.as_deref().unwrap_or("the first new event"),
        );
    }
    (Some(summary), result)
}

/// Totals from the writer side.
#[derive(Debug, Default)]
struct Written {
    fetched: u64,
    inserted: u64,
    duplicates: u64,
    rejected: u64,
    gaps: Vec<GapSummary>,
}

/// The writer: commits each page with its checkpoint, in order.
fn write_pages(
    mut conn: Connection,
    tenant: &str,
    run_id: i64,
    mut rx: mpsc::Receiver<Batch>,
) -> (Connection, Result<Written>) {
    let mut totals = Written::default();
    while let Some(batch) = rx.blocking_recv() {
        match writer::commit_page(
            &mut conn,
            tenant,
            run_id,
            &batch.page,
            batch.checkpoint.as_deref(),
            batch.gap.as_ref(),
            &batch.counters,
        ) {
            Ok(o) => {
                totals.fetched += (batch.page.events.len() + batch.page.rejects.len()) as u64;
                totals.inserted += o.inserted;
                totals.duplicates += o.duplicates;
                totals.rejected += o.rejected;
                if let Some(g) = batch.gap {
                    totals.gaps.push(GapSummary {
                        after_date: g.after_date,
                        before_date: g.before_date,
                    });
                }
            }
            Err(e) => return (conn, Err(e)),
        }
    }
    (conn, Ok(totals))
}

/// The fetcher: walks the checkpoint cursor until an empty page, the event
/// budget, or a stop signal.
async fn fetch_pages(
    cfg: &SyncConfig,
    client: &mut Auth0Client,
    stored: Option<String>,
    stored_date: Option<String>,
    tx: &mpsc::Sender<Batch>,
    stop: &AtomicBool,
    progress: &mut Progress,
) -> Result<()> {
    client.authenticate().await?;
    let fresh = stored.is_none();
    let mut from = match (&stored, cfg.since) {
        (Some(cp), _) => cp.clone(),
        (None, Some(t)) => log_id::synthetic(t),
        (None, None) => log_id::oldest_cursor(),
    };
    let mut first = true;
    let mut tried_lowest = false;
    let mut sent = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let page = match client.logs_page(&from, MAX_TAKE).await {
            // The fallback cursor is not an Auth0-shaped id; a tenant that
            // rejects it simply has nothing older to give.
            Err(Error::Runtime(e)) if tried_lowest && first => {
                tracing::debug!(error = %e, "fallback cursor refused");
                break;
            }
            other => other?,
        };
        if page.is_empty() {
            // An empty first page from the synthetic start cursor can also
            // mean the tenant's ids do not follow the `900<time>` layout
            // (test tenants, the connector's sample): page from the bottom.
            if first && fresh && cfg.since.is_none() && !tried_lowest {
                tried_lowest = true;
                from = LOWEST_CURSOR.to_string();
                continue;
            }
            break;
        }
        let next = page.max_log_id().map(str::to_string);
        let gap = match (&stored, first) {
            (Some(cp), true) => detect_gap(client, cp, stored_date.as_deref(), &page, progress).await,
            _ => None,
        };
        first = false;
        let advances = next
            .as_deref()
            .is_some_and(|n| compare_log_ids(n, &from) == std::cmp::Ordering::Greater);
        sent += (page.events.len() + page.rejects.len()) as u64;
        let newest = page
            .events
            .iter()
            .filter(|e| e.ts.is_some())
            .max_by_key(|e| e.ts)
            .and_then(|e| e.date.clone());
        let batch = Batch {
            page,
            checkpoint: if advances { next.clone() } else { None },
            gap,
            counters: client.counters,
        };
        if tx.send(batch).await.is_err() {
            // The writer stopped; its error is reported by the caller.
            return Ok(());
        }
        progress.update(sent, newest.as_deref());
        match next {
            Some(n) if advances => from = n,
            _ => {
                progress.warn(
                    "the tenant sent a page that does not move past the checkpoint \
                     (no greater log_id); stopping here, nothing was lost",
                );
                break;
            }
        }
        if cfg.max_events.is_some_and(|max| sent >= max) {
            break;
        }
    }
    Ok(())
}

/// A retention gap exists when the stored checkpoint's event has expired from
/// the tenant: events after it may have expired unarchived too. Only checked
/// when the first new event is well after the checkpoint, so a busy tenant
/// costs no extra request; a quiet period is told apart from a gap by asking
/// whether the checkpoint event is still retained.
async fn detect_gap(
    client: &mut Auth0Client,
    checkpoint: &str,
    checkpoint_date: Option<&str>,
    page: &Page,
    progress: &Progress,
) -> Option<Gap> {
    let checkpoint_ts = checkpoint_date
        .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
        .map(|t| t.timestamp_millis())
        .or_else(|| log_id::embedded_time(checkpoint).map(|t| t.timestamp_millis()))?;
    let first = page.events.iter().filter(|e| e.ts.is_some()).min_by_key(|e| e.ts)?;
    if first.ts? - checkpoint_ts < GAP_SUSPICION_MS {
        return None;
    }
    match client.log_exists(checkpoint).await {
        Ok(true) => None,
        Ok(false) => Some(Gap {
            after_log_id: checkpoint.to_string(),
            after_date: checkpoint_date.map(str::to_string).or_else(|| {
                DateTime::<Utc>::from_timestamp_millis(checkpoint_ts)
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            }),
            before_log_id: first.log_id.clone(),
            before_date: first.date.clone(),
        }),
        Err(e) => {
            progress.warn(&format!("could not check for a retention gap: {e}"));
            None
        }
    }
}

/// Date of the newest archived event of a tenant.
pub fn last_event_date(conn: &Connection, tenant: &str) -> Option<String> {
    conn.query_row(
        "SELECT date FROM events WHERE tenant = ?1 AND ts IS NOT NULL ORDER BY ts DESC LIMIT 1",
        [tenant],
        |r| r.get(0),
    )
    .ok()
}
