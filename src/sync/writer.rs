//! The writer side of a sync: pages are written in arrival order, each with
//! what commits alongside it (checkpoint, gap, slice plan or progress, run
//! counters), several pages to a transaction (group commit).

use std::time::Instant;

use rusqlite::Connection;
use tokio::sync::mpsc;

use crate::auth0::client::RequestCounters;
use crate::error::{Error, Result};
use crate::event::Page;
use crate::progress::Progress;
use crate::store::chain::ChainKey;
use crate::store::events::{self, Gap, PageCommit};
use crate::store::indexes;
use crate::store::raw::RawCodec;
use crate::store::slice_progress::{Slice, SliceProgress};
use crate::time::now_iso;

use super::summary::GapSummary;

/// A page on its way to the writer, with what commits alongside it.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) page: Page,
    pub(super) checkpoint: Option<String>,
    pub(super) gap: Option<Gap>,
    pub(super) plan: Option<Vec<Slice>>,
    /// Events the new plan is expected to fetch, to decide whether to
    /// defer the random-order indexes.
    pub(super) backlog_estimate: u64,
    pub(super) slice: Option<SliceProgress>,
    pub(super) counters: RequestCounters,
}

/// Where the writer writes: the tenant's rows, the run that records them,
/// and the key that seals them when the chain is keyed.
pub(super) struct Destination {
    pub(super) tenant: String,
    pub(super) run_id: i64,
    pub(super) key: Option<ChainKey>,
}

/// Totals from the writer side.
#[derive(Debug, Default)]
pub(super) struct Written {
    pub(super) fetched: u64,
    pub(super) inserted: u64,
    pub(super) duplicates: u64,
    pub(super) conflicts: u64,
    pub(super) rejected: u64,
    pub(super) gaps: Vec<GapSummary>,
}

/// The writer: writes pages in arrival order with what travels with each,
/// and shows progress. A transaction takes pages as they arrive until it
/// holds `MAX_GROUP` of them or `MAX_GROUP_WAIT` has passed since its first
/// (group commit): each page still carries its own checkpoint, so whatever
/// commits is consistent, and a page's rows leave our memory as soon as
/// they are written (SQLite's bounded cache holds them until the commit).
pub(super) fn write_pages(
    mut conn: Connection,
    to: Destination,
    mut rx: mpsc::Receiver<Batch>,
    mut progress: Progress,
) -> (Connection, Written, Option<Error>) {
    let mut totals = Written::default();
    let mut newest: Option<String> = None;
    let mut codec = match RawCodec::load(&conn) {
        Ok(c) => c,
        Err(e) => return (conn, totals, Some(e)),
    };
    while let Some(first) = rx.blocking_recv() {
        let group = write_group(&mut conn, &mut codec, &to, first, &mut rx, &mut newest);
        match group {
            Ok(sums) => {
                totals.fetched += sums.fetched;
                totals.inserted += sums.inserted;
                totals.duplicates += sums.duplicates;
                totals.conflicts += sums.conflicts;
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
    codec: &mut RawCodec,
    to: &Destination,
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
            let n = indexes::defer(&tx, &now_iso())?;
            tracing::debug!(indexes = n, "deferred until the backfill completes");
        }
        // The first dictionary as soon as enough events are archived (an
        // old archive: before its first new page), so the pages after it
        // store `raw` compressed (store::raw).
        codec.train_if_due(&tx)?;
        let with = PageCommit {
            checkpoint: batch.checkpoint.as_deref(),
            gap: batch.gap.as_ref(),
            plan: batch.plan.as_deref(),
            slice: batch.slice.as_ref(),
            key: to.key.as_ref(),
        };
        let o = events::write_page(
            &tx,
            codec,
            &to.tenant,
            to.run_id,
            &batch.page,
            with,
            &batch.counters,
        )?;
        sums.fetched += page_size(&batch.page);
        sums.inserted += o.inserted;
        sums.duplicates += o.duplicates;
        sums.conflicts += o.conflicts;
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
pub(super) async fn send(tx: &mpsc::Sender<Batch>, batch: Batch) -> bool {
    tx.send(batch).await.is_ok()
}

/// Events and rejects in a page.
pub(super) fn page_size(page: &Page) -> u64 {
    (page.events.len() + page.rejects.len()) as u64
}
