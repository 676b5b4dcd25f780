//! Saved reports, ad-hoc SQL, output formats and Parquet export.
//!
//! `catalog` holds the reports of `queries/*.sql`, `params` binds their
//! parameters, `sqlite` and `crate::duck` are the two engines, `output`
//! writes the rows.

pub mod catalog;
pub mod output;
pub mod params;
pub mod sqlite;

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::cli::{Engine, Format, ListArgs, QueryCommand, RunArgs, SqlArgs};
use crate::duck;
use crate::error::{Error, Result};

use output::{Sink, Value};
use params::Bound;
use sqlite::Origin;

/// Why a query stopped early: the reader went away (`| head`), or an error.
#[derive(Debug)]
pub enum Stop {
    Pipe,
    Err(Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Stop::Pipe
        } else {
            Stop::Err(Error::runtime(format!("cannot write the output: {e}")))
        }
    }
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Err(e)
    }
}

/// A closed stdout is not an error: `auth0-archive query ... | head` exits 0.
fn finish(result: Result<(), Stop>) -> Result<()> {
    match result {
        Ok(()) | Err(Stop::Pipe) => Ok(()),
        Err(Stop::Err(e)) => Err(e),
    }
}

/// Runs a `query` subcommand against the archive at `db`.
pub fn run(db: &Path, cmd: QueryCommand) -> Result<()> {
    match cmd {
        QueryCommand::List(args) => finish(list(&args)),
        QueryCommand::Run(args) => finish(run_report(db, &args)),
        QueryCommand::Sql(args) => finish(run_sql(db, &args)),
        QueryCommand::Export(args) => duck::export(db, &args),
    }
}

fn stdout_sink(format: Option<Format>) -> Box<dyn Sink> {
    let format = output::resolve_format(format);
    output::sink(
        format,
        BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
    )
}

fn run_report(db: &Path, args: &RunArgs) -> Result<(), Stop> {
    let report = catalog::find(&args.name)?;
    let (sql, values) = params::bind(&report, &args.params)?;
    let mut sink = stdout_sink(args.format);
    execute(
        db,
        args.engine,
        &sql,
        &values,
        Origin::Report,
        sink.as_mut(),
    )
}

fn run_sql(db: &Path, args: &SqlArgs) -> Result<(), Stop> {
    let mut sink = stdout_sink(args.format);
    execute(
        db,
        args.engine,
        &args.sql,
        &[],
        Origin::AdHoc,
        sink.as_mut(),
    )
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
    match engine {
        Engine::Sqlite => {
            let conn = sqlite::open(db)?;
            sqlite::run(&conn, sql, values, origin, sink)
        }
        Engine::Duckdb => duck::query(db, sql, values, origin, sink),
    }
}

fn list(args: &ListArgs) -> Result<(), Stop> {
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
    sink.columns(&["name".into(), "description".into(), "parameters".into()])?;
    for r in &reports {
        let ps: Vec<String> = r.params.iter().map(params::describe).collect();
        sink.row(&[
            Value::Text(r.name.clone()),
            Value::Text(r.description.clone()),
            Value::Text(ps.join(", ")),
        ])?;
    }
    sink.finish()?;
    Ok(())
}
