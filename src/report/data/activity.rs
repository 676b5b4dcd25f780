//! Activity: events per day by category, logins per bucket, top event types
//! and sign-ups.

use std::collections::{BTreeMap, HashMap};

use super::{CATEGORIES, MAX_DAYS, TOP, TypeNames, int, real, rows, text};
use crate::error::Result;
use crate::query::engine::Engine;
use crate::report::Filter;

pub struct Activity {
    /// Per day: counts per `CATEGORIES` entry.
    pub days: Vec<(String, Vec<i64>)>,
    pub days_cut: usize,
    pub login_bucket_hours: i64,
    /// Bucket start (UTC), succeeded, failed.
    pub logins: Vec<(String, i64, i64)>,
    pub logins_ok: i64,
    pub logins_failed: i64,
    /// Code, readable name, category, count.
    pub top_types: Vec<(String, String, String, i64)>,
    /// Day, signups succeeded, failed.
    pub signups: Vec<(String, i64, i64)>,
}

pub(super) fn activity(
    engine: &dyn Engine,
    f: &Filter,
    names: &TypeNames,
    ok_codes: &str,
    fail_codes: &str,
) -> Result<Activity> {
    let (w, v) = f.events();
    let by_day_type = rows(
        engine,
        &format!(
            "SELECT epoch_day(ts) AS day, type, count(*) AS n FROM events WHERE {w}
             GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        &v,
    )?;
    let cat_index = |code: &str| -> usize {
        let cat = names.get(code).map(|n| n.1.as_str()).unwrap_or("other");
        CATEGORIES
            .iter()
            .position(|(c, _)| *c == cat)
            .unwrap_or(CATEGORIES.len() - 1)
    };
    let mut days: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut signups: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut per_type: HashMap<String, i64> = HashMap::new();
    for r in &by_day_type {
        let (day, code, n) = (text(&r[0]), text(&r[1]), int(&r[2]));
        days.entry(day.clone())
            .or_insert_with(|| vec![0; CATEGORIES.len()])[cat_index(&code)] += n;
        *per_type.entry(code.clone()).or_default() += n;
        if code == "ss" || code == "fs" {
            let e = signups.entry(day).or_default();
            if code == "ss" { e.0 += n } else { e.1 += n }
        }
    }
    // Every day between the first and the last, so gaps show as gaps.
    let mut filled = Vec::new();
    if let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) {
        let parse = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
        if let (Some(mut d), Some(end)) = (parse(first), parse(last)) {
            while d <= end {
                let key = d.format("%Y-%m-%d").to_string();
                let counts = days
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| vec![0; CATEGORIES.len()]);
                filled.push((key, counts));
                d = d.succ_opt().unwrap_or(end + chrono::Days::new(1));
            }
        }
    }
    let days_cut = filled.len().saturating_sub(MAX_DAYS);
    let filled: Vec<_> = filled.into_iter().skip(days_cut).collect();
    let signups = filled
        .iter()
        .map(|(d, _)| {
            let (ok, failed) = signups.get(d).copied().unwrap_or_default();
            (d.clone(), ok, failed)
        })
        .collect();

    let mut top: Vec<(String, i64)> = per_type.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top_types = top
        .into_iter()
        .take(TOP)
        .map(|(code, n)| {
            let (name, cat) = names
                .get(&code)
                .cloned()
                .unwrap_or_else(|| ("(unknown event type)".into(), "other".into()));
            (code, name, cat, n)
        })
        .collect();

    // Logins in buckets of whole hours, at most about 240 of them.
    let span = rows(
        engine,
        &format!(
            "SELECT min(ts), max(ts) FROM events WHERE {w} AND type IN ({ok_codes}, {fail_codes})"
        ),
        &v,
    )?;
    let (lo, hi) = (real(&span[0][0]), real(&span[0][1]));
    let hours = match (lo, hi) {
        (Some(lo), Some(hi)) => ((hi - lo) / 3_600_000.0).ceil() as i64 + 1,
        _ => 1,
    };
    let bucket_hours = [1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 168]
        .into_iter()
        .find(|h| hours / h <= 240)
        .unwrap_or(168 * ((hours / 240 / 168) + 1));
    let bucket_ms = bucket_hours * 3_600_000;
    let login_rows = rows(
        engine,
        &format!(
            "SELECT floor(ts / {bucket_ms}.0) AS b,
                    sum(CASE WHEN type IN ({ok_codes}) THEN 1 ELSE 0 END),
                    sum(CASE WHEN type IN ({fail_codes}) THEN 1 ELSE 0 END)
             FROM events WHERE {w} AND type IN ({ok_codes}, {fail_codes})
             GROUP BY 1 ORDER BY 1"
        ),
        &v,
    )?;
    let mut by_bucket: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for r in &login_rows {
        by_bucket.insert(int(&r[0]), (int(&r[1]), int(&r[2])));
    }
    let mut logins = Vec::new();
    if let (Some(&a), Some(&b)) = (by_bucket.keys().next(), by_bucket.keys().next_back()) {
        for k in a..=b {
            let (ok, failed) = by_bucket.get(&k).copied().unwrap_or_default();
            let at = crate::time::epoch_iso(k * bucket_ms).unwrap_or_default();
            logins.push((at, ok, failed));
        }
    }
    let logins_ok = logins.iter().map(|l| l.1).sum();
    let logins_failed = logins.iter().map(|l| l.2).sum();
    Ok(Activity {
        days: filled,
        days_cut,
        login_bucket_hours: bucket_hours,
        logins,
        logins_ok,
        logins_failed,
        top_types,
        signups,
    })
}
