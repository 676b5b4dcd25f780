//! The integrity chain: every batch of newly archived events is sealed by a
//! link that hashes the previous link with the batch's `log_id`s and raw
//! bytes. `verify` recomputes the chain and names the first link whose
//! events were altered, inserted or deleted since they were archived.

use rusqlite::{Connection, OptionalExtension, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Result;

/// The link before the first one.
const GENESIS: &str = "auth0-archive chain v1";

/// The sequence number the next link will get. Events are written with it
/// before the link itself, in the same transaction.
pub fn next_seq(tx: &Transaction<'_>) -> Result<i64> {
    Ok(
        tx.query_row("SELECT coalesce(max(seq), 0) + 1 FROM chain", [], |r| {
            r.get(0)
        })?,
    )
}

fn last_link(conn: &Connection) -> Result<String> {
    Ok(conn
        .query_row(
            "SELECT link FROM chain ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_else(|| GENESIS.to_string()))
}

/// `SHA-256(prev || Σ log_id || 0x00 || SHA-256(raw))` over events sorted by
/// `log_id`, as lowercase hex.
pub fn link_digest(prev: &str, events: &mut [(&str, &str)]) -> String {
    events.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    for (log_id, raw) in events.iter() {
        h.update(log_id.as_bytes());
        h.update([0u8]);
        h.update(Sha256::digest(raw.as_bytes()));
    }
    hex::encode(h.finalize())
}

/// Appends link `seq` for `events` (log_id, raw), which were just inserted
/// with `chain_seq = seq`.
pub fn seal(
    tx: &Transaction<'_>,
    tenant: &str,
    seq: i64,
    events: &mut [(&str, &str)],
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let prev = last_link(tx)?;
    let link = link_digest(&prev, events);
    tx.prepare_cached(
        "INSERT INTO chain (seq, tenant, events, first_log_id, last_log_id, link, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(rusqlite::params![
        seq,
        tenant,
        events.len() as i64,
        events.first().map(|e| e.0),
        events.last().map(|e| e.0),
        link,
        crate::time::now_iso()
    ])?;
    Ok(())
}

/// What `verify` found.
#[derive(Debug, Serialize, Default)]
pub struct VerifyReport {
    pub links: u64,
    pub events: u64,
    pub pruned_links: u64,
    /// The first problem, in chain order; `None` when the archive is intact.
    pub problem: Option<String>,
}

struct Link {
    seq: i64,
    events: i64,
    first: Option<String>,
    last: Option<String>,
    link: String,
    pruned: bool,
}

/// Recomputes the whole chain. Streams the events in `chain_seq` order, so
/// memory holds one link's events at a time.
pub fn verify(conn: &Connection) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let outside: Option<String> = conn
        .query_row(
            "SELECT log_id FROM events WHERE chain_seq IS NULL LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let mut links_stmt = conn.prepare(
        "SELECT seq, events, first_log_id, last_log_id, link, pruned_at IS NOT NULL FROM chain ORDER BY seq",
    )?;
    let links = links_stmt.query_map([], |r| {
        Ok(Link {
            seq: r.get(0)?,
            events: r.get(1)?,
            first: r.get(2)?,
            last: r.get(3)?,
            link: r.get(4)?,
            pruned: r.get(5)?,
        })
    })?;
    let mut ev_stmt = conn.prepare(
        "SELECT chain_seq, log_id, raw FROM events WHERE chain_seq IS NOT NULL ORDER BY chain_seq",
    )?;
    let mut rows = ev_stmt.query([])?;
    let mut pending: Option<(i64, String, String)> = None;
    let mut prev = GENESIS.to_string();
    let mut batch: Vec<(String, String)> = Vec::new();

    for link in links {
        let link = link?;
        report.links += 1;
        batch.clear();
        // Collect this link's events; any event of a smaller seq that was not
        // consumed belongs to no link: it was inserted.
        loop {
            let row = match pending.take() {
                Some(r) => Some(r),
                None => rows
                    .next()?
                    .map(|r| Ok::<_, rusqlite::Error>((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .transpose()?,
            };
            match row {
                Some((seq, id, raw)) if seq == link.seq => batch.push((id, raw)),
                Some((seq, id, _)) if seq < link.seq => {
                    return Ok(found(
                        report,
                        format!(
                            "event {id} claims chain link {seq}, which does not exist: it was inserted"
                        ),
                    ));
                }
                Some(other) => {
                    pending = Some(other);
                    break;
                }
                None => break,
            }
        }
        report.events += batch.len() as u64;
        let range = format!(
            "{}..{}",
            link.first.as_deref().unwrap_or("?"),
            link.last.as_deref().unwrap_or("?")
        );
        if link.pruned {
            report.pruned_links += 1;
            if !batch.is_empty() {
                return Ok(found(
                    report,
                    format!(
                        "chain link {} was pruned but still has {} events",
                        link.seq,
                        batch.len()
                    ),
                ));
            }
        } else {
            let have = batch.len() as i64;
            if have < link.events {
                return Ok(found(
                    report,
                    format!(
                        "chain link {} (log_id {range}) lost {} of its {} events: deleted",
                        link.seq,
                        link.events - have,
                        link.events
                    ),
                ));
            }
            if have > link.events {
                return Ok(found(
                    report,
                    format!(
                        "chain link {} (log_id {range}) has {} events more than it sealed: inserted",
                        link.seq,
                        have - link.events
                    ),
                ));
            }
            let mut refs: Vec<(&str, &str)> = batch
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            if link_digest(&prev, &mut refs) != link.link {
                let which = first_mismatch(&refs, &link);
                return Ok(found(
                    report,
                    format!(
                        "chain link {} (log_id {range}) does not match: {which}",
                        link.seq
                    ),
                ));
            }
        }
        prev = link.link;
    }
    if let Some((seq, id, _)) = pending.or(rows
        .next()?
        .map(|r| Ok::<_, rusqlite::Error>((r.get(0)?, r.get(1)?, r.get(2)?)))
        .transpose()?)
    {
        return Ok(found(
            report,
            format!("event {id} claims chain link {seq}, which does not exist: it was inserted"),
        ));
    }
    if let Some(id) = outside {
        return Ok(found(
            report,
            format!(
                "event {id} is not sealed by any chain link: it was inserted outside auth0-archive"
            ),
        ));
    }
    Ok(report)
}

fn first_mismatch(events: &[(&str, &str)], link: &Link) -> String {
    let ids_match = events.first().map(|e| e.0) == link.first.as_deref()
        && events.last().map(|e| e.0) == link.last.as_deref();
    if ids_match {
        "an event's raw content or log_id was altered".to_string()
    } else {
        "its set of log_ids changed (an event was replaced)".to_string()
    }
}

fn found(mut report: VerifyReport, problem: String) -> VerifyReport {
    report.problem = Some(problem);
    report
}
