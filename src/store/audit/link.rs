//! One link against what it sealed: its events (count and seal), the
//! previous link, its key, and the prune records that vouch for it.

use std::collections::HashMap;

use super::{AuditReport, Link, PruneClaim};
use crate::store::chain::{self, ChainKey, PRUNE, PruneRecord, Seal};

/// Checks one link against its events, the previous seal and the prune
/// records; the problem, if any.
pub(super) fn check_link(
    link: &Link,
    batch: &[(String, String)],
    prev: &str,
    key: Option<&ChainKey>,
    claims: &HashMap<i64, PruneClaim>,
    pruned_seals: &HashMap<i64, (String, i64)>,
    report: &mut AuditReport,
) -> Option<String> {
    let range = format!(
        "{}..{}",
        link.first.as_deref().unwrap_or("?"),
        link.last.as_deref().unwrap_or("?")
    );
    let claim = claims.get(&link.seq);
    match (&link.pruned_at, claim) {
        (Some(at), Some(c)) if *at == c.pruned_at && c.by > link.seq => {
            report.pruned_links += 1;
            if !batch.is_empty() {
                return Some(format!(
                    "chain link {} was pruned but still has {} events",
                    link.seq,
                    batch.len()
                ));
            }
        }
        (Some(_), _) => {
            return Some(format!(
                "chain link {} (log_id {range}) is marked pruned, but no prune recorded it: its events were deleted outside `prune`",
                link.seq
            ));
        }
        (None, Some(c)) => {
            return Some(format!(
                "chain link {} is recorded as pruned by link {} but is not marked pruned",
                link.seq, c.by
            ));
        }
        (None, None) => {
            let have = batch.len() as i64;
            if have < link.events {
                return Some(format!(
                    "chain link {} (log_id {range}) lost {} of its {} events: deleted",
                    link.seq,
                    link.events - have,
                    link.events
                ));
            }
            if have > link.events {
                return Some(format!(
                    "chain link {} (log_id {range}) has {} events more than it sealed: inserted",
                    link.seq,
                    have - link.events
                ));
            }
        }
    }
    if link.kind == PRUNE
        && let Some(p) = check_prune_record(link, pruned_seals)
    {
        return Some(p);
    }
    // The seal itself.
    let key_for_link = match (&link.key_id, key) {
        (Some(_), None) => {
            report.keyed_links += 1;
            report.unchecked_links += 1;
            return None;
        }
        (Some(id), Some(k)) => {
            report.keyed_links += 1;
            if *id != k.id() {
                return Some(format!(
                    "chain link {} was sealed with another key (key id {id}) than {}",
                    link.seq,
                    ChainKey::ENV
                ));
            }
            Some(k)
        }
        (None, _) => None,
    };
    if link.pruned_at.is_some() {
        // Its events are gone; the prune link vouches for its seal.
        return None;
    }
    let seal = Seal {
        version: link.version,
        kind: &link.kind,
        tenant: &link.tenant,
        detail: link.detail.as_deref(),
    };
    let mut refs: Vec<(&str, &str)> = batch
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    if chain::link_digest(prev, &seal, key_for_link, &mut refs) != link.link {
        let ids_match = refs.first().map(|e| e.0) == link.first.as_deref()
            && refs.last().map(|e| e.0) == link.last.as_deref();
        let which = if link.kind == PRUNE {
            "its prune record or a link before it was rewritten"
        } else if ids_match {
            "an event's raw content or log_id, or the link's tenant, was altered"
        } else {
            "its set of log_ids changed (an event was replaced)"
        };
        return Some(format!(
            "chain link {} (log_id {range}) does not match: {which}",
            link.seq
        ));
    }
    None
}

/// A prune link's record must match the links it names: each exists before
/// it and is marked pruned at the recorded time, the event count adds up,
/// and the digest of their seals is the recorded one.
fn check_prune_record(link: &Link, pruned_seals: &HashMap<i64, (String, i64)>) -> Option<String> {
    let record: PruneRecord = serde_json::from_str(link.detail.as_deref()?).ok()?;
    let seqs = chain::parse_ranges(&record.links)?;
    let mut seals = Vec::with_capacity(seqs.len());
    let mut events = 0;
    for s in &seqs {
        match pruned_seals.get(s) {
            Some((seal, n)) => {
                seals.push(seal.as_str());
                events += n;
            }
            None => {
                return Some(format!(
                    "prune link {} records link {s}, which is missing or was not pruned",
                    link.seq
                ));
            }
        }
    }
    if events != record.events || chain::removed_digest(seals.into_iter()) != record.removed_digest
    {
        return Some(format!(
            "prune link {} does not match the links it records (count or seals changed)",
            link.seq
        ));
    }
    None
}
