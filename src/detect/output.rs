//! How findings are printed: a table or CSV for people, JSON or NDJSON (one
//! finding per line, key columns at the top level) for machines.

use std::io::{self, BufWriter, IsTerminal, Write};

use super::Reported;
use crate::cli::Format;
use crate::error::{Error, Result};
use crate::query::output::{self, Value};

/// One finding as a JSON object: its fields, its key columns at the top
/// level too (`ip`, `user_id`, ...), and whether this run found it.
fn finding_json(r: &Reported) -> serde_json::Value {
    let f = &r.finding;
    let mut obj = serde_json::Map::new();
    for (k, v) in &f.key {
        obj.insert(k.clone(), v.clone());
    }
    let fixed = serde_json::json!({
        "detection": f.detection,
        "severity": f.severity,
        "source": f.source,
        "summary": f.summary,
        "first_seen": f.first_seen,
        "last_seen": f.last_seen,
        "events": f.events,
        "log_ids": f.log_ids,
        "key": f.key,
        "details": f.details,
        "new": r.new,
    });
    if let serde_json::Value::Object(m) = fixed {
        obj.extend(m);
    }
    serde_json::Value::Object(obj)
}

pub(super) fn print(found: &[&Reported], format: Option<Format>) -> Result<()> {
    let format = format.unwrap_or(if io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Ndjson
    });
    let mut out = BufWriter::new(io::stdout().lock());
    let written = (|| -> io::Result<()> {
        match format {
            Format::Ndjson => {
                for r in found {
                    writeln!(out, "{}", finding_json(r))?;
                }
            }
            Format::Json => {
                let all: Vec<serde_json::Value> = found.iter().map(|r| finding_json(r)).collect();
                serde_json::to_writer_pretty(&mut out, &all)?;
                writeln!(out)?;
            }
            Format::Table | Format::Csv | Format::CsvRaw => {
                if format == Format::Table {
                    // What matters first: how many of each severity.
                    writeln!(out, "{}", severity_counts(found))?;
                }
                let mut sink = output::sink(format, &mut out);
                let names = [
                    "severity",
                    "detection",
                    "key",
                    "first_seen",
                    "last_seen",
                    "events",
                    "new",
                ];
                sink.columns(&names.map(String::from))?;
                for r in found {
                    let f = &r.finding;
                    sink.row(&[
                        Value::Text(f.severity.clone()),
                        Value::Text(f.detection.clone()),
                        Value::Text(serde_json::Value::Object(f.key.clone()).to_string()),
                        Value::Text(f.first_seen.clone()),
                        Value::Text(f.last_seen.clone()),
                        Value::Int(f.events),
                        Value::Bool(r.new),
                    ])?;
                }
                sink.finish()?;
            }
        }
        out.flush()
    })();
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(Error::io("cannot write the findings", e))
        }
        _ => Ok(()),
    }
}

/// `2 high, 5 medium, 1 low, 3 info`: the findings per severity, most
/// severe first, severities with none left out.
fn severity_counts(found: &[&Reported]) -> String {
    let counts: Vec<String> = ["high", "medium", "low", "info"]
        .iter()
        .map(|sev| {
            (
                sev,
                found.iter().filter(|r| r.finding.severity == *sev).count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .map(|(sev, n)| format!("{n} {sev}"))
        .collect();
    if counts.is_empty() {
        "no findings".to_string()
    } else {
        counts.join(", ")
    }
}
