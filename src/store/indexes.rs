//! Deferred secondary indexes. The `ip`, user and login indexes receive
//! their keys in random order: once they outgrow the page cache, every
//! commit rewrites most of their leaf pages into the WAL, which made SQLite's
//! share of a 1M-event backfill 3x its cost with the indexes built afterwards
//! (BENCHMARKS.md). A backfill large against the archive therefore drops them
//! in the transaction that records its plan, and `rebuild` creates them again
//! (a sort, not a million random inserts) once every slice is done. The
//! definitions wait in `deferred_indexes`, so a crash, a failed run or an
//! interrupted one never loses an index: the run that completes the backfill
//! builds them. Queries stay correct meanwhile, only slower.

use rusqlite::{Connection, Transaction, params};

use crate::error::Result;

/// Indexes whose insert order is random; the rest (log_id, ts, type/ts,
/// chain) grow at a few insertion points and stay cheap to maintain.
const DEFERRABLE: &[&str] = &["events_ip", "events_user_ts", "events_login_user"];

/// Deferring pays when the backlog is at least this fraction of the archive:
/// rebuilding costs ~5 µs per archived row, keeping the indexes up to date
/// ~45 µs per new event at a million rows (BENCHMARKS.md).
const MIN_BACKLOG_SHARE: f64 = 0.25;

/// Whether a backlog of `estimated_events` justifies deferring, given the
/// archive's current size.
pub fn worth_deferring(tx: &Transaction<'_>, estimated_events: u64) -> Result<bool> {
    // max(rowid) is an O(log n) stand-in for count(*).
    let archived: i64 = tx.query_row("SELECT coalesce(max(rowid), 0) FROM events", [], |r| {
        r.get(0)
    })?;
    Ok(estimated_events as f64 >= archived as f64 * MIN_BACKLOG_SHARE)
}

/// Drops the deferrable indexes inside the caller's transaction, keeping
/// their definitions. Returns how many were dropped.
pub fn defer(tx: &Transaction<'_>, now: &str) -> Result<usize> {
    let mut dropped = 0;
    for name in DEFERRABLE {
        let sql: Option<String> = tx
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .ok();
        let Some(sql) = sql else { continue };
        tx.execute(
            "INSERT OR REPLACE INTO deferred_indexes (name, sql, deferred_at) VALUES (?1, ?2, ?3)",
            params![name, sql, now],
        )?;
        tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
        dropped += 1;
    }
    Ok(dropped)
}

/// Names of the indexes waiting to be built.
pub fn deferred(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM deferred_indexes ORDER BY name")?;
    let names = stmt.query_map([], |r| r.get(0))?;
    Ok(names.collect::<rusqlite::Result<Vec<String>>>()?)
}

/// Whether a parallel backfill of any tenant is still under way (its slices
/// still need the indexes deferred).
fn backfill_pending(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM backfill_slices WHERE done = 0)",
        [],
        |r| r.get(0),
    )?)
}

/// Builds the deferred indexes in one transaction once no backfill is under
/// way. Returns how many were built (0 when there was nothing to do yet).
pub fn rebuild_if_due(conn: &mut Connection) -> Result<usize> {
    if deferred(conn)?.is_empty() || backfill_pending(conn)? {
        return Ok(0);
    }
    // CREATE INDEX sorts in memory up to the page-cache size before
    // spilling to temporary files; a smaller cache for the build keeps the
    // sync's peak memory flat.
    let cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", SORT_CACHE_KIB)?;
    let built = build(conn);
    conn.pragma_update(None, "cache_size", cache)?;
    built
}

/// Page-cache size while building, in KiB (as a negative `cache_size`).
const SORT_CACHE_KIB: i64 = -1000;

fn build(conn: &mut Connection) -> Result<usize> {
    let tx = conn.transaction()?;
    let pending: Vec<(String, String)> = {
        let mut stmt = tx.prepare("SELECT name, sql FROM deferred_indexes ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (name, sql) in &pending {
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if !exists {
            tx.execute_batch(sql)?;
        }
    }
    tx.execute("DELETE FROM deferred_indexes", [])?;
    tx.commit()?;
    Ok(pending.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_sql(conn: &Connection) -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn deferred_indexes_come_back_identical_once_no_backfill_is_pending() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::store::open_for_write(&dir.path().join("a.db")).unwrap();
        let before = index_sql(&conn);
        let tx = conn.transaction().unwrap();
        assert!(
            worth_deferring(&tx, 0).unwrap(),
            "an empty archive always defers"
        );
        assert_eq!(defer(&tx, "now").unwrap(), DEFERRABLE.len());
        tx.execute(
            "INSERT INTO backfill_slices (tenant, slice, start_id, end_id, cursor, done) VALUES ('t', 0, 'a', NULL, 'a', 0)",
            [],
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(index_sql(&conn).len(), before.len() - DEFERRABLE.len());
        assert_eq!(deferred(&conn).unwrap().len(), DEFERRABLE.len());

        // Not while a slice is open.
        assert_eq!(rebuild_if_due(&mut conn).unwrap(), 0);
        conn.execute("UPDATE backfill_slices SET done = 1", [])
            .unwrap();
        assert_eq!(rebuild_if_due(&mut conn).unwrap(), DEFERRABLE.len());
        assert_eq!(index_sql(&conn), before);
        assert!(deferred(&conn).unwrap().is_empty());
        assert_eq!(rebuild_if_due(&mut conn).unwrap(), 0);
    }

    #[test]
    fn a_small_backlog_against_a_large_archive_keeps_the_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::store::open_for_write(&dir.path().join("a.db")).unwrap();
        conn.execute(
            "INSERT INTO events (rowid, log_id, tenant, raw) VALUES (1000000, 'x', 't', '{}')",
            [],
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        assert!(!worth_deferring(&tx, 100_000).unwrap());
        assert!(worth_deferring(&tx, 300_000).unwrap());
    }
}
