//! `detect --sigma`: Sigma rules (`logsource.product: auth0`) evaluated on
//! each unexamined event's `raw` (as the value of `data`, the field layout
//! of Okta's catalogue). A rule's matches in one run become one finding,
//! keyed by the rule; the rule set shares one watermark, moved with its
//! findings in one transaction.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rusqlite::{Connection, TransactionBehavior, params};

use super::Reported;
use crate::error::{Error, Result};
use crate::query::catalog::Severity;
use crate::sigma;
use crate::store::findings::{self, Filed, Finding, MAX_LOG_IDS};
use crate::store::raw::RawCodec;

/// The watermark name of the Sigma rule set.
const WATERMARK: &str = "sigma";

/// Loads the rules, saying on stderr which could not be used and why; none
/// at all is a usage error.
pub(super) fn load(paths: &[PathBuf]) -> Result<sigma::RuleSet> {
    let (rules, problems) = sigma::load(paths);
    for p in &problems {
        crate::log::warn(&format!(
            "Sigma rule {}{}: {}",
            p.path.display(),
            if p.skipped { " skipped" } else { "" },
            p.reason
        ));
    }
    if rules.is_empty() {
        return Err(Error::usage(format!(
            "no Sigma rule with logsource.product auth0 could be loaded from {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(rules)
}

/// What one rule matched in this run.
#[derive(Default)]
struct Hits {
    level: Option<String>,
    id: Option<String>,
    first: Option<String>,
    last: Option<String>,
    count: i64,
    log_ids: Vec<String>,
}

/// Evaluates the rules on the events after the watermark (or in `window`,
/// epoch ms, without moving it) and files one finding per rule that fired.
pub(super) fn run(
    conn: &mut Connection,
    rules: &sigma::RuleSet,
    scope: &str,
    tenant: Option<&str>,
    window: Option<(i64, i64)>,
    upto: i64,
    run_id: i64,
) -> Result<Vec<Reported>> {
    let after = match window {
        Some(_) => 0,
        None => findings::watermark(conn, WATERMARK, scope)?,
    };
    let (lo, hi) = window.unwrap_or((i64::MIN, i64::MAX));
    let mut hits: BTreeMap<String, Hits> = BTreeMap::new();
    let codec = RawCodec::load(conn)?;
    {
        let mut stmt = conn.prepare(
            "SELECT log_id, date, raw FROM events
             WHERE rowid > ?1 AND rowid <= ?2 AND (?3 IS NULL OR tenant = ?3)
               AND (?4 = 0 OR (ts >= ?5 AND ts < ?6))
             ORDER BY rowid",
        )?;
        let mut rows = stmt.query(params![after, upto, tenant, window.is_some(), lo, hi])?;
        while let Some(r) = rows.next()? {
            let (log_id, date): (String, Option<String>) = (r.get(0)?, r.get(1)?);
            let raw = codec.text(r.get_ref(2)?)?;
            for m in rules.matches(&log_id, &raw) {
                let h = hits.entry(m.title).or_default();
                h.level = h.level.take().or(m.level);
                h.id = h.id.take().or(m.id);
                if let Some(d) = &date {
                    if h.first.as_ref().is_none_or(|f| d < f) {
                        h.first = Some(d.clone());
                    }
                    if h.last.as_ref().is_none_or(|l| d > l) {
                        h.last = Some(d.clone());
                    }
                }
                h.count += 1;
                if h.log_ids.len() < MAX_LOG_IDS {
                    h.log_ids.push(log_id.clone());
                }
            }
        }
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = Vec::with_capacity(hits.len());
    for (title, h) in hits {
        let severity = h
            .level
            .as_deref()
            .and_then(Severity::parse)
            .unwrap_or(Severity::Medium);
        let mut key = serde_json::Map::new();
        key.insert("rule".into(), h.id.clone().unwrap_or(title.clone()).into());
        let (first_seen, last_seen) = (h.first.unwrap_or_default(), h.last.unwrap_or_default());
        let f = Finding {
            detection: title.clone(),
            source: "sigma".into(),
            severity: severity.as_str().into(),
            summary: format!(
                "Sigma rule \"{title}\": {} matching events, {first_seen} .. {last_seen}",
                h.count
            ),
            key,
            first_seen,
            last_seen,
            events: h.count,
            log_ids: h.log_ids,
            details: serde_json::Map::new(),
        };
        let filed = findings::record(&tx, &f, scope, 0, run_id)?;
        out.push(Reported {
            finding: f,
            new: filed == Filed::New,
        });
    }
    if window.is_none() {
        findings::set_watermark(&tx, WATERMARK, scope, upto)?;
    }
    tx.commit()?;
    Ok(out)
}
