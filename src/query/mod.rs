//! `auth0-archive query`: saved reports, ad-hoc SQL and the report list.
//!
//! `catalog` holds the reports of `queries/*.sql`, `params` binds their
//! parameters, `engine` is the interface `sqlite` and `duckdb` implement,
//! `output` writes the rows, `parquet` serves `--parquet DIR` (DuckDB in
//! memory over an export). (`query export` is the top-level `export` module.)

pub mod catalog;
mod duckdb;
pub mod engine;
pub mod output;
pub mod params;
mod parquet;
pub mod reference;
mod sqlite;

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::choices::{EngineKind as Engine, Format};
use crate::config::commands::{ListOptions, QuerySource, SavedQueryOptions, SqlOptions};
use crate::error::Result;

pub use engine::{Origin, Stop};
use output::{Sink, Value};
use params::Bound;

/// A closed stdout is not an error: `auth0-archive query ... | head` exits 0.
fn finish(result: Result<(), Stop>) -> Result<()> {
    match result {
        Ok(()) | Err(Stop::Pipe) => Ok(()),
        Err(Stop::Err(e)) => Err(e),
    }
}

/// `query list`.
pub fn list(args: &ListOptions) -> Result<()> {
    finish(write_list(args))
}

/// `query run NAME`.
pub fn run_report(db: &Path, args: &SavedQueryOptions) -> Result<()> {
    finish(report(db, args))
}

/// `query sql TEXT`.
pub fn run_sql(db: &Path, args: &SqlOptions) -> Result<()> {
    finish(sql(db, args))
}

fn stdout_sink(format: Option<Format>) -> Box<dyn Sink> {
    let format = output::resolve_format(format);
    output::sink(
        format,
        BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
    )
}

fn report(db: &Path, args: &SavedQueryOptions) -> Result<(), Stop> {
    let report = catalog::find(&args.name)?;
    let (sql, values) = params::bind(&report, &args.params)?;
    let mut sink = stdout_sink(args.format);
    run_on(
        db,
        &args.source,
        &sql,
        &values,
        Origin::Saved,
        sink.as_mut(),
    )
}

fn sql(db: &Path, args: &SqlOptions) -> Result<(), Stop> {
    let mut sink = stdout_sink(args.format);
    run_on(
        db,
        &args.source,
        &args.sql,
        &[],
        Origin::AdHoc,
        sink.as_mut(),
    )
}

/// Runs one statement on the archive or on a Parquet export.
fn run_on(
    db: &Path,
    source: &QuerySource,
    sql: &str,
    values: &[Bound],
    origin: Origin,
    sink: &mut dyn Sink,
) -> Result<(), Stop> {
    match source {
        QuerySource::Parquet { dir, partial } => {
            engine::open_parquet(dir, *partial)?.run(sql, values, origin, sink)
        }
        QuerySource::Archive(engine) => execute(db, *engine, sql, values, origin, sink),
    }
}

/// Runs one statement on the chosen engine.
pub fn execute(
    db: &Path,
    engine: Engine,
    sql: &str,
    values: &[Bound],
    origin: Origin,
    sink: &mut dyn Sink,
) -> Result<(), Stop> {
    engine::open(db, engine, origin)?.run(sql, values, origin, sink)
}

fn write_list(args: &ListOptions) -> Result<(), Stop> {
    let reports = catalog::reports()?;
    let format = output::resolve_format(args.format);
    let mut out = BufWriter::new(io::stdout().lock());
    if matches!(format, Format::Json | Format::Ndjson) {
        let items: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.name,
                    "description": r.description,
                    "detection": r.detection.as_ref().map(|d| serde_json::json!({
                        "severity": d.severity.as_str(),
                        "key": d.key,
                        "window_s": d.window_s,
                    })),
                    "params": r.params.iter().map(|p| serde_json::json!({
                        "name": p.name,
                        "type": p.kind.as_str(),
                        "default": p.default,
                        "required": p.default.is_none() && p.kind != params::ParamType::Time,
                        "help": p.help,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        if format == Format::Json {
            serde_json::to_writer_pretty(&mut out, &items).map_err(io::Error::from)?;
            writeln!(out)?;
        } else {
            for item in &items {
                serde_json::to_writer(&mut out, item).map_err(io::Error::from)?;
                writeln!(out)?;
            }
        }
        out.flush()?;
        return Ok(());
    }
    let mut sink = output::sink(format, out);
    sink.columns(&[
        "name".into(),
        "detection".into(),
        "description".into(),
        "parameters".into(),
    ])?;
    for r in &reports {
        let ps: Vec<String> = r.params.iter().map(params::describe).collect();
        sink.row(&[
            Value::Text(r.name.clone()),
            r.detection.as_ref().map_or(Value::Null, |d| {
                Value::Text(d.severity.as_str().to_string())
            }),
            Value::Text(r.description.clone()),
            Value::Text(ps.join(", ")),
        ])?;
    }
    sink.finish()?;
    Ok(())
}
