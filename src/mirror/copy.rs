//! Moves SQLite rows into the copy. One thread reads SQLite, decodes each
//! `raw` and hashes it, and packs the rows column by column into Arrow
//! record batches; the caller's thread appends each batch to DuckDB whole.
//! Value-by-value appending (a `ToSql` per cell) managed about 55,000 rows
//! a second; with both halves running side by side the copy follows the
//! slower of the two instead of their sum.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use duckdb::arrow::array::{
    ArrayBuilder, ArrayRef, BinaryBuilder, BooleanBuilder, Float64Builder, Int64Builder,
    StringBuilder,
};
use duckdb::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use duckdb::arrow::record_batch::RecordBatch;
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};

use crate::error::{Context, Error, Result};
use crate::event::{Column, Kind, Source, event_columns};
use crate::store::raw::RawCodec;
use crate::time::DAY_MS;

/// Rows per record batch: four of DuckDB's 2,048-row vectors, about 10 MB
/// of events; two batches wait in the channel at most.
const BATCH_ROWS: usize = 8192;

/// What a copy appended.
#[derive(Debug, Default)]
pub(super) struct Copied {
    /// Rows appended.
    pub rows: u64,
    /// The rowid and log_id of the last row appended.
    pub last: Option<(i64, String)>,
    /// The UTC days (epoch ms at midnight) the appended rows fall on.
    pub days: BTreeSet<i64>,
}

/// Appends every `events` row of `src` whose rowid is above `after` to the
/// copy's `events` and `event_digests`, in rowid order, inside the caller's
/// DuckDB transaction `duck`.
pub(super) fn copy_rows(
    src: &mut rusqlite::Connection,
    duck: &duckdb::Connection,
    after: i64,
) -> Result<Copied> {
    let codec = RawCodec::load(src)?;
    let (send, recv) = sync_channel::<Batch>(2);
    std::thread::scope(|s| {
        // Only this thread touches `src` until it ends.
        let reader = s.spawn(move || read_rows(src, &codec, after, send));
        let appended = append_batches(duck, recv);
        let read = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // When appending failed the reader stopped early, so its figures are
        // partial and DuckDB's error is the one to report.
        appended?;
        read
    })
}

/// One batch of rows for each of the two tables.
struct Batch {
    events: RecordBatch,
    digests: RecordBatch,
}

fn append_batches(duck: &duckdb::Connection, batches: Receiver<Batch>) -> Result<()> {
    let what = "cannot append to the DuckDB copy";
    let mut events = duck.appender("events").context(what)?;
    let mut digests = duck.appender("event_digests").context(what)?;
    for batch in batches {
        events.append_record_batch(batch.events).context(what)?;
        digests.append_record_batch(batch.digests).context(what)?;
    }
    events.flush().context(what)?;
    digests.flush().context(what)
}

fn read_rows(
    src: &rusqlite::Connection,
    codec: &RawCodec,
    after: i64,
    out: SyncSender<Batch>,
) -> Result<Copied> {
    let columns: Vec<&Column> = event_columns().collect();
    let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let at = |source: Source| {
        columns
            .iter()
            .position(|c| c.source == source)
            .expect("the column table lists log_id and ts")
    };
    let (log_id_at, ts_at) = (at(Source::LogId), at(Source::Ts));
    let sql = format!(
        "SELECT rowid, {} FROM events WHERE rowid > ?1 ORDER BY rowid",
        names.join(", ")
    );
    let what = "cannot read the archive's events";
    let mut stmt = src.prepare(&sql).context(what)?;
    let mut rows = stmt.query([after]).context(what)?;
    let mut batch = Builders::new(&columns);
    let mut copied = Copied::default();
    let (mut last_rowid, mut last_log_id) = (0i64, String::new());
    while let Some(r) = rows.next().context(what)? {
        let mut ts = None;
        for (i, column) in columns.iter().enumerate() {
            let value = r.get_ref(i + 1).context(what)?;
            if column.source == Source::Raw {
                let raw = codec.text(value)?;
                // The digest of `raw` as copied, which is what the export writes.
                batch.digest_raw(&raw);
                batch.push_text(i, Some(raw));
                continue;
            }
            match &mut batch.columns[i] {
                Builder::Text(b) => b.append_option(text_of(value)),
                Builder::Int(b) => {
                    let v = int_of(value);
                    if i == ts_at {
                        ts = v;
                    }
                    b.append_option(v)
                }
                Builder::Real(b) => b.append_option(real_of(value)),
                Builder::Bool(b) => b.append_option(bool_of(value)),
            }
            if i == log_id_at {
                last_log_id.clear();
                last_log_id.push_str(&text_of(value).unwrap_or_default());
            }
        }
        batch.digest_key(&last_log_id, ts);
        if let Some(ts) = ts {
            copied.days.insert(ts.div_euclid(DAY_MS) * DAY_MS);
        }
        last_rowid = r.get(0).context(what)?;
        copied.rows += 1;
        if batch.len() == BATCH_ROWS && out.send(batch.finish()?).is_err() {
            // The appending side failed and says why.
            return Ok(copied);
        }
    }
    if batch.len() > 0 {
        // An error here means the appending side failed; it says why.
        let _ = out.send(batch.finish()?);
    }
    if copied.rows > 0 {
        copied.last = Some((last_rowid, last_log_id));
    }
    Ok(copied)
}

/// Reads leniently: SQLite columns are dynamically typed, so a value of an
/// unexpected type is converted rather than refused.
fn text_of(v: ValueRef<'_>) -> Option<Cow<'_, str>> {
    match v {
        ValueRef::Null => None,
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t)),
        ValueRef::Integer(i) => Some(i.to_string().into()),
        ValueRef::Real(f) => Some(f.to_string().into()),
    }
}

fn int_of(v: ValueRef<'_>) -> Option<i64> {
    match v {
        ValueRef::Integer(i) => Some(i),
        ValueRef::Real(f) => Some(f as i64),
        _ => None,
    }
}

fn real_of(v: ValueRef<'_>) -> Option<f64> {
    match v {
        ValueRef::Integer(i) => Some(i as f64),
        ValueRef::Real(f) => Some(f),
        _ => None,
    }
}

fn bool_of(v: ValueRef<'_>) -> Option<bool> {
    match v {
        ValueRef::Integer(i) => Some(i != 0),
        ValueRef::Real(f) => Some(f != 0.0),
        _ => None,
    }
}

/// A column being filled.
enum Builder {
    Text(StringBuilder),
    Int(Int64Builder),
    Real(Float64Builder),
    Bool(BooleanBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Text => Builder::Text(StringBuilder::new()),
            Kind::Int => Builder::Int(Int64Builder::new()),
            Kind::Real => Builder::Real(Float64Builder::new()),
            Kind::Bool => Builder::Bool(BooleanBuilder::new()),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Real(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
        }
    }

    fn arrow_type(kind: Kind) -> DataType {
        match kind {
            Kind::Text => DataType::Utf8,
            Kind::Int => DataType::Int64,
            Kind::Real => DataType::Float64,
            Kind::Bool => DataType::Boolean,
        }
    }
}

/// The rows of one batch, column by column, for `events` and for
/// `event_digests` (log_id, ts, SHA-256 of raw).
struct Builders {
    events_schema: SchemaRef,
    digests_schema: SchemaRef,
    columns: Vec<Builder>,
    digest_log_id: StringBuilder,
    digest_ts: Int64Builder,
    digest: BinaryBuilder,
}

impl Builders {
    fn new(columns: &[&Column]) -> Self {
        let fields: Vec<Field> = columns
            .iter()
            // Nullable throughout: the copy's NOT NULL constraints say which
            // columns must have values, as they did for row-by-row appends.
            .map(|c| Field::new(c.name, Builder::arrow_type(c.kind), true))
            .collect();
        let digests_schema = Schema::new(vec![
            Field::new("log_id", DataType::Utf8, true),
            Field::new("ts", DataType::Int64, true),
            Field::new("raw_sha256", DataType::Binary, true),
        ]);
        Builders {
            events_schema: Arc::new(Schema::new(fields)),
            digests_schema: Arc::new(digests_schema),
            columns: columns.iter().map(|c| Builder::new(c.kind)).collect(),
            digest_log_id: StringBuilder::new(),
            digest_ts: Int64Builder::new(),
            digest: BinaryBuilder::new(),
        }
    }

    fn len(&self) -> usize {
        self.digest_log_id.len()
    }

    fn push_text(&mut self, i: usize, text: Option<Cow<'_, str>>) {
        if let Builder::Text(b) = &mut self.columns[i] {
            b.append_option(text);
        }
    }

    fn digest_raw(&mut self, raw: &str) {
        self.digest.append_value(Sha256::digest(raw.as_bytes()));
    }

    /// Ends the row's `event_digests` entry (its digest came first).
    fn digest_key(&mut self, log_id: &str, ts: Option<i64>) {
        self.digest_log_id.append_value(log_id);
        self.digest_ts.append_option(ts);
    }

    /// The batch so far, leaving the builders empty for the next one.
    fn finish(&mut self) -> Result<Batch> {
        let internal = |e| Error::runtime(format!("cannot build a batch for the DuckDB copy: {e}"));
        let events = self.columns.iter_mut().map(Builder::finish).collect();
        let digests: Vec<ArrayRef> = vec![
            Arc::new(self.digest_log_id.finish()),
            Arc::new(self.digest_ts.finish()),
            Arc::new(self.digest.finish()),
        ];
        Ok(Batch {
            events: RecordBatch::try_new(self.events_schema.clone(), events).map_err(internal)?,
            digests: RecordBatch::try_new(self.digests_schema.clone(), digests)
                .map_err(internal)?,
        })
    }
}
