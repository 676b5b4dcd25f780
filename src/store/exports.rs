//! The archive's record of its Parquet exports and of the days `prune`
//! deleted (schema 6): what lets `prune` refuse to delete events no export
//! holds, and an export keep the days the archive no longer has.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, OptionalExtension, Transaction};

/// One day of a recorded export: its row count and fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub rows: u64,
    pub fingerprint: String,
}

/// A directory a completed export wrote, with the days it listed then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub dir: String,
    pub format: u32,
    pub completed_at: String,
    pub days: BTreeMap<String, Day>,
}

/// Records a completed export of `dir` (replacing its previous record).
pub fn record(
    conn: &mut Connection,
    dir: &str,
    format: u32,
    completed_at: &str,
    days: &BTreeMap<String, Day>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM exports WHERE dir = ?1", [dir])?;
    tx.execute(
        "INSERT INTO exports (dir, format, completed_at) VALUES (?1, ?2, ?3)",
        rusqlite::params![dir, format, completed_at],
    )?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO export_days (dir, day, rows, fingerprint) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (day, d) in days {
            insert.execute(rusqlite::params![dir, day, d.rows as i64, d.fingerprint])?;
        }
    }
    tx.commit()
}

/// Every recorded export, newest first.
pub fn recorded(conn: &Connection) -> rusqlite::Result<Vec<Recorded>> {
    let mut exports: Vec<Recorded> = conn
        .prepare("SELECT dir, format, completed_at FROM exports ORDER BY completed_at DESC, dir")?
        .query_map([], |r| {
            Ok(Recorded {
                dir: r.get(0)?,
                format: r.get(1)?,
                completed_at: r.get(2)?,
                days: BTreeMap::new(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare("SELECT day, rows, fingerprint FROM export_days WHERE dir = ?1")?;
    for e in &mut exports {
        e.days = stmt
            .query_map([&e.dir], |r| {
                Ok((
                    r.get(0)?,
                    Day {
                        rows: r.get::<_, i64>(1)? as u64,
                        fingerprint: r.get(2)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(exports)
}

/// The days `prune` deleted events of.
pub fn pruned_days(conn: &Connection) -> rusqlite::Result<BTreeSet<String>> {
    // An archive opened read-only may predate schema 6: nothing was
    // recorded as pruned by day then.
    let has_table: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pruned_days'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if has_table.is_none() {
        return Ok(BTreeSet::new());
    }
    conn.prepare("SELECT day FROM pruned_days")?
        .query_map([], |r| r.get(0))?
        .collect()
}

/// Records, in the prune's transaction, that `rows` events of `day` were
/// deleted, held by the export in `export_dir` (None: not checked).
pub fn record_pruned(
    tx: &Transaction<'_>,
    day: &str,
    rows: u64,
    export_dir: Option<&str>,
    pruned_at: &str,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO pruned_days (day, rows, export_dir, pruned_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (day) DO UPDATE SET rows = rows + excluded.rows,
             export_dir = excluded.export_dir, pruned_at = excluded.pruned_at",
    )?
    .execute(rusqlite::params![day, rows as i64, export_dir, pruned_at])?;
    Ok(())
}
