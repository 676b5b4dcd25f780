//! `auth0-archive detect`: runs every saved report marked as a detection
//! over the events it has not examined yet, files what they find as
//! findings, and prints only the new ones. Made for cron right after a sync:
//! `auth0-archive sync && auth0-archive detect --format ndjson >> findings`.
//!
//! Each detection keeps a watermark (the greatest `events.rowid` it has
//! examined, per tenant scope). A run looks at the event times of the rows
//! after it, widened by the detection's window so a burst that straddles two
//! runs is seen whole, and a finding whose key and span meet a known one is
//! the same finding. Findings and the moved watermark commit together.

use std::io;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, TransactionBehavior};

use crate::choices::{FailOn, Format};
use crate::config::commands::DetectOptions;
use crate::config::webhooks::Webhooks;
use crate::error::{Error, Result};
use crate::query::catalog::{self, SavedQuery, Severity};
use crate::query::output::{Sink, Value};
use crate::query::{Origin, Stop, engine, params};
use crate::store::findings::{self, Finding};
use crate::store::lock::{DETECT_WAIT, DetectLock};
use crate::store::{self, deliveries};
use crate::time::epoch_iso;

mod deliver;
mod output;

use output::print;

/// A finding as a pass filed it: its `findings` row, and whether this
/// pass added it.
pub struct Reported {
    pub finding: Finding,
    pub id: i64,
    pub new: bool,
}

/// The detections a run evaluates: saved reports marked `-- detection:`
/// and, optionally, Sigma rules.
pub struct Detections {
    reports: Vec<SavedQuery>,
    rules: Option<crate::sigma::RuleSet>,
}

impl Detections {
    /// The saved detections (all, or those named in `only`; none with
    /// `no_reports`) and the Sigma rules under `sigma`.
    pub fn choose(only: &[String], no_reports: bool, sigma_paths: &[PathBuf]) -> Result<Self> {
        let reports: Vec<SavedQuery> = catalog::reports()?
            .into_iter()
            .filter(|r| r.detection.is_some() && !no_reports)
            .filter(|r| only.is_empty() || only.contains(&r.name))
            .collect();
        if let Some(unknown) = only.iter().find(|n| !reports.iter().any(|r| &r.name == *n)) {
            return Err(unknown_detection(unknown)?);
        }
        let rules = if sigma_paths.is_empty() {
            None
        } else {
            Some(crate::sigma::pass::load_for_detect(sigma_paths)?)
        };
        Ok(Detections { reports, rules })
    }

    /// How many detections there are, Sigma rules and correlations counted one by one.
    pub fn len(&self) -> usize {
        self.reports.len()
            + self
                .rules
                .as_ref()
                .map_or(0, |r| r.len() + r.correlation_count())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn unknown_detection(unknown: &str) -> Result<Error> {
    let detections: Vec<String> = catalog::reports()?
        .into_iter()
        .filter(|r| r.detection.is_some())
        .map(|r| r.name)
        .collect();
    let near = crate::text::closest(unknown, detections.iter().map(String::as_str));
    let hint = crate::text::did_you_mean(&near)
        .map(|h| format!(" {h}"))
        .unwrap_or_default();
    Ok(Error::usage(format!(
        "--only {unknown}: no detection of that name;{hint} (see `auth0-archive query list`)"
    )))
}

/// What to examine: whose events, and either the unexamined ones (moving
/// the watermarks) or an explicit window (epoch ms, watermarks untouched).
pub struct Scope<'a> {
    pub tenant: Option<&'a str>,
    pub window: Option<(i64, i64)>,
}

impl Scope<'_> {
    /// The watermark scope: the tenant, or `*` for all.
    fn name(&self) -> &str {
        self.tenant.unwrap_or("*")
    }
}

/// What one pass found: every finding it touched, new or known.
pub struct Examined {
    pub reported: Vec<Reported>,
    pub detections: usize,
    pub new_count: usize,
}

/// Runs every detection over what `scope` selects and files the findings,
/// recording the pass in `detect_runs`. The caller holds the detect lock
/// (one pass at a time); a sync may write meanwhile.
pub fn examine(
    conn: &mut Connection,
    engine: &dyn engine::Engine,
    detections: &Detections,
    scope: &Scope<'_>,
) -> Result<Examined> {
    let run_id = findings::begin_run(conn, scope.name())?;
    // Committed rows only, and none the engine cannot see yet (the DuckDB
    // copy is taken before this; a sync may have committed more since).
    let upto = findings::newest_rowid(conn)?.min(engine.rows_upto().unwrap_or(i64::MAX));
    let mut reported = Vec::new();
    let outcome = examine_all(conn, engine, detections, scope, upto, run_id, &mut reported);
    let new_count = reported.iter().filter(|r| r.new).count();
    let error_text = outcome.as_ref().err().map(|e: &Error| e.to_string());
    let _ = findings::finish_run(
        conn,
        run_id,
        if outcome.is_ok() { "ok" } else { "failed" },
        detections.len(),
        new_count,
        error_text.as_deref(),
    );
    outcome?;
    Ok(Examined {
        reported,
        detections: detections.len(),
        new_count,
    })
}

fn examine_all(
    conn: &mut Connection,
    engine: &dyn engine::Engine,
    detections: &Detections,
    scope: &Scope<'_>,
    upto: i64,
    run_id: i64,
    reported: &mut Vec<Reported>,
) -> Result<()> {
    for report in &detections.reports {
        let mut found = detect_one(conn, engine, report, scope, upto, run_id)
            .map_err(|e| e.within(&format!("detection {}", report.name)))?;
        reported.append(&mut found);
    }
    if let Some(rules) = &detections.rules {
        let found = crate::sigma::pass::run(
            conn,
            rules,
            scope.name(),
            scope.tenant,
            scope.window,
            upto,
            run_id,
        )
        .map_err(|e| e.within("Sigma rules"))?;
        reported.extend(found.into_iter().map(|(finding, r)| Reported {
            finding,
            id: r.id,
            new: r.new,
        }));
    }
    Ok(())
}

/// The dry run: every saved detection over all events (of `tenant`, or
/// all), its findings filed in `findings` as `conn` resolves that name —
/// for an archive that cannot be written, a TEMP table the caller created
/// (`findings::shadow_in_memory`) — so findings that meet are merged as a
/// filing run would, while no watermark moves and no run is recorded.
/// Sigma rules are not run. Returns how many findings there are.
pub fn preview(
    conn: &mut Connection,
    engine: &dyn engine::Engine,
    detections: &Detections,
    tenant: Option<&str>,
) -> Result<usize> {
    let scope = tenant.unwrap_or("*");
    let tx = conn.transaction()?;
    let mut count = 0;
    for report in &detections.reports {
        let window_ms = report
            .detection
            .as_ref()
            .map_or(0, |d| d.window_s.saturating_mul(1000));
        let found = run_report(engine, report, i64::MIN, i64::MAX, tenant)
            .and_then(|rows| rows.findings(report))
            .map_err(|e| e.within(&format!("detection {}", report.name)))?;
        for f in &found {
            if findings::record(&tx, f, scope, window_ms, 0)?.new {
                count += 1;
            }
        }
    }
    tx.commit()?;
    Ok(count)
}

pub fn run(db: &Path, args: &DetectOptions) -> Result<()> {
    let detections = Detections::choose(&args.only, args.no_reports, &args.sigma)?;
    if !db.exists() {
        return Err(Error::database(format!(
            "no archive at {}: run `auth0-archive sync` first or pass --db",
            db.display()
        )));
    }
    let scope = Scope {
        tenant: args.tenant.as_deref(),
        window: args.window,
    };
    let outlets = Outlets {
        format: args.format,
        quiet: args.quiet,
        webhooks: &args.webhooks,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::runtime(format!("cannot start the runtime: {e}")))?;
    let told = runtime.block_on(pass(db, args.engine, &detections, &scope, &outlets))?;
    match args.fail_on {
        Some(level) => fail_on(&told, threshold(level)),
        None => Ok(()),
    }
}

/// Where a pass tells what it found.
pub struct Outlets<'a> {
    /// Standard output's format [default: table on a terminal, ndjson otherwise].
    pub format: Option<Format>,
    /// No summary line on stderr.
    pub quiet: bool,
    pub webhooks: &'a Webhooks,
}

/// A finding as a pass printed it.
pub struct Told {
    /// The `findings` row: stable across runs and deliveries.
    pub id: i64,
    pub finding: Finding,
    /// Not printed by any earlier pass.
    pub new: bool,
    /// Filed by an earlier pass that stopped before printing it.
    pub pending: bool,
}

/// One detection pass, as `detect` and `sync --detect` run it: waits for
/// any other pass on the archive (the detect lock, not the sync lock: a
/// sync may write meanwhile, and SQLite's busy timeout covers its short
/// transactions), examines what is new, prints the findings not printed
/// yet, and delivers what is pending to the webhooks.
pub async fn pass(
    db: &Path,
    engine_kind: crate::choices::EngineKind,
    detections: &Detections,
    scope: &Scope<'_>,
    outlets: &Outlets<'_>,
) -> Result<Vec<Told>> {
    let _lock = DetectLock::acquire(db, DETECT_WAIT)?;
    let mut conn = store::open_for_write(db)?;
    // Before examining: the findings it files queue for these webhooks in
    // the transaction that files them.
    let destinations = deliver::register(&conn, outlets.webhooks)?;
    let examined = {
        let engine = engine::open(db, engine_kind, Origin::Saved)?;
        examine(&mut conn, engine.as_ref(), detections, scope)?
    };
    let (told, printed) = tell(&conn, &examined, scope)?;
    show(&examined, &told, scope.window.is_some(), outlets)?;
    // Only now that they are printed: a crash before prints them again.
    deliveries::dequeue(&mut conn, &printed)?;
    let drained = deliver::drain(&conn, &destinations, outlets.webhooks.format).await?;
    for d in &drained {
        if d.left > 0 {
            crate::log::warn(&format!(
                "{}: {} pending (last attempt: {}; fingerprint {}); the next run sends {}",
                d.label,
                crate::text::count(d.left as u64, "finding"),
                d.error.as_deref().unwrap_or("out of time"),
                d.fingerprint,
                if d.left == 1 { "it" } else { "them" }
            ));
        } else if d.delivered > 0 && !outlets.quiet {
            crate::log::note(&format!(
                "auth0-archive: detect: {} delivered to {}",
                crate::text::count(d.delivered as u64, "finding"),
                d.label
            ));
        }
    }
    Ok(told)
}

/// The findings to print with their ids: this pass's new ones (or, with a
/// window, all it found), and those an earlier pass filed but did not get
/// to print; and the queue entries this settles.
fn tell(
    conn: &Connection,
    examined: &Examined,
    scope: &Scope<'_>,
) -> Result<(Vec<Told>, Vec<i64>)> {
    let windowed = scope.window.is_some();
    let queued = deliveries::queued(conn)?;
    let mut told = Vec::new();
    for r in examined.reported.iter().filter(|r| windowed || r.new) {
        told.push(Told {
            id: r.id,
            finding: r.finding.clone(),
            new: r.new,
            pending: false,
        });
    }
    for id in &queued {
        if told.iter().any(|t| t.id == *id) {
            continue;
        }
        if let Some(finding) = deliveries::finding(conn, *id)? {
            told.push(Told {
                id: *id,
                finding,
                new: true,
                pending: true,
            });
        }
    }
    // Most severe first; then as they happened.
    told.sort_by(|a, b| {
        let rank = |t: &Told| Severity::parse(&t.finding.severity);
        rank(b)
            .cmp(&rank(a))
            .then_with(|| a.finding.first_seen.cmp(&b.finding.first_seen))
    });
    Ok((told, queued))
}

/// Prints the findings worth telling and the summary line.
fn show(examined: &Examined, told: &[Told], windowed: bool, outlets: &Outlets<'_>) -> Result<()> {
    print(told, outlets.format)?;
    if !outlets.quiet {
        let pending = told.iter().filter(|t| t.pending).count();
        crate::log::note(&format!(
            "auth0-archive: detect: {}, {}{}{}",
            crate::text::count(examined.detections as u64, "detection"),
            crate::text::count(examined.new_count as u64, "new finding"),
            if pending > 0 {
                format!(", {pending} filed earlier and not yet printed")
            } else {
                String::new()
            },
            if windowed {
                format!(", {} in the window", examined.reported.len())
            } else {
                String::new()
            }
        ));
    }
    Ok(())
}

/// `--fail-on`: exit 7 when a new finding reaches `level`.
fn fail_on(told: &[Told], level: Severity) -> Result<()> {
    let worst = told
        .iter()
        .filter(|t| t.new)
        .filter_map(|t| Severity::parse(&t.finding.severity))
        .filter(|s| *s >= level)
        .count();
    if worst > 0 {
        return Err(Error::Findings(format!(
            "{} at or above {} (--fail-on)",
            crate::text::count(worst as u64, "new finding"),
            level.as_str()
        )));
    }
    Ok(())
}

fn threshold(level: FailOn) -> Severity {
    match level {
        FailOn::Low => Severity::Low,
        FailOn::Medium => Severity::Medium,
        FailOn::High => Severity::High,
    }
}

/// Runs one detection over its unexamined events (or the given window) and
/// files its findings; the watermark moves in the same transaction.
fn detect_one(
    conn: &mut Connection,
    engine: &dyn engine::Engine,
    report: &SavedQuery,
    scope_of: &Scope<'_>,
    upto: i64,
    run_id: i64,
) -> Result<Vec<Reported>> {
    let Some(detection) = &report.detection else {
        return Ok(Vec::new());
    };
    let (scope, tenant, window) = (scope_of.name(), scope_of.tenant, scope_of.window);
    let window_ms = detection.window_s.saturating_mul(1000);
    let span = match window {
        Some(w) => Some(w),
        None => {
            let after = findings::watermark(conn, &report.name, scope)?;
            if upto <= after {
                return Ok(Vec::new());
            }
            findings::unexamined_span(conn, after, upto, tenant)?
                .map(|(lo, hi)| (lo.saturating_sub(window_ms), hi.saturating_add(1)))
        }
    };
    let rows = match span {
        Some((since, until)) => run_report(engine, report, since, until, tenant)?,
        None => Rows::default(),
    };
    let found: Vec<Finding> = rows.findings(report)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = Vec::with_capacity(found.len());
    for f in found {
        let recorded = findings::record(&tx, &f, scope, window_ms, run_id)?;
        out.push(Reported {
            finding: f,
            id: recorded.id,
            new: recorded.new,
        });
    }
    if window.is_none() {
        findings::set_watermark(&tx, &report.name, scope, upto)?;
    }
    tx.commit()?;
    Ok(out)
}

fn run_report(
    engine: &dyn engine::Engine,
    report: &SavedQuery,
    since: i64,
    until: i64,
    tenant: Option<&str>,
) -> Result<Rows> {
    let time = |ms: i64| {
        let clamped = ms.clamp(0, 253_402_300_799_000);
        epoch_iso(clamped).unwrap_or_default()
    };
    let mut given = vec![
        format!("since={}", time(since)),
        format!("until={}", time(until)),
    ];
    if let Some(t) = tenant {
        given.push(format!("tenant={t}"));
    }
    let (sql, values) = params::bind(report, &given)?;
    let mut rows = Rows::default();
    match engine.run(&sql, &values, Origin::Saved, &mut rows) {
        Ok(()) | Err(Stop::Pipe) => Ok(rows),
        Err(Stop::Err(e)) => Err(e),
    }
}

/// A report's rows, collected.
#[derive(Default)]
struct Rows {
    names: Vec<String>,
    rows: Vec<Vec<Value>>,
}

impl Sink for Rows {
    fn columns(&mut self, names: &[String]) -> io::Result<()> {
        self.names = names.to_vec();
        Ok(())
    }
    fn row(&mut self, row: &[Value]) -> io::Result<()> {
        self.rows.push(row.to_vec());
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Rows {
    /// Each row as a finding, by the detection contract (see `catalog`).
    fn findings(self, report: &SavedQuery) -> Result<Vec<Finding>> {
        let Some(detection) = &report.detection else {
            return Ok(Vec::new());
        };
        let at = |name: &str| self.names.iter().position(|n| n == name);
        let required = ["first_seen", "last_seen", "events", "log_ids"];
        for name in required
            .iter()
            .copied()
            .chain(detection.key.iter().map(String::as_str))
        {
            if at(name).is_none() {
                return Err(Error::runtime(format!(
                    "saved report {} is marked as a detection but returns no `{name}` column",
                    report.name
                )));
            }
        }
        let mut out = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            let text = |name: &str| at(name).map(|i| as_text(&row[i])).unwrap_or_default();
            let mut key = serde_json::Map::new();
            for k in &detection.key {
                key.insert(k.clone(), as_json(&row[at(k).unwrap_or(0)]));
            }
            let mut details = serde_json::Map::new();
            for (i, name) in self.names.iter().enumerate() {
                if !required.contains(&name.as_str()) && !detection.key.contains(name) {
                    details.insert(name.clone(), as_json(&row[i]));
                }
            }
            let log_ids: Vec<String> = text("log_ids")
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .take(findings::MAX_LOG_IDS)
                .map(str::to_string)
                .collect();
            let events = match at("events").map(|i| &row[i]) {
                Some(Value::Int(n)) => *n,
                Some(Value::Real(f)) => *f as i64,
                _ => log_ids.len() as i64,
            };
            let keys: Vec<String> = key
                .iter()
                .map(|(k, v)| format!("{k} {}", v.as_str().map_or(v.to_string(), str::to_string)))
                .collect();
            let (first_seen, last_seen) = (text("first_seen"), text("last_seen"));
            out.push(Finding {
                detection: report.name.clone(),
                source: "report".to_string(),
                severity: detection.severity.as_str().to_string(),
                summary: format!(
                    "{}: {} ({events} events, {first_seen} .. {last_seen})",
                    report.name,
                    keys.join(", ")
                ),
                key,
                first_seen,
                last_seen,
                events,
                log_ids,
                details,
            });
        }
        Ok(out)
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(t) => t.clone(),
    }
}

fn as_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::Real(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
        }
        Value::Text(t) => t.clone().into(),
    }
}
