//! The Sigma correlation state kept between `detect` runs (table
//! `sigma_state`, one row per scope). Saved in the caller's transaction,
//! beside the findings and the watermark it goes with.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::Result;
use crate::time::now_iso;

/// One scope's saved correlation state.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedState {
    /// The rule set it was made with (`RuleSet::fingerprint`).
    pub fingerprint: String,
    /// The newest event time (epoch ms) fed to the windows.
    pub frontier: i64,
    /// rsigma-eval's exported snapshot, as JSON.
    pub state: String,
}

pub fn load(conn: &Connection, scope: &str) -> Result<Option<SavedState>> {
    Ok(conn
        .query_row(
            "SELECT fingerprint, frontier, state FROM sigma_state WHERE scope = ?1",
            [scope],
            |r| {
                Ok(SavedState {
                    fingerprint: r.get(0)?,
                    frontier: r.get(1)?,
                    state: r.get(2)?,
                })
            },
        )
        .optional()?)
}

pub fn save(tx: &Transaction<'_>, scope: &str, saved: &SavedState) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sigma_state (scope, fingerprint, frontier, state, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (scope) DO UPDATE
         SET fingerprint = excluded.fingerprint, frontier = excluded.frontier,
             state = excluded.state, updated_at = excluded.updated_at",
    )?
    .execute(params![
        scope,
        saved.fingerprint,
        saved.frontier,
        saved.state,
        now_iso()
    ])?;
    Ok(())
}
