//! One tenant's sync: open the archive, fetch and write side by side, then
//! close the run with its outcome. The fetcher and the writer are joined by a
//! small bounded channel, so the next page downloads while the previous one
//! commits and memory stays flat.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rusqlite::Connection;
use tokio::sync::mpsc;

use crate::auth0::client::Auth0Client;
use crate::config::SyncConfig;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::chain::{self, ChainKey, Head};
use crate::store::slice_progress::{self, Slice};
use crate::store::{self, events, indexes, runs};

use super::summary::Summary;
use super::writer::{self, Batch, Destination, Written};
use super::{backfill, serial};

/// Pages in flight between the fetcher and the writer.
const PIPELINE_DEPTH: usize = 4;

/// Runs one sync. Returns the summary whenever a run was recorded (also on
/// failure, so `--json` users see what happened) and the outcome.
/// The caller holds the database lock.
pub async fn run(
    cfg: &SyncConfig,
    concurrency: usize,
    stop: Arc<AtomicBool>,
) -> (Option<Summary>, Result<()>) {
    let started = Instant::now();
    let conn = match store::open_for_write(&cfg.db) {
        Ok(c) => c,
        Err(e) => return (None, Err(e)),
    };
    let (start, key, head_before) = match prepare(&conn, &cfg.tenant) {
        Ok(p) => p,
        Err(e) => return (None, Err(e)),
    };
    let run_id = start.run_id;
    let client = match Auth0Client::new(cfg.base_url.clone(), cfg.auth.clone(), cfg.http) {
        Ok(c) => c,
        Err(e) => return (None, Err(e)),
    };

    let progress = Progress::new(cfg.output.quiet);
    let (tx, rx) = mpsc::channel::<Batch>(PIPELINE_DEPTH);
    let to = Destination {
        tenant: cfg.tenant.clone(),
        run_id,
        key,
    };
    let writer_task =
        tokio::task::spawn_blocking(move || writer::write_pages(conn, to, rx, progress));
    let fetched = fetch(cfg, concurrency, &client, start, &tx, &stop).await;
    drop(tx);
    let counters = client.counters();

    let (mut conn, totals, write_error) = match writer_task.await {
        Ok(r) => r,
        Err(e) => {
            return (
                None,
                Err(Error::runtime(format!("the writer stopped: {e}"))),
            );
        }
    };
    // A write failure is the root cause when both sides failed (the fetcher
    // then only saw the channel close).
    let result = match (write_error, fetched) {
        (Some(e), _) => Err(e),
        (None, fetched) if stop.load(Ordering::SeqCst) => fetched,
        // Indexes deferred by a backfill are built once no slice is left,
        // even if fetching failed after that (the tenant may stay down).
        (None, fetched) => {
            let built = build_deferred_indexes(&mut conn, cfg.output.quiet);
            fetched.and(built)
        }
    };
    let outcome = match &result {
        Ok(()) if stop.load(Ordering::SeqCst) => "interrupted",
        Ok(()) => "ok",
        Err(_) => "failed",
    };
    // Stored in the archive and printed: never with a secret a server echoed.
    let error_text = result
        .as_ref()
        .err()
        .map(|e| crate::secret::scrub(&e.to_string()).into_owned());
    // Closing the run is bookkeeping: if the disk is full it fails too, and
    // the original error is the one worth reporting.
    let _ = runs::finish_run(&conn, run_id, outcome, error_text.as_deref(), &counters);
    warn_of(&totals);
    let head_after = chain::head(&conn).ok().flatten();
    let summary = Summary {
        tenant: cfg.tenant.clone(),
        outcome: outcome.to_string(),
        fetched: totals.fetched,
        inserted: totals.inserted,
        duplicates: totals.duplicates,
        conflicts: totals.conflicts,
        rejected: totals.rejected,
        requests: counters.requests,
        retries: counters.retries,
        rate_limited: counters.rate_limited,
        checkpoint: events::checkpoint(&conn, &cfg.tenant).ok().flatten(),
        last_event_date: events::last_event_date(&conn, &cfg.tenant),
        elapsed_s: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        gaps: totals.gaps,
        error: error_text,
        chain_head: head_after.as_ref().map(|h| h.to_string()),
        head_moved: head_after != head_before,
    };
    (Some(summary), result)
}

/// Where the run starts: the checkpoint, pending slices, the chain key and
/// head; records the run's start.
fn prepare(conn: &Connection, tenant: &str) -> Result<(Start, Option<ChainKey>, Option<Head>)> {
    let key = ChainKey::from_env()?;
    chain::check_key(conn, key.as_ref())?;
    let head_before = chain::head(conn)?;
    let stored = events::checkpoint(conn, tenant)?;
    let stored_date = match &stored {
        Some(cp) => events::event_date(conn, cp)?,
        None => None,
    };
    let pending = slice_progress::pending(conn, tenant)?;
    let run_id = runs::begin_run(conn, tenant, stored.as_deref())?;
    let start = Start {
        stored,
        stored_date,
        pending,
        run_id,
    };
    Ok((start, key, head_before))
}

/// What the writer saw that a user must hear about: retention gaps and
/// events that came back different.
fn warn_of(totals: &Written) {
    for g in &totals.gaps {
        crate::log::warn(&format!(
            "retention gap: events between {} and {} expired from the tenant before they were archived \
             (recorded in the gaps table; sync more often than the tenant's retention)",
            g.after_date.as_deref().unwrap_or("the last checkpoint"),
            g.before_date.as_deref().unwrap_or("the first new event"),
        ));
    }
    if totals.conflicts > 0 {
        crate::log::warn(&format!(
            "{} arrived again with different content: the first copies were kept, \
             the others are in the conflicts table for review",
            crate::text::count(totals.conflicts, "event")
        ));
    }
}

/// Builds the indexes a completed backfill deferred, saying so: on a large
/// archive it takes seconds.
fn build_deferred_indexes(conn: &mut Connection, quiet: bool) -> Result<()> {
    let started = Instant::now();
    let built = indexes::rebuild_if_due(conn)?;
    if built > 0 && !quiet {
        crate::log::info(&format!(
            "built {built} indexes deferred during the backfill in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(())
}

/// What the archive said before the run.
pub(super) struct Start {
    pub(super) stored: Option<String>,
    pub(super) stored_date: Option<String>,
    pub(super) pending: Vec<Slice>,
    pub(super) run_id: i64,
}

/// The fetch side: resumes an interrupted parallel backfill, or walks the
/// checkpoint cursor serially (which may hand the rest of a long history to
/// parallel slices).
async fn fetch(
    cfg: &SyncConfig,
    concurrency: usize,
    client: &Auth0Client,
    start: Start,
    tx: &mpsc::Sender<Batch>,
    stop: &AtomicBool,
) -> Result<()> {
    client.authenticate().await?;
    if !start.pending.is_empty() {
        return backfill::fetch(cfg, concurrency, client, start.pending, 0, tx, stop).await;
    }
    serial::fetch(cfg, concurrency, client, &start, tx, stop).await
}
