//! What the page shows, read from the archive. Event aggregates run on the
//! chosen engine (SQLite or the DuckDB copy, one SQL text for both); the
//! tables only SQLite has (findings, runs, chain, event type names) are read
//! from SQLite. Every list is capped (`TOP`, `MAX_*`) and the page says when
//! it was.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rusqlite::Connection;

use super::Filter;
use crate::cli::Engine as EngineKind;
use crate::error::{Error, Result};
use crate::query::engine::{self, Engine, Origin, Stop};
use crate::query::output::{Sink, Value};
use crate::query::params::Bound;
use crate::query::{catalog, params};
use crate::store;

/// Rows of a "top" table.
pub const TOP: usize = 15;
pub const MAX_FINDINGS: usize = 300;
/// Findings whose events are listed, and events per finding.
pub const MAX_FINDINGS_EXPANDED: usize = 80;
pub const MAX_FINDING_EVENTS: usize = 10;
pub const MAX_MANAGEMENT: usize = 200;
pub const MAX_TIMELINE: usize = 200;
pub const MAX_POINTS: usize = 2000;
pub const MAX_LEGS: usize = 100;
pub const MAX_DAYS: usize = 370;
/// Longest text shown from an event field.
pub const MAX_TEXT: usize = 200;

/// Category order and colours of the stacked activity chart.
pub const CATEGORIES: &[(&str, &str)] = &[
    ("login_success", "#2a9d8f"),
    ("login_failure", "#d62828"),
    ("signup", "#457b9d"),
    ("mfa", "#8e6fc1"),
    ("token_exchange", "#7fb7be"),
    ("logout", "#a3a3a3"),
    ("password", "#e07a5f"),
    ("account", "#c9a227"),
    ("management_api", "#f4a261"),
    ("attack_protection", "#6a040f"),
    ("connection", "#588157"),
    ("other", "#d4d4d4"),
];

pub struct Report {
    pub generated_at: String,
    pub db: String,
    pub overview: Overview,
    pub activity: Activity,
    pub attacks: Attacks,
    pub geo: Geo,
    pub who: Who,
    pub management: Management,
    pub user: Option<UserSection>,
}

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
    pub findings_by_severity: Vec<(String, i64)>,
}

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
    /// Detection, severity, findings, events, last seen: most severe first.
    pub by_detection: Vec<(String, String, i64, i64, String)>,
    pub findings: Vec<FindingRow>,
}

#[derive(Clone)]
pub struct EventRow {
    pub log_id: String,
    pub date: String,
    pub type_code: String,
    pub type_name: String,
    pub ip: String,
    pub user: String,
    pub country: String,
    pub client: String,
    pub user_agent: String,
    pub description: String,
}

pub struct Leg {
    pub user: String,
    pub from_date: String,
    pub to_date: String,
    pub from_place: String,
    pub to_place: String,
    pub from_ip: String,
    pub to_ip: String,
    pub km: f64,
    pub minutes: f64,
    pub kmh: Option<f64>,
    pub from_xy: Option<(f64, f64)>,
    pub to_xy: Option<(f64, f64)>,
}

pub struct Geo {
    /// Latitude, longitude (rounded to 0.1 degree), logins succeeded, failed.
    pub points: Vec<(f64, f64, i64, i64)>,
    pub points_total: usize,
    /// Code, name, logins, succeeded, failed, users, IPs.
    pub countries: Vec<(String, String, i64, i64, i64, i64, i64)>,
    pub legs: Vec<Leg>,
    pub legs_total: usize,
}

pub struct Who {
    /// IP, failures, users tried, country, first, last.
    pub failing_ips: Vec<(String, i64, i64, String, String, String)>,
    /// User, failures, IPs, last.
    pub failing_users: Vec<(String, i64, i64, String)>,
    /// Client name, client id, events, users.
    pub clients: Vec<(String, String, i64, i64)>,
    /// Connection, events, logins failed.
    pub connections: Vec<(String, i64, i64)>,
    /// User agent, events, users, IPs.
    pub user_agents: Vec<(String, i64, i64, i64)>,
}

pub struct ManagementRow {
    pub date: String,
    pub type_code: String,
    pub actor: String,
    pub method: String,
    pub path: String,
    pub ip: String,
    pub description: String,
}

pub struct Management {
    pub total: i64,
    pub failed: i64,
    pub rows: Vec<ManagementRow>,
    /// Day, succeeded (sapi), failed (fapi).
    pub days: Vec<(String, i64, i64)>,
}

pub struct UserSection {
    pub user_id: String,
    pub names: Vec<String>,
    pub events: i64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub timeline: Vec<EventRow>,
    /// Country, name, events, first, last.
    pub countries: Vec<(String, String, i64, String, String)>,
    /// IP, country, events, failures, first, last.
    pub ips: Vec<(String, String, i64, i64, String, String)>,
    /// User agent, mobile, events, last.
    pub devices: Vec<(String, String, i64, String)>,
    pub mfa: Vec<EventRow>,
    pub findings: Vec<FindingRow>,
}

/// Collects a result set.
#[derive(Default)]
struct Rows(Vec<Vec<Value>>);

impl Sink for Rows {
    fn columns(&mut self, _: &[String]) -> std::io::Result<()> {
        Ok(())
    }
    fn row(&mut self, row: &[Value]) -> std::io::Result<()> {
        self.0.push(row.to_vec());
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn rows(engine: &dyn Engine, sql: &str, values: &[Bound]) -> Result<Vec<Vec<Value>>> {
    let mut sink = Rows::default();
    match engine.run(sql, values, Origin::Report, &mut sink) {
        Ok(()) => Ok(sink.0),
        Err(Stop::Err(e)) => Err(e.within("report")),
        Err(Stop::Pipe) => Err(Error::runtime("report: a query stopped early")),
    }
}

pub fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Real(f) => *f as i64,
        Value::Bool(b) => *b as i64,
        Value::Text(s) => s.parse().unwrap_or(0),
        Value::Null => 0,
    }
}

pub fn real(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Real(f) => Some(*f),
        _ => None,
    }
}

/// Text of a value, cut to `MAX_TEXT` characters; NULL is empty.
pub fn text(v: &Value) -> String {
    let s = match v {
        Value::Null => return String::new(),
        Value::Text(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
    };
    clip(&s)
}

pub fn clip(s: &str) -> String {
    if s.chars().count() > MAX_TEXT {
        let mut c: String = s.chars().take(MAX_TEXT).collect();
        c.push('…');
        c
    } else {
        s.to_string()
    }
}

/// Event type code -> (readable name, category), from `event_types`.
type TypeNames = HashMap<String, (String, String)>;

fn type_names(conn: &Connection) -> Result<TypeNames> {
    let mut stmt = conn.prepare("SELECT code, description, category FROM event_types")?;
    let map = stmt
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
        .collect::<rusqlite::Result<TypeNames>>()?;
    Ok(map)
}

/// `'a', 'b'` of the codes in `category` (codes come from our own table).
fn codes_in(names: &TypeNames, category: &str) -> String {
    let mut codes: Vec<&String> = names
        .iter()
        .filter(|(_, (_, c))| c == category)
        .map(|(k, _)| k)
        .collect();
    codes.sort();
    if codes.is_empty() {
        return "''".into();
    }
    codes
        .iter()
        .map(|c| format!("'{}'", c.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn iso_of(ms: Option<i64>) -> Option<String> {
    ms.and_then(crate::time::epoch_iso)
}

pub fn collect(db: &Path, kind: EngineKind, f: &Filter, verify: bool) -> Result<Report> {
    let conn = store::open_read_only(db)?;
    let engine = engine::open(db, kind, Origin::Report)?;
    let engine = engine.as_ref();
    let names = type_names(&conn)?;
    let ok_codes = codes_in(&names, "login_success");
    let fail_codes = codes_in(&names, "login_failure");

    let overview = overview(&conn, engine, db, f, verify)?;
    let activity = activity(engine, f, &names, &ok_codes, &fail_codes)?;
    let attacks = attacks(&conn, f, &names, None)?;
    let geo = geo(&conn, engine, f, &ok_codes, &fail_codes)?;
    let who = who(engine, f, &ok_codes, &fail_codes)?;
    let management = management(engine, f)?;
    let user = match &f.user {
        Some(u) => Some(user_section(&conn, engine, f, &names, u)?),
        None => None,
    };
    Ok(Report {
        generated_at: crate::time::now_iso(),
        db: db.display().to_string(),
        overview,
        activity,
        attacks,
        geo,
        who,
        management,
        user,
    })
}

fn overview(
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
    let mut by: Vec<(String, i64)> = Vec::new();
    if has_findings(conn)? {
        let mut stmt = conn.prepare(&format!(
            "SELECT severity, count(*) FROM findings WHERE {fw} GROUP BY severity"
        ))?;
        by = stmt
            .query_map(rusqlite::params_from_iter(fv.iter()), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    let rank = |s: &str| {
        ["high", "medium", "low", "info"]
            .iter()
            .position(|x| *x == s)
    };
    by.sort_by_key(|(s, _)| rank(s).unwrap_or(9));
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

fn activity(
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

/// The WHERE condition on `findings` for the report's range: findings whose
/// span meets it, of the tenant's scope (or all tenants').
fn findings_filter(f: &Filter) -> (String, Vec<String>) {
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

fn attacks(
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
    let mut stmt = conn.prepare(&format!(
        "SELECT detection, severity, count(*), sum(events), max(last_seen) FROM findings
         WHERE {w} GROUP BY 1, 2
         ORDER BY CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 WHEN 'low' THEN 2 ELSE 3 END,
                  3 DESC, 1"
    ))?;
    let by_detection = stmt
        .query_map(rusqlite::params_from_iter(v.iter()), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT detection, severity, key, summary, first_seen, last_seen, events, log_ids,
                coalesce(details, '')
         FROM findings WHERE {w} ORDER BY last_seen DESC, id DESC LIMIT {MAX_FINDINGS}"
    ))?;
    let mut findings = stmt
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

fn has_findings(conn: &Connection) -> Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'findings'",
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

const EVENT_COLUMNS: &str = "log_id, date, type, ip, coalesce(user_name, user_id), country_code, \
    coalesce(client_name, client_id), user_agent, description";

fn event_row(r: &rusqlite::Row<'_>, names: &TypeNames) -> rusqlite::Result<EventRow> {
    let s = |i: usize| -> rusqlite::Result<String> {
        Ok(clip(&r.get::<_, Option<String>>(i)?.unwrap_or_default()))
    };
    let code = s(2)?;
    Ok(EventRow {
        log_id: s(0)?,
        date: s(1)?,
        type_name: names.get(&code).map(|n| n.0.clone()).unwrap_or_default(),
        type_code: code,
        ip: s(3)?,
        user: s(4)?,
        country: s(5)?,
        client: s(6)?,
        user_agent: s(7)?,
        description: s(8)?,
    })
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

fn geo(
    conn: &Connection,
    engine: &dyn Engine,
    f: &Filter,
    ok_codes: &str,
    fail_codes: &str,
) -> Result<Geo> {
    let (w, v) = f.events();
    let logins = format!("{w} AND type IN ({ok_codes}, {fail_codes})");
    let ok = format!("sum(CASE WHEN type IN ({ok_codes}) THEN 1 ELSE 0 END)");
    let failed = format!("sum(CASE WHEN type IN ({fail_codes}) THEN 1 ELSE 0 END)");
    let pts = rows(
        engine,
        &format!(
            "SELECT round(latitude, 1) AS lat, round(longitude, 1) AS lon, {ok}, {failed}, count(*) AS n
             FROM events WHERE {logins} AND latitude IS NOT NULL AND longitude IS NOT NULL
             GROUP BY 1, 2 ORDER BY n DESC, lat, lon"
        ),
        &v,
    )?;
    let points_total = pts.len();
    let points = pts
        .iter()
        .take(MAX_POINTS)
        .filter_map(|r| Some((real(&r[0])?, real(&r[1])?, int(&r[2]), int(&r[3]))))
        .collect();
    let countries = rows(
        engine,
        &format!(
            "SELECT coalesce(country_code, '?') AS cc, max(country_name), count(*) AS n, {ok}, {failed},
                    count(DISTINCT user_id), count(DISTINCT ip)
             FROM events WHERE {logins} GROUP BY 1 ORDER BY n DESC, cc LIMIT 60"
        ),
        &v,
    )?
    .iter()
    .map(|r| {
        (
            text(&r[0]),
            text(&r[1]),
            int(&r[2]),
            int(&r[3]),
            int(&r[4]),
            int(&r[5]),
            int(&r[6]),
        )
    })
    .collect();

    // Impossible travel: the saved report's legs, newest first.
    let report = catalog::find("impossible-travel")?;
    let mut args = Vec::new();
    if let Some(s) = iso_of(f.since) {
        args.push(format!("since={s}"));
    }
    if let Some(u) = iso_of(f.until) {
        args.push(format!("until={u}"));
    }
    if let Some(t) = &f.tenant {
        args.push(format!("tenant={t}"));
    }
    let (sql, values) = params::bind(&report, &args)?;
    let legs_rows = rows(engine, &sql, &values)?;
    let legs_total = legs_rows.len();
    let mut legs = Vec::new();
    let mut coords = conn.prepare("SELECT latitude, longitude FROM events WHERE log_id = ?1")?;
    let mut xy = |id: &str| -> Option<(f64, f64)> {
        coords
            .query_row([id], |r| {
                Ok((r.get::<_, Option<f64>>(0)?, r.get::<_, Option<f64>>(1)?))
            })
            .ok()
            .and_then(|(a, b)| Some((a?, b?)))
    };
    for r in legs_rows.iter().rev().take(MAX_LEGS) {
        let ids = text(&r[16]);
        let mut ids = ids.split(' ');
        let (a, b) = (ids.next().unwrap_or(""), ids.next().unwrap_or(""));
        let place = |city: &Value, cc: &Value| {
            let (c, cc) = (text(city), text(cc));
            if c.is_empty() {
                cc
            } else {
                format!("{c}, {cc}")
            }
        };
        let user = if text(&r[1]).is_empty() {
            text(&r[0])
        } else {
            format!("{} ({})", text(&r[1]), text(&r[0]))
        };
        legs.push(Leg {
            user,
            from_date: text(&r[2]),
            to_date: text(&r[3]),
            from_place: place(&r[4], &r[6]),
            to_place: place(&r[5], &r[7]),
            from_ip: text(&r[8]),
            to_ip: text(&r[9]),
            km: real(&r[10]).unwrap_or(0.0),
            minutes: real(&r[11]).unwrap_or(0.0),
            kmh: real(&r[12]),
            from_xy: xy(a),
            to_xy: xy(b),
        });
    }
    Ok(Geo {
        points,
        points_total,
        countries,
        legs,
        legs_total,
    })
}

fn who(engine: &dyn Engine, f: &Filter, ok_codes: &str, fail_codes: &str) -> Result<Who> {
    let (w, v) = f.events();
    let failing_ips = rows(
        engine,
        &format!(
            "SELECT ip, count(*) AS n, count(DISTINCT coalesce(user_name, user_id)),
                    max(country_code), min(date), max(date)
             FROM events WHERE {w} AND type IN ({fail_codes}) AND ip IS NOT NULL
             GROUP BY ip ORDER BY n DESC, ip LIMIT {TOP}"
        ),
        &v,
    )?
    .iter()
    .map(|r| {
        (
            text(&r[0]),
            int(&r[1]),
            int(&r[2]),
            text(&r[3]),
            text(&r[4]),
            text(&r[5]),
        )
    })
    .collect();
    let failing_users = rows(
        engine,
        &format!(
            "SELECT coalesce(user_name, user_id) AS u, count(*) AS n, count(DISTINCT ip), max(date)
             FROM events WHERE {w} AND type IN ({fail_codes})
               AND coalesce(user_name, user_id) IS NOT NULL
             GROUP BY 1 ORDER BY n DESC, u LIMIT {TOP}"
        ),
        &v,
    )?
    .iter()
    .map(|r| (text(&r[0]), int(&r[1]), int(&r[2]), text(&r[3])))
    .collect();
    let clients = rows(
        engine,
        &format!(
            "SELECT coalesce(client_name, '') AS c, coalesce(client_id, '') AS i, count(*) AS n,
                    count(DISTINCT user_id)
             FROM events WHERE {w} AND (client_name IS NOT NULL OR client_id IS NOT NULL)
             GROUP BY 1, 2 ORDER BY n DESC, c, i LIMIT {TOP}"
        ),
        &v,
    )?
    .iter()
    .map(|r| (text(&r[0]), text(&r[1]), int(&r[2]), int(&r[3])))
    .collect();
    let connections = rows(
        engine,
        &format!(
            "SELECT connection, count(*) AS n,
                    sum(CASE WHEN type IN ({fail_codes}) THEN 1 ELSE 0 END)
             FROM events WHERE {w} AND connection IS NOT NULL
             GROUP BY 1 ORDER BY n DESC, connection LIMIT {TOP}"
        ),
        &v,
    )?
    .iter()
    .map(|r| (text(&r[0]), int(&r[1]), int(&r[2])))
    .collect();
    let _ = ok_codes;
    let user_agents = rows(
        engine,
        &format!(
            "SELECT user_agent, count(*) AS n, count(DISTINCT user_id), count(DISTINCT ip)
             FROM events WHERE {w} AND user_agent IS NOT NULL
             GROUP BY 1 ORDER BY n DESC, user_agent LIMIT {TOP}"
        ),
        &v,
    )?
    .iter()
    .map(|r| (text(&r[0]), int(&r[1]), int(&r[2]), int(&r[3])))
    .collect();
    Ok(Who {
        failing_ips,
        failing_users,
        clients,
        connections,
        user_agents,
    })
}

fn management(engine: &dyn Engine, f: &Filter) -> Result<Management> {
    let (w, v) = f.events();
    let cond = format!("{w} AND type IN ('sapi', 'fapi')");
    let counts = rows(
        engine,
        &format!(
            "SELECT count(*), sum(CASE WHEN type = 'fapi' THEN 1 ELSE 0 END) FROM events WHERE {cond}"
        ),
        &v,
    )?;
    let rows_ = rows(
        engine,
        &format!(
            "SELECT date, type,
                    coalesce(details ->> '$.request.auth.user.email',
                             details ->> '$.request.auth.user.name',
                             details ->> '$.request.auth.user.user_id',
                             client_name, client_id),
                    details ->> '$.request.method', details ->> '$.request.path', ip, description
             FROM events WHERE {cond} ORDER BY ts DESC, log_id DESC LIMIT {MAX_MANAGEMENT}"
        ),
        &v,
    )?
    .iter()
    .map(|r| ManagementRow {
        date: text(&r[0]),
        type_code: text(&r[1]),
        actor: text(&r[2]),
        method: text(&r[3]).to_uppercase(),
        path: text(&r[4]),
        ip: text(&r[5]),
        description: text(&r[6]),
    })
    .collect();
    let days = rows(
        engine,
        &format!(
            "SELECT epoch_day(ts), sum(CASE WHEN type = 'sapi' THEN 1 ELSE 0 END),
                    sum(CASE WHEN type = 'fapi' THEN 1 ELSE 0 END)
             FROM events WHERE {cond} GROUP BY 1 ORDER BY 1"
        ),
        &v,
    )?
    .iter()
    .map(|r| (text(&r[0]), int(&r[1]), int(&r[2])))
    .collect();
    Ok(Management {
        total: int(&counts[0][0]),
        failed: int(&counts[0][1]),
        rows: rows_,
        days,
    })
}

fn user_section(
    conn: &Connection,
    engine: &dyn Engine,
    f: &Filter,
    names: &TypeNames,
    user: &str,
) -> Result<UserSection> {
    let (w, v) = f.user_events();
    let head = rows(
        engine,
        &format!("SELECT count(*), min(ts), max(ts) FROM events WHERE {w}"),
        &v,
    )?;
    let user_names = rows(
        engine,
        &format!(
            "SELECT user_name, count(*) AS n FROM events WHERE {w} AND user_name IS NOT NULL
             GROUP BY 1 ORDER BY n DESC, user_name LIMIT 5"
        ),
        &v,
    )?
    .iter()
    .map(|r| text(&r[0]))
    .collect();
    // The timeline and MFA lists come from SQLite (by the user index), with
    // the same filter.
    let sqlite_rows = |extra: &str| -> Result<Vec<EventRow>> {
        let mut stmt = conn.prepare(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE {w}{extra}
             ORDER BY ts DESC, log_id DESC LIMIT {MAX_TIMELINE}"
        ))?;
        let binds: Vec<rusqlite::types::Value> = v.iter().map(bound_value).collect();
        let out = stmt
            .query_map(rusqlite::params_from_iter(binds.iter()), |r| {
                event_row(r, names)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(out)
    };
    let timeline = sqlite_rows("")?;
    let mfa_codes = codes_in(names, "mfa");
    let mfa = sqlite_rows(&format!(
        " AND (type IN ({mfa_codes}) OR type LIKE 'gd\\_%' ESCAPE '\\')"
    ))?;
    let countries = rows(
        engine,
        &format!(
            "SELECT coalesce(country_code, '?') AS cc, max(country_name), count(*) AS n,
                    min(date), max(date)
             FROM events WHERE {w} GROUP BY 1 ORDER BY n DESC, cc LIMIT 50"
        ),
        &v,
    )?
    .iter()
    .map(|r| {
        (
            text(&r[0]),
            text(&r[1]),
            int(&r[2]),
            text(&r[3]),
            text(&r[4]),
        )
    })
    .collect();
    let fail_codes = codes_in(names, "login_failure");
    let ips = rows(
        engine,
        &format!(
            "SELECT ip, max(country_code), count(*) AS n,
                    sum(CASE WHEN type IN ({fail_codes}) THEN 1 ELSE 0 END), min(date), max(date)
             FROM events WHERE {w} AND ip IS NOT NULL GROUP BY 1 ORDER BY n DESC, ip LIMIT 50"
        ),
        &v,
    )?
    .iter()
    .map(|r| {
        (
            text(&r[0]),
            text(&r[1]),
            int(&r[2]),
            int(&r[3]),
            text(&r[4]),
            text(&r[5]),
        )
    })
    .collect();
    let devices = rows(
        engine,
        &format!(
            "SELECT user_agent, max(CASE WHEN is_mobile THEN 1 ELSE 0 END), count(*) AS n, max(date)
             FROM events WHERE {w} AND user_agent IS NOT NULL
             GROUP BY 1 ORDER BY n DESC, user_agent LIMIT 30"
        ),
        &v,
    )?
    .iter()
    .map(|r| {
        (
            text(&r[0]),
            if int(&r[1]) == 1 { "yes" } else { "" }.to_string(),
            int(&r[2]),
            text(&r[3]),
        )
    })
    .collect();
    let findings = attacks(conn, f, names, Some(user))?.findings;
    Ok(UserSection {
        user_id: clip(user),
        names: user_names,
        events: int(&head[0][0]),
        first: iso_of(real(&head[0][1]).map(|x| x as i64)),
        last: iso_of(real(&head[0][2]).map(|x| x as i64)),
        timeline,
        countries,
        ips,
        devices,
        mfa,
        findings,
    })
}

fn bound_value(b: &Bound) -> rusqlite::types::Value {
    match b {
        Bound::Int(i) => rusqlite::types::Value::Integer(*i),
        Bound::Real(f) => rusqlite::types::Value::Real(*f),
        Bound::Text(s) => rusqlite::types::Value::Text(s.clone()),
    }
}
