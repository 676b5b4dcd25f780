//! The DuckDB side: a columnar copy of `events` kept beside the archive,
//! the DuckDB query engine and Parquet export.
//!
//! DuckDB's SQLite scanner is an extension downloaded at run time, which is
//! not available offline, so the copy (`<archive>.duckdb`) is filled from
//! SQLite through rusqlite and the DuckDB Appender. It is brought up to date
//! before every DuckDB query: rows whose SQLite rowid is above the mirrored
//! watermark are appended, so the cost follows the number of new rows. If
//! rows at or below the watermark changed (deleted, or renumbered by a
//! VACUUM) the copy is rebuilt from scratch.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use duckdb::types::{ToSqlOutput, ValueRef};
use duckdb::{AccessMode, Config, Connection, ToSql};
use serde::{Deserialize, Serialize};

use crate::cli::ExportArgs;
use crate::error::{Error, Result};
use crate::query::Stop;
use crate::query::output::{Sink, Value};
use crate::query::params::{Bound, parse_time};
use crate::query::sqlite::{Origin, read_only_refusal};
use crate::store;

/// Bumped whenever the copy's layout changes; a copy of another version is
/// rebuilt.
const MIRROR_VERSION: i64 = 1;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
    Real,
    Bool,
}

/// The `events` columns in table order, with their DuckDB kind.
const COLUMNS: &[(&str, Kind)] = &[
    ("log_id", Kind::Text),
    ("tenant", Kind::Text),
    ("date", Kind::Text),
    ("ts", Kind::Int),
    ("type", Kind::Text),
    ("description", Kind::Text),
    ("connection", Kind::Text),
    ("connection_id", Kind::Text),
    ("client_id", Kind::Text),
    ("client_name", Kind::Text),
    ("ip", Kind::Text),
    ("client_ip", Kind::Text),
    ("user_agent", Kind::Text),
    ("hostname", Kind::Text),
    ("user_id", Kind::Text),
    ("user_name", Kind::Text),
    ("audience", Kind::Text),
    ("scope", Kind::Text),
    ("strategy", Kind::Text),
    ("strategy_type", Kind::Text),
    ("is_mobile", Kind::Bool),
    ("tenant_name", Kind::Text),
    ("environment_name", Kind::Text),
    ("country_code", Kind::Text),
    ("country_code3", Kind::Text),
    ("country_name", Kind::Text),
    ("city_name", Kind::Text),
    ("subdivision_code", Kind::Text),
    ("subdivision_name", Kind::Text),
    ("latitude", Kind::Real),
    ("longitude", Kind::Real),
    ("time_zone", Kind::Text),
    ("continent_code", Kind::Text),
    ("details", Kind::Text),
    ("raw", Kind::Text),
];

/// Helpers with the same results as the functions `query::sqlite` registers,
/// so one SQL text serves both engines.
const MACROS: &str = "
CREATE OR REPLACE MACRO epoch_day(ms) AS strftime(epoch_ms(ms), '%Y-%m-%d');
CREATE OR REPLACE MACRO epoch_iso(ms) AS strftime(epoch_ms(ms), '%Y-%m-%dT%H:%M:%S.%gZ');
";

/// Where the DuckDB copy of the archive at `db` lives.
pub fn mirror_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".duckdb");
    PathBuf::from(name)
}

fn duck_err(context: &str, e: duckdb::Error) -> Error {
    Error::database(format!("{context}: {e}"))
}

/// Opens the copy for writing, waiting a little if another process has it.
fn open_mirror_rw(path: &Path) -> Result<Connection> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let config = Config::default()
            .enable_autoload_extension(false)
            .and_then(|c| c.access_mode(AccessMode::ReadWrite))
            .map_err(|e| duck_err("cannot configure DuckDB", e))?;
        match Connection::open_with_flags(path, config) {
            Ok(c) => return Ok(c),
            Err(e) if e.to_string().contains("lock") && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                return Err(Error::database(format!(
                    "cannot open the DuckDB copy {}: {e} (it is rebuilt from the archive if you delete it)",
                    path.display()
                )));
            }
        }
    }
}

/// What a refresh did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Refresh {
    /// Rows appended to the copy.
    pub appended: u64,
    /// Whether the copy was rebuilt from scratch.
    pub rebuilt: bool,
    /// Rows in the copy afterwards.
    pub rows: u64,
}

/// Brings the DuckDB copy of `db` up to date and returns an open connection
/// to it (read-write, with the helper macros).
pub fn refresh(db: &Path) -> Result<(Connection, Refresh)> {
    let src = store::open_read_only(db)?;
    // One read transaction: the rows appended and the watermark recorded
    // come from the same snapshot, even while a sync is writing.
    src.execute_batch("BEGIN")?;
    let mut duck = open_mirror_rw(&mirror_path(db))?;
    let outcome = refresh_with(&src, &mut duck).map_err(|e| match e {
        Fail::Duck(e) => duck_err("cannot update the DuckDB copy", e),
        Fail::Sqlite(e) => Error::sqlite("cannot read the archive", e),
    })?;
    src.execute_batch("COMMIT")?;
    Ok((duck, outcome))
}

enum Fail {
    Duck(duckdb::Error),
    Sqlite(rusqlite::Error),
}
impl From<duckdb::Error> for Fail {
    fn from(e: duckdb::Error) -> Self {
        Fail::Duck(e)
    }
}
impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Sqlite(e)
    }
}

struct State {
    source_rowid: i64,
    source_rows: i64,
    last_log_id: Option<String>,
}

fn create_schema(duck: &Connection) -> duckdb::Result<()> {
    let cols: Vec<String> = COLUMNS
        .iter()
        .map(|(name, kind)| {
            let ty = match kind {
                Kind::Text => "VARCHAR",
                Kind::Int => "BIGINT",
                Kind::Real => "DOUBLE",
                Kind::Bool => "BOOLEAN",
            };
            let not_null = if matches!(*name, "log_id" | "tenant" | "raw") {
                " NOT NULL"
            } else {
                ""
            };
            format!("{name} {ty}{not_null}")
        })
        .collect();
    duck.execute_batch(&format!(
        "DROP TABLE IF EXISTS events;
         DROP TABLE IF EXISTS event_types;
         DROP TABLE IF EXISTS mirror_state;
         CREATE TABLE events ({});
         CREATE TABLE event_types (code VARCHAR NOT NULL, description VARCHAR NOT NULL, category VARCHAR NOT NULL);
         CREATE TABLE mirror_state (version BIGINT, source_rowid BIGINT, source_rows BIGINT, last_log_id VARCHAR);
         INSERT INTO mirror_state VALUES ({MIRROR_VERSION}, 0, 0, NULL);
         {MACROS}",
        cols.join(", ")
    ))
}

fn read_state(duck: &Connection) -> Option<State> {
    duck.query_row(
        "SELECT version, source_rowid, source_rows, last_log_id FROM mirror_state",
        [],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                State {
                    source_rowid: r.get(1)?,
                    source_rows: r.get(2)?,
                    last_log_id: r.get(3)?,
                },
            ))
        },
    )
    .ok()
    .filter(|(v, _)| *v == MIRROR_VERSION)
    .map(|(_, s)| s)
}

fn refresh_with(src: &rusqlite::Connection, duck: &mut Connection) -> Result<Refresh, Fail> {
    let mut rebuilt = false;
    let mut state = match read_state(duck) {
        Some(s) => s,
        None => {
            create_schema(duck)?;
            rebuilt = true;
            State {
                source_rowid: 0,
                source_rows: 0,
                last_log_id: None,
            }
        }
    };

    // Rows at or below the watermark must be exactly the ones mirrored: the
    // same number of them, and the same event at the watermark itself.
    if state.source_rowid > 0 {
        let newer: i64 = src.query_row(
            "SELECT count(*) FROM events WHERE rowid > ?1",
            [state.source_rowid],
            |r| r.get(0),
        )?;
        let total: i64 = src.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        let at_mark: Option<String> = src
            .query_row(
                "SELECT log_id FROM events WHERE rowid = ?1",
                [state.source_rowid],
                |r| r.get(0),
            )
            .ok();
        if total - newer != state.source_rows || at_mark != state.last_log_id {
            create_schema(duck)?;
            rebuilt = true;
            state = State {
                source_rowid: 0,
                source_rows: 0,
                last_log_id: None,
            };
        }
    }

    let src_types: i64 = src.query_row("SELECT count(*) FROM event_types", [], |r| r.get(0))?;
    let duck_types: i64 = duck.query_row("SELECT count(*) FROM event_types", [], |r| r.get(0))?;
    let max_rowid: i64 = src.query_row("SELECT coalesce(max(rowid), 0) FROM events", [], |r| {
        r.get(0)
    })?;
    if max_rowid <= state.source_rowid && src_types == duck_types && !rebuilt {
        return Ok(Refresh {
            appended: 0,
            rebuilt,
            rows: state.source_rows as u64,
        });
    }

    let tx = duck.transaction()?;
    if src_types != duck_types {
        tx.execute("DELETE FROM event_types", [])?;
        let mut app = tx.appender("event_types")?;
        let mut stmt = src.prepare("SELECT code, description, category FROM event_types")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (a, b, c): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            app.append_row([a, b, c])?;
        }
    }

    let mut appended = 0u64;
    let mut last = (state.source_rowid, state.last_log_id.clone());
    {
        let names: Vec<&str> = COLUMNS.iter().map(|(n, _)| *n).collect();
        let sql = format!(
            "SELECT rowid, {} FROM events WHERE rowid > ?1 ORDER BY rowid",
            names.join(", ")
        );
        let mut stmt = src.prepare(&sql)?;
        let mut rows = stmt.query([state.source_rowid])?;
        let mut app = tx.appender("events")?;
        while let Some(r) = rows.next()? {
            let cells = COLUMNS
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| Ok(Cell::read(r.get_ref(i + 1)?, *kind)))
                .collect::<rusqlite::Result<Vec<Cell<'_>>>>()?;
            let refs: Vec<&dyn ToSql> = cells.iter().map(|c| c as &dyn ToSql).collect();
            app.append_row(refs.as_slice())?;
            appended += 1;
            last = (r.get(0)?, r.get(1)?);
        }
        app.flush()?;
    }
    tx.execute(
        "UPDATE mirror_state SET source_rowid = ?, source_rows = ?, last_log_id = ?",
        duckdb::params![last.0, state.source_rows + appended as i64, last.1],
    )?;
    tx.commit()?;
    Ok(Refresh {
        appended,
        rebuilt,
        rows: (state.source_rows as u64) + appended,
    })
}

/// One SQLite cell on its way into DuckDB, borrowed where possible.
enum Cell<'a> {
    Text(Option<std::borrow::Cow<'a, str>>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
}

impl<'a> Cell<'a> {
    /// Reads leniently: SQLite columns are dynamically typed, so a value of
    /// an unexpected type is converted rather than refused.
    fn read(v: rusqlite::types::ValueRef<'a>, kind: Kind) -> Self {
        use rusqlite::types::ValueRef as V;
        match kind {
            Kind::Text => Cell::Text(match v {
                V::Null => None,
                V::Text(t) => Some(String::from_utf8_lossy(t)),
                V::Integer(i) => Some(i.to_string().into()),
                V::Real(f) => Some(f.to_string().into()),
                V::Blob(b) => Some(String::from_utf8_lossy(b)),
            }),
            Kind::Int => Cell::Int(match v {
                V::Integer(i) => Some(i),
                V::Real(f) => Some(f as i64),
                _ => None,
            }),
            Kind::Real => Cell::Real(match v {
                V::Integer(i) => Some(i as f64),
                V::Real(f) => Some(f),
                _ => None,
            }),
            Kind::Bool => Cell::Bool(match v {
                V::Integer(i) => Some(i != 0),
                V::Real(f) => Some(f != 0.0),
                _ => None,
            }),
        }
    }
}

impl ToSql for Cell<'_> {
    fn to_sql(&self) -> duckdb::Result<ToSqlOutput<'_>> {
        match self {
            Cell::Text(Some(s)) => Ok(ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))),
            Cell::Text(None) => Ok(ToSqlOutput::Owned(duckdb::types::Value::Null)),
            Cell::Int(v) => v.to_sql(),
            Cell::Real(v) => v.to_sql(),
            Cell::Bool(v) => v.to_sql(),
        }
    }
}

/// Runs a report or ad-hoc SQL on the DuckDB copy, after bringing it up to
/// date. Ad-hoc SQL runs on a separate read-only connection that cannot
/// touch files outside the copy (no COPY, read_csv, ATTACH or extensions).
pub fn query(
    db: &Path,
    sql: &str,
    values: &[Bound],
    origin: Origin,
    sink: &mut dyn Sink,
) -> Result<(), Stop> {
    let (rw, _) = refresh(db)?;
    let conn = match origin {
        Origin::Report => rw,
        Origin::AdHoc => {
            drop(rw);
            let config = Config::default()
                .enable_autoload_extension(false)
                .and_then(|c| c.access_mode(AccessMode::ReadOnly))
                .and_then(|c| c.enable_external_access(false))
                .map_err(|e| duck_err("cannot configure DuckDB", e))?;
            Connection::open_with_flags(mirror_path(db), config)
                .map_err(|e| duck_err("cannot open the DuckDB copy", e))?
        }
    };
    // SQLite sorts NULL first ascending and last descending; so must we.
    conn.execute_batch("SET default_null_order = 'nulls_first_on_asc_last_on_desc'")
        .map_err(|e| duck_err("cannot configure DuckDB", e))?;
    run(&conn, sql, values, origin, sink)
}

fn run(
    conn: &Connection,
    sql: &str,
    values: &[Bound],
    origin: Origin,
    sink: &mut dyn Sink,
) -> Result<(), Stop> {
    let fail = |e: duckdb::Error| -> Stop {
        let text = e.to_string();
        Stop::Err(match origin {
            _ if text.contains("read-only") || text.contains("read only") => read_only_refusal(),
            Origin::AdHoc
                if text.contains("external access")
                    || text.contains("disabled by configuration") =>
            {
                Error::usage(format!(
                    "query sql cannot read or write files outside the archive with --engine duckdb ({text})"
                ))
            }
            Origin::AdHoc => Error::usage(format!("SQL error (DuckDB): {text}")),
            Origin::Report => Error::database(format!("saved report failed on DuckDB: {text}")),
        })
    };
    let mut stmt = conn.prepare(sql).map_err(fail)?;
    let params: Vec<&dyn ToSql> = values
        .iter()
        .map(|b| match b {
            Bound::Int(i) => i as &dyn ToSql,
            Bound::Real(f) => f as &dyn ToSql,
            Bound::Text(s) => s as &dyn ToSql,
        })
        .collect();
    let mut rows = stmt.query(params.as_slice()).map_err(fail)?;
    let names: Vec<String> = rows.as_ref().map(|s| s.column_names()).unwrap_or_default();
    sink.columns(&names)?;
    let mut buf: Vec<Value> = Vec::with_capacity(names.len());
    while let Some(row) = rows.next().map_err(fail)? {
        buf.clear();
        for i in 0..names.len() {
            buf.push(value(row.get_ref(i).map_err(fail)?));
        }
        sink.row(&buf)?;
    }
    sink.finish()?;
    Ok(())
}

/// DuckDB values in the engine-neutral form the writers take.
fn value(v: ValueRef<'_>) -> Value {
    use ValueRef as V;
    match v {
        V::Null => Value::Null,
        V::Boolean(b) => Value::Bool(b),
        V::TinyInt(i) => Value::Int(i.into()),
        V::SmallInt(i) => Value::Int(i.into()),
        V::Int(i) => Value::Int(i.into()),
        V::BigInt(i) => Value::Int(i),
        V::HugeInt(i) => i64::try_from(i)
            .map(Value::Int)
            .unwrap_or(Value::Real(i as f64)),
        V::UTinyInt(i) => Value::Int(i.into()),
        V::USmallInt(i) => Value::Int(i.into()),
        V::UInt(i) => Value::Int(i.into()),
        V::UBigInt(i) => i64::try_from(i)
            .map(Value::Int)
            .unwrap_or(Value::Real(i as f64)),
        V::Float(f) => Value::Real(f.into()),
        V::Double(f) => Value::Real(f),
        V::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        other => match other.to_owned() {
            duckdb::types::Value::Decimal(d) => d
                .to_string()
                .parse::<f64>()
                .map(Value::Real)
                .unwrap_or_else(|_| Value::Text(d.to_string())),
            duckdb::types::Value::Timestamp(unit, n) => {
                let micros = unit.to_micros(n);
                chrono::DateTime::from_timestamp_micros(micros)
                    .map(|t| Value::Text(t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()))
                    .unwrap_or(Value::Int(n))
            }
            duckdb::types::Value::Date32(d) => {
                chrono::NaiveDate::from_num_days_from_ce_opt(d + 719_163)
                    .map(|d| Value::Text(d.to_string()))
                    .unwrap_or(Value::Int(d.into()))
            }
            duckdb::types::Value::Blob(b) => Value::Text(hex::encode(b)),
            o => Value::Text(format!("{o:?}")),
        },
    }
}

// ---------------------------------------------------------------------------
// Parquet export

/// The export's table of contents, written last: a directory whose manifest
/// is missing or says `complete: false` is not a finished export.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub complete: bool,
    pub updated_at: String,
    /// Per day (`YYYY-MM-DD`): what its file holds.
    pub days: BTreeMap<String, DayEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayEntry {
    pub file: String,
    pub rows: u64,
    /// XOR of DuckDB's hash of every log_id of the day: changes when the
    /// day gains or loses an event.
    pub fingerprint: String,
}

pub const MANIFEST: &str = "_manifest.json";
pub const SUCCESS: &str = "_SUCCESS";
const DAY_FILE: &str = "events.parquet";
const DAY_MS: i64 = 86_400_000;

/// Columns as written to Parquet. `date` is the partition (`date=…/`), so
/// the files carry the instant as `ts` TIMESTAMP WITH TIME ZONE instead;
/// readers that use hive partitioning get `date` back as the day, and `raw`
/// keeps the event as received.
fn export_select() -> String {
    COLUMNS
        .iter()
        .filter(|(n, _)| *n != "date")
        .map(|(n, _)| match *n {
            "ts" => "CAST(epoch_ms(ts) AS TIMESTAMPTZ) AS ts".to_string(),
            n => n.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(m)
        .map_err(|e| Error::runtime(format!("cannot encode manifest: {e}")))?;
    write_atomic(&dir.join(MANIFEST), &bytes).map_err(|e| {
        Error::runtime(format!(
            "cannot write {}: {e}",
            dir.join(MANIFEST).display()
        ))
    })
}

fn day_range(args: &ExportArgs) -> Result<(i64, i64)> {
    let bound = |v: &Option<String>, upper: bool, flag: &str| -> Result<i64> {
        match v {
            None => Ok(if upper { i64::MAX } else { i64::MIN }),
            Some(v) => parse_time(v.trim(), upper)
                .map(|ms| {
                    // Whole days only: partitions are days.
                    let floor = ms - ms.rem_euclid(DAY_MS);
                    if upper && floor != ms {
                        floor + DAY_MS
                    } else {
                        floor
                    }
                })
                .map_err(|e| Error::usage(format!("--{flag}: {e}"))),
        }
    };
    Ok((
        bound(&args.since, false, "since")?,
        bound(&args.until, true, "until")?,
    ))
}

/// What an export did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub days_written: u64,
    pub rows_written: u64,
    pub days_unchanged: u64,
    pub days_removed: u64,
}

/// Writes one day's file: to a hidden temporary file, renamed into place.
fn write_day(conn: &Connection, dir: &Path, select: &str, day: &str, day_ms: i64) -> Result<()> {
    let day_dir = dir.join(format!("date={day}"));
    std::fs::create_dir_all(&day_dir)
        .map_err(|e| Error::runtime(format!("cannot create {}: {e}", day_dir.display())))?;
    let tmp = day_dir.join(format!(".{DAY_FILE}.tmp"));
    let path = day_dir.join(DAY_FILE);
    let tmp_text = tmp
        .to_str()
        .ok_or_else(|| Error::usage(format!("export path {} is not valid UTF-8", dir.display())))?;
    // Only our own integers and the output path reach this text; the path is
    // quoted as an SQL string literal.
    let copy = format!(
        "COPY (SELECT {select} FROM events WHERE ts >= {lo} AND ts < {hi} ORDER BY ts, log_id) \
         TO {file} (FORMAT parquet, COMPRESSION zstd)",
        lo = day_ms,
        hi = day_ms + DAY_MS,
        file = sql_string(tmp_text),
    );
    conn.execute_batch(&copy)
        .map_err(|e| duck_err("export failed", e))?;
    std::fs::rename(&tmp, &path)
        .map_err(|e| Error::runtime(format!("cannot move {} into place: {e}", path.display())))
}

/// `query export`: Parquet (zstd) per day, rewriting only days that changed.
pub fn export(db: &Path, args: &ExportArgs) -> Result<()> {
    let summary = export_to(db, &args.out, args)?;
    let mut out = io::stdout().lock();
    let line = format!(
        "exported {} day(s) ({} events) to {}; {} day(s) unchanged{}\n",
        summary.days_written,
        summary.rows_written,
        args.out.display(),
        summary.days_unchanged,
        if summary.days_removed > 0 {
            format!(", {} emptied day(s) removed", summary.days_removed)
        } else {
            String::new()
        }
    );
    match out.write_all(line.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(Error::runtime(format!("cannot write: {e}")))
        }
        _ => Ok(()),
    }
}

fn export_to(db: &Path, dir: &Path, args: &ExportArgs) -> Result<ExportSummary> {
    let (since, until) = day_range(args)?;
    if since >= until {
        return Err(Error::usage("--since is after --until: nothing to export"));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::usage(format!(
            "cannot create export directory {}: {e}",
            dir.display()
        ))
    })?;
    let (duck, _) = refresh(db)?;
    let derr = |e: duckdb::Error| duck_err("export failed", e);

    // The days in range as they are now.
    let mut current: BTreeMap<String, (i64, DayEntry)> = BTreeMap::new();
    {
        let mut stmt = duck
            .prepare(
                "SELECT ts - ts % 86400000 AS day_ms, count(*) AS n, bit_xor(hash(log_id)) AS fp
                 FROM events WHERE ts IS NOT NULL AND ts >= ? AND ts < ?
                 GROUP BY 1 ORDER BY 1",
            )
            .map_err(derr)?;
        let mut rows = stmt.query(duckdb::params![since, until]).map_err(derr)?;
        while let Some(r) = rows.next().map_err(derr)? {
            let day_ms: i64 = r.get(0).map_err(derr)?;
            let n: i64 = r.get(1).map_err(derr)?;
            let fp: u64 = r.get(2).map_err(derr)?;
            let day = crate::query::sqlite::epoch_day(day_ms).unwrap_or_default();
            let entry = DayEntry {
                file: format!("date={day}/{DAY_FILE}"),
                rows: n as u64,
                fingerprint: format!("{fp:016x}"),
            };
            current.insert(day, (day_ms, entry));
        }
    }
    let undated: i64 = duck
        .query_row("SELECT count(*) FROM events WHERE ts IS NULL", [], |r| {
            r.get(0)
        })
        .map_err(derr)?;

    let manifest_path = dir.join(MANIFEST);
    let mut manifest: Manifest = std::fs::read(&manifest_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    manifest.format = 1;

    let in_range = |day: &str| parse_time(day, false).is_ok_and(|ms| ms >= since && ms < until);
    let to_write: Vec<String> = current
        .iter()
        .filter(|(day, (_, entry))| {
            manifest.days.get(*day) != Some(entry) || !dir.join(&entry.file).is_file()
        })
        .map(|(day, _)| day.clone())
        .collect();
    let to_remove: Vec<String> = manifest
        .days
        .keys()
        .filter(|d| in_range(d.as_str()) && !current.contains_key(d.as_str()))
        .cloned()
        .collect();

    let mut summary = ExportSummary {
        days_unchanged: (current.len() - to_write.len()) as u64,
        ..Default::default()
    };
    if to_write.is_empty()
        && to_remove.is_empty()
        && manifest.complete
        && dir.join(SUCCESS).is_file()
    {
        return Ok(summary);
    }

    // From here until the end the directory is not a complete export: the
    // marker goes first, and the days being replaced leave the manifest, so
    // an interrupted export redoes them next time.
    let _ = std::fs::remove_file(dir.join(SUCCESS));
    manifest.complete = false;
    manifest.updated_at = crate::store::writer::now_text();
    for d in to_write.iter().chain(&to_remove) {
        manifest.days.remove(d);
    }
    write_manifest(dir, &manifest)?;

    for day in &to_remove {
        let _ = std::fs::remove_dir_all(dir.join(format!("date={day}")));
        summary.days_removed += 1;
    }

    // Each day is one ordered COPY; a single day rarely fills more than one
    // row group, so DuckDB compresses it on one thread. Days are therefore
    // written by several connections at once (one per core, at most 4).
    let select = export_select();
    let jobs: Vec<(&String, i64)> = to_write.iter().map(|d| (d, current[d].0)).collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let conns = (0..workers)
        .map(|_| duck.try_clone().map_err(derr))
        .collect::<Result<Vec<_>>>()?;
    let results: Vec<Result<Vec<String>>> = std::thread::scope(|s| {
        let handles: Vec<_> = conns
            .into_iter()
            .map(|conn| {
                let (jobs, next, select) = (&jobs, &next, &select);
                s.spawn(move || -> Result<Vec<String>> {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((day, day_ms)) = jobs.get(i) else {
                            return Ok(done);
                        };
                        if let Err(e) = write_day(&conn, dir, select, day, *day_ms) {
                            // Stop the other workers too.
                            next.store(jobs.len(), std::sync::atomic::Ordering::Relaxed);
                            return Err(e);
                        }
                        done.push((*day).clone());
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::runtime("export worker panicked")))
            })
            .collect()
    });
    for r in results {
        for day in r? {
            let entry = &current[&day].1;
            summary.days_written += 1;
            summary.rows_written += entry.rows;
            manifest.days.insert(day, entry.clone());
        }
    }

    manifest.complete = true;
    manifest.updated_at = crate::store::writer::now_text();
    write_manifest(dir, &manifest)?;
    write_atomic(&dir.join(SUCCESS), b"").map_err(|e| {
        Error::runtime(format!("cannot write {}: {e}", dir.join(SUCCESS).display()))
    })?;
    if undated > 0 {
        eprintln!(
            "auth0-archive: note: {undated} event(s) without a parseable date were not exported (see `raw` in the archive)"
        );
    }
    Ok(summary)
}
