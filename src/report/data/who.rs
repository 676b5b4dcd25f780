//! Who and where from (failing IPs and users, clients, connections, user
//! agents) and the Management API changes.

use super::{MAX_MANAGEMENT, TOP, int, rows, text};
use crate::error::Result;
use crate::query::engine::Engine;
use crate::query::params::Bound;
use crate::report::Filter;

pub struct Who {
    pub failing_ips: Vec<FailingIp>,
    pub failing_users: Vec<FailingUser>,
    pub clients: Vec<ClientCount>,
    pub connections: Vec<ConnectionCount>,
    pub user_agents: Vec<UserAgentCount>,
}

/// An IP that failed logins, most failures first.
pub struct FailingIp {
    pub ip: String,
    pub failures: i64,
    /// Distinct users (by name, else id) it tried.
    pub users_tried: i64,
    pub country: String,
    #[expect(dead_code, reason = "the page shows the last failure only")]
    pub first_seen: String,
    pub last_seen: String,
}

/// A user (by name, else id) whose logins failed, most failures first.
pub struct FailingUser {
    pub user: String,
    pub failures: i64,
    /// Distinct IPs the failures came from.
    pub ips: i64,
    pub last_seen: String,
}

/// The events of one client (application).
pub struct ClientCount {
    pub name: String,
    pub client_id: String,
    pub events: i64,
    pub users: i64,
}

/// The events of one connection.
pub struct ConnectionCount {
    pub connection: String,
    pub events: i64,
    pub failed_logins: i64,
}

/// The events of one user agent.
pub struct UserAgentCount {
    pub user_agent: String,
    pub events: i64,
    pub users: i64,
    pub ips: i64,
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
    pub days: Vec<ManagementDay>,
}

/// The Management API operations of one day (UTC).
pub struct ManagementDay {
    pub day: String,
    /// `sapi` events.
    pub succeeded: i64,
    /// `fapi` events.
    pub failed: i64,
}

/// Each list is the `TOP` by events (failures for the failing ones).
pub(super) fn who(engine: &dyn Engine, f: &Filter, fail_codes: &str) -> Result<Who> {
    let (w, v) = f.events();
    Ok(Who {
        failing_ips: failing_ips(engine, &w, &v, fail_codes)?,
        failing_users: failing_users(engine, &w, &v, fail_codes)?,
        clients: clients(engine, &w, &v)?,
        connections: connections(engine, &w, &v, fail_codes)?,
        user_agents: user_agents(engine, &w, &v)?,
    })
}

fn failing_ips(
    engine: &dyn Engine,
    w: &str,
    v: &[Bound],
    fail_codes: &str,
) -> Result<Vec<FailingIp>> {
    let found = rows(
        engine,
        &format!(
            "SELECT ip, count(*) AS n, count(DISTINCT coalesce(user_name, user_id)),
                    max(country_code), min(date), max(date)
             FROM events WHERE {w} AND type IN ({fail_codes}) AND ip IS NOT NULL
             GROUP BY ip ORDER BY n DESC, ip LIMIT {TOP}"
        ),
        v,
    )?;
    Ok(found
        .iter()
        .map(|r| FailingIp {
            ip: text(&r[0]),
            failures: int(&r[1]),
            users_tried: int(&r[2]),
            country: text(&r[3]),
            first_seen: text(&r[4]),
            last_seen: text(&r[5]),
        })
        .collect())
}

fn failing_users(
    engine: &dyn Engine,
    w: &str,
    v: &[Bound],
    fail_codes: &str,
) -> Result<Vec<FailingUser>> {
    let found = rows(
        engine,
        &format!(
            "SELECT coalesce(user_name, user_id) AS u, count(*) AS n, count(DISTINCT ip), max(date)
             FROM events WHERE {w} AND type IN ({fail_codes})
               AND coalesce(user_name, user_id) IS NOT NULL
             GROUP BY 1 ORDER BY n DESC, u LIMIT {TOP}"
        ),
        v,
    )?;
    Ok(found
        .iter()
        .map(|r| FailingUser {
            user: text(&r[0]),
            failures: int(&r[1]),
            ips: int(&r[2]),
            last_seen: text(&r[3]),
        })
        .collect())
}

fn clients(engine: &dyn Engine, w: &str, v: &[Bound]) -> Result<Vec<ClientCount>> {
    let found = rows(
        engine,
        &format!(
            "SELECT coalesce(client_name, '') AS c, coalesce(client_id, '') AS i, count(*) AS n,
                    count(DISTINCT user_id)
             FROM events WHERE {w} AND (client_name IS NOT NULL OR client_id IS NOT NULL)
             GROUP BY 1, 2 ORDER BY n DESC, c, i LIMIT {TOP}"
        ),
        v,
    )?;
    Ok(found
        .iter()
        .map(|r| ClientCount {
            name: text(&r[0]),
            client_id: text(&r[1]),
            events: int(&r[2]),
            users: int(&r[3]),
        })
        .collect())
}

fn connections(
    engine: &dyn Engine,
    w: &str,
    v: &[Bound],
    fail_codes: &str,
) -> Result<Vec<ConnectionCount>> {
    let found = rows(
        engine,
        &format!(
            "SELECT connection, count(*) AS n,
                    sum(CASE WHEN type IN ({fail_codes}) THEN 1 ELSE 0 END)
             FROM events WHERE {w} AND connection IS NOT NULL
             GROUP BY 1 ORDER BY n DESC, connection LIMIT {TOP}"
        ),
        v,
    )?;
    Ok(found
        .iter()
        .map(|r| ConnectionCount {
            connection: text(&r[0]),
            events: int(&r[1]),
            failed_logins: int(&r[2]),
        })
        .collect())
}

fn user_agents(engine: &dyn Engine, w: &str, v: &[Bound]) -> Result<Vec<UserAgentCount>> {
    let found = rows(
        engine,
        &format!(
            "SELECT user_agent, count(*) AS n, count(DISTINCT user_id), count(DISTINCT ip)
             FROM events WHERE {w} AND user_agent IS NOT NULL
             GROUP BY 1 ORDER BY n DESC, user_agent LIMIT {TOP}"
        ),
        v,
    )?;
    Ok(found
        .iter()
        .map(|r| UserAgentCount {
            user_agent: text(&r[0]),
            events: int(&r[1]),
            users: int(&r[2]),
            ips: int(&r[3]),
        })
        .collect())
}

pub(super) fn management(engine: &dyn Engine, f: &Filter) -> Result<Management> {
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
    .map(|r| ManagementDay {
        day: text(&r[0]),
        succeeded: int(&r[1]),
        failed: int(&r[2]),
    })
    .collect();
    Ok(Management {
        total: int(&counts[0][0]),
        failed: int(&counts[0][1]),
        rows: rows_,
        days,
    })
}
