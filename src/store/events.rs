//! Writing a page: its events, its rejects, the new checkpoint and the run's
//! counters go into one transaction, so a crash at any instant leaves either
//! the whole page with its checkpoint or neither.

use std::sync::OnceLock;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use crate::auth0::client::RequestCounters;
use crate::error::Result;
use crate::event::{COLUMNS, EventRow, Page, Source};
use crate::time::now_iso;

use super::chain;
use super::raw::RawCodec;
use super::slice_progress::{self, Slice, SliceProgress};

/// What committing one page did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PageOutcome {
    pub inserted: u64,
    /// Already archived with the same content.
    pub duplicates: u64,
    /// Already archived with different content: the first copy stays, this
    /// one is kept in `conflicts` for review.
    pub conflicts: u64,
    pub rejected: u64,
}

/// Who brings new rows, the chain key that seals them and the codec that
/// stores their `raw`.
#[derive(Debug, Clone, Copy)]
pub struct Provenance<'a> {
    /// `sync` or `import`, recorded with conflicts.
    pub source: &'static str,
    pub key: Option<&'a chain::ChainKey>,
    pub codec: &'a RawCodec,
}

/// A span in which retained events may have expired before being archived.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    pub after_log_id: String,
    pub after_date: Option<String>,
    pub before_log_id: String,
    pub before_date: Option<String>,
}

const INSERT_REJECT: &str = "INSERT INTO rejects (tenant, received_at, reason, raw_sha256, raw)
VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (raw_sha256) DO NOTHING";

const UPSERT_CHECKPOINT: &str =
    "INSERT INTO checkpoints (tenant, log_id, updated_at) VALUES (?1, ?2, ?3)
ON CONFLICT (tenant) DO UPDATE SET log_id = excluded.log_id, updated_at = excluded.updated_at";

/// The stored checkpoint of a tenant, if it has one.
pub fn checkpoint(conn: &Connection, tenant: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT log_id FROM checkpoints WHERE tenant = ?1",
            [tenant],
            |r| r.get(0),
        )
        .optional()?)
}

/// The `date` of an archived event.
pub fn event_date(conn: &Connection, log_id: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT date FROM events WHERE log_id = ?1", [log_id], |r| {
            r.get(0)
        })
        .optional()?
        .flatten())
}

/// Everything that is committed together with one page.
#[derive(Debug, Default)]
pub struct PageCommit<'a> {
    /// The new tenant checkpoint (serial paging).
    pub checkpoint: Option<&'a str>,
    /// A retention gap found before this page.
    pub gap: Option<&'a Gap>,
    /// A new parallel-backfill plan to record.
    pub plan: Option<&'a [Slice]>,
    /// A parallel-backfill slice's progress with this page.
    pub slice: Option<&'a SliceProgress>,
    /// The chain key, when the archive's chain is keyed.
    pub key: Option<&'a chain::ChainKey>,
}

/// Writes one page with what travels with it inside the caller's
/// transaction. Several pages may share a transaction (group commit): each
/// still carries its own checkpoint, so whatever commits is consistent.
pub fn write_page(
    tx: &Transaction<'_>,
    codec: &RawCodec,
    tenant: &str,
    run_id: i64,
    page: &Page,
    with: PageCommit<'_>,
    counters: &RequestCounters,
) -> Result<PageOutcome> {
    let PageCommit {
        checkpoint: next_checkpoint,
        gap,
        plan,
        slice,
        key,
    } = with;
    let from = Provenance {
        source: "sync",
        key,
        codec,
    };
    let mut outcome = insert_rows_from(tx, tenant, page, from)?;
    let now = now_iso();
    if let Some(plan) = plan {
        slice_progress::plan(tx, tenant, plan)?;
    }
    if let Some(progress) = slice {
        slice_progress::advance(tx, tenant, progress, &now)?;
    }
    if let Some(cp) = next_checkpoint {
        tx.prepare_cached(UPSERT_CHECKPOINT)?
            .execute((tenant, cp, &now))?;
    }
    if let Some(gap) = gap {
        tx.execute(
            "INSERT INTO gaps (tenant, after_log_id, after_date, before_log_id, before_date, detected_at, run_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                tenant,
                gap.after_log_id,
                gap.after_date,
                gap.before_log_id,
                gap.before_date,
                now,
                run_id
            ],
        )?;
    }
    outcome.rejected = page.rejects.len() as u64;
    super::runs::add_page(tx, run_id, &outcome, page, next_checkpoint, counters)?;
    Ok(outcome)
}

/// `insert_rows_from` for an unkeyed import (tests and benchmarks), which
/// trains the archive's dictionary when due as `import` does.
pub fn insert_rows(tx: &Transaction<'_>, tenant: &str, page: &Page) -> Result<PageOutcome> {
    let mut codec = RawCodec::load(tx)?;
    let from = Provenance {
        source: "import",
        key: None,
        codec: &codec,
    };
    let outcome = insert_rows_from(tx, tenant, page, from)?;
    codec.train_if_due(tx)?;
    Ok(outcome)
}

/// Inserts a page's events (de-duplicated on `log_id`) and rejects
/// (de-duplicated on content) inside the caller's transaction, and seals the
/// new events with an integrity-chain link. An event already archived with
/// other content is a conflict, kept aside.
pub fn insert_rows_from(
    tx: &Transaction<'_>,
    tenant: &str,
    page: &Page,
    from: Provenance<'_>,
) -> Result<PageOutcome> {
    let mut outcome = PageOutcome::default();
    let seq = chain::next_seq(tx)?;
    let mut sealed: Vec<(&str, &str)> = Vec::with_capacity(page.events.len());
    {
        let mut insert = tx.prepare_cached(insert_event_sql())?;
        for e in &page.events {
            if insert_event(&mut insert, from.codec, tenant, e, seq)? {
                outcome.inserted += 1;
                sealed.push((e.log_id(), e.raw()));
            } else if same_as_archived(tx, from.codec, e)? {
                outcome.duplicates += 1;
            } else {
                record_conflict(tx, tenant, e, from.source)?;
                outcome.conflicts += 1;
            }
        }
    }
    chain::seal(tx, tenant, seq, from.key, &mut sealed)?;
    if !page.rejects.is_empty() {
        let mut insert = tx.prepare_cached(INSERT_REJECT)?;
        let now = now_iso();
        for r in &page.rejects {
            let digest = hex::encode(Sha256::digest(r.raw.as_bytes()));
            insert.execute((tenant, &now, &r.reason, digest, &r.raw))?;
        }
    }
    Ok(outcome)
}

/// Whether a row that hit an archived `log_id` carries the same event: the
/// same bytes, or the same JSON written differently (a log stream and the
/// API may serialize one event with other spacing or key order).
fn same_as_archived(tx: &Transaction<'_>, codec: &RawCodec, e: &EventRow) -> Result<bool> {
    let mut stmt = tx.prepare_cached("SELECT raw FROM events WHERE log_id = ?1")?;
    let mut rows = stmt.query([e.log_id()])?;
    let row = rows.next()?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    let archived = codec.text(row.get_ref(0)?)?;
    if archived == e.raw() {
        return Ok(true);
    }
    let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
    Ok(parse(&archived).is_some_and(|a| Some(a) == parse(e.raw())))
}

fn record_conflict(tx: &Transaction<'_>, tenant: &str, e: &EventRow, source: &str) -> Result<()> {
    let digest = hex::encode(Sha256::digest(e.raw().as_bytes()));
    tx.prepare_cached(
        "INSERT INTO conflicts (log_id, tenant, source, received_at, raw_sha256, raw)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (log_id, raw_sha256) DO NOTHING",
    )?
    .execute(params![
        e.log_id(),
        tenant,
        source,
        now_iso(),
        digest,
        e.raw()
    ])?;
    Ok(())
}

/// `INSERT INTO events (...) VALUES (?1, ...)`, built once from `COLUMNS`.
fn insert_event_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
        let slots: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO events ({}) VALUES ({}) ON CONFLICT (log_id) DO NOTHING",
            names.join(", "),
            slots.join(", ")
        )
    })
}

/// Binds one row in `COLUMNS` order, straight from the row's buffer (no
/// per-row parameter array); `true` if it was new.
fn insert_event(
    stmt: &mut rusqlite::CachedStatement<'_>,
    codec: &RawCodec,
    tenant: &str,
    e: &EventRow,
    chain_seq: i64,
) -> Result<bool> {
    for (i, column) in COLUMNS.iter().enumerate() {
        let at = i + 1;
        match column.source {
            Source::LogId => stmt.raw_bind_parameter(at, e.log_id()),
            Source::Tenant => stmt.raw_bind_parameter(at, tenant),
            Source::Text(field) => stmt.raw_bind_parameter(at, e.get(field)),
            Source::Ts => stmt.raw_bind_parameter(at, e.ts),
            Source::IsMobile => stmt.raw_bind_parameter(at, e.is_mobile),
            Source::Latitude => stmt.raw_bind_parameter(at, e.latitude),
            Source::Longitude => stmt.raw_bind_parameter(at, e.longitude),
            Source::Raw => stmt.raw_bind_parameter(at, codec.encode(e.raw())),
            Source::ChainSeq => stmt.raw_bind_parameter(at, chain_seq),
        }?;
    }
    Ok(stmt.raw_execute()? == 1)
}

/// Date of the newest archived event of a tenant.
pub fn last_event_date(conn: &Connection, tenant: &str) -> Option<String> {
    conn.query_row(
        "SELECT date FROM events WHERE tenant = ?1 AND ts IS NOT NULL ORDER BY ts DESC LIMIT 1",
        [tenant],
        |r| r.get(0),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Field, Kind, parse_page};

    fn archive() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = super::super::open_for_write(&dir.path().join("a.db")).unwrap();
        (dir, conn)
    }

    /// The table the migrations build and the column table agree, name for
    /// name and type for type, in order.
    #[test]
    fn the_migrated_schema_has_exactly_the_listed_columns() {
        let (_dir, conn) = archive();
        let mut stmt = conn.prepare("PRAGMA table_info(events)").unwrap();
        let schema: Vec<(String, String, bool)> = stmt
            .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let listed: Vec<(String, String, bool)> = COLUMNS
            .iter()
            .map(|c| {
                let ty = match c.kind {
                    Kind::Text => "TEXT",
                    Kind::Int | Kind::Bool => "INTEGER",
                    Kind::Real => "REAL",
                };
                (c.name.to_string(), ty.to_string(), c.required)
            })
            .collect();
        assert_eq!(schema, listed);
    }

    /// Each column stores what its name says: an event whose every text
    /// field holds its own column name reads back the same way.
    #[test]
    fn every_column_is_bound_to_its_own_value() {
        let (_dir, mut conn) = archive();
        let location = "country_code country_code3 country_name city_name subdivision_code \
                        subdivision_name time_zone continent_code";
        let mut top = vec![];
        let mut loc = vec![
            r#""latitude":1.5"#.to_string(),
            r#""longitude":-2.5"#.to_string(),
        ];
        for c in COLUMNS {
            if let Source::Text(f) = c.source
                && !matches!(f, Field::Date | Field::Details)
            {
                let pair = format!("{:?}:{:?}", c.name, c.name);
                if location.split(' ').any(|l| l == c.name) {
                    loc.push(pair);
                } else {
                    top.push(pair);
                }
            }
        }
        let raw = format!(
            r#"[{{"log_id":"log_id","date":"2026-11-20T10:00:00.000Z","isMobile":true,{},"location_info":{{{}}},"details":"details"}}]"#,
            top.join(","),
            loc.join(",")
        );
        let page = parse_page(raw.as_bytes()).unwrap();
        let tx = conn.transaction().unwrap();
        insert_rows(&tx, "tenant", &page).unwrap();
        tx.commit().unwrap();
        for c in COLUMNS {
            let got: rusqlite::types::Value = conn
                .query_row(&format!("SELECT {} FROM events", c.name), [], |r| r.get(0))
                .unwrap();
            use rusqlite::types::Value as V;
            let want = match c.source {
                Source::Text(Field::Date) => V::Text("2026-11-20T10:00:00.000Z".into()),
                Source::Text(Field::Details) => V::Text("\"details\"".into()),
                Source::Text(_) | Source::LogId | Source::Tenant => V::Text(c.name.into()),
                Source::Ts => V::Integer(1_795_168_800_000),
                Source::IsMobile => V::Integer(1),
                Source::Latitude => V::Real(1.5),
                Source::Longitude => V::Real(-2.5),
                Source::Raw => V::Text(raw[1..raw.len() - 1].to_string()),
                Source::ChainSeq => V::Integer(1),
            };
            assert_eq!(got, want, "column {}", c.name);
        }
    }
}
