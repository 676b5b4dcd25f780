//! Saved reports, ad-hoc SQL, output formats and Parquet export.

use std::path::Path;

use crate::cli::QueryCommand;
use crate::error::{Error, Result};

/// Runs a `query` subcommand against the archive at `db`.
pub fn run(_db: &Path, _cmd: QueryCommand) -> Result<()> {
    Err(Error::usage("query is not implemented yet"))
}
