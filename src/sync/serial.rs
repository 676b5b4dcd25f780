//! The serial walk: page from the stored checkpoint (or the start cursor of
//! an empty archive) to the newest event, each page carrying the checkpoint
//! it moves to. A first page far after the checkpoint triggers the
//! retention-gap check; a long history ahead is handed to `slices`.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::auth0::client::{Auth0Client, MAX_TAKE};
use crate::auth0::log_id;
use crate::config::SyncConfig;
use crate::error::{Error, Result};
use crate::event::{Page, parse_page};
use crate::store::events::Gap;

use super::tenant::Start;
use super::writer::{Batch, page_size, send};

/// A first new event this much later than the checkpoint makes us ask
/// whether the checkpoint event is still retained (see `detect_gap`).
const GAP_SUSPICION_MS: i64 = 10 * 60 * 1000;
/// Fallback cursor for tenants whose ids do not follow the `900<time>` layout.
const LOWEST_CURSOR: &str = "0";

/// Walks the checkpoint cursor and, when the history ahead is long, splits
/// the rest into time slices fetched concurrently.
pub(super) async fn fetch(
    cfg: &SyncConfig,
    concurrency: usize,
    client: &Auth0Client,
    start: &Start,
    tx: &mpsc::Sender<Batch>,
    stop: &AtomicBool,
) -> Result<()> {
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
        let page = match client.logs_page(&from, MAX_TAKE, parse_page).await {
            // The fallback cursor is not an Auth0-shaped id; a tenant that
            // refuses it (400) simply has nothing older to give. Anything
            // else, a network failure above all, is a failure.
            Err(Error::Refused {
                status: 400,
                message: e,
            }) if tried_lowest && first => {
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
        let page_events = page.events.len();
        let gap = match (&start.stored, first) {
            (Some(cp), true) => detect_gap(client, cp, start.stored_date.as_deref(), &page).await,
            _ => None,
        };
        first = false;
        let advances = next.as_deref().is_some_and(|n| log_id::advances(n, &from));
        sent += page_size(&page);
        let (slices, backlog_estimate) = match (&next, advances) {
            (Some(n), true) if cfg.max_events.is_none() && concurrency > 1 => {
                match super::backfill::plan(&page, n, concurrency, client.tenant_now()) {
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
            return super::backfill::fetch(cfg, concurrency, client, slices, sent, tx, stop).await;
        }
        match next {
            Some(n) if advances => from = n,
            // Asking again would bring the same page forever.
            _ => {
                return Err(Error::runtime(format!(
                    "the tenant sent a page that does not move past the checkpoint {from} \
                     (no greater log_id among its {} events); stopped there: what it held is \
                     archived and the checkpoint did not move",
                    page_events
                )));
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
                DateTime::<Utc>::from_timestamp_millis(checkpoint_ts).map(crate::time::iso)
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
