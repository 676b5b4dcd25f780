//! `auth0-archive import`: back-fill the archive from files, so history from
//! before the tool was installed (log-stream dumps) can join the synced
//! events. De-duplicated on `log_id` like a sync; checkpoints are untouched.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::cli::ImportArgs;
use crate::error::{Error, Result};
use crate::event::{Page, Reject, normalize_with_fallback_id};
use crate::store::chain::{self, ChainKey};
use crate::store::events::{self, Provenance};
use crate::store::raw::RawCodec;
use crate::store::{self, lock::SyncLock};

/// Events normalized and written at a time (all inside one transaction).
const BATCH: usize = 1000;

#[derive(Debug, Default, Serialize)]
pub struct ImportSummary {
    pub files: u64,
    pub read: u64,
    pub inserted: u64,
    pub duplicates: u64,
    /// log_ids already archived with other content: the first copy stays,
    /// these wait in the `conflicts` table for review.
    pub conflicts: u64,
    pub rejected: u64,
}

pub fn run(db: &Path, args: &ImportArgs) -> Result<()> {
    // Every file is read and split into events before anything is written,
    // and everything commits in one transaction: a bad file anywhere
    // changes nothing.
    let mut texts = Vec::new();
    for f in &args.files {
        texts.push((f, read_file(f)?));
    }
    let mut files = Vec::new();
    for (path, text) in &texts {
        let items =
            split_items(text).map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
        files.push(items);
    }
    let _lock = SyncLock::acquire(db)?;
    let mut conn = store::open_for_write(db)?;
    let key = ChainKey::from_env()?;
    chain::check_key(&conn, key.as_ref())?;
    let mut codec = RawCodec::load(&conn)?;
    let known = synced_tenants(&conn)?;
    if let Some(t) = &args.tenant
        && !known.is_empty()
        && !known.contains(t)
    {
        crate::log::warn(&format!(
            "--tenant {t:?} is not a tenant this archive syncs ({}); the events are filed under it as given",
            known.join(", ")
        ));
    }
    let mut summary = ImportSummary::default();
    let tx = conn.transaction()?;
    for items in &files {
        for chunk in items.chunks(BATCH) {
            let mut by_tenant: std::collections::BTreeMap<String, Page> = Default::default();
            for item in chunk {
                let (event, fallback_id) = unwrap_envelope(item);
                let tenant = attribute(args.tenant.as_deref(), hostname(event), &known);
                let page = by_tenant.entry(tenant).or_default();
                // A webhook envelope may carry the id outside `data`.
                match normalize_with_fallback_id(event, fallback_id.as_deref()) {
                    Ok(row) => page.events.push(row),
                    Err(reason) => page.rejects.push(Reject {
                        reason,
                        raw: event.get().to_string(),
                    }),
                }
            }
            for (tenant, page) in &by_tenant {
                let from = Provenance {
                    source: "import",
                    key: key.as_ref(),
                    codec: &codec,
                };
                let o = events::insert_rows_from(&tx, tenant, page, from)?;
                summary.read += (page.events.len() + page.rejects.len()) as u64;
                summary.inserted += o.inserted;
                summary.duplicates += o.duplicates;
                summary.conflicts += o.conflicts;
                summary.rejected += page.rejects.len() as u64;
            }
            // The first dictionary once enough events are in, so the rest
            // of a large import is stored compressed (store::raw).
            codec.train_if_due(&tx)?;
        }
        summary.files += 1;
    }
    tx.commit()?;
    if args.json {
        println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    } else {
        println!(
            "imported {} files: {} events read, {} new, {} already archived, {} conflicts, {} rejected",
            summary.files,
            summary.read,
            summary.inserted,
            summary.duplicates,
            summary.conflicts,
            summary.rejected
        );
    }
    if summary.conflicts > 0 {
        crate::log::warn(&format!(
            "{} a log_id already archived with different content: the archived copies \
             were kept, the imported ones are in the conflicts table \
             (SELECT * FROM conflicts via `query sql`)",
            crate::text::count_of(summary.conflicts as u64, "event has", "events have")
        ));
    }
    Ok(())
}

/// The tenants the archive syncs (those with a checkpoint).
fn synced_tenants(conn: &rusqlite::Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT tenant FROM checkpoints ORDER BY tenant")?;
    let names = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

/// The `tenant` an imported event is filed under, so that it meets the
/// same tenant's synced events: `--tenant` when given; else the event's
/// hostname when the archive syncs a tenant of that name; else the
/// archive's only synced tenant; else the hostname, or `imported`.
fn attribute(given: Option<&str>, hostname: Option<String>, known: &[String]) -> String {
    if let Some(t) = given {
        return t.to_string();
    }
    match hostname {
        Some(h) if known.contains(&h) => h,
        _ if known.len() == 1 => known[0].clone(),
        Some(h) => h,
        None => "imported".to_string(),
    }
}

fn read_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::usage(format!("cannot read {}: {e}", path.display())))?;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| {
                Error::usage(format!("{}: not a readable gzip file: {e}", path.display()))
            })?;
        out
    } else {
        bytes
    };
    String::from_utf8(bytes)
        .map_err(|_| Error::usage(format!("{}: not UTF-8 text", path.display())))
}

/// A file is one JSON array, or one JSON value per line (NDJSON); a single
/// object is one event.
fn split_items(text: &str) -> std::result::Result<Vec<&RawValue>, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    if trimmed.starts_with('[') {
        return serde_json::from_str::<Vec<&RawValue>>(trimmed)
            .map_err(|e| format!("invalid JSON array: {e}"));
    }
    let mut items = Vec::new();
    for (n, line) in trimmed.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            items.extend(
                serde_json::from_str::<Vec<&RawValue>>(line)
                    .map_err(|e| format!("line {}: {e}", n + 1))?,
            );
        } else {
            items.push(
                serde_json::from_str::<&RawValue>(line)
                    .map_err(|e| format!("line {}: invalid JSON: {e}", n + 1))?,
            );
        }
    }
    Ok(items)
}

/// Auth0 log streams wrap events: custom webhooks send `{"log_id", "data"}`,
/// EventBridge `{"detail": {"log_id", "data"}}`. Returns the event object and
/// the envelope's `log_id`.
fn unwrap_envelope(item: &RawValue) -> (&RawValue, Option<String>) {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        data: Option<&'a RawValue>,
        #[serde(borrow)]
        detail: Option<&'a RawValue>,
        log_id: Option<String>,
    }
    let mut current = item;
    let mut id = None;
    for _ in 0..2 {
        let Ok(env) = serde_json::from_str::<Envelope<'_>>(current.get()) else {
            break;
        };
        if let Some(i) = env.log_id {
            id = Some(i);
        }
        match (env.detail, env.data) {
            (Some(d), _) if d.get().starts_with('{') => current = d,
            (None, Some(d)) if d.get().starts_with('{') => return (d, id),
            _ => break,
        }
    }
    (current, id)
}

fn hostname(event: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct H {
        hostname: Option<String>,
    }
    serde_json::from_str::<H>(event.get())
        .ok()?
        .hostname
        .filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_are_unwrapped() {
        let item: &RawValue =
            serde_json::from_str(r#"{"log_id":"9","data":{"log_id":"9","type":"s"}}"#).unwrap();
        let (e, id) = unwrap_envelope(item);
        assert_eq!(e.get(), r#"{"log_id":"9","type":"s"}"#);
        assert_eq!(id.as_deref(), Some("9"));
        let eb: &RawValue =
            serde_json::from_str(r#"{"version":"0","detail":{"log_id":"7","data":{"type":"f"}}}"#)
                .unwrap();
        let (e, id) = unwrap_envelope(eb);
        assert_eq!(e.get(), r#"{"type":"f"}"#);
        assert_eq!(id.as_deref(), Some("7"));
        let plain: &RawValue = serde_json::from_str(r#"{"log_id":"1","details":{"x":1}}"#).unwrap();
        assert_eq!(unwrap_envelope(plain).0.get(), plain.get());
    }

    #[test]
    fn arrays_and_ndjson_are_split() {
        assert_eq!(split_items("[{\"a\":1},{\"a\":2}]").unwrap().len(), 2);
        assert_eq!(split_items("{\"a\":1}\n\n{\"a\":2}\n").unwrap().len(), 2);
        assert!(split_items("{\"a\":1}\n{oops").is_err());
    }
}
