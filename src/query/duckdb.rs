//! The DuckDB engine: reports run on the copy's read-write connection
//! (after it is brought up to date), ad-hoc SQL on a read-only connection
//! that cannot reach files outside the copy.

use std::path::Path;

use duckdb::types::ValueRef;
use duckdb::{Connection, ToSql};

use crate::error::{Context, Error};
use crate::mirror;

use super::engine::{Engine, Origin, Stop, read_only_refusal};
use super::output::{Sink, Value};
use super::params::Bound;

/// A connection to the DuckDB copy, brought up to date when opened.
pub struct DuckDbEngine {
    conn: Connection,
    /// Over a Parquet export (`--parquet`): only SELECT statements run.
    parquet: bool,
    /// The greatest archive rowid the copy held when opened.
    copied_upto: Option<i64>,
}

impl DuckDbEngine {
    /// Reports run on the read-write connection the refresh used; ad-hoc
    /// SQL on a sealed read-only one.
    pub fn open(db: &Path, origin: Origin) -> Result<Self, Error> {
        let (rw, _) = mirror::refresh(db)?;
        let copied_upto = rw
            .query_row("SELECT source_rowid FROM mirror_state", [], |r| r.get(0))
            .ok();
        let conn = match origin {
            Origin::Saved => rw,
            Origin::AdHoc => {
                drop(rw);
                mirror::open_sealed(db)?
            }
        };
        // SQLite sorts NULL first ascending and last descending; so must we.
        conn.execute_batch("SET default_null_order = 'nulls_first_on_asc_last_on_desc'")
            .context("cannot configure DuckDB")?;
        Ok(DuckDbEngine {
            conn,
            parquet: false,
            copied_upto,
        })
    }

    /// In memory, over the export in `dir` (see `query::parquet`).
    pub fn over_parquet(dir: &Path, partial: bool) -> Result<Self, Error> {
        Ok(DuckDbEngine {
            conn: super::parquet::open(dir, partial)?,
            parquet: true,
            copied_upto: None,
        })
    }
}

impl Engine for DuckDbEngine {
    fn rows_upto(&self) -> Option<i64> {
        self.copied_upto
    }

    fn run(
        &self,
        sql: &str,
        values: &[Bound],
        origin: Origin,
        sink: &mut dyn Sink,
    ) -> Result<(), Stop> {
        if self.parquet {
            super::parquet::check_select(&self.conn, sql).map_err(|e| {
                Error::usage(format!(
                    "query refused over --parquet: {e} (nothing was run)"
                ))
            })?;
        }
        run(&self.conn, sql, values, origin, sink)
    }
}

fn run(
    conn: &Connection,
    sql: &str,
    values: &[Bound],
    origin: Origin,
    sink: &mut dyn Sink,
) -> Result<(), Stop> {
    let fail = |e: duckdb::Error| -> Stop {
        // One line: DuckDB appends the statement with a caret on more lines.
        let text = e.to_string().lines().next().unwrap_or_default().to_string();
        Stop::Err(match origin {
            _ if text.contains("read-only") || text.contains("read only") => read_only_refusal(),
            Origin::AdHoc
                if text.contains("external access")
                    || text.contains("disabled by configuration") =>
            {
                Error::usage(format!(
                    "query sql cannot read or write files outside the archive or the export with DuckDB ({text})"
                ))
            }
            Origin::AdHoc => Error::usage(format!("SQL error (DuckDB): {text}")),
            Origin::Saved => Error::duckdb("saved report failed on DuckDB", e),
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
