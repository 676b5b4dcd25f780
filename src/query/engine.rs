//! The one interface both engines implement: run a statement with bound
//! values and stream its rows into a `Sink`. `open` picks the engine.

use std::io;
use std::path::Path;

use crate::choices::EngineKind;
use crate::error::{Error, Result};

use super::duckdb::DuckDbEngine;
use super::output::Sink;
use super::params::Bound;
use super::sqlite::SqliteEngine;

/// Where a statement came from: a saved query (its failures are ours) or
/// the user's ad-hoc SQL (its failures are usage errors, and it gets the
/// most restricted connection).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Saved,
    AdHoc,
}

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
            Stop::Err(Error::io("cannot write the output", e))
        }
    }
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Err(e)
    }
}

/// A query engine over the archive. One SQL text serves both: the SQLite
/// engine registers the functions DuckDB has built in, and the DuckDB copy
/// defines the helpers SQLite gets as functions.
pub trait Engine {
    /// Runs one read-only statement and streams its rows into `sink`.
    fn run(
        &self,
        sql: &str,
        values: &[Bound],
        origin: Origin,
        sink: &mut dyn Sink,
    ) -> Result<(), Stop>;

    /// The greatest archive rowid this engine can see, when it reads a copy
    /// taken at one moment (DuckDB); `None` when it reads the archive
    /// itself. A detection pass examines no row beyond it: a row a sync
    /// commits after the copy was taken is left for the next pass.
    fn rows_upto(&self) -> Option<i64> {
        None
    }
}

/// Opens the chosen engine on the archive at `db`, for statements of `origin`.
pub fn open(db: &Path, kind: EngineKind, origin: Origin) -> Result<Box<dyn Engine>> {
    Ok(match kind {
        EngineKind::Sqlite => Box::new(SqliteEngine::open(db)?),
        EngineKind::Duckdb => Box::new(DuckDbEngine::open(db, origin)?),
    })
}

/// Opens DuckDB in memory over the Parquet export in `dir` (`--parquet`).
pub fn open_parquet(dir: &Path, partial: bool) -> Result<Box<dyn Engine>> {
    Ok(Box::new(DuckDbEngine::over_parquet(dir, partial)?))
}

/// The error for any statement that would change something.
pub fn read_only_refusal() -> Error {
    Error::usage(
        "query sql is read-only: this statement would modify the archive or attach another file, \
         and was refused (nothing was changed); use SELECT, WITH or EXPLAIN",
    )
}
