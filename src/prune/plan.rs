//! Which chain links a prune deletes (those whose events are all older
//! than the cut-off), and how many events of each UTC day they hold. A link
//! may straddle midnight, so a day can be deleted in part: the coverage
//! check then looks at the very events deleted (see `coverage`).

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

/// Links whose newest event is older than the cut-off.
const PRUNABLE: &str = "SELECT c.seq FROM chain c WHERE c.pruned_at IS NULL AND c.kind = 'events'
    AND NOT EXISTS (SELECT 1 FROM events e WHERE e.chain_seq = c.seq AND (e.ts IS NULL OR e.ts >= ?1))
    ORDER BY c.seq";

/// The UTC day of `ts` as epoch ms, as SQL (also before 1970).
const DAY_OF_TS: &str = "ts - ((ts % 86400000) + 86400000) % 86400000";

/// What a prune before a cut-off deletes.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// The chain links whose events are deleted, ascending.
    pub seqs: Vec<i64>,
    /// Each UTC day (epoch ms of its midnight) with events deleted, and how many.
    pub days: BTreeMap<i64, u64>,
    /// Events older than the cut-off that stay: they share a link with
    /// newer ones.
    pub kept: u64,
}

impl Plan {
    pub fn events(&self) -> u64 {
        self.days.values().sum()
    }
}

pub(super) fn plan(conn: &Connection, before: i64) -> rusqlite::Result<Plan> {
    let seqs: BTreeSet<i64> = conn
        .prepare(PRUNABLE)?
        .query_map([before], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // The events before the cut-off by link and UTC day.
    let cells: Vec<(Option<i64>, i64, u64)> = conn
        .prepare(&format!(
            "SELECT chain_seq, {DAY_OF_TS} AS day, count(*) FROM events
             WHERE ts IS NOT NULL AND ts < ?1 GROUP BY 1, 2"
        ))?
        .query_map([before], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut days: BTreeMap<i64, u64> = BTreeMap::new();
    for (seq, day, n) in &cells {
        if seq.is_some_and(|s| seqs.contains(&s)) {
            *days.entry(*day).or_default() += n;
        }
    }
    let older: i64 =
        conn.query_row("SELECT count(*) FROM events WHERE ts < ?1", [before], |r| {
            r.get(0)
        })?;
    let mut plan = Plan {
        seqs: seqs.into_iter().collect(),
        days,
        kept: 0,
    };
    plan.kept = (older as u64).saturating_sub(plan.events());
    Ok(plan)
}
