//! The `--user` section: one user's places, IPs, devices, MFA events,
//! findings and timeline.

use rusqlite::Connection;

use super::attacks::attacks;
use super::{
    EVENT_COLUMNS, EventRow, FindingRow, MAX_TIMELINE, TypeNames, clip, codes_in, event_row, int,
    iso_of, real, rows, text,
};
use crate::error::Result;
use crate::query::engine::Engine;
use crate::query::params::Bound;
use crate::report::Filter;

pub struct UserSection {
    pub user_id: String,
    pub names: Vec<String>,
    pub events: i64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub timeline: Vec<EventRow>,
    /// Most events first.
    pub countries: Vec<UserCountry>,
    /// Most events first.
    pub ips: Vec<UserIp>,
    /// Most events first.
    pub devices: Vec<Device>,
    pub mfa: Vec<EventRow>,
    pub findings: Vec<FindingRow>,
}

/// The user's events from one country.
pub struct UserCountry {
    /// Country code (`?` when unknown).
    pub code: String,
    pub name: String,
    pub events: i64,
    pub first_seen: String,
    pub last_seen: String,
}

/// The user's events from one IP.
pub struct UserIp {
    pub ip: String,
    pub country: String,
    pub events: i64,
    /// Failed logins.
    pub failures: i64,
    #[expect(dead_code, reason = "the page shows the last use only")]
    pub first_seen: String,
    pub last_seen: String,
}

/// The user's events from one user agent.
pub struct Device {
    pub user_agent: String,
    /// Whether any of its events was marked mobile.
    pub mobile: bool,
    pub events: i64,
    pub last_seen: String,
}

/// How many events the user has in the range, and when.
struct Span {
    events: i64,
    first: Option<String>,
    last: Option<String>,
}

pub(super) fn user_section(
    conn: &Connection,
    engine: &dyn Engine,
    f: &Filter,
    names: &TypeNames,
    user: &str,
) -> Result<UserSection> {
    let (w, v) = f.user_events();
    let span = span(engine, &w, &v)?;
    let user_names = names_seen(engine, &w, &v)?;
    let timeline = sqlite_events(conn, names, &w, &v, "")?;
    let mfa_codes = codes_in(names, "mfa");
    let mfa = sqlite_events(
        conn,
        names,
        &w,
        &v,
        &format!(" AND (type IN ({mfa_codes}) OR type LIKE 'gd\\_%' ESCAPE '\\')"),
    )?;
    let countries = countries(engine, &w, &v)?;
    let ips = ips(engine, &w, &v, &codes_in(names, "login_failure"))?;
    let devices = devices(engine, &w, &v)?;
    let findings = attacks(conn, f, names, Some(user))?.findings;
    Ok(UserSection {
        user_id: clip(user),
        names: user_names,
        events: span.events,
        first: span.first,
        last: span.last,
        timeline,
        countries,
        ips,
        devices,
        mfa,
        findings,
    })
}

fn span(engine: &dyn Engine, w: &str, v: &[Bound]) -> Result<Span> {
    let head = rows(
        engine,
        &format!("SELECT count(*), min(ts), max(ts) FROM events WHERE {w}"),
        v,
    )?;
    Ok(Span {
        events: int(&head[0][0]),
        first: iso_of(real(&head[0][1]).map(|x| x as i64)),
        last: iso_of(real(&head[0][2]).map(|x| x as i64)),
    })
}

/// The user's five most used names.
fn names_seen(engine: &dyn Engine, w: &str, v: &[Bound]) -> Result<Vec<String>> {
    let found = rows(
        engine,
        &format!(
            "SELECT user_name, count(*) AS n FROM events WHERE {w} AND user_name IS NOT NULL
             GROUP BY 1 ORDER BY n DESC, user_name LIMIT 5"
        ),
        v,
    )?;
    Ok(found.iter().map(|r| text(&r[0])).collect())
}

/// The user's newest events, with the condition `extra` added. The timeline
/// and MFA lists come from SQLite (by the user index), with the same filter.
fn sqlite_events(
    conn: &Connection,
    names: &TypeNames,
    w: &str,
    v: &[Bound],
    extra: &str,
) -> Result<Vec<EventRow>> {
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
}

fn countries(engine: &dyn Engine, w: &str, v: &[Bound]) -> Result<Vec<UserCountry>> {
    let found = rows(
        engine,
        &format!(
            "SELECT coalesce(country_code, '?') AS cc, max(country_name), count(*) AS n,
                    min(date), max(date)
             FROM events WHERE {w} GROUP BY 1 ORDER BY n DESC, cc LIMIT 50"
        ),
        v,
    )?;
    Ok(found
        .iter()
        .map(|r| UserCountry {
            code: text(&r[0]),
            name: text(&r[1]),
            events: int(&r[2]),
            first_seen: text(&r[3]),
            last_seen: text(&r[4]),
        })
        .collect())
}

fn ips(engine: &dyn Engine, w: &str, v: &[Bound], fail_codes: &str) -> Result<Vec<UserIp>> {
    let found = rows(
        engine,
        &format!(
            "SELECT ip, max(country_code), count(*) AS n,
                    sum(CASE WHEN type IN ({fail_codes}) THEN 1 ELSE 0 END), min(date), max(date)
             FROM events WHERE {w} AND ip IS NOT NULL GROUP BY 1 ORDER BY n DESC, ip LIMIT 50"
        ),
        v,
    )?;
    Ok(found
        .iter()
        .map(|r| UserIp {
            ip: text(&r[0]),
            country: text(&r[1]),
            events: int(&r[2]),
            failures: int(&r[3]),
            first_seen: text(&r[4]),
            last_seen: text(&r[5]),
        })
        .collect())
}

fn devices(engine: &dyn Engine, w: &str, v: &[Bound]) -> Result<Vec<Device>> {
    let found = rows(
        engine,
        &format!(
            "SELECT user_agent, max(CASE WHEN is_mobile THEN 1 ELSE 0 END), count(*) AS n, max(date)
             FROM events WHERE {w} AND user_agent IS NOT NULL
             GROUP BY 1 ORDER BY n DESC, user_agent LIMIT 30"
        ),
        v,
    )?;
    Ok(found
        .iter()
        .map(|r| Device {
            user_agent: text(&r[0]),
            mobile: int(&r[1]) == 1,
            events: int(&r[2]),
            last_seen: text(&r[3]),
        })
        .collect())
}

fn bound_value(b: &Bound) -> rusqlite::types::Value {
    match b {
        Bound::Int(i) => rusqlite::types::Value::Integer(*i),
        Bound::Real(f) => rusqlite::types::Value::Real(*f),
        Bound::Text(s) => rusqlite::types::Value::Text(s.clone()),
    }
}
