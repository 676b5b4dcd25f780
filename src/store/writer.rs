//! Writing a page: its events, its rejects, the new checkpoint and the run's
//! counters go into one transaction, so a crash at any instant leaves either
//! the whole page with its checkpoint or neither.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use crate::auth0::event::{EventRow, Field, Page};
use crate::error::Result;

use super::chain;
use super::runs::RunCounters;
use super::slices::{self, Slice, SliceProgress};

/// What committing one page did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PageOutcome {
    pub inserted: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

/// A span in which retained events may have expired before being archived.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    pub after_log_id: String,
    pub after_date: Option<String>,
    pub before_log_id: String,
    pub before_date: Option<String>,
}

const INSERT_EVENT: &str = "INSERT INTO events (
    log_id, tenant, date, ts, type, description, connection, connection_id,
    client_id, client_name, ip, client_ip, user_agent, hostname, user_id,
    user_name, audience, scope, strategy, strategy_type, is_mobile,
    tenant_name, environment_name, country_code, country_code3, country_name,
    city_name, subdivision_code, subdivision_name, latitude, longitude,
    time_zone, continent_code, details, raw, chain_seq
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
          ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29,
          ?30, ?31, ?32, ?33, ?34, ?35, ?36)
ON CONFLICT (log_id) DO NOTHING";

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
}

/// Writes one page with what travels with it inside the caller's
/// transaction. Several pages may share a transaction (group commit): each
/// still carries its own checkpoint, so whatever commits is consistent.
pub fn write_page(
    tx: &Transaction<'_>,
    tenant: &str,
    run_id: i64,
    page: &Page,
    with: PageCommit<'_>,
    counters: &RunCounters,
) -> Result<PageOutcome> {
    let PageCommit {
        checkpoint: next_checkpoint,
        gap,
        plan,
        slice,
    } = with;
    let mut outcome = insert_rows(tx, tenant, page)?;
    let now = now_text();
    if let Some(plan) = plan {
        slices::plan(tx, tenant, plan)?;
    }
    if let Some(progress) = slice {
        slices::advance(tx, tenant, progress, &now)?;
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

/// Inserts a page's events (de-duplicated on `log_id`) and rejects
/// (de-duplicated on content) inside the caller's transaction, and seals the
/// new events with an integrity-chain link.
pub fn insert_rows(tx: &Transaction<'_>, tenant: &str, page: &Page) -> Result<PageOutcome> {
    let mut outcome = PageOutcome::default();
    let seq = chain::next_seq(tx)?;
    let mut sealed: Vec<(&str, &str)> = Vec::with_capacity(page.events.len());
    {
        let mut insert = tx.prepare_cached(INSERT_EVENT)?;
        for e in &page.events {
            if insert_event(&mut insert, tenant, e, seq)? {
                outcome.inserted += 1;
                sealed.push((e.log_id(), e.raw()));
            } else {
                outcome.duplicates += 1;
            }
        }
    }
    chain::seal(tx, tenant, seq, &mut sealed)?;
    if !page.rejects.is_empty() {
        let mut insert = tx.prepare_cached(INSERT_REJECT)?;
        let now = now_text();
        for r in &page.rejects {
            let digest = hex::encode(Sha256::digest(r.raw.as_bytes()));
            insert.execute((tenant, &now, &r.reason, digest, &r.raw))?;
        }
    }
    Ok(outcome)
}

fn insert_event(
    stmt: &mut rusqlite::CachedStatement<'_>,
    tenant: &str,
    e: &EventRow,
    chain_seq: i64,
) -> Result<bool> {
    // Bound one by one in column order (see INSERT_EVENT): no per-row
    // parameter array, and the text columns come straight from the row.
    let mut i = 0;
    let mut bind = |v: &dyn rusqlite::ToSql| -> rusqlite::Result<()> {
        i += 1;
        stmt.raw_bind_parameter(i, v)
    };
    bind(&e.log_id())?;
    bind(&tenant)?;
    bind(&e.date())?;
    bind(&e.ts)?;
    for f in [
        Field::Type,
        Field::Description,
        Field::Connection,
        Field::ConnectionId,
        Field::ClientId,
        Field::ClientName,
        Field::Ip,
        Field::ClientIp,
        Field::UserAgent,
        Field::Hostname,
        Field::UserId,
        Field::UserName,
        Field::Audience,
        Field::Scope,
        Field::Strategy,
        Field::StrategyType,
    ] {
        bind(&e.get(f))?;
    }
    bind(&e.is_mobile)?;
    for f in [
        Field::TenantName,
        Field::EnvironmentName,
        Field::CountryCode,
        Field::CountryCode3,
        Field::CountryName,
        Field::CityName,
        Field::SubdivisionCode,
        Field::SubdivisionName,
    ] {
        bind(&e.get(f))?;
    }
    bind(&e.latitude)?;
    bind(&e.longitude)?;
    for f in [Field::TimeZone, Field::ContinentCode, Field::Details] {
        bind(&e.get(f))?;
    }
    bind(&e.raw())?;
    bind(&chain_seq)?;
    Ok(stmt.raw_execute()? == 1)
}

/// Wall-clock time as stored in bookkeeping columns.
pub fn now_text() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}
