//! Findings of correlation rules. rsigma fires a correlation each time an
//! event leaves its window satisfying the condition; by default (its
//! `alert` action) the window is kept, so every further event of the same
//! group that still satisfies it fires again. Those fires, for one
//! correlation and one group-by value, whose windows overlap are one burst,
//! and one finding: its key names the group-by values, its `log_ids`,
//! `first_seen` and `last_seen` the events the windows rest on, and its
//! details the window.

use std::collections::{HashMap, HashSet};

use rsigma_eval::CorrelationBody;
use serde_json::Value;

use super::rules::{CorrelationInfo, parse_event_ref};
use crate::store::findings::{Finding, MAX_LOG_IDS};
use crate::time::epoch_iso;

struct Burst {
    /// Start of the first fire's window, end of the last one's (epoch ms).
    window_start: i64,
    window_end: i64,
    value: f64,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    seen: HashSet<String>,
    log_ids: Vec<String>,
}

/// A correlation's number and one group-by value (field, value pairs).
type Group = (usize, Vec<(String, String)>);

/// Fires collected over a run, per correlation and group-by value.
#[derive(Default)]
pub(super) struct Fires {
    open: HashMap<Group, Burst>,
    closed: Vec<(Group, Burst)>,
}

impl Fires {
    /// Adds one fire of correlation `corr` at event time `at_ms`.
    pub(super) fn add(
        &mut self,
        corr: usize,
        info: &CorrelationInfo,
        body: &CorrelationBody,
        at_ms: i64,
    ) {
        let span_ms = (info.timespan_s as i64).saturating_mul(1000);
        let start = at_ms.saturating_sub(span_ms);
        let key = (corr, body.group_key.clone());
        if self.open.get(&key).is_some_and(|b| start > b.window_end)
            && let Some((key, burst)) = self.open.remove_entry(&key)
        {
            self.closed.push((key, burst));
        }
        let burst = self.open.entry(key).or_insert_with(|| Burst {
            window_start: start,
            window_end: at_ms,
            value: 0.0,
            first_ms: None,
            last_ms: None,
            seen: HashSet::new(),
            log_ids: Vec::new(),
        });
        burst.window_end = burst.window_end.max(at_ms);
        burst.value = body.aggregated_value;
        for r in body.event_refs.iter().flatten() {
            let Some((ts, log_id)) = r.id.as_deref().and_then(parse_event_ref) else {
                continue;
            };
            if burst.seen.contains(log_id) {
                continue;
            }
            burst.seen.insert(log_id.to_owned());
            if burst.log_ids.len() < MAX_LOG_IDS {
                burst.log_ids.push(log_id.to_owned());
            }
            burst.first_ms = Some(burst.first_ms.map_or(ts, |f| f.min(ts)));
            burst.last_ms = Some(burst.last_ms.map_or(ts, |l| l.max(ts)));
        }
    }

    /// Every burst as a finding, with the time it spans (ms), by which a
    /// later run's continuation of it is the same finding.
    pub(super) fn findings(
        mut self,
        correlations: &HashMap<usize, CorrelationInfo>,
    ) -> Vec<(Finding, i64)> {
        self.closed.extend(self.open.drain());
        self.closed.sort_by(|a, b| {
            (a.0.0, a.1.window_start, &a.0.1).cmp(&(b.0.0, b.1.window_start, &b.0.1))
        });
        self.closed
            .into_iter()
            .filter_map(|((corr, group), burst)| {
                let info = correlations.get(&corr)?;
                let span_ms = (info.timespan_s as i64).saturating_mul(1000);
                Some((finding(info, &group, burst), span_ms))
            })
            .collect()
    }
}

/// `data.user_id` -> `user_id`: the key reads like a saved detection's.
fn key_name(field: &str) -> &str {
    field.strip_prefix("data.").unwrap_or(field)
}

fn iso(ms: i64) -> String {
    epoch_iso(ms).unwrap_or_default()
}

fn finding(info: &CorrelationInfo, group: &[(String, String)], b: Burst) -> Finding {
    let mut key = serde_json::Map::new();
    key.insert("rule".into(), info.key.clone().into());
    for (field, value) in group {
        key.insert(key_name(field).to_owned(), value.clone().into());
    }
    // A correlation over correlations keeps no events: its window stands in.
    let first = b.first_ms.unwrap_or(b.window_start);
    let last = b.last_ms.unwrap_or(b.window_end);
    let mut details = serde_json::Map::new();
    details.insert("correlation".into(), info.kind.into());
    details.insert("timespan".into(), info.timespan.clone().into());
    details.insert("window_start".into(), iso(b.window_start).into());
    details.insert("window_end".into(), iso(b.window_end).into());
    details.insert(
        "value".into(),
        serde_json::Number::from_f64(b.value).map_or(Value::Null, Value::Number),
    );
    let groups: Vec<String> = group
        .iter()
        .map(|(f, v)| format!("{} {v}", key_name(f)))
        .collect();
    let events = b.seen.len() as i64;
    Finding {
        detection: info.title.clone(),
        source: "sigma".into(),
        severity: super::severity(info.level.as_deref()).into(),
        summary: format!(
            "Sigma correlation \"{}\": {}{} within {} ({} {}), {} .. {}",
            info.title,
            if groups.is_empty() {
                String::new()
            } else {
                format!("{}, ", groups.join(", "))
            },
            crate::text::count(events as u64, "event"),
            info.timespan,
            info.kind,
            b.value,
            iso(first),
            iso(last)
        ),
        key,
        first_seen: iso(first),
        last_seen: iso(last),
        events,
        log_ids: b.log_ids,
        details,
    }
}
