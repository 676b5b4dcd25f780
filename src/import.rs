//! `auth0-archive import`: back-fill the archive from files, so history from
//! before the tool was installed (log-stream dumps) can join the synced
//! events. De-duplicated on `log_id` like a sync; checkpoints are untouched.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::config::commands::ImportOptions;
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

pub fn run(db: &Path, args: &ImportOptions) -> Result<()> {
    // Files are read as a stream (memory stays bounded whatever their size)
    // and everything commits in one transaction: a bad file anywhere
    // changes nothing. Each is opened first, so a missing one fails early.
    for f in &args.files {
        std::fs::File::open(f)
            .map_err(|e| Error::usage(format!("cannot read {}: {e}", f.display())))?;
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
    for path in &args.files {
        let mut batch = Batch {
            tx: &tx,
            codec: &mut codec,
            key: key.as_ref(),
            tenant: args.tenant.as_deref(),
            known: &known,
            summary: &mut summary,
            items: Vec::with_capacity(BATCH),
        };
        read_items(path, &mut |item| batch.push(item))?;
        batch.flush()?;
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
            crate::text::count_of(summary.conflicts, "event has", "events have")
        ));
    }
    Ok(())
}

/// Items read and not yet written, and where they go.
struct Batch<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    codec: &'a mut RawCodec,
    key: Option<&'a ChainKey>,
    tenant: Option<&'a str>,
    known: &'a [String],
    summary: &'a mut ImportSummary,
    items: Vec<Box<RawValue>>,
}

impl Batch<'_> {
    fn push(&mut self, item: Box<RawValue>) -> Result<()> {
        self.items.push(item);
        if self.items.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Normalizes and writes the items held, grouped by tenant.
    fn flush(&mut self) -> Result<()> {
        let mut by_tenant: std::collections::BTreeMap<String, Page> = Default::default();
        for item in &self.items {
            let (event, fallback_id) = unwrap_envelope(item);
            let tenant = attribute(self.tenant, hostname(event), self.known);
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
        self.items.clear();
        for (tenant, page) in &by_tenant {
            let from = Provenance {
                source: "import",
                key: self.key,
                codec: &*self.codec,
            };
            let o = events::insert_rows_from(self.tx, tenant, page, from)?;
            let s = &mut *self.summary;
            s.read += (page.events.len() + page.rejects.len()) as u64;
            s.inserted += o.inserted;
            s.duplicates += o.duplicates;
            s.conflicts += o.conflicts;
            s.rejected += page.rejects.len() as u64;
        }
        // The first dictionary once enough events are in, so the rest of a
        // large import is stored compressed (store::raw).
        self.codec.train_if_due(self.tx)?;
        Ok(())
    }
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

/// The longest line (or array element) read: a generous multiple of the
/// largest real event, and also of a whole page of 100 on one line. What a
/// file holds past it (a gzip bomb, a file that is not a log) is refused
/// before it is held in memory.
pub const MAX_LINE_BYTES: usize = 32 * 1024 * 1024;

/// Hands every item of the file at `path` to `sink`, one at a time: a file
/// is one JSON array, or one JSON value (or array of them) per line
/// (NDJSON), gzipped or not; a single object is one event.
fn read_items(path: &Path, sink: &mut dyn FnMut(Box<RawValue>) -> Result<()>) -> Result<()> {
    let at = |e: String| Error::usage(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path)
        .map_err(|e| Error::usage(format!("cannot read {}: {e}", path.display())))?;
    let mut plain = BufReader::new(file);
    let head = plain
        .fill_buf()
        .map_err(|e| Error::usage(format!("cannot read {}: {e}", path.display())))?;
    let mut reader: Box<dyn BufRead> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::new(Gunzip {
            inner: MultiGzDecoder::new(plain),
        }))
    } else {
        Box::new(plain)
    };
    skip_blank_start(&mut reader).map_err(|e| at(e.to_string()))?;
    let array = reader.fill_buf().map_err(|e| at(e.to_string()))?.first() == Some(&b'[');
    if array {
        read_array(reader, sink, &at)
    } else {
        read_lines(reader, sink, &at)
    }
}

/// A gzip stream whose failures say so.
struct Gunzip<R: BufRead> {
    inner: MultiGzDecoder<R>,
}

impl<R: BufRead> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner
            .read(buf)
            .map_err(|e| std::io::Error::new(e.kind(), format!("not a readable gzip file: {e}")))
    }
}

/// Consumes a byte-order mark and whitespace at the start.
fn skip_blank_start(r: &mut dyn BufRead) -> std::io::Result<()> {
    let bom = r.fill_buf()?.starts_with("\u{feff}".as_bytes());
    if bom {
        r.consume(3);
    }
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        let blank = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let all = blank == buf.len();
        r.consume(blank);
        if !all {
            return Ok(());
        }
    }
}

/// NDJSON: one value per line, each line at most [`MAX_LINE_BYTES`].
fn read_lines(
    mut reader: Box<dyn BufRead>,
    sink: &mut dyn FnMut(Box<RawValue>) -> Result<()>,
    at: &dyn Fn(String) -> Error,
) -> Result<()> {
    let mut buf = Vec::new();
    for n in 1.. {
        buf.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| at(format!("line {n}: {e}")))?;
        if read == 0 {
            return Ok(());
        }
        if buf.len() > MAX_LINE_BYTES {
            return Err(at(format!(
                "line {n} is longer than {} MiB, the limit on one line; is this a log file?",
                MAX_LINE_BYTES / (1024 * 1024)
            )));
        }
        let line = std::str::from_utf8(&buf).map_err(|_| at("not UTF-8 text".to_string()))?;
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            let items = serde_json::from_str::<Vec<&RawValue>>(line)
                .map_err(|e| at(format!("line {n}: {e}")))?;
            for item in items {
                sink(item.to_owned())?;
            }
        } else {
            let item = serde_json::from_str::<&RawValue>(line)
                .map_err(|e| at(format!("line {n}: invalid JSON: {e}")))?;
            sink(item.to_owned())?;
        }
    }
    Ok(())
}

/// One JSON array, read element by element; each element at most
/// [`MAX_LINE_BYTES`]. Elements are found by a scan that follows strings
/// and nesting, then each is parsed on its own.
fn read_array(
    mut reader: Box<dyn BufRead>,
    sink: &mut dyn FnMut(Box<RawValue>) -> Result<()>,
    at: &dyn Fn(String) -> Error,
) -> Result<()> {
    let io = |e: std::io::Error| at(e.to_string());
    reader.consume(1); // the `[`
    let mut item: Vec<u8> = Vec::new();
    let mut count = 0usize;
    let (mut depth, mut in_string, mut escaped, mut closed) = (0usize, false, false, false);
    let mut finish = |item: &mut Vec<u8>, last: bool| -> Result<()> {
        let text = std::str::from_utf8(item).map_err(|_| at("not UTF-8 text".to_string()))?;
        let text = text.trim();
        if text.is_empty() && last && count == 0 {
            return Ok(());
        }
        count += 1;
        let value = serde_json::from_str::<&RawValue>(text)
            .map_err(|e| at(format!("invalid JSON array: element {count}: {e}")))?;
        sink(value.to_owned())?;
        item.clear();
        Ok(())
    };
    loop {
        let buf = reader.fill_buf().map_err(io)?;
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        for &b in buf {
            if closed {
                if !b.is_ascii_whitespace() {
                    return Err(at(
                        "invalid JSON array: text after its closing ]".to_string()
                    ));
                }
                continue;
            }
            if in_string {
                item.push(b);
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
            } else {
                match b {
                    b'"' => {
                        in_string = true;
                        item.push(b);
                    }
                    b'[' | b'{' => {
                        depth += 1;
                        item.push(b);
                    }
                    b']' | b'}' if depth > 0 => {
                        depth -= 1;
                        item.push(b);
                    }
                    b']' => {
                        finish(&mut item, true)?;
                        closed = true;
                    }
                    b',' if depth == 0 => finish(&mut item, false)?,
                    _ => item.push(b),
                }
            }
            if item.len() > MAX_LINE_BYTES {
                return Err(at(format!(
                    "an array element is longer than {} MiB, the limit on one event; is this a log file?",
                    MAX_LINE_BYTES / (1024 * 1024)
                )));
            }
        }
        reader.consume(len);
    }
    if !closed {
        return Err(at(
            "invalid JSON array: it ends before its closing ]".to_string()
        ));
    }
    Ok(())
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
        let split = |text: &str| -> Result<Vec<String>> {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f");
            std::fs::write(&path, text).unwrap();
            let mut got = Vec::new();
            read_items(&path, &mut |i| {
                got.push(i.get().to_string());
                Ok(())
            })?;
            Ok(got)
        };
        assert_eq!(
            split(" [{\"a\":\"],\\\"\"},{\"a\":[2,{}]}]\n").unwrap(),
            [r#"{"a":"],\""}"#, r#"{"a":[2,{}]}"#]
        );
        assert!(split("[]").unwrap().is_empty());
        assert_eq!(split("{\"a\":1}\n\n[{\"a\":2},3]\n").unwrap().len(), 3);
        assert!(split("{\"a\":1}\n{oops").is_err());
        assert!(split("[{\"a\":1},]").is_err());
        assert!(split("[{\"a\":1}").is_err());
        assert!(split("[{\"a\":1}] x").is_err());
    }
}
