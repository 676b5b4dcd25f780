//! The parallel backfill: the history after a full first page is split into
//! time slices, recorded with the page that planned them; workers fetch
//! slices concurrently, each page committing its slice's cursor, so an
//! interrupted backfill resumes where each slice stopped.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::auth0::client::{Auth0Client, MAX_TAKE};
use crate::auth0::log_id;
use crate::config::SyncConfig;
use crate::error::{Error, Result};
use crate::event::{Page, parse_page};
use crate::store::slice_progress::{Slice, SliceProgress};

use super::writer::{Batch, page_size, send};

/// Slices only pay off when many pages lie ahead.
const SLICE_MIN_PAGES_AHEAD: i64 = 40;
/// Slices per worker, so uneven traffic still keeps every worker busy.
const SLICES_PER_WORKER: usize = 4;

/// Decides whether the history after a full page is long enough to fetch in
/// parallel, and if so splits it into time slices, with the number of events
/// expected (at the first page's pace). Needs Auth0-shaped ids: the slice
/// boundaries are synthetic ids built from timestamps. The history ends at
/// `tenant_now`, the tenant's clock (never ours: it may be off, and tests
/// set the tenant's); unknown, nothing is sliced.
pub(super) fn plan(
    page: &Page,
    after: &str,
    workers: usize,
    tenant_now: Option<DateTime<Utc>>,
) -> Option<(Vec<Slice>, u64)> {
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
    let end = tenant_now? + chrono::Duration::minutes(1);
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
            .is_some_and(|e| !log_id::advances(e, &cursor))
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
pub(super) async fn fetch(
    cfg: &SyncConfig,
    workers: usize,
    client: &Auth0Client,
    slices: Vec<Slice>,
    already_sent: u64,
    tx: &mpsc::Sender<Batch>,
    stop: &AtomicBool,
) -> Result<()> {
    let queue = Mutex::new(VecDeque::from(slices));
    let sent = AtomicU64::new(already_sent);
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
    let results = futures_util::future::join_all((0..workers.max(1)).map(|_| worker())).await;
    results.into_iter().collect()
}

async fn fetch_slice(
    cfg: &SyncConfig,
    client: &Auth0Client,
    slice: Slice,
    tx: &mpsc::Sender<Batch>,
    stop: &AtomicBool,
    failed: &AtomicBool,
    sent: &AtomicU64,
) -> Result<()> {
    let mut cursor = slice.cursor.clone();
    loop {
        let over_budget = cfg
            .max_events
            .is_some_and(|m| sent.load(Ordering::SeqCst) >= m);
        if stop.load(Ordering::SeqCst) || failed.load(Ordering::SeqCst) || over_budget {
            return Ok(());
        }
        let mut page = client.logs_page(&cursor, MAX_TAKE, parse_page).await?;
        let mut done = page.is_empty();
        if let Some(end) = &slice.end_id {
            let before = page.events.len();
            page.events.retain(|e| !log_id::advances(e.log_id(), end));
            done |= page.events.len() < before;
        }
        let next = page.max_log_id().map(str::to_string);
        let advances = next
            .as_deref()
            .is_some_and(|n| log_id::advances(n, &cursor));
        // Asking again would bring the same page forever: archive what it
        // holds, keep the slice's cursor, and fail the run.
        let stuck = !advances && !page.events.is_empty();
        done |= !advances && !stuck;
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
        if stuck {
            return Err(Error::runtime(format!(
                "the tenant sent a page that does not move past the slice cursor {cursor} \
                 (no greater log_id); stopped there: what it held is archived and the cursor \
                 did not move"
            )));
        }
    }
}
