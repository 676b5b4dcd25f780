//! Activity: events per day by category, logins per bucket, top event types
//! and sign-ups.

use std::collections::{BTreeMap, HashMap};

use super::{CATEGORIES, MAX_DAYS, TOP, TypeNames, int, real, rows, text};
use crate::error::Result;
use crate::query::engine::Engine;
use crate::query::params::Bound;
use crate::report::Filter;

pub struct Activity {
    /// Every day from the first to the last (the newest `MAX_DAYS`).
    pub days: Vec<DayCounts>,
    pub days_cut: usize,
    pub login_bucket_hours: i64,
    /// Every bucket from the first login's to the last one's.
    pub logins: Vec<LoginBucket>,
    pub logins_ok: i64,
    pub logins_failed: i64,
    /// Most events first.
    pub top_types: Vec<TypeCount>,
    /// One per entry of `days`.
    pub signups: Vec<SignupDay>,
}

/// The events of one day (UTC).
pub struct DayCounts {
    pub day: String,
    /// Events per `CATEGORIES` entry, in its order.
    pub per_category: Vec<i64>,
}

/// The logins of one bucket of `login_bucket_hours`.
pub struct LoginBucket {
    /// When the bucket starts (UTC).
    pub start: String,
    pub succeeded: i64,
    pub failed: i64,
}

/// The events of one type.
pub struct TypeCount {
    pub code: String,
    /// What the code means.
    pub name: String,
    pub category: String,
    pub events: i64,
}

/// The sign-ups of one day (UTC): `ss` succeeded, `fs` failed.
pub struct SignupDay {
    pub day: String,
    pub succeeded: i64,
    pub failed: i64,
}

/// Attempts that succeeded and failed.
#[derive(Clone, Copy, Default)]
struct Outcomes {
    succeeded: i64,
    failed: i64,
}

/// What one pass over events per day and type adds up.
#[derive(Default)]
struct Tally {
    /// Day -> events per `CATEGORIES` entry (days with events only).
    days: BTreeMap<String, Vec<i64>>,
    signups: BTreeMap<String, Outcomes>,
    per_type: HashMap<String, i64>,
}

pub(super) fn activity(
    engine: &dyn Engine,
    f: &Filter,
    names: &TypeNames,
    ok_codes: &str,
    fail_codes: &str,
) -> Result<Activity> {
    let (w, v) = f.events();
    let tally = tally_by_day_and_type(engine, &w, &v, names)?;
    let days = every_day(&tally.days);
    let days_cut = days.len().saturating_sub(MAX_DAYS);
    let days: Vec<DayCounts> = days.into_iter().skip(days_cut).collect();
    let signups = signups_per_day(&days, &tally.signups);
    let top_types = top_types(tally.per_type, names);
    let bucket_hours = login_bucket_hours(engine, &w, &v, ok_codes, fail_codes)?;
    let logins = logins_per_bucket(engine, &w, &v, ok_codes, fail_codes, bucket_hours)?;
    let logins_ok = logins.iter().map(|l| l.succeeded).sum();
    let logins_failed = logins.iter().map(|l| l.failed).sum();
    Ok(Activity {
        days,
        days_cut,
        login_bucket_hours: bucket_hours,
        logins,
        logins_ok,
        logins_failed,
        top_types,
        signups,
    })
}

fn tally_by_day_and_type(
    engine: &dyn Engine,
    w: &str,
    v: &[Bound],
    names: &TypeNames,
) -> Result<Tally> {
    let by_day_type = rows(
        engine,
        &format!(
            "SELECT epoch_day(ts) AS day, type, count(*) AS n FROM events WHERE {w}
             GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        v,
    )?;
    let mut tally = Tally::default();
    for r in &by_day_type {
        let (day, code, n) = (text(&r[0]), text(&r[1]), int(&r[2]));
        tally
            .days
            .entry(day.clone())
            .or_insert_with(|| vec![0; CATEGORIES.len()])[category_index(names, &code)] += n;
        *tally.per_type.entry(code.clone()).or_default() += n;
        if code == "ss" || code == "fs" {
            let e = tally.signups.entry(day).or_default();
            if code == "ss" {
                e.succeeded += n
            } else {
                e.failed += n
            }
        }
    }
    Ok(tally)
}

/// Where the code's category stands in `CATEGORIES` ("other" when unknown).
fn category_index(names: &TypeNames, code: &str) -> usize {
    let cat = names
        .get(code)
        .map(|t| t.category.as_str())
        .unwrap_or("other");
    CATEGORIES
        .iter()
        .position(|(c, _)| *c == cat)
        .unwrap_or(CATEGORIES.len() - 1)
}

/// Every day between the first and the last, so gaps show as gaps.
fn every_day(days: &BTreeMap<String, Vec<i64>>) -> Vec<DayCounts> {
    let mut filled = Vec::new();
    if let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) {
        let parse = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
        if let (Some(mut d), Some(end)) = (parse(first), parse(last)) {
            while d <= end {
                let day = d.format("%Y-%m-%d").to_string();
                let per_category = days
                    .get(&day)
                    .cloned()
                    .unwrap_or_else(|| vec![0; CATEGORIES.len()]);
                filled.push(DayCounts { day, per_category });
                d = d.succ_opt().unwrap_or(end + chrono::Days::new(1));
            }
        }
    }
    filled
}

fn signups_per_day(days: &[DayCounts], signups: &BTreeMap<String, Outcomes>) -> Vec<SignupDay> {
    days.iter()
        .map(|d| {
            let o = signups.get(&d.day).copied().unwrap_or_default();
            SignupDay {
                day: d.day.clone(),
                succeeded: o.succeeded,
                failed: o.failed,
            }
        })
        .collect()
}

/// The `TOP` types by events (ties by code), named.
fn top_types(per_type: HashMap<String, i64>, names: &TypeNames) -> Vec<TypeCount> {
    let mut top: Vec<(String, i64)> = per_type.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.into_iter()
        .take(TOP)
        .map(|(code, events)| {
            let (name, category) = names
                .get(&code)
                .map(|t| (t.name.clone(), t.category.clone()))
                .unwrap_or_else(|| ("(unknown event type)".into(), "other".into()));
            TypeCount {
                code,
                name,
                category,
                events,
            }
        })
        .collect()
}

/// Logins go in buckets of whole hours, at most about 240 of them.
fn login_bucket_hours(
    engine: &dyn Engine,
    w: &str,
    v: &[Bound],
    ok_codes: &str,
    fail_codes: &str,
) -> Result<i64> {
    let span = rows(
        engine,
        &format!(
            "SELECT min(ts), max(ts) FROM events WHERE {w} AND type IN ({ok_codes}, {fail_codes})"
        ),
        v,
    )?;
    let (lo, hi) = (real(&span[0][0]), real(&span[0][1]));
    let hours = match (lo, hi) {
        (Some(lo), Some(hi)) => ((hi - lo) / 3_600_000.0).ceil() as i64 + 1,
        _ => 1,
    };
    Ok([1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 168]
        .into_iter()
        .find(|h| hours / h <= 240)
        .unwrap_or(168 * ((hours / 240 / 168) + 1)))
}

/// Every bucket from the first login's to the last one's, empty ones too.
fn logins_per_bucket(
    engine: &dyn Engine,
    w: &str,
    v: &[Bound],
    ok_codes: &str,
    fail_codes: &str,
    bucket_hours: i64,
) -> Result<Vec<LoginBucket>> {
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
        v,
    )?;
    let mut by_bucket: BTreeMap<i64, Outcomes> = BTreeMap::new();
    for r in &login_rows {
        let o = Outcomes {
            succeeded: int(&r[1]),
            failed: int(&r[2]),
        };
        by_bucket.insert(int(&r[0]), o);
    }
    let mut logins = Vec::new();
    if let (Some(&a), Some(&b)) = (by_bucket.keys().next(), by_bucket.keys().next_back()) {
        for k in a..=b {
            let o = by_bucket.get(&k).copied().unwrap_or_default();
            logins.push(LoginBucket {
                start: crate::time::epoch_iso(k * bucket_ms).unwrap_or_default(),
                succeeded: o.succeeded,
                failed: o.failed,
            });
        }
    }
    Ok(logins)
}
