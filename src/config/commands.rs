//! The options of each command other than `sync`, taken once from what clap
//! parsed (and checked, where a value can be wrong). Commands receive these,
//! never `cli` types, so a flag can be renamed or regrouped on the command
//! line without reaching into them.

use std::path::PathBuf;

use super::webhooks::Webhooks;
use crate::choices::{EngineKind, FailOn, Format};
use crate::cli::{
    DemoArgs, DetectArgs, ExportArgs, ImportArgs, ListArgs, PruneArgs, ReportArgs, RunArgs,
    SourceArgs, SqlArgs, StatusArgs, VerifyArgs,
};
use crate::error::{Error, Result};

/// `status`.
#[derive(Debug, Clone, Default)]
pub struct StatusOptions {
    pub json: bool,
    /// The tenant's log retention in days, to warn of a coming gap.
    pub retention_days: Option<f64>,
}

impl From<&StatusArgs> for StatusOptions {
    fn from(a: &StatusArgs) -> Self {
        StatusOptions {
            json: a.json,
            retention_days: a.retention_days,
        }
    }
}

/// `verify`.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub json: bool,
    /// A head (`SEQ:LINK`) the chain must still contain.
    pub expect_head: Option<String>,
}

impl From<&VerifyArgs> for VerifyOptions {
    fn from(a: &VerifyArgs) -> Self {
        VerifyOptions {
            json: a.json,
            expect_head: a.expect_head.clone(),
        }
    }
}

/// `import`.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub files: Vec<PathBuf>,
    /// The `tenant` column; each event's hostname when absent.
    pub tenant: Option<String>,
    pub json: bool,
}

impl From<&ImportArgs> for ImportOptions {
    fn from(a: &ImportArgs) -> Self {
        ImportOptions {
            files: a.files.clone(),
            tenant: a.tenant.clone(),
            json: a.json,
        }
    }
}

/// `prune`.
#[derive(Debug, Clone)]
pub struct PruneOptions {
    /// Events dated before this (as typed: a date or RFC 3339) go.
    pub before: String,
    pub dry_run: bool,
    pub yes: bool,
    pub vacuum: bool,
    pub without_export: bool,
}

impl From<&PruneArgs> for PruneOptions {
    fn from(a: &PruneArgs) -> Self {
        PruneOptions {
            before: a.before.clone(),
            dry_run: a.dry_run,
            yes: a.yes,
            vacuum: a.vacuum,
            without_export: a.without_export,
        }
    }
}

/// `query export`.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub out: PathBuf,
    /// First and last day (as typed), inclusive.
    pub since: Option<String>,
    pub until: Option<String>,
}

impl From<&ExportArgs> for ExportOptions {
    fn from(a: &ExportArgs) -> Self {
        ExportOptions {
            out: a.out.clone(),
            since: a.since.clone(),
            until: a.until.clone(),
        }
    }
}

/// What a query reads: the archive (on an engine) or a Parquet export.
#[derive(Debug, Clone, PartialEq)]
pub enum QuerySource {
    Archive(EngineKind),
    /// A `query export` directory; `partial` also reads an incomplete one.
    Parquet {
        dir: PathBuf,
        partial: bool,
    },
}

impl From<&SourceArgs> for QuerySource {
    fn from(a: &SourceArgs) -> Self {
        match &a.parquet {
            Some(dir) => QuerySource::Parquet {
                dir: dir.clone(),
                partial: a.partial,
            },
            None => QuerySource::Archive(a.engine),
        }
    }
}

/// `query list`.
#[derive(Debug, Clone)]
pub struct ListOptions {
    pub format: Option<Format>,
}

impl From<&ListArgs> for ListOptions {
    fn from(a: &ListArgs) -> Self {
        ListOptions { format: a.format }
    }
}

/// `query run`: a saved query with its parameters.
#[derive(Debug, Clone)]
pub struct SavedQueryOptions {
    pub name: String,
    /// `KEY=VALUE`, as typed.
    pub params: Vec<String>,
    pub format: Option<Format>,
    pub source: QuerySource,
}

impl From<&RunArgs> for SavedQueryOptions {
    fn from(a: &RunArgs) -> Self {
        SavedQueryOptions {
            name: a.name.clone(),
            params: a.params.clone(),
            format: a.source.format,
            source: (&a.source).into(),
        }
    }
}

/// `query sql`.
#[derive(Debug, Clone)]
pub struct SqlOptions {
    pub sql: String,
    pub format: Option<Format>,
    pub source: QuerySource,
}

impl From<&SqlArgs> for SqlOptions {
    fn from(a: &SqlArgs) -> Self {
        SqlOptions {
            sql: a.sql.clone(),
            format: a.source.format,
            source: (&a.source).into(),
        }
    }
}

/// `detect`.
#[derive(Debug, Clone)]
pub struct DetectOptions {
    pub format: Option<Format>,
    /// `--since/--until`: a window to re-examine (epoch ms, `[since,
    /// until)`) without moving watermarks; `None`: what is unexamined.
    pub window: Option<(i64, i64)>,
    pub fail_on: Option<FailOn>,
    pub tenant: Option<String>,
    /// Only these detections; all when empty.
    pub only: Vec<String>,
    pub quiet: bool,
    pub sigma: Vec<PathBuf>,
    pub no_reports: bool,
    pub engine: EngineKind,
    pub webhooks: Webhooks,
}

impl DetectOptions {
    /// Checks the window and the webhooks (a bad URL is a usage error).
    pub fn from_args(a: &DetectArgs) -> Result<Self> {
        Ok(DetectOptions {
            format: a.format,
            window: window(a.since.as_deref(), a.until.as_deref())?,
            fail_on: a.fail_on,
            tenant: a.tenant.clone(),
            only: a.only.clone(),
            quiet: a.quiet,
            sigma: a.sigma.clone(),
            no_reports: a.no_reports,
            engine: a.engine,
            webhooks: Webhooks::from_args(&a.webhooks)?,
        })
    }
}

/// `--since/--until` as a window in epoch ms; open ends are unbounded.
fn window(since: Option<&str>, until: Option<&str>) -> Result<Option<(i64, i64)>> {
    if since.is_none() && until.is_none() {
        return Ok(None);
    }
    let (since, until) =
        crate::time::parse_range(since, until, ("--since", "--until")).map_err(Error::usage)?;
    Ok(Some((since.unwrap_or(i64::MIN), until.unwrap_or(i64::MAX))))
}

/// `report`.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub out: PathBuf,
    /// The range as typed (the page shows it so).
    pub since: Option<String>,
    pub until: Option<String>,
    pub tenant: Option<String>,
    pub user: Option<String>,
    pub engine: EngineKind,
    pub no_verify: bool,
    pub no_detect: bool,
}

impl From<&ReportArgs> for ReportOptions {
    fn from(a: &ReportArgs) -> Self {
        ReportOptions {
            out: a.out.clone(),
            since: a.since.clone(),
            until: a.until.clone(),
            tenant: a.tenant.clone(),
            user: a.user.clone(),
            engine: a.engine,
            no_verify: a.no_verify,
            no_detect: a.no_detect,
        }
    }
}

/// `demo`.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Events the simulated tenant holds.
    pub events: usize,
    /// Delete an earlier demo archive first.
    pub fresh: bool,
}

impl From<&DemoArgs> for DemoOptions {
    fn from(a: &DemoArgs) -> Self {
        DemoOptions {
            events: a.events,
            fresh: a.fresh,
        }
    }
}
