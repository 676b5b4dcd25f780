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
    if let Some(p) = check_events_left(link, batch.len(), claims, report) {
        return Some(p);
    }
    if link.kind == PRUNE
        && let Some(p) = check_prune_record(link, pruned_seals)
    {
        return Some(p);
    }
    let key_for_link = match key_for(link, key, report) {
        Ok(Some(k)) => Some(k),
        // Keyed, and no key given: the seal cannot be checked.
        Ok(None) if link.key_id.is_some() => return None,
        Ok(None) => None,
        Err(p) => return Some(p),
    };
    if link.pruned_at.is_some() {
        // Its events are gone; the prune link vouches for its seal.
        return None;
    }
    check_seal(link, batch, prev, key_for_link)
}

/// `first..last` of a link's log ids, for messages.
fn id_range(link: &Link) -> String {
    format!(
        "{}..{}",
        link.first.as_deref().unwrap_or("?"),
        link.last.as_deref().unwrap_or("?")
    )
}

/// The number of events a link still has against what it sealed and the
/// prune records: none once pruned by a later prune link, all otherwise.
fn check_events_left(
    link: &Link,
    have: usize,
    claims: &HashMap<i64, PruneClaim>,
    report: &mut AuditReport,
) -> Option<String> {
    let range = id_range(link);
    match (&link.pruned_at, claims.get(&link.seq)) {
        (Some(at), Some(c)) if *at == c.pruned_at && c.by > link.seq => {
            report.pruned_links += 1;
            (have > 0).then(|| {
                format!(
                    "chain link {} was pruned but still has {have} events",
                    link.seq
                )
            })
        }
        (Some(_), _) => Some(format!(
            "chain link {} (log_id {range}) is marked pruned, but no prune recorded it: its events were deleted outside `prune`",
            link.seq
        )),
        (None, Some(c)) => Some(format!(
            "chain link {} is recorded as pruned by link {} but is not marked pruned",
            link.seq, c.by
        )),
        (None, None) => {
            let have = have as i64;
            if have < link.events {
                Some(format!(
                    "chain link {} (log_id {range}) lost {} of its {} events: deleted",
                    link.seq,
                    link.events - have,
                    link.events
                ))
            } else if have > link.events {
                Some(format!(
                    "chain link {} (log_id {range}) has {} events more than it sealed: inserted",
                    link.seq,
                    have - link.events
                ))
            } else {
                None
            }
        }
    }
}

/// The key a link's seal is checked with: none for an unkeyed link (or a
/// keyed one when no key was given, counted as unchecked); a problem when
/// it was sealed with another key.
fn key_for<'k>(
    link: &Link,
    key: Option<&'k ChainKey>,
    report: &mut AuditReport,
) -> Result<Option<&'k ChainKey>, String> {
    match (&link.key_id, key) {
        (Some(_), None) => {
            report.keyed_links += 1;
            report.unchecked_links += 1;
            Ok(None)
        }
        (Some(id), Some(k)) => {
            report.keyed_links += 1;
            if *id != k.id() {
                return Err(format!(
                    "chain link {} was sealed with another key (key id {id}) than {}",
                    link.seq,
                    ChainKey::ENV
                ));
            }
            Ok(Some(k))
        }
        (None, _) => Ok(None),
    }
}

/// The seal recomputed over the link's events and the previous seal; when
/// it differs, the message says what most likely changed.
fn check_seal(
    link: &Link,
    batch: &[(String, String)],
    prev: &str,
    key: Option<&ChainKey>,
) -> Option<String> {
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
    if chain::link_digest(prev, &seal, key, &mut refs) == link.link {
        return None;
    }
    let ids_match = refs.first().map(|e| e.0) == link.first.as_deref()
        && refs.last().map(|e| e.0) == link.last.as_deref();
    let which = if link.kind == PRUNE {
        "its prune record or a link before it was rewritten"
    } else if ids_match {
        "an event's raw content or log_id, or the link's tenant, was altered"
    } else {
        "its set of log_ids changed (an event was replaced)"
    };
    Some(format!(
        "chain link {} (log_id {}) does not match: {which}",
        link.seq,
        id_range(link)
    ))
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
