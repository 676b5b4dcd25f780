//! Which chain links a prune deletes: those whose events are all older than
//! the cut-off, and only so many that every UTC day they touch goes whole.
//!
//! A link's events go together, and a link may straddle midnight; a day left
//! half in the archive would have an export file holding more than the
//! archive, and no fingerprint to compare the two with. So a link that would
//! leave part of a day behind is kept, and with it every link that touches
//! that day, until what remains deletes whole days only.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

use crate::time::DAY_MS;

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
    /// Each UTC day (epoch ms of its midnight) deleted whole, with its events.
    pub days: BTreeMap<i64, u64>,
    /// Events older than the cut-off that stay: they share a link or a day
    /// with newer ones.
    pub kept: u64,
}

impl Plan {
    pub fn events(&self) -> u64 {
        self.days.values().sum()
    }
}

pub(super) fn plan(conn: &Connection, before: i64) -> rusqlite::Result<Plan> {
    let mut seqs: BTreeSet<i64> = conn
        .prepare(PRUNABLE)?
        .query_map([before], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // Every event of every day that starts before the cut-off, by link and
    // day (a link may straddle midnight; events without a link count too).
    let end = before.div_euclid(DAY_MS) * DAY_MS + if before % DAY_MS == 0 { 0 } else { DAY_MS };
    let cells: Vec<(Option<i64>, i64, u64)> = conn
        .prepare(&format!(
            "SELECT chain_seq, {DAY_OF_TS} AS day, count(*) FROM events
             WHERE ts IS NOT NULL AND ts < ?1 GROUP BY 1, 2"
        ))?
        .query_map([end], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut totals: BTreeMap<i64, u64> = BTreeMap::new();
    for (_, day, n) in &cells {
        *totals.entry(*day).or_default() += n;
    }
    // Drop links that touch a day not deleted whole, until none does.
    let days = loop {
        let mut chosen: BTreeMap<i64, u64> = BTreeMap::new();
        for (seq, day, n) in &cells {
            if seq.is_some_and(|s| seqs.contains(&s)) {
                *chosen.entry(*day).or_default() += n;
            }
        }
        let partial: BTreeSet<i64> = chosen
            .iter()
            .filter(|(day, n)| totals.get(day) != Some(n))
            .map(|(day, _)| *day)
            .collect();
        if partial.is_empty() {
            break chosen;
        }
        for (seq, day, _) in &cells {
            if let Some(s) = seq.filter(|_| partial.contains(day)) {
                seqs.remove(&s);
            }
        }
    };
    let older: i64 = conn.query_row(
        "SELECT count(*) FROM events WHERE ts < ?1",
        [before],
        |r| r.get(0),
    )?;
    let mut plan = Plan {
        seqs: seqs.into_iter().collect(),
        days,
        kept: 0,
    };
    plan.kept = (older as u64).saturating_sub(plan.events());
    Ok(plan)
}
