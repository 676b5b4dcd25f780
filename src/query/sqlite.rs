//! The SQLite engine: runs reports and ad-hoc SQL on a read-only connection.
//!
//! The bundled SQLite is built without SQLITE_ENABLE_MATH_FUNCTIONS, so the
//! math functions the reports use (and DuckDB has built in) are registered
//! here, together with `epoch_day` and `epoch_iso`, which the DuckDB copy
//! defines as macros with the same results. That keeps one SQL text per
//! report for both engines.
//!
//! `raw` may be stored compressed (`store::raw`), so a TEMP VIEW named
//! `events` shadows the table (SQLite resolves an unqualified name in `temp`
//! first): the same columns, `raw` decoded by `raw_text(raw)`, and `rowid`
//! (a view has none of its own) as a last column for the reports that join
//! back by rowid. SQLite flattens the view into each query, so the table's
//! indexes serve it as before and `raw` is decoded only where it is read.
//! `main.events` still names the stored table.

use std::path::Path;
use std::sync::Arc;

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ToSql};

use crate::error::{Error, Result};
use crate::store;
use crate::store::raw::RawCodec;

use super::engine::{Engine, Origin, Stop, read_only_refusal};
use super::output::{Sink, Value};
use super::params::Bound;

/// A read-only connection to the archive.
pub struct SqliteEngine {
    conn: Connection,
}

impl SqliteEngine {
    pub fn open(db: &Path) -> Result<Self> {
        Ok(SqliteEngine { conn: open(db)? })
    }
}

impl Engine for SqliteEngine {
    fn run(
        &self,
        sql: &str,
        values: &[Bound],
        origin: Origin,
        sink: &mut dyn Sink,
    ) -> Result<(), Stop> {
        run(&self.conn, sql, values, origin, sink)
    }
}

/// Opens the archive read-only, with ATTACH disabled and the helper
/// functions registered. Extension loading stays off (SQLite's default:
/// `load_extension()` is refused unless explicitly enabled).
fn open(db: &Path) -> Result<Connection> {
    let conn = store::open_read_only(db)?;
    // SAFETY: `handle()` is the live connection owned by `conn`; sqlite3_limit
    // only adjusts a per-connection limit. Zero attached databases makes
    // ATTACH fail, so ad-hoc SQL cannot reach other files.
    unsafe {
        rusqlite::ffi::sqlite3_limit(conn.handle(), rusqlite::ffi::SQLITE_LIMIT_ATTACHED, 0);
    }
    register_functions(&conn).map_err(|e| Error::sqlite("cannot register SQL functions", e))?;
    decode_raw(&conn)?;
    conn.execute_batch("PRAGMA query_only = ON")?;
    Ok(conn)
}

/// Registers `raw_text(raw)` and the `temp.events` view that applies it.
fn decode_raw(conn: &Connection) -> Result<()> {
    let codec = Arc::new(RawCodec::load(conn)?);
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("raw_text", 1, flags, move |ctx| match ctx.get_raw(0) {
        ValueRef::Null => Ok(None),
        v => codec
            .text(v)
            .map(|t| Some(t.into_owned()))
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e))),
    })
    .map_err(|e| Error::sqlite("cannot register SQL functions", e))?;
    let columns: Vec<String> = {
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('events', 'main')")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    let select: Vec<String> = columns
        .iter()
        .map(|c| match c.as_str() {
            "raw" => "raw_text(raw) AS raw".to_string(),
            other => format!("\"{}\"", other.replace('"', "\"\"")),
        })
        .collect();
    conn.execute_batch(&format!(
        "CREATE TEMP VIEW events AS SELECT {}, rowid AS rowid FROM main.events",
        select.join(", ")
    ))
    .map_err(|e| Error::sqlite("cannot prepare the events view", e))?;
    Ok(())
}

/// A one-argument math function and the SQL name it is registered under.
type Unary = (&'static str, fn(f64) -> f64);

fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let unary: &[Unary] = &[
        ("sin", f64::sin),
        ("cos", f64::cos),
        ("tan", f64::tan),
        ("asin", f64::asin),
        ("acos", f64::acos),
        ("atan", f64::atan),
        ("sqrt", f64::sqrt),
        ("exp", f64::exp),
        ("ln", f64::ln),
        ("log10", f64::log10),
        ("log2", f64::log2),
        ("floor", f64::floor),
        ("ceil", f64::ceil),
        ("radians", f64::to_radians),
        ("degrees", f64::to_degrees),
    ];
    for &(name, f) in unary {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            Ok(ctx.get::<Option<f64>>(0)?.map(f).filter(|v| v.is_finite()))
        })?;
    }
    for name in ["pow", "power"] {
        conn.create_scalar_function(name, 2, flags, |ctx| {
            let (a, b) = (ctx.get::<Option<f64>>(0)?, ctx.get::<Option<f64>>(1)?);
            Ok(a.zip(b).map(|(a, b)| a.powf(b)).filter(|v| v.is_finite()))
        })?;
    }
    conn.create_scalar_function("atan2", 2, flags, |ctx| {
        let (a, b) = (ctx.get::<Option<f64>>(0)?, ctx.get::<Option<f64>>(1)?);
        Ok(a.zip(b).map(|(a, b)| a.atan2(b)))
    })?;
    conn.create_scalar_function("pi", 0, flags, |_| Ok(std::f64::consts::PI))?;
    conn.create_scalar_function("epoch_day", 1, flags, |ctx| {
        Ok(ctx.get::<Option<i64>>(0)?.and_then(crate::time::epoch_day))
    })?;
    conn.create_scalar_function("epoch_iso", 1, flags, |ctx| {
        Ok(ctx.get::<Option<i64>>(0)?.and_then(crate::time::epoch_iso))
    })?;
    Ok(())
}

/// Runs one statement and streams its rows into `sink`. Only statements that
/// do not write are accepted.
fn run(
    conn: &Connection,
    sql: &str,
    params: &[Bound],
    origin: Origin,
    sink: &mut dyn Sink,
) -> Result<(), Stop> {
    let mut stmt = conn.prepare(sql).map_err(|e| sql_error(e, origin))?;
    if !stmt.readonly() {
        return Err(Stop::Err(read_only_refusal()));
    }
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let values: Vec<&dyn ToSql> = params
        .iter()
        .map(|b| match b {
            Bound::Int(i) => i as &dyn ToSql,
            Bound::Real(f) => f as &dyn ToSql,
            Bound::Text(s) => s as &dyn ToSql,
        })
        .collect();
    let mut rows = stmt
        .query(values.as_slice())
        .map_err(|e| sql_error(e, origin))?;
    sink.columns(&names)?;
    let mut row_buf: Vec<Value> = Vec::with_capacity(names.len());
    while let Some(row) = rows.next().map_err(|e| sql_error(e, origin))? {
        row_buf.clear();
        for i in 0..names.len() {
            let v = row.get_ref(i).map_err(|e| sql_error(e, origin))?;
            row_buf.push(value(v));
        }
        sink.row(&row_buf)?;
    }
    sink.finish()?;
    Ok(())
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Text(hex::encode(b)),
    }
}

fn sql_error(e: rusqlite::Error, origin: Origin) -> Stop {
    use rusqlite::ErrorCode;
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if matches!(f.code, ErrorCode::ReadOnly) {
            return Stop::Err(read_only_refusal());
        }
        if matches!(
            f.code,
            ErrorCode::DatabaseCorrupt
                | ErrorCode::NotADatabase
                | ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
        ) {
            return Stop::Err(Error::sqlite("cannot read the archive", e));
        }
    }
    let text = e.to_string();
    // A write to `events` meets the temp view first and fails to prepare.
    if text.contains("too many attached databases")
        || text.contains("because it is a view")
        || text.contains("use DROP VIEW")
    {
        return Stop::Err(read_only_refusal());
    }
    Stop::Err(match (origin, e) {
        (Origin::AdHoc, rusqlite::Error::MultipleStatement) => Error::usage(
            "query sql runs one statement at a time; remove everything after the first `;`",
        ),
        (Origin::AdHoc, _) => Error::usage(format!("SQL error: {text}")),
        (Origin::Saved, e) => Error::sqlite("saved report failed", e),
    })
}
