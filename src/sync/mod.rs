//! `auth0-archive sync`: the incremental loop. For each tenant, pages are
//! fetched (`serial`, or `backfill` for a long one) while the previous
//! ones are written (`writer`); `tenant` runs one tenant's sync, this module
//! the whole invocation: the lock, the tenants, follow mode and signals,
//! and with `--detect` a detection pass after each catch-up.
//!
//! Data flows one way: `auth0` (HTTP) -> `event` (normalize) -> `store`.

mod backfill;
mod serial;
mod summary;
mod tenant;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::config::{DetectPlan, SyncPlan};
use crate::detect::{self, Detections, Outlets, Scope};
use crate::error::{Error, Result};
use crate::store::lock::SyncLock;

pub use summary::{GapSummary, Summary};

/// Longest pause between follow-mode polls after repeated failures.
const MAX_FOLLOW_BACKOFF: Duration = Duration::from_secs(600);

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
    let created = plan.tenants.first().is_some_and(|t| !t.db.exists());
    let result = runtime.block_on(async {
        watch_signals(stop.clone());
        let Some(first) = plan.tenants.first() else {
            return Ok(());
        };
        let detections = match &plan.detect {
            Some(d) => Some(Detections::choose(&[], false, &d.sigma)?),
            None => None,
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
                let (summary, mut result) = tenant::run(cfg, plan.concurrency, stop.clone()).await;
                if let (Some(path), Some(s)) = (&plan.head_file, &summary)
                    && s.head_moved
                    && let Err(e) = summary::append_head(path, s)
                {
                    result = result.and(Err(e));
                }
                if let Some(summary) = &summary {
                    summary::print(
                        summary,
                        cfg.output.json,
                        plan.tenants.len() > 1 || plan.follow.is_some(),
                    );
                }
                if let Err(e) = result {
                    // In follow mode, only network and server trouble is
                    // worth waiting out; bad credentials or a broken
                    // database will not heal by themselves.
                    if plan.follow.is_none()
                        || !matches!(e, Error::Runtime(_) | Error::Unreachable(_))
                    {
                        first_error.get_or_insert(e);
                    } else {
                        crate::log::warn(&format!("{}: {e}", cfg.tenant));
                        failures += 1;
                    }
                } else {
                    failures = 0;
                }
            }
            let cycle_ok = first_error.is_none();
            if let (Some(d), Some(detections), true) = (&plan.detect, &detections, cycle_ok)
                && let Err(e) = detection_pass(&first.db, d, detections, first.output.quiet).await
            {
                // A pass that failed leaves its events unexamined for
                // the next one; following goes on.
                if plan.follow.is_none() {
                    first_error = Some(e);
                } else {
                    crate::log::warn(&format!("detect: {e}"));
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
                (interval.max(Duration::from_secs(1)) * 2u32.saturating_pow(failures.min(10)))
                    .min(MAX_FOLLOW_BACKOFF)
            };
            if !sleep_unless_stopped(pause, &stop).await {
                return Ok(());
            }
        }
    });
    // A first sync refused or never answered (bad credentials, a wrong
    // host) leaves nothing behind to puzzle `status` later. Other failures
    // keep the archive: its run history says what happened.
    if matches!(&result, Err(Error::Auth(_) | Error::Unreachable(_)))
        && created
        && let Some(first) = plan.tenants.first()
        && archive_is_empty(&first.db)
    {
        remove_archive(&first.db);
    }
    result
}

/// `--detect`: the detections over what this cycle committed, as
/// `detect` runs them (waiting for a `detect` run by hand, if any).
async fn detection_pass(
    db: &std::path::Path,
    plan: &DetectPlan,
    detections: &Detections,
    quiet: bool,
) -> Result<()> {
    let scope = Scope {
        tenant: None,
        window: None,
    };
    let outlets = Outlets {
        format: None,
        quiet,
        webhooks: &plan.webhooks,
    };
    detect::pass(
        db,
        crate::choices::EngineKind::Sqlite,
        detections,
        &scope,
        &outlets,
    )
    .await?;
    Ok(())
}

/// Whether the archive holds no event at all (unreadable: not empty).
fn archive_is_empty(db: &std::path::Path) -> bool {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return false;
    };
    conn.query_row(
        "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM rejects)",
        [],
        |r| r.get::<_, i64>(0),
    )
    .is_ok_and(|n| n == 0)
}

fn remove_archive(db: &std::path::Path) {
    let _ = crate::store::remove_with_sidecars(db, &["-wal", "-shm", ".lock"]);
}

/// Sleeps for `d`; `false` if a stop signal came first.
async fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        tokio::time::sleep((until - Instant::now()).min(Duration::from_millis(100))).await;
    }
    !stop.load(Ordering::SeqCst)
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
