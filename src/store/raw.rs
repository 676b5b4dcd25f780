//! How `events.raw` is kept on disk and read back as the exact bytes Auth0
//! sent. Every reader of `raw` from SQLite goes through [`RawCodec`], so the
//! storage of `raw` can change without its readers noticing.
//!
//! A `raw` value is either TEXT, the event's JSON as received, or a BLOB, a
//! standard zstd frame compressed with a dictionary the archive keeps in
//! `raw_dictionaries` (its `id` is the dictionary id in the frame header).
//! Auth0 events repeat the same keys, clients and user agents, so a
//! dictionary trained on the archive's own events brings ~1 KB of JSON to
//! ~100 bytes, where zstd alone only halves it.
//!
//! When: the writer (`sync`'s group commit, `import`) calls
//! [`RawCodec::train_if_due`] after writing; once the archive holds
//! [`TRAIN_AT`] events and no dictionary, one is trained on its newest
//! [`SAMPLES`] TEXT events, inside the same transaction, and every later row
//! is stored compressed. Rows written before stay TEXT: an old archive (or
//! the first few thousand events of a new one) keeps its rows as they are,
//! and rewriting them would only leave their pages half empty. A value that
//! would not get smaller stays TEXT too.
//!
//! The chain seals and the DuckDB copy's digests hash the text, never the
//! stored form, so compression changes nothing they prove.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use crate::error::{Error, Result};

/// Events an archive holds before a dictionary is trained on them.
pub const TRAIN_AT: i64 = SAMPLES;
/// Newest events a dictionary is trained on: ~2 MB of JSON, over 100 times
/// the dictionary, as zstd advises. Training's memory grows with them (it
/// is the sync's peak: +21 MB with 5,000 samples of 1 KB each).
pub const SAMPLES: i64 = 2_000;
/// Largest dictionary; 16-64 KiB compress Auth0 events about equally well.
const DICTIONARY_BYTES: usize = 16 * 1024;
/// zstd's default level: the dictionary does most of the work.
const LEVEL: i32 = 3;

thread_local! {
    /// One compression and one decompression context per thread, reused:
    /// creating one costs more than compressing an event.
    static CCTX: RefCell<zstd::zstd_safe::CCtx<'static>> = RefCell::new(zstd::zstd_safe::CCtx::create());
    static DCTX: RefCell<zstd::zstd_safe::DCtx<'static>> = RefCell::new(zstd::zstd_safe::DCtx::create());
}

/// Reads (and, for the writer, writes) `raw` values of one archive.
#[derive(Default)]
pub struct RawCodec {
    decoders: HashMap<u32, DecoderDictionary<'static>>,
    /// The newest dictionary: new rows are compressed with it.
    encoder: Option<(u32, EncoderDictionary<'static>)>,
    /// Training was tried in this process and failed (too few or too
    /// uniform events): not retried on every commit.
    training_failed: bool,
}

impl std::fmt::Debug for RawCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawCodec")
            .field("dictionaries", &self.decoders.len())
            .field("encoder", &self.encoder.as_ref().map(|(id, _)| id))
            .finish()
    }
}

impl RawCodec {
    /// The codec for the archive behind `conn`: its dictionaries, none for
    /// an archive older than `raw_dictionaries` (all its rows are TEXT).
    pub fn load(conn: &Connection) -> Result<Self> {
        let mut codec = RawCodec::default();
        if !has_dictionary_table(conn)? {
            return Ok(codec);
        }
        let mut stmt =
            conn.prepare("SELECT id, dictionary FROM main.raw_dictionaries ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (id, dict): (i64, Vec<u8>) = (r.get(0)?, r.get(1)?);
            let id = u32::try_from(id)
                .map_err(|_| Error::database(format!("raw dictionary id {id} is out of range")))?;
            codec.add(id, &dict);
        }
        Ok(codec)
    }

    fn add(&mut self, id: u32, dict: &[u8]) {
        self.decoders.insert(id, DecoderDictionary::copy(dict));
        if self.encoder.as_ref().is_none_or(|(newest, _)| id > *newest) {
            self.encoder = Some((id, EncoderDictionary::copy(dict, LEVEL)));
        }
    }

    /// Whether new rows are compressed.
    pub fn compresses(&self) -> bool {
        self.encoder.is_some()
    }

    /// The event's JSON text, byte for byte as received.
    pub fn text<'a>(&self, value: ValueRef<'a>) -> Result<Cow<'a, str>> {
        match value {
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(Cow::Borrowed)
                .map_err(|_| Error::database("an archived raw event is not UTF-8")),
            ValueRef::Blob(b) => self.decode(b).map(Cow::Owned),
            other => Err(Error::database(format!(
                "an archived raw event has an unexpected type {:?}",
                other.data_type()
            ))),
        }
    }

    fn decode(&self, frame: &[u8]) -> Result<String> {
        let id = zstd::zstd_safe::get_dict_id_from_frame(frame).ok_or_else(|| {
            Error::database(
                "an archived raw event is a BLOB but not a zstd frame with a dictionary",
            )
        })?;
        let dict = self.decoders.get(&id.get()).ok_or_else(|| {
            Error::database(format!(
                "an archived raw event needs dictionary {id}, which raw_dictionaries does not hold"
            ))
        })?;
        let size = match zstd::zstd_safe::get_frame_content_size(frame) {
            Ok(Some(n)) if n <= MAX_EVENT_BYTES => n as usize,
            _ => {
                return Err(Error::database(
                    "an archived raw event's zstd frame has no valid size",
                ));
            }
        };
        let mut out: Vec<u8> = Vec::with_capacity(size);
        let n = DCTX
            .with_borrow_mut(|d| d.decompress_using_ddict(&mut out, frame, dict.as_ddict()))
            .map_err(|code| {
                Error::database(format!(
                    "an archived raw event does not decompress: {}",
                    zstd::zstd_safe::get_error_name(code)
                ))
            })?;
        if n != size {
            return Err(Error::database(
                "an archived raw event decompresses to another size than its frame says",
            ));
        }
        String::from_utf8(out).map_err(|_| {
            Error::database("an archived raw event decompresses to bytes that are not UTF-8")
        })
    }

    /// What to store in `raw` for `text`: a zstd frame when a dictionary
    /// exists and the frame is smaller, else the text itself.
    pub fn encode<'a>(&self, text: &'a str) -> ToSqlOutput<'a> {
        let plain = ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes()));
        let Some((_, dict)) = &self.encoder else {
            return plain;
        };
        let mut out: Vec<u8> = Vec::with_capacity(zstd::zstd_safe::compress_bound(text.len()));
        let done = CCTX.with_borrow_mut(|c| {
            c.compress_using_cdict(&mut out, text.as_bytes(), dict.as_cdict())
        });
        match done {
            Ok(n) if n < text.len() => ToSqlOutput::Owned(Value::Blob(out)),
            _ => plain,
        }
    }

    /// Trains the archive's first dictionary once it holds [`TRAIN_AT`]
    /// events, inside the caller's transaction. `true` when one was made.
    pub fn train_if_due(&mut self, conn: &Connection) -> Result<bool> {
        if self.encoder.is_some() || self.training_failed {
            return Ok(false);
        }
        // max(rowid) is an O(log n) stand-in for count(*).
        let archived: i64 =
            conn.query_row("SELECT coalesce(max(rowid), 0) FROM main.events", [], |r| {
                r.get(0)
            })?;
        if archived < TRAIN_AT {
            return Ok(false);
        }
        // One buffer, as zstd takes them, rather than a copy per sample.
        let (mut data, mut sizes) = (Vec::new(), Vec::new());
        {
            let mut stmt = conn.prepare(
                "SELECT raw FROM main.events WHERE typeof(raw) = 'text' ORDER BY rowid DESC LIMIT ?1",
            )?;
            let mut rows = stmt.query([SAMPLES])?;
            while let Some(r) = rows.next()? {
                let sample = r.get_ref(0)?.as_bytes().unwrap_or_default();
                data.extend_from_slice(sample);
                sizes.push(sample.len());
            }
        }
        let next: i64 = conn.query_row(
            "SELECT coalesce(max(id), 0) + 1 FROM main.raw_dictionaries",
            [],
            |r| r.get(0),
        )?;
        let Some(dict) = train(&data, &sizes, next as u32) else {
            self.training_failed = true;
            tracing::debug!(samples = sizes.len(), "no raw dictionary could be trained");
            return Ok(false);
        };
        conn.execute(
            "INSERT INTO main.raw_dictionaries (id, created_at, samples, dictionary) VALUES (?1, ?2, ?3, ?4)",
            params![next, crate::time::now_iso(), sizes.len() as i64, dict],
        )?;
        self.add(next as u32, &dict);
        Ok(true)
    }
}

/// The largest event a frame may claim to hold (Auth0 events are a few KB;
/// a corrupt header must not make us allocate gigabytes).
const MAX_EVENT_BYTES: u64 = 256 * 1024 * 1024;

/// A dictionary trained on the samples laid end to end in `data`, its id
/// set to `id` (a dictionary's id is four bytes after its magic number; an
/// id below 256 costs one byte per frame header).
fn train(data: &[u8], sizes: &[usize], id: u32) -> Option<Vec<u8>> {
    if sizes.len() < 8 {
        return None;
    }
    let mut dict = zstd::dict::from_continuous(data, sizes, DICTIONARY_BYTES).ok()?;
    if dict.len() < 8 || dict[..4] != [0x37, 0xA4, 0x30, 0xEC] {
        return None;
    }
    dict[4..8].copy_from_slice(&id.to_le_bytes());
    Some(dict)
}

fn has_dictionary_table(conn: &Connection) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'raw_dictionaries'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests;
