//! Geography: login places, logins by country and impossible travel.

use rusqlite::Connection;

use super::{MAX_LEGS, MAX_POINTS, int, iso_of, real, rows, text};
use crate::error::Result;
use crate::query::engine::Engine;
use crate::query::output::Value;
use crate::query::{catalog, params};
use crate::report::Filter;

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

pub(super) fn geo(
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
