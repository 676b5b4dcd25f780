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
use crate::config::{SyncConfig, SyncPlan};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store;
use crate::store::indexes;
use crate::store::lock::SyncLock;
use crate::store::runs::{self, RunCounters};
use crate::store::slices::{self, Slice, SliceProgress};
use crate::store::writer::{self, Gap, PageCommit};

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

/// A page on its way to the writer, with what commits alongside it.
#[derive(Default)]
struct Batch {
    page: Page,
    checkpoint: Option<String>,
    gap: Option<Gap>,
    plan: Option<Vec<Slice>>,
    /// Events the new plan is expected to fetch, to decide whether to
    /// defer the random-order indexes.
    backlog_estimate: u64,
    slice: Option<SliceProgress>,
    counters: RunCounters,
}

/// Longest pause between follow-mode polls after repeated failures.
const MAX_FOLLOW_BACKOFF: std::time::Duration = std::time::Duration::from_secs(600);

/// Entry point for `auth0-archive sync`: holds the database lock for the
/// whole invocation, syncs each tenant (once, or in cycles with --follow),
/// prints the summaries, and returns the first failure.
pub fn run_blocking(plan: SyncPlan) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::runtime(format!("cannot start the runtime: {e}")))?;
    let stop = Arc::new(AtomicBool::new(false));
    runtime.block_on(async {
        watch_signals(stop.clone());
        let Some(first) = plan.tenants.first() else {
            return Ok(());
        };
        // Lock before the database is opened: a second sync must touch nothing.
        let _lock = SyncLock::acquire(&first.db)?;
        let mut failures = 0u32;
        loop {
            let mut first_error = None;
            for cfg in &plan.tenants {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let (summary, result) = run(cfg, &plan, stop.clone()).await;
                if let Some(summary) = &summary {
                    print_summary(
                        summary,
                        cfg.output.json,
                        plan.tenants.len() > 1 || plan.follow.is_some(),
                    );
                }
                if let Err(e) = result {
                    // In follow mode, only network and server trouble is
                    // worth waiting out; bad credentials or a broken
                    // database will not heal by themselves.
                    if plan.follow.is_none() || !matches!(e, Error::Runtime(_)) {
                        first_error.get_or_insert(e);
                    } else {
                        crate::log::warn(&format!("{}: {e}", cfg.tenant));
                        failures += 1;
                    }
                } else {
                    failures = 0;
                }
            }
            let Some(interval) = plan.follow else {
                return first_error.map_or(Ok(()), Err);
            };
            if let Some(e) = first_error {
                return Err(e);
            }
            let pause = if failures == 0 {
                interval
            } else {
                (interval.max(std::time::Duration::from_secs(1))
                    * 2u32.saturating_pow(failures.min(10)))
                .min(MAX_FOLLOW_BACKOFF)
            };
            if !sleep_unless_stopped(pause, &stop).await {
                return Ok(());
            }
        }
    })
}

/// Sleeps for `d`; `false` if a stop signal came first.
async fn sleep_unless_stopped(d: std::time::Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        tokio::time::sleep((until - Instant::now()).min(std::time::Duration::from_millis(100)))
            .await;
    }
    !stop.load(Ordering::SeqCst)
}

fn print_summary(s: &Summary, json: bool, name_tenant: bool) {
    if json {
        println!("{}", serde_json::to_string(s).unwrap_or_default());
        return;
    }
    let tenant = if name_tenant {
        format!("{}: ", s.tenant)
    } else {
        String::new()
    };
    println!(
        "{tenant}{}: {} fetched, {} new, {} duplicates, {} rejected; {} requests, {} retries, {} rate-limited; \
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
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
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
/// The caller holds the database lock.
pub async fn run(
    cfg: &SyncConfig,
    plan: &SyncPlan,
    stop: Arc<AtomicBool>,
) -> (Option<Summary>, Result<()>) {
    let started = Instant::now();
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
        let pending = slices::pending(&conn, &cfg.tenant)?;
        let run_id = runs::begin_run(&conn, &cfg.tenant, stored.as_deref())?;
        Ok(Start {
            stored,
            stored_date,
            pending,
            run_id,
        })
    })();
    let start = match prepared {
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
    let tenant = cfg.tenant.clone();
    let writer_task =
        tokio::task::spawn_blocking(move || write_pages(conn, &tenant, run_id, rx, progress));
    let fetched = fetch(cfg, plan.concurrency, &client, start, &tx, &stop).await;
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
    let error_text = result.as_ref().err().map(|e| e.to_string());
    // Closing the run is bookkeeping: if the disk is full it fails too, and
    // the original error is the one worth reporting.
    let _ = runs::finish_run(&conn, run_id, outcome, error_text.as_deref(), &counters);
    for g in &totals.gaps {
        crate::log::warn(&format!(
            "retention gap: events between {} and {} expired from the tenant before they were archived \
             (recorded in the gaps table; sync more often than the tenant's retention)",
            g.after_date.as_deref().unwrap_or("the last checkpoint"),
            g.before_date.as_deref().unwrap_or("the first new event"),
        ));
    }
    let summary = Summary {
        tenant: cfg.tenant.clone(),
        outcome: outcome.to_string(),
        fetched: totals.fetched,
        inserted: totals.inserted,
        duplicates: totals.duplicates,
        rejected: totals.rejected,
        requests: counters.requests,
        retries: counters.retries,
        rate_limited: counters.rate_limited,
        checkpoint: writer::checkpoint(&conn, &cfg.tenant).ok().flatten(),
        last_event_date: last_event_date(&conn, &cfg.tenant),
        elapsed_s: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        gaps: totals.gaps,
        error: error_text,
    };
    (Some(summary), result)
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
struct Start {
    stored: Option<String>,
    stored_date: Option<String>,
    pending: Vec<Slice>,
    run_id: i64,
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

/// The writer: writes pages in arrival order with what travels with each,
/// and shows progress. A transaction takes pages as they arrive until it
/// holds `MAX_GROUP` of them or `MAX_GROUP_WAIT` has passed since its first
/// (group commit): each page still carries its own checkpoint, so whatever
/// commits is consistent, and a page's rows leave our memory as soon as
/// they are written (SQLite's bounded cache holds them until the commit).
fn write_pages(
    mut conn: Connection,
    tenant: &str,
    run_id: i64,
    mut rx: mpsc::Receiver<Batch>,
    mut progress: Progress,
) -> (Connection, Written, Option<Error>) {
    let mut totals = Written::default();
    let mut newest: Option<String> = None;
    while let Some(first) = rx.blocking_recv() {
        let group = write_group(&mut conn, tenant, run_id, first, &mut rx, &mut newest);
        match group {
            Ok(sums) => {
                totals.fetched += sums.fetched;
                totals.inserted += sums.inserted;
                totals.duplicates += sums.duplicates;
                totals.rejected += sums.rejected;
                totals.gaps.extend(sums.gaps);
            }
            Err(e) => {
                progress.finish();
                return (conn, totals, Some(e));
            }
        }
        progress.update(totals.fetched, newest.as_deref());
    }
    progress.finish();
    (conn, totals, None)
}

/// Pages committed in one transaction at most.
const MAX_GROUP: usize = 64;
/// Longest a transaction stays open for more pages after its first.
/// Fewer, larger commits cost far less: each one rewrites the touched index
/// leaf pages into the WAL. Nothing is at risk meanwhile: the pages are
/// still at Auth0 and the checkpoint has not moved.
const MAX_GROUP_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

/// Writes `first` and the pages that follow it within the group limits in
/// one transaction; returns what was committed.
fn write_group(
    conn: &mut Connection,
    tenant: &str,
    run_id: i64,
    first: Batch,
    rx: &mut mpsc::Receiver<Batch>,
    newest: &mut Option<String>,
) -> Result<Written> {
    let tx = conn.transaction()?;
    let deadline = Instant::now() + MAX_GROUP_WAIT;
    let mut sums = Written::default();
    let mut group_newest: Option<String> = None;
    let mut next = Some(first);
    let mut pages = 0;
    while let Some(batch) = next.take() {
        if batch.plan.is_some() && indexes::worth_deferring(&tx, batch.backlog_estimate)? {
            let n = indexes::defer(&tx, &writer::now_text())?;
            tracing::debug!(indexes = n, "deferred until the backfill completes");
        }
        let with = PageCommit {
            checkpoint: batch.checkpoint.as_deref(),
            gap: batch.gap.as_ref(),
            plan: batch.plan.as_deref(),
            slice: batch.slice.as_ref(),
        };
        let o = writer::write_page(&tx, tenant, run_id, &batch.page, with, &batch.counters)?;
        sums.fetched += page_size(&batch.page);
        sums.inserted += o.inserted;
        sums.duplicates += o.duplicates;
        sums.rejected += o.rejected;
        let page_newest = batch.page.events.iter().filter_map(|e| e.date()).max();
        if page_newest > group_newest.as_deref() {
            group_newest = page_newest.map(str::to_string);
        }
        if let Some(g) = batch.gap {
            sums.gaps.push(GapSummary {
                after_date: g.after_date,
                before_date: g.before_date,
            });
        }
        pages += 1;
        if pages < MAX_GROUP {
            next = next_in_group(rx, deadline);
        }
    }
    tx.commit()?;
    if group_newest > *newest {
        *newest = group_newest;
    }
    Ok(sums)
}

/// The next page for an open transaction: `None` once the channel closes or
/// the group's deadline passes with nothing queued.
fn next_in_group(rx: &mut mpsc::Receiver<Batch>, deadline: Instant) -> Option<Batch> {
    match rx.try_recv() {
        Ok(b) => Some(b),
        Err(mpsc::error::TryRecvError::Disconnected) => None,
        // Wait without polling: the writer runs on a blocking thread of the
        // runtime, which can still drive a timer.
        Err(mpsc::error::TryRecvError::Empty) => {
            let wait = deadline.saturating_duration_since(Instant::now());
            tokio::runtime::Handle::current()
                .block_on(tokio::time::timeout(wait, rx.recv()))
                .ok()
                .flatten()
        }
    }
}

/// Sends a batch to the writer; `false` when the writer has stopped (its
/// error is reported by the caller).
async fn send(tx: &mpsc::Sender<Batch>, batch: Batch) -> bool {
    tx.send(batch).await.is_ok()
}

fn page_size(page: &Page) -> u64 {
    (page.events.len() + page.rejects.len()) as u64
}

/// The fetch side: resumes an interrupted parallel backfill, or walks the
/// checkpoint cursor serially and, when the history ahead is long, splits the
/// rest into time slices fetched concurrently.
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
        return fetch_slices(cfg, concurrency, client, start.pending, None, tx, stop).await;
    }
    let fresh = start.stored.is_none();
    let mut from = match (&start.stored, cfg.since) {
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
        let gap = match (&start.stored, first) {
            (Some(cp), true) => detect_gap(client, cp, start.stored_date.as_deref(), &page).await,
            _ => None,
        };
        first = false;
        let advances = next
            .as_deref()
            .is_some_and(|n| compare_log_ids(n, &from) == std::cmp::Ordering::Greater);
        sent += page_size(&page);
        let (slices, backlog_estimate) = match (&next, advances) {
            (Some(n), true) if cfg.max_events.is_none() && concurrency > 1 => {
                match plan_slices(&page, n, concurrency) {
                    Some((slices, estimate)) => (Some(slices), estimate),
                    None => (None, 0),
                }
            }
            _ => (None, 0),
        };
        let batch = Batch {
            checkpoint: if advances { next.clone() } else { None },
            gap,
            plan: slices.clone(),
            backlog_estimate,
            counters: client.counters(),
            page,
            ..Batch::default()
        };
        if !send(tx, batch).await {
            return Ok(());
        }
        if let Some(slices) = slices {
            return fetch_slices(cfg, concurrency, client, slices, Some(sent), tx, stop).await;
        }
        match next {
            Some(n) if advances => from = n,
            _ => {
                crate::log::warn(
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

/// Slices only pay off when many pages lie ahead.
const SLICE_MIN_PAGES_AHEAD: i64 = 40;
/// Slices per worker, so uneven traffic still keeps every worker busy.
const SLICES_PER_WORKER: usize = 4;

/// Decides whether the history after a full page is long enough to fetch in
/// parallel, and if so splits it into time slices, with the number of events
/// expected (at the first page's pace). Needs Auth0-shaped ids: the slice
/// boundaries are synthetic ids built from timestamps.
fn plan_slices(page: &Page, after: &str, workers: usize) -> Option<(Vec<Slice>, u64)> {
    if page.events.len() < MAX_TAKE as usize {
        return None;
    }
    let start = log_id::embedded_time(after)?;
    let oldest = page
        .events
        .iter()
        .filter_map(|e| log_id::embedded_time(e.log_id()))
        .min()?;
    let span_ms = (start - oldest).num_milliseconds().max(1);
    let end = Utc::now() + chrono::Duration::minutes(1);
    let ahead_ms = (end - start).num_milliseconds();
    if ahead_ms / span_ms < SLICE_MIN_PAGES_AHEAD {
        return None;
    }
    let count = (workers * SLICES_PER_WORKER) as i64;
    let bounds: Vec<String> = (1..count)
        .map(|i| log_id::synthetic(start + chrono::Duration::milliseconds(ahead_ms / count * i)))
        .collect();
    let mut slices = Vec::with_capacity(count as usize);
    let mut cursor = after.to_string();
    for i in 0..count as usize {
        let end_id = bounds.get(i).cloned();
        // A boundary must lie after the cursor to make a slice.
        if end_id
            .as_deref()
            .is_some_and(|e| compare_log_ids(e, &cursor) != std::cmp::Ordering::Greater)
        {
            continue;
        }
        slices.push(Slice {
            slice: slices.len() as i64,
            start_id: cursor.clone(),
            end_id: end_id.clone(),
            cursor: cursor.clone(),
        });
        if let Some(e) = end_id {
            cursor = e;
        }
    }
    let estimate = (ahead_ms / span_ms) as u64 * MAX_TAKE as u64;
    (slices.len() > 1).then_some((slices, estimate))
}

/// Fetches slices with up to `workers` requests in flight. Each slice pages
/// from its cursor and keeps only ids up to its end, where the next slice
/// begins; the shared client keeps all workers within one rate limit.
async fn fetch_slices(
    cfg: &SyncConfig,
    workers: usize,
    client: &Auth0Client,
    slices: Vec<Slice>,
    already_sent: Option<u64>,
    tx: &mpsc::Sender<Batch>,
    stop: &AtomicBool,
) -> Result<()> {
    let queue = std::sync::Mutex::new(std::collections::VecDeque::from(slices));
    let sent = std::sync::atomic::AtomicU64::new(already_sent.unwrap_or(0));
    let failed = AtomicBool::new(false);
    let worker = || async {
        loop {
            let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
            let Some(slice) = next else { return Ok(()) };
            if let Err(e) = fetch_slice(cfg, client, slice, tx, stop, &failed, &sent).await {
                failed.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
    };
    let results = futures_join_all((0..workers.max(1)).map(|_| worker())).await;
    results.into_iter().collect()
}

async fn fetch_slice(
    cfg: &SyncConfig,
    client: &Auth0Client,
    slice: Slice,
    tx: &mpsc::Sender<Batch>,
    stop: &AtomicBool,
    failed: &AtomicBool,
    sent: &std::sync::atomic::AtomicU64,
) -> Result<()> {
    let mut cursor = slice.cursor.clone();
    loop {
        let over_budget = cfg
            .max_events
            .is_some_and(|m| sent.load(Ordering::SeqCst) >= m);
        if stop.load(Ordering::SeqCst) || failed.load(Ordering::SeqCst) || over_budget {
            return Ok(());
        }
        let mut page = client.logs_page(&cursor, MAX_TAKE).await?;
        let mut done = page.is_empty();
        if let Some(end) = &slice.end_id {
            let before = page.events.len();
            page.events
                .retain(|e| compare_log_ids(e.log_id(), end) != std::cmp::Ordering::Greater);
            done |= page.events.len() < before;
        }
        let next = page.max_log_id().map(str::to_string);
        let advances = next
            .as_deref()
            .is_some_and(|n| compare_log_ids(n, &cursor) == std::cmp::Ordering::Greater);
        if !advances && !page.events.is_empty() {
            crate::log::warn(
                "the tenant sent a page that does not move past a slice cursor; ending that slice",
            );
        }
        done |= !advances;
        if let Some(n) = next.as_ref().filter(|_| advances) {
            cursor = n.clone();
        }
        sent.fetch_add(page_size(&page), Ordering::SeqCst);
        let batch = Batch {
            slice: Some(SliceProgress {
                slice: slice.slice,
                cursor: cursor.clone(),
                last_log_id: if advances { next } else { None },
                done,
            }),
            counters: client.counters(),
            page,
            ..Batch::default()
        };
        if !send(tx, batch).await || done {
            return Ok(());
        }
    }
}

/// Polls a set of futures to completion on the current task.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// A retention gap exists when the stored checkpoint's event has expired from
/// the tenant: events after it may have expired unarchived too. Only checked
/// when the first new event is well after the checkpoint, so a busy tenant
/// costs no extra request; a quiet period is told apart from a gap by asking
/// whether the checkpoint event is still retained.
async fn detect_gap(
    client: &Auth0Client,
    checkpoint: &str,
    checkpoint_date: Option<&str>,
    page: &Page,
) -> Option<Gap> {
    let checkpoint_ts = checkpoint_date
        .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
        .map(|t| t.timestamp_millis())
        .or_else(|| log_id::embedded_time(checkpoint).map(|t| t.timestamp_millis()))?;
    let first = page
        .events
        .iter()
        .filter(|e| e.ts.is_some())
        .min_by_key(|e| e.ts)?;
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
            before_log_id: first.log_id().to_string(),
            before_date: first.date().map(str::to_string),
        }),
        Err(e) => {
            crate::log::warn(&format!("could not check for a retention gap: {e}"));
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
