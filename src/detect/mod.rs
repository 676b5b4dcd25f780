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
use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::cli::{DetectArgs, FailOn};
use crate::error::{Error, Result};
use crate::query::catalog::{self, Report, Severity};
use crate::query::output::{Sink, Value};
use crate::query::{Origin, Stop, engine, params};
use crate::store::findings::{self, Filed, Finding};
use crate::store::{self, lock::SyncLock};
use crate::time::epoch_iso;

mod output;

use output::print;

/// A finding as printed, with whether this run found it.
pub(super) struct Reported {
    pub(super) finding: Finding,
    pub(super) new: bool,
}

pub fn run(db: &Path, args: &DetectArgs) -> Result<()> {
    let window = explicit_window(args)?;
    let reports: Vec<Report> = catalog::reports()?
        .into_iter()
        .filter(|r| r.detection.is_some() && !args.no_reports)
        .filter(|r| args.only.is_empty() || args.only.contains(&r.name))
        .collect();
    let rules = if args.sigma.is_empty() {
        None
    } else {
        Some(crate::sigma::pass::load_for_detect(&args.sigma)?)
    };
    if let Some(unknown) = args
        .only
        .iter()
        .find(|n| !reports.iter().any(|r| &r.name == *n))
    {
        let detections: Vec<String> = catalog::reports()?
            .into_iter()
            .filter(|r| r.detection.is_some())
            .map(|r| r.name)
            .collect();
        let near = crate::text::closest(unknown, detections.iter().map(String::as_str));
        let hint = crate::text::did_you_mean(&near)
            .map(|h| format!(" {h}"))
            .unwrap_or_default();
        return Err(Error::usage(format!(
            "--only {unknown}: no detection of that name;{hint} (see `auth0-archive query list`)"
        )));
    }
    if !db.exists() {
        return Err(Error::database(format!(
            "no archive at {}: run `auth0-archive sync` first or pass --db",
            db.display()
        )));
    }
    // One detect at a time, and not while a sync writes: its findings and
    // watermarks must see committed pages only, in order.
    let _lock = SyncLock::acquire(db)?;
    let mut conn = store::open_for_write(db)?;
    let scope = args.tenant.clone().unwrap_or_else(|| "*".to_string());
    let run_id = findings::begin_run(&conn, &scope)?;
    let upto = findings::newest_rowid(&conn)?;
    // The lock keeps writers out, so the DuckDB copy, refreshed here, holds
    // exactly the rows up to `upto`.
    let engine = engine::open(db, args.engine, Origin::Report)?;

    let mut reported = Vec::new();
    let mut outcome = Ok(());
    for report in &reports {
        let found = detect_one(
            &mut conn,
            engine.as_ref(),
            report,
            &scope,
            args.tenant.as_deref(),
            window,
            upto,
            run_id,
        );
        match found {
            Ok(mut r) => reported.append(&mut r),
            Err(e) => {
                outcome = Err(e.within(&format!("detection {}", report.name)));
                break;
            }
        }
    }
    if let (Some(rules), Ok(())) = (&rules, &outcome) {
        let scope_tenant = args.tenant.as_deref();
        match crate::sigma::pass::run(&mut conn, rules, &scope, scope_tenant, window, upto, run_id)
        {
            Ok(found) => reported.extend(
                found
                    .into_iter()
                    .map(|(finding, new)| Reported { finding, new }),
            ),
            Err(e) => outcome = Err(e.within("Sigma rules")),
        }
    }
    let detections = reports.len()
        + rules
            .as_ref()
            .map_or(0, |r| r.len() + r.correlation_count());
    let new_count = reported.iter().filter(|r| r.new).count();
    let error_text = outcome.as_ref().err().map(|e: &Error| e.to_string());
    let _ = findings::finish_run(
        &conn,
        run_id,
        if outcome.is_ok() { "ok" } else { "failed" },
        detections,
        new_count,
        error_text.as_deref(),
    );
    outcome?;

    // Without a window only new findings are worth telling; with one, the
    // whole window is the question.
    let mut shown: Vec<&Reported> = reported
        .iter()
        .filter(|r| window.is_some() || r.new)
        .collect();
    // Most severe first; then as they happened.
    shown.sort_by(|a, b| {
        let rank = |r: &Reported| Severity::parse(&r.finding.severity);
        rank(b)
            .cmp(&rank(a))
            .then_with(|| a.finding.first_seen.cmp(&b.finding.first_seen))
    });
    print(&shown, args.format)?;
    if !args.quiet {
        crate::log::note(&format!(
            "auth0-archive: detect: {}, {}{}",
            crate::text::count(detections as u64, "detection"),
            crate::text::count(new_count as u64, "new finding"),
            if window.is_some() {
                format!(", {} in the window", reported.len())
            } else {
                String::new()
            }
        ));
    }
    if let Some(level) = args.fail_on {
        let worst = reported
            .iter()
            .filter(|r| r.new)
            .filter_map(|r| Severity::parse(&r.finding.severity))
            .filter(|s| *s >= threshold(level))
            .count();
        if worst > 0 {
            return Err(Error::Findings(format!(
                "{} at or above {} (--fail-on)",
                crate::text::count(worst as u64, "new finding"),
                threshold(level).as_str()
            )));
        }
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

/// `--since/--until`: a window to re-examine, in epoch ms.
fn explicit_window(args: &DetectArgs) -> Result<Option<(i64, i64)>> {
    if args.since.is_none() && args.until.is_none() {
        return Ok(None);
    }
    let (since, until) = crate::time::parse_range(
        args.since.as_deref(),
        args.until.as_deref(),
        ("--since", "--until"),
    )
    .map_err(Error::usage)?;
    Ok(Some((since.unwrap_or(i64::MIN), until.unwrap_or(i64::MAX))))
}

/// Runs one detection over its unexamined events (or the given window) and
/// files its findings; the watermark moves in the same transaction.
#[allow(clippy::too_many_arguments)]
fn detect_one(
    conn: &mut Connection,
    engine: &dyn engine::Engine,
    report: &Report,
    scope: &str,
    tenant: Option<&str>,
    window: Option<(i64, i64)>,
    upto: i64,
    run_id: i64,
) -> Result<Vec<Reported>> {
    let Some(detection) = &report.detection else {
        return Ok(Vec::new());
    };
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
        let filed = findings::record(&tx, &f, scope, window_ms, run_id)?;
        out.push(Reported {
            finding: f,
            new: filed == Filed::New,
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
    report: &Report,
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
    match engine.run(&sql, &values, Origin::Report, &mut rows) {
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
    fn findings(self, report: &Report) -> Result<Vec<Finding>> {
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
