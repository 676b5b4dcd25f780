//! The integrity chain: every batch of newly archived events, and every
//! prune, is sealed by a link that hashes the previous link with what the
//! batch holds. `audit` walks it back; this module computes seals.
//!
//! Version 1 links (archives made before schema 3) hash the previous link
//! and, per event in `log_id` order, its id and the SHA-256 of its raw bytes.
//! Version 2 links also seal their tenant and kind, and are keyed when
//! `AUTH0_ARCHIVE_CHAIN_KEY` is set: HMAC-SHA-256 instead of SHA-256, so
//! someone holding only the file cannot recompute them. The typed columns
//! are not hashed: they are derived from `raw`, and `audit` derives them
//! again and compares.

use std::fmt;

use hmac::{KeyInit, Mac};
use rusqlite::{Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The link before the first one.
pub const GENESIS: &str = "auth0-archive chain v1";
/// The version new links are written with.
pub const VERSION: i64 = 2;
/// Link kinds (`chain.kind`).
pub const EVENTS: &str = "events";
pub const PRUNE: &str = "prune";

/// The key of a keyed chain, from the environment only: it is never
/// stored, printed or logged.
pub struct ChainKey {
    secret: Secret,
    /// `id()`, computed once: every link written or checked names it.
    id: String,
}

impl ChainKey {
    pub const ENV: &'static str = "AUTH0_ARCHIVE_CHAIN_KEY";

    /// The key the environment holds, if any; an empty one is a mistake.
    pub fn from_env() -> Result<Option<Self>> {
        match std::env::var(Self::ENV) {
            Ok(v) if v.trim().is_empty() => Err(Error::usage(format!(
                "{} is set but empty: unset it or give the chain key",
                Self::ENV
            ))),
            Ok(v) => Ok(Some(ChainKey::new(Secret::new(v)))),
            Err(_) => Ok(None),
        }
    }

    fn new(secret: Secret) -> Self {
        let mut mac = mac_of(&secret);
        mac.update(b"auth0-archive chain key id");
        let id = hex::encode(mac.finalize().into_bytes())[..16].to_string();
        ChainKey { secret, id }
    }

    /// Names the key without revealing it: the first 16 hex digits of a MAC
    /// of a fixed text, stored with each keyed link.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn mac(&self) -> hmac::Hmac<Sha256> {
        mac_of(&self.secret)
    }
}

fn mac_of(secret: &Secret) -> hmac::Hmac<Sha256> {
    // HMAC takes a key of any length.
    hmac::Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainKey(redacted)")
    }
}

/// SHA-256, or HMAC-SHA-256 under a key.
enum Sealer {
    Plain(Sha256),
    Keyed(hmac::Hmac<Sha256>),
}

impl Sealer {
    fn new(key: Option<&ChainKey>) -> Self {
        match key {
            Some(k) => Sealer::Keyed(k.mac()),
            None => Sealer::Plain(Sha256::new()),
        }
    }
    fn update(&mut self, bytes: &[u8]) {
        match self {
            Sealer::Plain(h) => h.update(bytes),
            Sealer::Keyed(m) => m.update(bytes),
        }
    }
    fn finish(self) -> String {
        match self {
            Sealer::Plain(h) => hex::encode(h.finalize()),
            Sealer::Keyed(m) => hex::encode(m.finalize().into_bytes()),
        }
    }
}

/// What one link seals, as stored in its row.
pub struct Seal<'a> {
    pub version: i64,
    pub kind: &'a str,
    pub tenant: &'a str,
    /// For a prune link: its record, sealed as written.
    pub detail: Option<&'a str>,
}

/// The link value after `prev` for `events` (log_id, raw), sorted here by
/// `log_id`. Version 1 ignores the kind, tenant, detail and key.
pub fn link_digest(
    prev: &str,
    seal: &Seal<'_>,
    key: Option<&ChainKey>,
    events: &mut [(&str, &str)],
) -> String {
    events.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut s = Sealer::new(if seal.version >= 2 { key } else { None });
    s.update(prev.as_bytes());
    if seal.version >= 2 {
        for part in [
            b"\0v2\0".as_slice(),
            seal.kind.as_bytes(),
            b"\0",
            seal.tenant.as_bytes(),
        ] {
            s.update(part);
        }
        s.update(b"\0");
        s.update(seal.detail.unwrap_or_default().as_bytes());
        s.update(b"\0");
    }
    for (log_id, raw) in events.iter() {
        s.update(log_id.as_bytes());
        s.update(&[0u8]);
        s.update(&Sha256::digest(raw.as_bytes()));
    }
    s.finish()
}

/// The sequence number the next link will get. Events are written with it
/// before the link itself, in the same transaction.
pub fn next_seq(tx: &Transaction<'_>) -> Result<i64> {
    Ok(
        tx.query_row("SELECT coalesce(max(seq), 0) + 1 FROM chain", [], |r| {
            r.get(0)
        })?,
    )
}

/// The newest link: its number and value. An archive's chain head is what
/// an outside record (`sync --head-file`, `verify --expect-head`) anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub link: String,
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.link)
    }
}

impl Head {
    /// Reads `SEQ:LINK` as printed.
    pub fn parse(text: &str) -> Result<Head> {
        let bad = || {
            Error::usage(format!(
                "bad chain head {:?}: expected SEQ:LINK as printed by sync, status or verify",
                text.chars().take(80).collect::<String>()
            ))
        };
        // A `--head-file` line is `HEAD<TAB>TIME<TAB>TENANT`.
        let first = text.split_whitespace().next().unwrap_or_default();
        let (seq, link) = first.split_once(':').ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        let ok = link.len() == 64 && link.bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(bad());
        }
        Ok(Head {
            seq,
            link: link.to_ascii_lowercase(),
        })
    }
}

/// The chain head, `None` for an archive with no link yet.
pub fn head(conn: &Connection) -> Result<Option<Head>> {
    Ok(conn
        .query_row(
            "SELECT seq, link FROM chain ORDER BY seq DESC LIMIT 1",
            [],
            |r| {
                Ok(Head {
                    seq: r.get(0)?,
                    link: r.get(1)?,
                })
            },
        )
        .optional()?)
}

fn last_link(conn: &Connection) -> Result<String> {
    Ok(head(conn)?.map_or_else(|| GENESIS.to_string(), |h| h.link))
}

/// The key id of the newest keyed link, if the chain is keyed.
pub fn key_id_in_use(conn: &Connection) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT key_id FROM chain WHERE key_id IS NOT NULL ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?)
}

/// Refuses to extend a keyed chain without its key, or with another key:
/// the links written would not verify under the chain's key.
pub fn check_key(conn: &Connection, key: Option<&ChainKey>) -> Result<()> {
    match (key_id_in_use(conn)?, key) {
        (Some(_), None) => Err(Error::usage(format!(
            "this archive's integrity chain is keyed: set {} to its key to add to it",
            ChainKey::ENV
        ))),
        (Some(id), Some(k)) if id != k.id() => Err(Error::usage(format!(
            "{} is not the key this archive's chain was sealed with (key id {id})",
            ChainKey::ENV
        ))),
        _ => Ok(()),
    }
}

/// Appends link `seq` for `events` (log_id, raw), which were just inserted
/// with `chain_seq = seq`.
pub fn seal(
    tx: &Transaction<'_>,
    tenant: &str,
    seq: i64,
    key: Option<&ChainKey>,
    events: &mut [(&str, &str)],
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let prev = last_link(tx)?;
    let seal = Seal {
        version: VERSION,
        kind: EVENTS,
        tenant,
        detail: None,
    };
    let link = link_digest(&prev, &seal, key, events);
    insert_link(tx, seq, &seal, events, &link, key)
}

fn insert_link(
    tx: &Transaction<'_>,
    seq: i64,
    seal: &Seal<'_>,
    events: &[(&str, &str)],
    link: &str,
    key: Option<&ChainKey>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO chain (seq, tenant, events, first_log_id, last_log_id, link, created_at,
                            version, kind, detail, key_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(rusqlite::params![
        seq,
        seal.tenant,
        events.len() as i64,
        events.first().map(|e| e.0),
        events.last().map(|e| e.0),
        link,
        crate::time::now_iso(),
        seal.version,
        seal.kind,
        seal.detail,
        key.map(ChainKey::id),
    ])?;
    Ok(())
}

/// What a prune link records: the links it emptied (as `1-5,9` ranges), the
/// events that went, and a SHA-256 over those links' seals in order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PruneRecord {
    pub links: String,
    pub events: i64,
    pub removed_digest: String,
    /// The `pruned_at` every emptied link carries.
    pub pruned_at: String,
    /// The cut-off asked for, for the reader (`None` when recorded at upgrade).
    pub before: Option<String>,
}

/// Seq ranges (`1-5,9`) of sorted, distinct numbers.
pub fn ranges(seqs: &[i64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < seqs.len() {
        let mut j = i;
        while j + 1 < seqs.len() && seqs[j + 1] == seqs[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            seqs[i].to_string()
        } else {
            format!("{}-{}", seqs[i], seqs[j])
        });
        i = j + 1;
    }
    out.join(",")
}

/// The numbers `ranges` wrote; `None` if the text is not such a list.
pub fn parse_ranges(text: &str) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    for part in text.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (i64, i64) = (a.parse().ok()?, b.parse().ok()?);
                if b < a || b - a > 100_000_000 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

/// SHA-256 over the seals of the links a prune emptied, in seq order.
pub fn removed_digest<'a>(links: impl Iterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for link in links {
        h.update(link.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// Marks `seqs` (links whose events were just deleted) pruned and appends
/// the prune link that records it, in the caller's transaction.
pub fn seal_prune(
    tx: &Transaction<'_>,
    seqs: &[i64],
    events: i64,
    before: Option<&str>,
    key: Option<&ChainKey>,
) -> Result<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let pruned_at = crate::time::now_iso();
    {
        let mut mark = tx.prepare_cached("UPDATE chain SET pruned_at = ?2 WHERE seq = ?1")?;
        for &seq in seqs {
            mark.execute(rusqlite::params![seq, pruned_at])?;
        }
    }
    append_prune_link(tx, seqs, events, &pruned_at, before, key)
}

/// Appends the prune link recording `seqs` (already marked pruned at
/// `pruned_at`): their ranges, event count and the digest of their seals.
fn append_prune_link(
    tx: &Transaction<'_>,
    seqs: &[i64],
    events: i64,
    pruned_at: &str,
    before: Option<&str>,
    key: Option<&ChainKey>,
) -> Result<()> {
    let mut read = tx.prepare_cached("SELECT link FROM chain WHERE seq = ?1")?;
    let links: Vec<String> = seqs
        .iter()
        .map(|s| read.query_row([s], |r| r.get(0)))
        .collect::<rusqlite::Result<_>>()?;
    let record = PruneRecord {
        links: ranges(seqs),
        events,
        removed_digest: removed_digest(links.iter().map(String::as_str)),
        pruned_at: pruned_at.to_string(),
        before: before.map(str::to_string),
    };
    let detail = serde_json::to_string(&record)
        .map_err(|e| Error::runtime(format!("cannot record the prune: {e}")))?;
    let seal = Seal {
        version: VERSION,
        kind: PRUNE,
        tenant: "",
        detail: Some(&detail),
    };
    let seq = next_seq(tx)?;
    let link = link_digest(&last_link(tx)?, &seal, key, &mut []);
    insert_link(tx, seq, &seal, &[], &link, key)
}

/// Schema 3 upgrade: links an older `prune` marked pruned, with no record,
/// get one prune link that adopts them as they are (recorded at upgrade, so
/// the chain after the upgrade vouches for them from then on).
pub fn adopt_unrecorded_prunes(tx: &Transaction<'_>) -> Result<()> {
    let mut stmt = tx.prepare(
        "SELECT seq, pruned_at, events FROM chain WHERE pruned_at IS NOT NULL ORDER BY seq",
    )?;
    let rows: Vec<(i64, String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    if rows.is_empty() {
        return Ok(());
    }
    // Older prunes set one time per run; adopt each run's links together.
    let mut by_time: std::collections::BTreeMap<&str, (Vec<i64>, i64)> = Default::default();
    for (seq, at, events) in &rows {
        let entry = by_time.entry(at.as_str()).or_default();
        entry.0.push(*seq);
        entry.1 += events;
    }
    for (at, (seqs, events)) in by_time {
        append_prune_link(tx, &seqs, events, at, None, None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_trip() {
        let seqs = vec![1, 2, 3, 5, 7, 8];
        assert_eq!(ranges(&seqs), "1-3,5,7-8");
        assert_eq!(parse_ranges("1-3,5,7-8").unwrap(), seqs);
        assert!(parse_ranges("3-1").is_none());
        assert!(parse_ranges("x").is_none());
    }

    #[test]
    fn a_keyed_link_differs_from_a_plain_one_and_v1_ignores_the_tenant() {
        let key = ChainKey::new(Secret::new("k1".to_string()));
        let other = ChainKey::new(Secret::new("k2".to_string()));
        let v2 = |tenant, key| {
            let seal = Seal {
                version: 2,
                kind: EVENTS,
                tenant,
                detail: None,
            };
            link_digest(GENESIS, &seal, key, &mut [("1", "{}")])
        };
        assert_ne!(v2("a", None), v2("b", None));
        assert_ne!(v2("a", None), v2("a", Some(&key)));
        assert_ne!(v2("a", Some(&key)), v2("a", Some(&other)));
        let v1 = |tenant| {
            let seal = Seal {
                version: 1,
                kind: EVENTS,
                tenant,
                detail: None,
            };
            link_digest(GENESIS, &seal, Some(&key), &mut [("1", "{}")])
        };
        assert_eq!(v1("a"), v1("b"));
        assert_ne!(key.id(), other.id());
        assert_eq!(format!("{key:?}"), "ChainKey(redacted)");
    }

    #[test]
    fn heads_parse_as_printed() {
        let h = Head {
            seq: 7,
            link: "ab".repeat(32),
        };
        assert_eq!(Head::parse(&h.to_string()).unwrap(), h);
        assert_eq!(Head::parse("7:xyz").unwrap_err().exit_code(), 2);
    }
}
