//! Walking the integrity chain back (`verify`): every link's seal is
//! recomputed, every event's typed columns are derived again from its `raw`
//! with the normalizer and compared, every pruned link must be recorded by a
//! later prune link, and an outside anchor (a recorded head) must still be
//! in the chain. The first problem in chain order is reported, naming the
//! event and column where there is one.

use std::collections::HashMap;

use rusqlite::Connection;
use serde::Serialize;

mod columns;
mod link;
mod row;

use super::chain::{self, ChainKey, Head, PRUNE, PruneRecord};
use super::raw::RawCodec;
use crate::error::Result;
use crate::event::{COLUMNS, Source};
use link::check_link;
use row::{altered_column, altered_message, unreadable_message};

/// What `verify` found.
#[derive(Debug, Serialize, Default)]
pub struct AuditReport {
    pub links: u64,
    pub events: u64,
    pub pruned_links: u64,
    /// The chain head (`SEQ:LINK`), to record outside the file.
    pub head: Option<String>,
    /// Links sealed with a key; checked only when the key is given.
    pub keyed_links: u64,
    /// Keyed links whose seal could not be checked (no key given).
    pub unchecked_links: u64,
    /// The first problem, in chain order; `None` when the archive is intact.
    pub problem: Option<String>,
}

struct Link {
    seq: i64,
    tenant: String,
    events: i64,
    first: Option<String>,
    last: Option<String>,
    link: String,
    pruned_at: Option<String>,
    version: i64,
    kind: String,
    detail: Option<String>,
    key_id: Option<String>,
}

/// A pruned link as its prune link recorded it.
struct PruneClaim {
    by: i64,
    pruned_at: String,
}

/// Recomputes the whole chain. Streams the events in `chain_seq` order, so
/// memory holds one link's events at a time.
pub fn audit(
    conn: &Connection,
    key: Option<&ChainKey>,
    expect: Option<&Head>,
) -> Result<AuditReport> {
    let mut report = AuditReport {
        head: chain::head(conn)?.map(|h| h.to_string()),
        ..AuditReport::default()
    };
    // An archive not yet upgraded to schema 3 (verify opens read-only, so
    // it is checked as it is): version 1 links only, and prunes without
    // records, which that version could not check either.
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let legacy = version < 3;
    let (claims, problem) = if legacy {
        (legacy_prune_claims(conn)?, None)
    } else {
        prune_claims(conn)?
    };
    if let Some(p) = problem {
        return Ok(found(report, p));
    }
    if let Some(p) = walk_on_both_cores(conn, key, &claims, legacy, &mut report)? {
        return Ok(found(report, p));
    }
    // Once keyed, a chain stays keyed (sync and import refuse to extend it
    // without the key), so a head without the key's seal means the links
    // after the last keyed one were rewritten by someone without it.
    if let Some(k) = key {
        let head_key: Option<Option<String>> = conn
            .query_row(
                "SELECT key_id FROM chain ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .ok();
        if let Some(id) = head_key
            && id.as_deref() != Some(k.id())
        {
            let head = report.head.clone().unwrap_or_default();
            return Ok(found(
                report,
                format!(
                    "the chain head {head} is not sealed with the key: the chain was rewritten without it, or written without {}",
                    ChainKey::ENV
                ),
            ));
        }
    }
    if let Some(h) = expect {
        let at: Option<String> = conn
            .query_row("SELECT link FROM chain WHERE seq = ?1", [h.seq], |r| {
                r.get(0)
            })
            .ok();
        if at.as_deref() != Some(h.link.as_str()) {
            return Ok(found(
                report,
                format!(
                    "the chain no longer contains the expected head {h}: it was truncated, rolled back or rewritten"
                ),
            ));
        }
    }
    Ok(report)
}

/// Which links the prune links say they emptied.
fn prune_claims(conn: &Connection) -> Result<(HashMap<i64, PruneClaim>, Option<String>)> {
    let mut claims = HashMap::new();
    let mut stmt = conn.prepare("SELECT seq, detail FROM chain WHERE kind = ?1 ORDER BY seq")?;
    let rows: Vec<(i64, Option<String>)> = stmt
        .query_map([PRUNE], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (seq, detail) in rows {
        let record: Option<PruneRecord> = detail.and_then(|d| serde_json::from_str(&d).ok());
        let seqs = record.as_ref().and_then(|r| chain::parse_ranges(&r.links));
        let (Some(record), Some(seqs)) = (record, seqs) else {
            return Ok((
                claims,
                Some(format!("prune link {seq} has an unreadable record")),
            ));
        };
        for s in seqs {
            claims.insert(
                s,
                PruneClaim {
                    by: seq,
                    pruned_at: record.pruned_at.clone(),
                },
            );
        }
    }
    Ok((claims, None))
}

/// Before schema 3 a pruned link had no record: take it at its word.
fn legacy_prune_claims(conn: &Connection) -> Result<HashMap<i64, PruneClaim>> {
    let mut stmt = conn.prepare("SELECT seq, pruned_at FROM chain WHERE pruned_at IS NOT NULL")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut claims = HashMap::new();
    for row in rows {
        let (seq, pruned_at) = row?;
        claims.insert(
            seq,
            PruneClaim {
                by: i64::MAX,
                pruned_at,
            },
        );
    }
    Ok(claims)
}

/// The walk, with the column check of the links after a split point done
/// on a second thread (see `columns`). The first problem in chain order
/// wins; within one link the walk's (seals, insertions) come first.
fn walk_on_both_cores(
    conn: &Connection,
    key: Option<&ChainKey>,
    claims: &HashMap<i64, PruneClaim>,
    legacy: bool,
    report: &mut AuditReport,
) -> Result<Option<String>> {
    let ends = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0));
    let (first, last) = (
        ends("SELECT min(seq) FROM chain")?,
        ends("SELECT max(seq) FROM chain")?,
    );
    let path = conn
        .path()
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from);
    let split = match (first, last, path) {
        // The walk also hashes every row and reads the chain: it keeps
        // the columns of the first three tenths.
        (Some(first), Some(last), Some(path)) if last > first => {
            Some((first + (last - first) * 3 / 10, last, path))
        }
        _ => None,
    };
    let checked_up_to = split.as_ref().map_or(i64::MAX, |s| s.0);
    let (walked, elsewhere) = std::thread::scope(|scope| {
        let worker = split.as_ref().map(|(after, upto, path)| {
            scope.spawn(move || columns::first_altered(path, *after, *upto))
        });
        let walked = walk(conn, key, claims, legacy, report, checked_up_to);
        let elsewhere = worker.map(|w| w.join().expect("the column check does not panic"));
        (walked, elsewhere)
    });
    let walked = walked?;
    let elsewhere = elsewhere.transpose()?.flatten();
    Ok(match (walked, elsewhere) {
        (Some((at, p)), Some((seq, _))) if at <= seq => Some(p),
        (_, Some((_, p))) => Some(p),
        (walked, None) => walked.map(|(_, p)| p),
    })
}

/// The chain walk: every link's seal, every row's link and tenant, and the
/// columns of rows whose link is at most `columns_up_to`. The problem found
/// comes with the link it was found at.
fn walk(
    conn: &Connection,
    key: Option<&ChainKey>,
    claims: &HashMap<i64, PruneClaim>,
    legacy: bool,
    report: &mut AuditReport,
    columns_up_to: i64,
) -> Result<Option<(i64, String)>> {
    let mut links_stmt = conn.prepare(if legacy {
        "SELECT seq, tenant, events, first_log_id, last_log_id, link, pruned_at,
                1, 'events', NULL, NULL
         FROM chain ORDER BY seq"
    } else {
        "SELECT seq, tenant, events, first_log_id, last_log_id, link, pruned_at,
                version, kind, detail, key_id
         FROM chain ORDER BY seq"
    })?;
    let mut links = links_stmt.query([])?;
    let names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
    let mut ev_stmt = conn.prepare(&format!(
        "SELECT chain_seq, {} FROM events WHERE chain_seq IS NOT NULL ORDER BY chain_seq",
        names.join(", ")
    ))?;
    let codec = RawCodec::load(conn)?;
    let mut events = EventCursor::new(ev_stmt.query([])?, &codec, columns_up_to);

    let mut prev = chain::GENESIS.to_string();
    // Seals of pruned links, for the prune link that recorded them.
    let mut pruned_seals: HashMap<i64, (String, i64)> = HashMap::new();
    let mut batch: Vec<(String, String)> = Vec::new();
    while let Some(l) = links.next()? {
        let link = read_link(l)?;
        report.links += 1;
        let first_altered = match link_events(&link, &mut events, &mut batch)? {
            Ok(first_altered) => first_altered,
            Err(problem) => return Ok(Some(problem)),
        };
        report.events += batch.len() as u64;
        // Events inserted into or deleted from the link explain a column
        // mismatch better than the mismatch itself: check the link first.
        if let Some(p) = check_link(&link, &batch, &prev, key, claims, &pruned_seals, report) {
            return Ok(Some((link.seq, p)));
        }
        if let Some(p) = first_altered {
            return Ok(Some((link.seq, p)));
        }
        if link.pruned_at.is_some() {
            pruned_seals.insert(link.seq, (link.link.clone(), link.events));
        }
        prev = link.link;
    }
    if let Some(r) = events.next()? {
        return Ok(Some((r.seq, inserted_message(&r))));
    }
    unsealed_event(conn)
}

fn read_link(l: &rusqlite::Row<'_>) -> rusqlite::Result<Link> {
    Ok(Link {
        seq: l.get(0)?,
        tenant: l.get(1)?,
        events: l.get(2)?,
        first: l.get(3)?,
        last: l.get(4)?,
        link: l.get(5)?,
        pruned_at: l.get(6)?,
        version: l.get(7)?,
        kind: l.get(8)?,
        detail: l.get(9)?,
        key_id: l.get(10)?,
    })
}

/// Reads `link`'s events into `batch` as (log_id, raw). The outer error
/// is a failed read; the inner one a problem that ends the walk (an event
/// claiming a link that does not exist, a `raw` that does not decode).
/// Otherwise it gives the first altered column, if any.
fn link_events(
    link: &Link,
    events: &mut EventCursor<'_, '_>,
    batch: &mut Vec<(String, String)>,
) -> Result<std::result::Result<Option<String>, (i64, String)>> {
    batch.clear();
    let mut first_altered: Option<String> = None;
    while let Some(row) = events.next_up_to(link.seq)? {
        // An event of a smaller seq that no link took was inserted.
        if row.seq < link.seq {
            return Ok(Err((row.seq, inserted_message(&row))));
        }
        if let Some(why) = &row.unreadable {
            return Ok(Err((row.seq, unreadable_message(&row.id, row.seq, why))));
        }
        let altered = row
            .altered
            .or((row.tenant != link.tenant).then_some("tenant"));
        if let (Some(column), None) = (altered, &first_altered) {
            first_altered = Some(altered_message(&row.id, row.seq, column));
        }
        batch.push((row.id, row.raw));
    }
    Ok(Ok(first_altered))
}

fn inserted_message(row: &Row) -> String {
    format!(
        "event {} claims chain link {}, which does not exist: it was inserted",
        row.id, row.seq
    )
}

/// An event outside every link was written by something else.
fn unsealed_event(conn: &Connection) -> Result<Option<(i64, String)>> {
    let outside: Option<String> = conn
        .query_row(
            "SELECT log_id FROM events WHERE chain_seq IS NULL LIMIT 1",
            [],
            |r| r.get(0),
        )
        .ok();
    Ok(outside.map(|id| {
        (
            i64::MAX,
            format!(
                "event {id} is not sealed by any chain link: it was inserted outside auth0-archive"
            ),
        )
    }))
}

/// The sealed events in `chain_seq` order, decoded and checked against
/// their `raw` as they are read, with one row of look-ahead.
struct EventCursor<'stmt, 'codec> {
    rows: rusqlite::Rows<'stmt>,
    codec: &'codec RawCodec,
    /// Rows of links after this are column-checked on another thread.
    columns_up_to: i64,
    /// The row read ahead that belongs to a later link.
    ahead: Option<Row>,
    raw_at: usize,
    id_at: usize,
    tenant_at: usize,
}

impl<'stmt, 'codec> EventCursor<'stmt, 'codec> {
    fn new(rows: rusqlite::Rows<'stmt>, codec: &'codec RawCodec, columns_up_to: i64) -> Self {
        // Column 0 is chain_seq; COLUMNS follow.
        let at = |source: Source| 1 + COLUMNS.iter().position(|c| c.source == source).unwrap_or(0);
        EventCursor {
            rows,
            codec,
            columns_up_to,
            ahead: None,
            raw_at: at(Source::Raw),
            id_at: at(Source::LogId),
            tenant_at: at(Source::Tenant),
        }
    }

    /// The next row if its seq is at most `seq`; a later one is kept.
    fn next_up_to(&mut self, seq: i64) -> Result<Option<Row>> {
        match self.next()? {
            Some(row) if row.seq > seq => {
                self.ahead = Some(row);
                Ok(None)
            }
            row => Ok(row),
        }
    }

    fn next(&mut self) -> Result<Option<Row>> {
        if let Some(row) = self.ahead.take() {
            return Ok(Some(row));
        }
        let Some(r) = self.rows.next()? else {
            return Ok(None);
        };
        let id: String = r.get(self.id_at)?;
        let seq: i64 = r.get(0)?;
        // A stored form that no longer decodes was altered; its text is
        // unknown, so it is reported as it is.
        let (raw, unreadable) = match self.codec.text(r.get_ref(self.raw_at)?) {
            Ok(text) => (text.into_owned(), None),
            Err(e) => (String::new(), Some(e.to_string())),
        };
        let altered = match unreadable {
            None if seq <= self.columns_up_to => altered_column(r, &id, &raw)?,
            None => None,
            Some(_) => Some("raw"),
        };
        Ok(Some(Row {
            seq,
            id,
            raw,
            unreadable,
            // The tenant is compared with the link's once the link is known.
            tenant: r.get(self.tenant_at)?,
            altered,
        }))
    }
}

/// One archived event as the walk reads it.
struct Row {
    seq: i64,
    id: String,
    raw: String,
    /// Why the stored `raw` could not be decoded, when it could not.
    unreadable: Option<String>,
    tenant: String,
    /// The first column (other than `tenant`) that does not match `raw`.
    altered: Option<&'static str>,
}

fn found(mut report: AuditReport, problem: String) -> AuditReport {
    report.problem = Some(problem);
    report
}
