//! Progress of a parallel backfill. A long backfill is split into time
//! slices fetched concurrently; each slice's cursor is committed with its
//! pages, so a crash resumes every slice where it stopped. When the last
//! slice finishes, the tenant checkpoint moves to the greatest archived id
//! and the slices are forgotten, in the same transaction.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::Result;

/// One time slice: fetch ids after `cursor`, keep those up to `end_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    pub slice: i64,
    pub start_id: String,
    /// `None` for the last, open-ended slice.
    pub end_id: Option<String>,
    pub cursor: String,
}

/// How far a slice got with one page.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceProgress {
    pub slice: i64,
    pub cursor: String,
    pub last_log_id: Option<String>,
    pub done: bool,
}

/// Unfinished slices of a tenant's backfill, in slice order.
pub fn pending(conn: &Connection, tenant: &str) -> Result<Vec<Slice>> {
    let mut stmt = conn.prepare(
        "SELECT slice, start_id, end_id, cursor FROM backfill_slices WHERE tenant = ?1 AND done = 0 ORDER BY slice",
    )?;
    let rows = stmt.query_map([tenant], |r| {
        Ok(Slice {
            slice: r.get(0)?,
            start_id: r.get(1)?,
            end_id: r.get(2)?,
            cursor: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Records a new plan.
pub fn plan(tx: &Transaction<'_>, tenant: &str, slices: &[Slice]) -> Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO backfill_slices (tenant, slice, start_id, end_id, cursor, done) VALUES (?1, ?2, ?3, ?4, ?5, 0)",
    )?;
    for s in slices {
        insert.execute(params![tenant, s.slice, s.start_id, s.end_id, s.cursor])?;
    }
    Ok(())
}

/// Records a slice's progress; when every slice is done, sets the tenant
/// checkpoint and clears the plan.
pub fn advance(tx: &Transaction<'_>, tenant: &str, p: &SliceProgress, now: &str) -> Result<()> {
    tx.prepare_cached(
        "UPDATE backfill_slices SET cursor = ?3, last_log_id = coalesce(?4, last_log_id), done = ?5
         WHERE tenant = ?1 AND slice = ?2",
    )?
    .execute(params![tenant, p.slice, p.cursor, p.last_log_id, p.done])?;
    if !p.done {
        return Ok(());
    }
    let open: i64 = tx.query_row(
        "SELECT count(*) FROM backfill_slices WHERE tenant = ?1 AND done = 0",
        [tenant],
        |r| r.get(0),
    )?;
    if open > 0 {
        return Ok(());
    }
    // Slices cover increasing id ranges: the last one that found events
    // holds the greatest id.
    let newest: Option<String> = tx
        .query_row(
            "SELECT last_log_id FROM backfill_slices WHERE tenant = ?1 AND last_log_id IS NOT NULL
             ORDER BY slice DESC LIMIT 1",
            [tenant],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = newest {
        tx.execute(
            "INSERT INTO checkpoints (tenant, log_id, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (tenant) DO UPDATE SET log_id = excluded.log_id, updated_at = excluded.updated_at",
            params![tenant, id, now],
        )?;
    }
    tx.execute("DELETE FROM backfill_slices WHERE tenant = ?1", [tenant])?;
    Ok(())
}
