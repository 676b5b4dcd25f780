//! The outbox of findings not yet told (schema 008): `finding_queue`, the
//! findings filed but not yet printed, and `deliveries`, one row per finding
//! and webhook, pending until the webhook answered 2xx. Both are filled by
//! a trigger in the transaction that files the finding; this module reads
//! and settles them. Webhooks are known here only by fingerprint.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::error::Result;
use crate::store::findings::Finding;
use crate::time::now_iso;

/// The per-archive key of the destination fingerprints.
pub fn fingerprint_key(conn: &Connection) -> Result<Vec<u8>> {
    Ok(
        conn.query_row("SELECT key FROM delivery_key WHERE id = 1", [], |r| {
            r.get(0)
        })?,
    )
}

/// Makes new findings of at least `min_rank` queue for `fingerprint` (see
/// the trigger in schema/008_deliveries.sql), from now on.
pub fn register(conn: &Connection, fingerprint: &str, min_rank: u8) -> Result<()> {
    conn.execute(
        "INSERT INTO delivery_destinations (fingerprint, min_rank, last_used_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (fingerprint) DO UPDATE
         SET min_rank = excluded.min_rank, last_used_at = excluded.last_used_at",
        params![fingerprint, min_rank, now_iso()],
    )?;
    Ok(())
}

/// Findings filed and not yet printed, oldest first.
pub fn queued(conn: &Connection) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare("SELECT finding_id FROM finding_queue ORDER BY finding_id")?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// Forgets that `ids` were to be printed (they have been).
pub fn dequeue(conn: &mut Connection, ids: &[i64]) -> Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached("DELETE FROM finding_queue WHERE finding_id = ?1")?;
        for id in ids {
            stmt.execute([id])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Up to `limit` findings still to deliver to `fingerprint`, oldest first.
pub fn pending_for(conn: &Connection, fingerprint: &str, limit: usize) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT finding_id FROM deliveries WHERE destination = ?1 AND delivered_at IS NULL
         ORDER BY finding_id LIMIT ?2",
    )?;
    let ids = stmt
        .query_map(params![fingerprint, limit as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// Records an attempt: delivered, or failed with `error` (which must not
/// name the URL).
pub fn settle(
    conn: &Connection,
    finding_id: i64,
    fingerprint: &str,
    error: Option<&str>,
) -> Result<()> {
    let now = now_iso();
    conn.prepare_cached(
        "UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?3, last_error = ?4,
                delivered_at = CASE WHEN ?4 IS NULL THEN ?3 END
         WHERE finding_id = ?1 AND destination = ?2",
    )?
    .execute(params![finding_id, fingerprint, now, error])?;
    Ok(())
}

/// A filed finding, as the findings table holds it now.
pub fn finding(conn: &Connection, id: i64) -> Result<Option<Finding>> {
    let json_map = |text: Option<String>| match text
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
    {
        Some(Ok(serde_json::Value::Object(m))) => m,
        _ => serde_json::Map::new(),
    };
    let row = conn
        .prepare_cached(
            "SELECT detection, source, severity, key, summary, first_seen, last_seen, events,
                    log_ids, details
             FROM findings WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                (r.get(0)?, r.get(1)?, r.get(2)?),
                r.get::<_, String>(3)?,
                (r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?),
                r.get::<_, String>(8)?,
                r.get::<_, Option<String>>(9)?,
            ))
        })
        .optional()?;
    Ok(row.map(
        |((detection, source, severity), key, (summary, first_seen, last_seen, events), ids, d)| {
            Finding {
                detection,
                source,
                severity,
                key: json_map(Some(key)),
                summary,
                first_seen,
                last_seen,
                events,
                log_ids: serde_json::from_str(&ids).unwrap_or_default(),
                details: json_map(d),
            }
        },
    ))
}

/// Pending deliveries of one destination, for `status`.
#[derive(Debug, Serialize)]
pub struct Pending {
    /// The destination's fingerprint (as `detect` names it in its messages).
    pub destination: String,
    pub pending: i64,
    pub oldest_queued_at: String,
    /// Seconds since the oldest pending delivery was queued.
    pub oldest_age_s: i64,
    pub last_error: Option<String>,
}

/// Every destination with pending deliveries; empty on an archive older
/// than the outbox.
pub fn status(conn: &Connection) -> Result<Vec<Pending>> {
    let has_outbox: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deliveries')",
        [],
        |r| r.get(0),
    )?;
    if !has_outbox {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(
        "SELECT destination, count(*), min(queued_at),
                (SELECT last_error FROM deliveries l WHERE l.destination = d.destination
                   AND l.delivered_at IS NULL AND l.last_error IS NOT NULL
                 ORDER BY l.last_attempt_at DESC LIMIT 1)
         FROM deliveries d WHERE delivered_at IS NULL GROUP BY destination ORDER BY destination",
    )?;
    let now = chrono::Utc::now();
    let rows = stmt
        .query_map([], |r| {
            let oldest: String = r.get(2)?;
            let age = chrono::DateTime::parse_from_rfc3339(&oldest)
                .map(|t| (now - t.with_timezone(&chrono::Utc)).num_seconds().max(0))
                .unwrap_or(0);
            Ok(Pending {
                destination: r.get(0)?,
                pending: r.get(1)?,
                oldest_queued_at: oldest,
                oldest_age_s: age,
                last_error: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
