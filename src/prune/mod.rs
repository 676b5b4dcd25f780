//! `auth0-archive prune`: delete old events while keeping the integrity chain
//! verifiable, and only what a complete Parquet export holds.
//!
//! Whole chain links are pruned (a link's events go together; `plan`).
//! Unless told `--without-export`, each UTC day they touch must be in a
//! complete export with exactly the archive's events (`coverage`);
//! otherwise nothing is deleted.
//! Each pruned link stays in the chain, marked, and a prune link appended to
//! the chain records which links went, how many events and a digest of their
//! seals, so nothing can be marked pruned or deleted without it. The days
//! deleted are recorded (`store::exports`), so later exports keep their files.

mod coverage;
mod plan;

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::config::commands::PruneOptions;
use crate::error::{Error, Result};
use crate::store::chain::{self, ChainKey};
use crate::store::{self, exports, lock::SyncLock};
use crate::time::{epoch_day, now_iso, parse_ms};

use coverage::Verdict;

pub fn run(db: &Path, args: &PruneOptions) -> Result<()> {
    let before =
        parse_ms(&args.before, false).map_err(|e| Error::usage(format!("--before: {e}")))?;
    if !args.dry_run && !args.yes {
        return Err(Error::usage(format!(
            "prune deletes archived events for good: re-run with --yes to confirm, or --dry-run to see what would go (before {})",
            args.before
        )));
    }
    let _lock = SyncLock::acquire(db)?;
    if !db.exists() {
        return Err(Error::database(format!("no archive at {}", db.display())));
    }
    let mut conn = store::open_for_write(db)?;
    if args.dry_run {
        return dry_run(&conn, before, args);
    }
    let key = ChainKey::from_env()?;
    chain::check_key(&conn, key.as_ref())?;
    // The plan, the check and the deletion see the same rows: the write
    // lock is taken first (sync and import also wait for the file lock).
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let plan = plan::plan(&tx, before)?;
    let holders = exports_holding(coverage::check(&tx, &plan)?, args.without_export)?;
    let deleted = delete(&tx, &plan, &holders, args, key.as_ref())?;
    tx.commit()?;
    println!(
        "deleted {deleted} events in {} chain links dated before {}{}",
        plan.seqs.len(),
        args.before,
        span(&plan.days)
    );
    if plan.kept > 0 {
        println!(
            "kept {} older events that share a chain link with newer ones",
            plan.kept
        );
    }
    if let Some(dir) = holders.values().next() {
        println!("every deleted event is in the export in {dir}");
    }
    if args.vacuum {
        conn.execute_batch("VACUUM; PRAGMA optimize;")?;
        println!("vacuumed");
    }
    Ok(())
}

/// `--dry-run`: what would go, and whether the exports hold it.
fn dry_run(conn: &Connection, before: i64, args: &PruneOptions) -> Result<()> {
    let plan = plan::plan(conn, before)?;
    let verdict = coverage::check(conn, &plan)?;
    println!(
        "would delete {} events in {} chain links dated before {}{}",
        plan.events(),
        plan.seqs.len(),
        args.before,
        span(&plan.days)
    );
    if plan.kept > 0 {
        println!(
            "would keep {} older events that share a chain link with newer ones",
            plan.kept
        );
    }
    println!("{}", describe(&verdict, args.without_export));
    Ok(())
}

/// The export directory holding each day to delete; a refusal (exit 8)
/// when a day is in no complete export, unless `--without-export`.
fn exports_holding(verdict: Verdict, without_export: bool) -> Result<BTreeMap<String, String>> {
    match verdict {
        Verdict::Covered(holders) => Ok(holders),
        Verdict::Uncovered { day, why } if !without_export => Err(Error::Unexported(format!(
            "prune refused, nothing was deleted: {day} is not in a complete export with the archive's events: {why} \
             (or pass --without-export to delete events no export holds)"
        ))),
        Verdict::Uncovered { day, why } => {
            crate::log::warn(&format!(
                "--without-export: deleting events no complete export holds, from {day} on ({why})"
            ));
            Ok(Default::default())
        }
    }
}

/// Deletes the planned links' events; the emptied links are marked and a
/// prune link records them, and the days go on record, all in `tx`.
fn delete(
    tx: &Transaction<'_>,
    plan: &plan::Plan,
    holders: &BTreeMap<String, String>,
    args: &PruneOptions,
    key: Option<&ChainKey>,
) -> Result<usize> {
    let mut deleted = 0;
    {
        let mut delete = tx.prepare("DELETE FROM events WHERE chain_seq = ?1")?;
        for seq in &plan.seqs {
            deleted += delete.execute([seq])?;
        }
    }
    chain::seal_prune(tx, &plan.seqs, deleted as i64, Some(&args.before), key)?;
    let at = now_iso();
    for (day_ms, rows) in &plan.days {
        let day = epoch_day(*day_ms).unwrap_or_default();
        let holder = holders.get(&day).map(String::as_str);
        exports::record_pruned(tx, &day, *rows, holder, &at)?;
    }
    Ok(deleted)
}

/// ` (N day(s), FIRST to LAST)` of the days with events deleted.
fn span(days: &BTreeMap<i64, u64>) -> String {
    let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) else {
        return String::new();
    };
    format!(
        " ({}, {} to {})",
        crate::text::count(days.len() as u64, "day"),
        epoch_day(*first).unwrap_or_default(),
        epoch_day(*last).unwrap_or_default()
    )
}

/// The dry run's line about the export.
fn describe(verdict: &Verdict, without_export: bool) -> String {
    match verdict {
        Verdict::Covered(holders) if holders.is_empty() => {
            "export coverage: nothing to check (no events would be deleted)".into()
        }
        Verdict::Covered(holders) => {
            let dirs: std::collections::BTreeSet<&str> =
                holders.values().map(String::as_str).collect();
            let dirs: Vec<&str> = dirs.into_iter().collect();
            format!(
                "export coverage: covered: every day to delete is in a complete export ({})",
                dirs.join(", ")
            )
        }
        Verdict::Uncovered { day, why } => format!(
            "export coverage: NOT covered from {day}: {why}; {}",
            if without_export {
                "--without-export would delete anyway"
            } else {
                "prune would refuse (export first, or pass --without-export)"
            }
        ),
    }
}
