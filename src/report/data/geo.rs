//! Geography: login places, logins by country and impossible travel.

use rusqlite::Connection;

use super::{MAX_LEGS, MAX_POINTS, int, iso_of, real, rows, text};
use crate::error::Result;
use crate::query::engine::Engine;
use crate::query::output::Value;
use crate::query::params::Bound;
use crate::query::{catalog, params};
use crate::report::Filter;

pub struct Geo {
    /// Most logins first, at most `MAX_POINTS`.
    pub points: Vec<LoginPlace>,
    pub points_total: usize,
    /// Most logins first.
    pub countries: Vec<CountryLogins>,
    /// Newest first, at most `MAX_LEGS`.
    pub legs: Vec<Leg>,
    pub legs_total: usize,
}

/// Where on the map, in degrees.
#[derive(Clone, Copy)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

/// The logins at one place (latitude and longitude rounded to 0.1 degree).
#[derive(Clone)]
pub struct LoginPlace {
    pub at: LatLon,
    pub succeeded: i64,
    pub failed: i64,
}

/// The logins from one country.
pub struct CountryLogins {
    /// Country code (`?` when unknown).
    pub code: String,
    pub name: String,
    pub logins: i64,
    #[expect(dead_code, reason = "the page shows logins and failures only")]
    pub succeeded: i64,
    pub failed: i64,
    /// Distinct users and IPs.
    pub users: i64,
    pub ips: i64,
}

/// One impossible-travel leg: two consecutive logins of a user too far
/// apart for the time between them.
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
    pub from_xy: Option<LatLon>,
    pub to_xy: Option<LatLon>,
}

/// SQL pieces the login queries share.
struct LoginSql {
    /// The WHERE condition: the report's filter, logins only.
    logins: String,
    /// Aggregates counting logins that succeeded and that failed.
    ok: String,
    failed: String,
}

impl LoginSql {
    fn new(w: &str, ok_codes: &str, fail_codes: &str) -> Self {
        LoginSql {
            logins: format!("{w} AND type IN ({ok_codes}, {fail_codes})"),
            ok: format!("sum(CASE WHEN type IN ({ok_codes}) THEN 1 ELSE 0 END)"),
            failed: format!("sum(CASE WHEN type IN ({fail_codes}) THEN 1 ELSE 0 END)"),
        }
    }
}

pub(super) fn geo(
    conn: &Connection,
    engine: &dyn Engine,
    f: &Filter,
    ok_codes: &str,
    fail_codes: &str,
) -> Result<Geo> {
    let (w, v) = f.events();
    let sql = LoginSql::new(&w, ok_codes, fail_codes);
    let places = place_rows(engine, &sql, &v)?;
    let points = places
        .iter()
        .take(MAX_POINTS)
        .filter_map(|r| login_place(r))
        .collect();
    let countries = countries(engine, &sql, &v)?;
    let travel = travel_rows(engine, f)?;
    let legs = legs(conn, &travel)?;
    Ok(Geo {
        points,
        points_total: places.len(),
        countries,
        legs,
        legs_total: travel.len(),
    })
}

/// Logins with a location, per rounded place, busiest first.
fn place_rows(engine: &dyn Engine, sql: &LoginSql, v: &[Bound]) -> Result<Vec<Vec<Value>>> {
    let LoginSql { logins, ok, failed } = sql;
    rows(
        engine,
        &format!(
            "SELECT round(latitude, 1) AS lat, round(longitude, 1) AS lon, {ok}, {failed}, count(*) AS n
             FROM events WHERE {logins} AND latitude IS NOT NULL AND longitude IS NOT NULL
             GROUP BY 1, 2 ORDER BY n DESC, lat, lon"
        ),
        v,
    )
}

fn login_place(r: &[Value]) -> Option<LoginPlace> {
    Some(LoginPlace {
        at: LatLon {
            lat: real(&r[0])?,
            lon: real(&r[1])?,
        },
        succeeded: int(&r[2]),
        failed: int(&r[3]),
    })
}

fn countries(engine: &dyn Engine, sql: &LoginSql, v: &[Bound]) -> Result<Vec<CountryLogins>> {
    let LoginSql { logins, ok, failed } = sql;
    let found = rows(
        engine,
        &format!(
            "SELECT coalesce(country_code, '?') AS cc, max(country_name), count(*) AS n, {ok}, {failed},
                    count(DISTINCT user_id), count(DISTINCT ip)
             FROM events WHERE {logins} GROUP BY 1 ORDER BY n DESC, cc LIMIT 60"
        ),
        v,
    )?;
    Ok(found
        .iter()
        .map(|r| CountryLogins {
            code: text(&r[0]),
            name: text(&r[1]),
            logins: int(&r[2]),
            succeeded: int(&r[3]),
            failed: int(&r[4]),
            users: int(&r[5]),
            ips: int(&r[6]),
        })
        .collect())
}

/// The saved `impossible-travel` report over the report's range, oldest
/// leg first.
fn travel_rows(engine: &dyn Engine, f: &Filter) -> Result<Vec<Vec<Value>>> {
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
    rows(engine, &sql, &values)
}

/// The newest `MAX_LEGS` legs, newest first, with their ends' coordinates
/// looked up in SQLite.
fn legs(conn: &Connection, travel: &[Vec<Value>]) -> Result<Vec<Leg>> {
    let mut coords = conn.prepare("SELECT latitude, longitude FROM events WHERE log_id = ?1")?;
    let mut xy = |id: &str| -> Option<LatLon> {
        coords
            .query_row([id], |r| {
                Ok((r.get::<_, Option<f64>>(0)?, r.get::<_, Option<f64>>(1)?))
            })
            .ok()
            .and_then(|(lat, lon)| {
                Some(LatLon {
                    lat: lat?,
                    lon: lon?,
                })
            })
    };
    Ok(travel
        .iter()
        .rev()
        .take(MAX_LEGS)
        .map(|r| leg(r, &mut xy))
        .collect())
}

/// A row of `impossible-travel` (columns in the saved report's order).
fn leg(r: &[Value], xy: &mut impl FnMut(&str) -> Option<LatLon>) -> Leg {
    let ids = text(&r[16]);
    let mut ids = ids.split(' ');
    let (a, b) = (ids.next().unwrap_or(""), ids.next().unwrap_or(""));
    let user = if text(&r[1]).is_empty() {
        text(&r[0])
    } else {
        format!("{} ({})", text(&r[1]), text(&r[0]))
    };
    Leg {
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
    }
}

/// `City, CC`, or the country code alone when the city is unknown.
fn place(city: &Value, cc: &Value) -> String {
    let (c, cc) = (text(city), text(cc));
    if c.is_empty() {
        cc
    } else {
        format!("{c}, {cc}")
    }
}
