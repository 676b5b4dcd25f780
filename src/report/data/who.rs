//! Who and where from (failing IPs and users, clients, connections, user
//! agents) and the Management API changes.

use super::{MAX_MANAGEMENT, TOP, int, rows, text};
use crate::error::Result;
use crate::query::engine::Engine;
use crate::report::Filter;

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

pub(super) fn who(
    engine: &dyn Engine,
    f: &Filter,
    ok_codes: &str,
    fail_codes: &str,
) -> Result<Who> {
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
    .map(|r| (text(&r[0]), int(&r[1]), int(&r[2])))
    .collect();
    Ok(Management {
        total: int(&counts[0][0]),
        failed: int(&counts[0][1]),
        rows: rows_,
        days,
    })
}
