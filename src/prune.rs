//! `auth0-archive prune`: delete old events while keeping the integrity chain
//! verifiable. Whole chain links are pruned (a link's events go together);
//! each pruned link stays in the chain, marked, and a prune link appended to
//! the chain records which links went, how many events and a digest of their
//! seals, so nothing can be marked pruned or deleted without it.

use std::path::Path;

use crate::cli::PruneArgs;
use crate::error::{Error, Result};
use crate::store::chain::{self, ChainKey};
use crate::store::{self, lock::SyncLock};
use crate::time::parse_ms;

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
    const PRUNABLE: &str = "SELECT c.seq FROM chain c WHERE c.pruned_at IS NULL AND c.kind = 'events'
        AND NOT EXISTS (SELECT 1 FROM events e WHERE e.chain_seq = c.seq AND (e.ts IS NULL OR e.ts >= ?1))
        ORDER BY c.seq";
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
    let key = ChainKey::from_env()?;
    chain::check_key(&conn, key.as_ref())?;
    let tx = conn.transaction()?;
    let seqs: Vec<i64> = {
        let mut stmt = tx.prepare(PRUNABLE)?;
        stmt.query_map([before], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut deleted = 0;
    {
        let mut delete = tx.prepare("DELETE FROM events WHERE chain_seq = ?1")?;
        for seq in &seqs {
            deleted += delete.execute([seq])?;
        }
    }
    // The emptied links are marked and a prune link records them, in the
    // same transaction as the deletion.
    chain::seal_prune(&tx, &seqs, deleted as i64, Some(&args.before), key.as_ref())?;
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
