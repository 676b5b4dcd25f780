//! `auth0-archive prune`: delete old events while keeping the integrity chain
//! verifiable. Whole chain links are pruned (a link's events go together) and
//! each pruned link stays in the chain, marked, so later links still verify.

use std::path::Path;

use crate::cli::PruneArgs;
use crate::error::{Error, Result};
use crate::store::{self, lock::SyncLock};
use crate::time::{now_iso, parse_ms};

pub fn run(db: &Path, args: &PruneArgs) -> Result<()> {
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
    // Links whose newest event is older than the cut-off.
    const PRUNABLE: &str = "SELECT c.seq FROM chain c WHERE c.pruned_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM events e WHERE e.chain_seq = c.seq AND (e.ts IS NULL OR e.ts >= ?1))";
    let (links, events): (i64, i64) = conn.query_row(
        &format!("SELECT count(*), coalesce(sum((SELECT count(*) FROM events e WHERE e.chain_seq = p.seq)), 0) FROM ({PRUNABLE}) p"),
        [before],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let older: i64 =
        conn.query_row("SELECT count(*) FROM events WHERE ts < ?1", [before], |r| {
            r.get(0)
        })?;
    let kept = older - events;
    if args.dry_run {
        println!(
            "would delete {events} events in {links} chain links dated before {}",
            args.before
        );
        if kept > 0 {
            println!("would keep {kept} older events that share a chain link with newer ones");
        }
        return Ok(());
    }
    let tx = conn.transaction()?;
    tx.execute(
        &format!("CREATE TEMP TABLE prune_links AS {PRUNABLE}"),
        [before],
    )?;
    let deleted = tx.execute(
        "DELETE FROM events WHERE chain_seq IN (SELECT seq FROM prune_links)",
        [],
    )?;
    tx.execute(
        "UPDATE chain SET pruned_at = ?1 WHERE seq IN (SELECT seq FROM prune_links)",
        [now_iso()],
    )?;
    tx.execute("DROP TABLE prune_links", [])?;
    tx.commit()?;
    println!(
        "deleted {deleted} events in {links} chain links dated before {}",
        args.before
    );
    if kept > 0 {
        println!("kept {kept} older events that share a chain link with newer ones");
    }
    if args.vacuum {
        conn.execute_batch("VACUUM; PRAGMA optimize;")?;
        println!("vacuumed");
    }
    Ok(())
}
