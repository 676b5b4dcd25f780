//! The overview: the archive's status, the range covered, integrity and
//! findings by severity.

use std::path::Path;

use rusqlite::Connection;

use super::attacks::{findings_filter, has_findings};
use super::{int, iso_of, real, rows};
use crate::error::Result;
use crate::query::engine::Engine;
use crate::report::Filter;
use crate::store;

pub struct Overview {
    pub status: crate::status::Status,
    /// Events in the report's range (time and tenant filters).
    pub events: i64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub tenants: i64,
    /// `None` when skipped (`--no-verify`); `Err` when the walk itself
    /// could not run (an archive of an older schema: run `verify`, which
    /// migrates it).
    pub verify: Option<std::result::Result<crate::store::audit::AuditReport, String>>,
    /// Most severe first.
    pub findings_by_severity: Vec<SeverityCount>,
}

/// Findings of one severity.
pub struct SeverityCount {
    pub severity: String,
    pub findings: i64,
}

pub(super) fn overview(
    conn: &Connection,
    engine: &dyn Engine,
    db: &Path,
    f: &Filter,
    verify: bool,
) -> Result<Overview> {
    let status = crate::status::read(conn, db, None)?;
    let (w, v) = f.events();
    let r = rows(
        engine,
        &format!("SELECT count(*), min(ts), max(ts), count(DISTINCT tenant) FROM events WHERE {w}"),
        &v,
    )?;
    let row = &r[0];
    let verify = if verify {
        Some(store::audit::audit(conn, None, None).map_err(|e| e.to_string()))
    } else {
        None
    };
    let (fw, fv) = findings_filter(f);
    // Archives written before schema version 4 have no findings table.
    let mut by: Vec<SeverityCount> = Vec::new();
    if has_findings(conn)? {
        let mut stmt = conn.prepare(&format!(
            "SELECT severity, count(*) FROM findings WHERE {fw} GROUP BY severity"
        ))?;
        by = stmt
            .query_map(rusqlite::params_from_iter(fv.iter()), |r| {
                Ok(SeverityCount {
                    severity: r.get(0)?,
                    findings: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    let rank = |s: &str| {
        ["high", "medium", "low", "info"]
            .iter()
            .position(|x| *x == s)
    };
    by.sort_by_key(|c| rank(&c.severity).unwrap_or(9));
    Ok(Overview {
        status,
        events: int(&row[0]),
        first: iso_of(real(&row[1]).map(|x| x as i64)),
        last: iso_of(real(&row[2]).map(|x| x as i64)),
        tenants: int(&row[3]),
        verify,
        findings_by_severity: by,
    })
}
