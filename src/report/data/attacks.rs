//! Attacks: the findings `detect` filed, by detection and one by one, with
//! the events they rest on.

use rusqlite::Connection;

use super::{
    EVENT_COLUMNS, EventRow, MAX_FINDING_EVENTS, MAX_FINDINGS, MAX_FINDINGS_EXPANDED, TypeNames,
    clip, event_row, iso_of,
};
use crate::error::Result;
use crate::report::Filter;

pub struct FindingRow {
    pub detection: String,
    pub severity: String,
    pub key: String,
    pub summary: String,
    pub first_seen: String,
    pub last_seen: String,
    pub events: i64,
    pub log_ids: Vec<String>,
    pub details: String,
    /// The events it rests on (for the first `MAX_FINDINGS_EXPANDED`).
    pub evidence: Vec<EventRow>,
}

pub struct Attacks {
    pub total: i64,
    /// Most severe first.
    pub by_detection: Vec<DetectionCount>,
    pub findings: Vec<FindingRow>,
}

/// The findings of one detection at one severity.
pub struct DetectionCount {
    pub detection: String,
    pub severity: String,
    pub findings: i64,
    /// Events the findings rest on, summed.
    pub events: i64,
    pub last_seen: String,
}

/// The WHERE condition on `findings` for the report's range: findings whose
/// span meets it, of the tenant's scope (or all tenants').
pub(super) fn findings_filter(f: &Filter) -> (String, Vec<String>) {
    let mut parts = vec!["1 = 1".to_string()];
    let mut values = Vec::new();
    if let Some(s) = iso_of(f.since) {
        parts.push("last_seen >= ?".into());
        values.push(s);
    }
    if let Some(u) = iso_of(f.until) {
        parts.push("first_seen < ?".into());
        values.push(u);
    }
    if let Some(t) = &f.tenant {
        parts.push("(scope = ? OR scope = '*')".into());
        values.push(t.clone());
    }
    (parts.join(" AND "), values)
}

pub(super) fn attacks(
    conn: &Connection,
    f: &Filter,
    names: &TypeNames,
    user: Option<&str>,
) -> Result<Attacks> {
    if !has_findings(conn)? {
        return Ok(Attacks {
            total: 0,
            by_detection: Vec::new(),
            findings: Vec::new(),
        });
    }
    let (mut w, mut v) = findings_filter(f);
    if let Some(u) = user {
        w.push_str(" AND (key ->> '$.user_id' = ? OR details ->> '$.user_id' = ?)");
        v.push(u.to_string());
        v.push(u.to_string());
    }
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM findings WHERE {w}"),
        rusqlite::params_from_iter(v.iter()),
        |r| r.get(0),
    )?;
    let by_detection = by_detection(conn, &w, &v)?;
    let mut findings = newest_findings(conn, &w, &v)?;
    for finding in findings.iter_mut().take(MAX_FINDINGS_EXPANDED) {
        let ids: Vec<&String> = finding.log_ids.iter().take(MAX_FINDING_EVENTS).collect();
        finding.evidence = events_by_id(conn, names, &ids)?;
    }
    Ok(Attacks {
        total,
        by_detection,
        findings,
    })
}

/// Findings per detection and severity, most severe first.
fn by_detection(conn: &Connection, w: &str, v: &[String]) -> Result<Vec<DetectionCount>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT detection, severity, count(*), sum(events), max(last_seen) FROM findings
         WHERE {w} GROUP BY 1, 2
         ORDER BY CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 WHEN 'low' THEN 2 ELSE 3 END,
                  3 DESC, 1"
    ))?;
    let counts = stmt
        .query_map(rusqlite::params_from_iter(v.iter()), |r| {
            Ok(DetectionCount {
                detection: r.get(0)?,
                severity: r.get(1)?,
                findings: r.get(2)?,
                events: r.get(3)?,
                last_seen: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(counts)
}

/// The newest `MAX_FINDINGS` findings, without their evidence yet.
fn newest_findings(conn: &Connection, w: &str, v: &[String]) -> Result<Vec<FindingRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT detection, severity, key, summary, first_seen, last_seen, events, log_ids,
                coalesce(details, '')
         FROM findings WHERE {w} ORDER BY last_seen DESC, id DESC LIMIT {MAX_FINDINGS}"
    ))?;
    let findings = stmt
        .query_map(rusqlite::params_from_iter(v.iter()), |r| {
            let ids: String = r.get(7)?;
            Ok(FindingRow {
                detection: r.get(0)?,
                severity: r.get(1)?,
                key: key_text(&r.get::<_, String>(2)?),
                summary: clip(&r.get::<_, String>(3)?),
                first_seen: r.get(4)?,
                last_seen: r.get(5)?,
                events: r.get(6)?,
                log_ids: serde_json::from_str(&ids).unwrap_or_default(),
                details: clip(&key_text(&r.get::<_, String>(8)?)),
                evidence: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(findings)
}

/// Whether there is a `findings` table: the stored one, or the TEMP one
/// a read-only archive's report files its findings in.
pub(super) fn has_findings(conn: &Connection) -> Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'findings')
              + (SELECT count(*) FROM sqlite_temp_master WHERE type = 'table' AND name = 'findings')",
        [],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// `{"ip":"1.2.3.4"}` as `ip=1.2.3.4`.
fn key_text(json: &str) -> String {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json) {
        Ok(m) => m
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Err(_) => json.to_string(),
    }
}

fn events_by_id(conn: &Connection, names: &TypeNames, ids: &[&String]) -> Result<Vec<EventRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let mut stmt = conn.prepare(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE log_id IN ({marks}) ORDER BY ts, log_id"
    ))?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(ids.iter()), |r| {
            event_row(r, names)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
