//! How findings are printed: a table or CSV for people, JSON or NDJSON (one
//! finding per line, key columns at the top level) for machines.

use std::io::{self, BufWriter, IsTerminal, Write};

use super::Told;
use crate::choices::Format;
use crate::error::{Error, Result};
use crate::query::output::{self, Value};
use crate::store::findings::Finding;

/// One finding as a JSON object: its stable `id`, its fields, its key
/// columns at the top level too (`ip`, `user_id`, ...), whether it is new
/// to this reader, and `pending: true` when an earlier run filed it but
/// stopped before printing it.
pub(super) fn finding_json(id: i64, f: &Finding, new: bool, pending: bool) -> serde_json::Value {
    let mut obj = serde_json::Map::new();
    for (k, v) in &f.key {
        obj.insert(k.clone(), v.clone());
    }
    let fixed = serde_json::json!({
        "id": id,
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
        "new": new,
    });
    if let serde_json::Value::Object(m) = fixed {
        obj.extend(m);
    }
    if pending {
        obj.insert("pending".into(), true.into());
    }
    serde_json::Value::Object(obj)
}

fn json_of(t: &Told) -> serde_json::Value {
    finding_json(t.id, &t.finding, t.new, t.pending)
}

pub(super) fn print(found: &[Told], format: Option<Format>) -> Result<()> {
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
                    writeln!(out, "{}", json_of(r))?;
                }
            }
            Format::Json => {
                let all: Vec<serde_json::Value> = found.iter().map(json_of).collect();
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
                    "id",
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
                        Value::Int(r.id),
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
fn severity_counts(found: &[Told]) -> String {
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
