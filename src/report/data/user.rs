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
    /// Country, name, events, first, last.
    pub countries: Vec<(String, String, i64, String, String)>,
    /// IP, country, events, failures, first, last.
    pub ips: Vec<(String, String, i64, i64, String, String)>,
    /// User agent, mobile, events, last.
    pub devices: Vec<(String, String, i64, String)>,
    pub mfa: Vec<EventRow>,
    pub findings: Vec<FindingRow>,
}

pub(super) fn user_section(
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
