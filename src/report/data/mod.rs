//! What the page shows, read from the archive. Event aggregates run on the
//! chosen engine (SQLite or the DuckDB copy, one SQL text for both); the
//! tables only SQLite has (findings, runs, chain, event type names) are read
//! from SQLite. Every list is capped (`TOP`, `MAX_*`) and the page says when
//! it was.

mod activity;
mod attacks;
mod geo;
mod overview;
mod user;
mod who;

use std::collections::HashMap;
use std::path::Path;

use rusqlite::Connection;

use super::Filter;
use super::detections::Detected;
use crate::choices::EngineKind;
use crate::error::{Error, Result};
use crate::query::engine::{self, Engine, Origin, Stop};
use crate::query::output::{Sink, Value};
use crate::query::params::Bound;
use crate::store;

pub use self::activity::Activity;
use self::activity::activity;
use self::attacks::attacks;
pub use self::attacks::{Attacks, FindingRow};
pub use self::geo::Geo;
use self::geo::geo;
pub use self::overview::Overview;
use self::overview::overview;
pub use self::user::UserSection;
use self::user::user_section;
pub use self::who::{Management, Who};
use self::who::{management, who};

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

/// Everything the page shows, gathered before any HTML is written.
pub struct PageData {
    pub generated_at: String,
    /// Whether the detections ran first, and whether their findings were filed.
    pub detected: Detected,
    pub db: String,
    pub overview: Overview,
    pub activity: Activity,
    pub attacks: Attacks,
    pub geo: Geo,
    pub who: Who,
    pub management: Management,
    pub user: Option<UserSection>,
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
    match engine.run(sql, values, Origin::Saved, &mut sink) {
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

/// What `event_types` says about one event type code.
struct TypeName {
    /// Readable name (the table's `description`).
    name: String,
    category: String,
}

/// Event type code -> its name and category, from `event_types`.
type TypeNames = HashMap<String, TypeName>;

fn type_names(conn: &Connection) -> Result<TypeNames> {
    let mut stmt = conn.prepare("SELECT code, description, category FROM event_types")?;
    let map = stmt
        .query_map([], |r| {
            let name = TypeName {
                name: r.get(1)?,
                category: r.get(2)?,
            };
            Ok((r.get(0)?, name))
        })?
        .collect::<rusqlite::Result<TypeNames>>()?;
    Ok(map)
}

/// `'a', 'b'` of the codes in `category` (codes come from our own table).
fn codes_in(names: &TypeNames, category: &str) -> String {
    let mut codes: Vec<&String> = names
        .iter()
        .filter(|(_, t)| t.category == category)
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

pub fn collect(
    db: &Path,
    kind: EngineKind,
    f: &Filter,
    verify: bool,
    detected: Detected,
) -> Result<PageData> {
    let mut conn = store::open_read_only(db)?;
    let engine = engine::open(db, kind, Origin::Saved)?;
    let engine = engine.as_ref();
    if matches!(detected, Detected::Unfiled { .. }) {
        // Findings filed in a TEMP table that shadows the stored one on
        // this connection: every section reads them, the file is untouched.
        let detections = crate::detect::Detections::choose(&[], false, &[])?;
        store::findings::shadow_in_memory(&conn)?;
        crate::detect::preview(&mut conn, engine, &detections, None)?;
    }
    let names = type_names(&conn)?;
    let ok_codes = codes_in(&names, "login_success");
    let fail_codes = codes_in(&names, "login_failure");

    let overview = overview(&conn, engine, db, f, verify)?;
    let activity = activity(engine, f, &names, &ok_codes, &fail_codes)?;
    let attacks = attacks(&conn, f, &names, None)?;
    let geo = geo(&conn, engine, f, &ok_codes, &fail_codes)?;
    let who = who(engine, f, &fail_codes)?;
    let management = management(engine, f)?;
    let user = match &f.user {
        Some(u) => Some(user_section(&conn, engine, f, &names, u)?),
        None => None,
    };
    Ok(PageData {
        generated_at: crate::time::now_iso(),
        detected,
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
        type_name: names.get(&code).map(|t| t.name.clone()).unwrap_or_default(),
        type_code: code,
        ip: s(3)?,
        user: s(4)?,
        country: s(5)?,
        client: s(6)?,
        user_agent: s(7)?,
        description: s(8)?,
    })
}
