//! `auth0-archive report`: one self-contained HTML page for an
//! investigation. `data` reads the archive (event aggregates through the
//! chosen engine; findings, runs and the chain from SQLite), `page` renders
//! it with maud, which escapes every value it is given, `svg` draws the
//! charts and `map` the login map. The page loads nothing from anywhere: its
//! CSS is inline, its charts are inline SVG, and it has no script.
//!
//! Event fields are attacker-controlled (a user name or a user agent is
//! whatever a login attempt sent), so nothing from an event is ever written
//! without escaping: the only unescaped text is the page's own CSS.

mod data;
mod detections;
mod map;
mod page;
mod svg;

use std::path::Path;
use std::time::Instant;

use crate::config::commands::ReportOptions;
use crate::error::{Error, Result};
use crate::query::params::Bound;

use data::PageData;
pub use detections::Detected;

/// The page never grows past this, whatever the archive's size: lists are
/// capped and the page says what was cut.
pub const MAX_BYTES: usize = 2_000_000;

/// Which events the report covers.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub tenant: Option<String>,
    pub user: Option<String>,
}

impl Filter {
    pub fn from_args(args: &ReportOptions) -> Result<Self> {
        let (since, until) = crate::time::parse_range(
            args.since.as_deref(),
            args.until.as_deref(),
            ("--since", "--until"),
        )
        .map_err(Error::usage)?;
        Ok(Filter {
            since,
            until,
            tenant: args.tenant.clone(),
            user: args.user.clone(),
        })
    }

    /// The WHERE condition on `events` (time and tenant; never the user) and
    /// its values, in order.
    pub fn events(&self) -> (String, Vec<Bound>) {
        let mut parts = vec!["ts IS NOT NULL".to_string()];
        let mut values = Vec::new();
        if let Some(s) = self.since {
            parts.push("ts >= ?".into());
            values.push(Bound::Int(s));
        }
        if let Some(u) = self.until {
            parts.push("ts < ?".into());
            values.push(Bound::Int(u));
        }
        if let Some(t) = &self.tenant {
            parts.push("tenant = ?".into());
            values.push(Bound::Text(t.clone()));
        }
        (parts.join(" AND "), values)
    }

    /// `events` narrowed to the `--user`.
    pub fn user_events(&self) -> (String, Vec<Bound>) {
        let (mut w, mut v) = self.events();
        w.push_str(" AND user_id = ?");
        v.push(Bound::Text(self.user.clone().unwrap_or_default()));
        (w, v)
    }
}

pub fn run(db: &Path, args: &ReportOptions) -> Result<()> {
    let started = Instant::now();
    let filter = Filter::from_args(args)?;
    if !db.exists() {
        return Err(Error::database(format!(
            "no archive at {}: run `auth0-archive sync` first or pass --db",
            db.display()
        )));
    }
    let (report, html) = build(db, args, &filter)?;
    write(&args.out, html.as_bytes())?;
    println!("{}", args.out.display());
    crate::log::note(&format!(
        "auth0-archive: report: {}, {}, {:.1} KB in {:.1} s",
        crate::text::count(report.overview.events as u64, "event"),
        crate::text::count(report.attacks.total as u64, "finding"),
        html.len() as f64 / 1e3,
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Writes `bytes` to `path` through an exclusive temporary file beside it,
/// so a reader never sees half a page and a planted symlink is never
/// followed (`private_file`).
fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::private_file::write_replacing(path, bytes)
        .map_err(|e| Error::io(format!("cannot write the report {}", path.display()), e))
}

/// Writes the report of the archive at `db` to `out` with default settings
/// (all events, SQLite engine): what `demo` does at its end.
pub fn write_default(db: &Path, out: &Path) -> Result<()> {
    let args = ReportOptions {
        out: out.to_path_buf(),
        since: None,
        until: None,
        tenant: None,
        user: None,
        engine: crate::choices::EngineKind::Sqlite,
        no_verify: false,
        no_detect: false,
    };
    let (_, html) = build(db, &args, &Filter::default())?;
    write(out, html.as_bytes())
}

/// Runs the detections the options ask for, gathers the page's data and
/// renders it.
fn build(db: &Path, args: &ReportOptions, filter: &Filter) -> Result<(PageData, String)> {
    let detected = detections::before_report(db, args.engine, args.no_detect)?;
    let report = data::collect(db, args.engine, filter, !args.no_verify, detected)?;
    let html = page::render(&report, args);
    Ok((report, html))
}
