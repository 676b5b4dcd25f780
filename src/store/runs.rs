//! The `sync_runs` history: one row per sync, opened at start, advanced in
//! each page's transaction, closed with the outcome.

use rusqlite::{Connection, Transaction, params};

use crate::auth0::client::RequestCounters;
use crate::error::Result;
use crate::event::Page;
use crate::time::now_iso;

use super::events::PageOutcome;

pub fn begin_run(conn: &Connection, tenant: &str, checkpoint_from: Option<&str>) -> Result<i64> {
    conn.execute(
        "INSERT INTO sync_runs (tenant, started_at, checkpoint_from) VALUES (?1, ?2, ?3)",
        params![tenant, now_iso(), checkpoint_from],
    )?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn add_page(
    tx: &Transaction<'_>,
    run_id: i64,
    outcome: &PageOutcome,
    page: &Page,
    checkpoint: Option<&str>,
    counters: &RequestCounters,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE sync_runs SET
            fetched = fetched + ?2, inserted = inserted + ?3, duplicates = duplicates + ?4,
            conflicts = conflicts + ?10,
            rejected = rejected + ?5, requests = ?6, retries = ?7, rate_limited = ?8,
            checkpoint_to = coalesce(?9, checkpoint_to)
         WHERE id = ?1",
    )?
    .execute(params![
        run_id,
        (page.events.len() + page.rejects.len()) as i64,
        outcome.inserted as i64,
        outcome.duplicates as i64,
        outcome.rejected as i64,
        counters.requests as i64,
        counters.retries as i64,
        counters.rate_limited as i64,
        checkpoint,
        outcome.conflicts as i64,
    ])?;
    Ok(())
}

/// Closes a run. `outcome` is `ok`, `failed` or `interrupted`.
pub fn finish_run(
    conn: &Connection,
    run_id: i64,
    outcome: &str,
    error: Option<&str>,
    counters: &RequestCounters,
) -> Result<()> {
    // The archive keeps no secret a server echoed into an error.
    let error = error.map(crate::secret::scrub);
    conn.execute(
        "UPDATE sync_runs SET finished_at = ?2, outcome = ?3, error = ?4,
            requests = ?5, retries = ?6, rate_limited = ?7
         WHERE id = ?1",
        params![
            run_id,
            now_iso(),
            outcome,
            error.as_deref(),
            counters.requests as i64,
            counters.retries as i64,
            counters.rate_limited as i64
        ],
    )?;
    Ok(())
}
