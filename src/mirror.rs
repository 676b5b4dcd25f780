//! The DuckDB copy of `events` kept beside the archive (`<archive>.duckdb`),
//! for the DuckDB engine and the Parquet export.
//!
//! DuckDB's SQLite scanner is an extension downloaded at run time, which is
//! not available offline, so the copy is filled from SQLite through rusqlite
//! and the DuckDB Appender. It is brought up to date before every use: rows
//! whose SQLite rowid is above the copied watermark are appended, so the cost
//! follows the number of new rows. If rows at or below the watermark changed
//! (deleted, or renumbered by a VACUUM) or the integrity chain no longer holds
//! the link that was newest at the last refresh (the head was rewritten, or
//! links were pruned) the copy is rebuilt from scratch.
//! Its columns are the event columns of `event::COLUMNS`; beside them,
//! `event_digests` keeps each row's SHA-256 of `raw`, computed once when the
//! row is copied, for the export's day fingerprints, and `day_fingerprints`
//! caches those per UTC day: the export fills it, a refresh deletes the days
//! it appends rows to, a rebuild empties it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use duckdb::types::{ToSqlOutput, ValueRef};
use duckdb::{AccessMode, Config, Connection, ToSql};
use rusqlite::OptionalExtension;
use sha2::{Digest, Sha256};

use crate::error::{Context, Error, Result};
use crate::event::{Kind, Source, event_columns};
use crate::store;
use crate::time::DAY_MS;

/// Bumped whenever the copy's layout changes; a copy of another version is
/// rebuilt.
///
/// 2: `mirror_state` records the integrity chain's head (`chain_seq`,
/// `chain_link`) and the number of pruned links; `event_digests` holds each
/// row's SHA-256 of `raw`; `day_fingerprints` caches the export's per-day
/// fingerprints.
const MIRROR_VERSION: i64 = 2;

/// Helpers with the same results as the functions `query::sqlite` registers,
/// so one SQL text serves both engines.
const MACROS: &str = "
CREATE OR REPLACE MACRO epoch_day(ms) AS strftime(epoch_ms(ms), '%Y-%m-%d');
CREATE OR REPLACE MACRO epoch_iso(ms) AS strftime(epoch_ms(ms), '%Y-%m-%dT%H:%M:%S.%gZ');
";

/// Where the DuckDB copy of the archive at `db` lives.
pub fn mirror_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".duckdb");
    PathBuf::from(name)
}

/// Opens the copy for writing, waiting a little if another process has it.
fn open_mirror_rw(path: &Path) -> Result<Connection> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let config = Config::default()
            .enable_autoload_extension(false)
            .and_then(|c| c.access_mode(AccessMode::ReadWrite))
            .map_err(|e| Error::duckdb("cannot configure DuckDB", e))?;
        match Connection::open_with_flags(path, config) {
            Ok(c) => return Ok(c),
            Err(e) if e.to_string().contains("lock") && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                return Err(Error::database(format!(
                    "cannot open the DuckDB copy {}: {e} (it is rebuilt from the archive if you delete it)",
                    path.display()
                )));
            }
        }
    }
}

/// Opens the copy read-only with no access to files outside it (no COPY,
/// read_csv, ATTACH or extensions): the connection ad-hoc SQL runs on.
/// Call `refresh` first.
pub fn open_sealed(db: &Path) -> Result<Connection> {
    let config = Config::default()
        .enable_autoload_extension(false)
        .and_then(|c| c.access_mode(AccessMode::ReadOnly))
        .and_then(|c| c.enable_external_access(false))
        .context("cannot configure DuckDB")?;
    Connection::open_with_flags(mirror_path(db), config).context("cannot open the DuckDB copy")
}

/// What a refresh did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Refresh {
    /// Rows appended to the copy.
    pub appended: u64,
    /// Whether the copy was rebuilt from scratch.
    pub rebuilt: bool,
    /// Rows in the copy afterwards.
    pub rows: u64,
}

/// Brings the DuckDB copy of `db` up to date and returns an open connection
/// to it (read-write, with the helper macros).
pub fn refresh(db: &Path) -> Result<(Connection, Refresh)> {
    let src = store::open_read_only(db)?;
    // One read transaction: the rows appended and the watermark recorded
    // come from the same snapshot, even while a sync is writing.
    src.execute_batch("BEGIN")?;
    let mut duck = open_mirror_rw(&mirror_path(db))?;
    let outcome = refresh_with(&src, &mut duck).map_err(|e| match e {
        Fail::Duck(e) => Error::duckdb("cannot update the DuckDB copy", e),
        Fail::Sqlite(e) => Error::sqlite("cannot read the archive", e),
    })?;
    src.execute_batch("COMMIT")?;
    Ok((duck, outcome))
}

enum Fail {
    Duck(duckdb::Error),
    Sqlite(rusqlite::Error),
}
impl From<duckdb::Error> for Fail {
    fn from(e: duckdb::Error) -> Self {
        Fail::Duck(e)
    }
}
impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Sqlite(e)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct State {
    source_rowid: i64,
    source_rows: i64,
    last_log_id: Option<String>,
    chain: ChainMark,
}

/// What the integrity chain looked like when the copy was last refreshed:
/// the newest link (`seq` and its `link` text) and how many links were
/// pruned. Every link hashes the one before it, so rewriting any archived
/// event consistently (re-sealing the chain) changes the newest link; a
/// prune marks links pruned.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct ChainMark {
    seq: Option<i64>,
    link: Option<String>,
    pruned: i64,
}

impl ChainMark {
    /// The chain's head and pruned-link count in the caller's snapshot.
    fn read(src: &rusqlite::Connection) -> rusqlite::Result<Self> {
        let (seq, link) = src
            .query_row(
                "SELECT seq, link FROM chain ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((Some(r.get(0)?), Some(r.get(1)?))),
            )
            .optional()?
            .unwrap_or((None, None));
        let pruned = src.query_row(
            "SELECT count(*) FROM chain WHERE pruned_at IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(ChainMark { seq, link, pruned })
    }

    /// Whether the chain in `src` still extends the one recorded: the link
    /// recorded as newest is still there with the same text, and no more or
    /// fewer links are pruned.
    fn still_holds(&self, src: &rusqlite::Connection, now: &ChainMark) -> rusqlite::Result<bool> {
        if self.pruned != now.pruned {
            return Ok(false);
        }
        let Some(seq) = self.seq else {
            // No link was recorded: the chain was empty then.
            return Ok(true);
        };
        let link: Option<String> = src
            .query_row("SELECT link FROM chain WHERE seq = ?1", [seq], |r| r.get(0))
            .optional()?;
        Ok(link.is_some() && link == self.link)
    }
}

fn create_schema(duck: &Connection) -> duckdb::Result<()> {
    let cols: Vec<String> = event_columns()
        .map(|c| {
            let ty = match c.kind {
                Kind::Text => "VARCHAR",
                Kind::Int => "BIGINT",
                Kind::Real => "DOUBLE",
                Kind::Bool => "BOOLEAN",
            };
            let not_null = if c.required { " NOT NULL" } else { "" };
            format!("{} {ty}{not_null}", c.name)
        })
        .collect();
    duck.execute_batch(&format!(
        "DROP TABLE IF EXISTS events;
         DROP TABLE IF EXISTS event_types;
         DROP TABLE IF EXISTS event_digests;
         DROP TABLE IF EXISTS day_fingerprints;
         DROP TABLE IF EXISTS mirror_state;
         CREATE TABLE events ({});
         CREATE TABLE event_digests (log_id VARCHAR NOT NULL, ts BIGINT, raw_sha256 BLOB NOT NULL);
         CREATE TABLE day_fingerprints (day_ms BIGINT NOT NULL, rows BIGINT NOT NULL, fingerprint VARCHAR NOT NULL);
         CREATE TABLE event_types (code VARCHAR NOT NULL, description VARCHAR NOT NULL, category VARCHAR NOT NULL);
         CREATE TABLE mirror_state (version BIGINT, source_rowid BIGINT, source_rows BIGINT, last_log_id VARCHAR,
                                    chain_seq BIGINT, chain_link VARCHAR, pruned_links BIGINT);
         INSERT INTO mirror_state VALUES ({MIRROR_VERSION}, 0, 0, NULL, NULL, NULL, 0);
         {MACROS}",
        cols.join(", ")
    ))
}

/// The copy's watermark, or `None` when there is no copy or it has another
/// layout version (an older copy lacks the columns read here).
fn read_state(duck: &Connection) -> Option<State> {
    let version: i64 = duck
        .query_row("SELECT version FROM mirror_state", [], |r| r.get(0))
        .ok()?;
    if version != MIRROR_VERSION {
        return None;
    }
    duck.query_row(
        "SELECT source_rowid, source_rows, last_log_id, chain_seq, chain_link, pruned_links FROM mirror_state",
        [],
        |r| {
            Ok(State {
                source_rowid: r.get(0)?,
                source_rows: r.get(1)?,
                last_log_id: r.get(2)?,
                chain: ChainMark {
                    seq: r.get(3)?,
                    link: r.get(4)?,
                    pruned: r.get(5)?,
                },
            })
        },
    )
    .ok()
}

fn refresh_with(src: &rusqlite::Connection, duck: &mut Connection) -> Result<Refresh, Fail> {
    let mut rebuilt = false;
    let mut state = match read_state(duck) {
        Some(s) => s,
        None => {
            create_schema(duck)?;
            rebuilt = true;
            State::default()
        }
    };
    let chain_now = ChainMark::read(src)?;

    // Rows at or below the watermark must be exactly the ones mirrored: the
    // same number of them, the same event at the watermark itself, and the
    // integrity chain still holding the link that was newest when they were
    // copied (an event rewritten in place and re-sealed changes that link;
    // a prune marks links pruned).
    if state.source_rowid > 0 {
        let newer: i64 = src.query_row(
            "SELECT count(*) FROM events WHERE rowid > ?1",
            [state.source_rowid],
            |r| r.get(0),
        )?;
        let total: i64 = src.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        let at_mark: Option<String> = src
            .query_row(
                "SELECT log_id FROM events WHERE rowid = ?1",
                [state.source_rowid],
                |r| r.get(0),
            )
            .optional()?;
        if total - newer != state.source_rows
            || at_mark != state.last_log_id
            || !state.chain.still_holds(src, &chain_now)?
        {
            create_schema(duck)?;
            rebuilt = true;
            state = State::default();
        }
    }

    let src_types: i64 = src.query_row("SELECT count(*) FROM event_types", [], |r| r.get(0))?;
    let duck_types: i64 = duck.query_row("SELECT count(*) FROM event_types", [], |r| r.get(0))?;
    let max_rowid: i64 = src.query_row("SELECT coalesce(max(rowid), 0) FROM events", [], |r| {
        r.get(0)
    })?;
    if max_rowid <= state.source_rowid
        && src_types == duck_types
        && !rebuilt
        && chain_now == state.chain
    {
        return Ok(Refresh {
            appended: 0,
            rebuilt,
            rows: state.source_rows as u64,
        });
    }

    let tx = duck.transaction()?;
    if src_types != duck_types {
        tx.execute("DELETE FROM event_types", [])?;
        let mut app = tx.appender("event_types")?;
        let mut stmt = src.prepare("SELECT code, description, category FROM event_types")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (a, b, c): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            app.append_row([a, b, c])?;
        }
    }

    let mut appended = 0u64;
    let mut last = (state.source_rowid, state.last_log_id.clone());
    {
        let kinds: Vec<Kind> = event_columns().map(|c| c.kind).collect();
        let names: Vec<&str> = event_columns().map(|c| c.name).collect();
        let at = |source: Source| {
            event_columns()
                .position(|c| c.source == source)
                .expect("the column table lists log_id, ts and raw")
        };
        let (log_id_at, ts_at, raw_at) = (at(Source::LogId), at(Source::Ts), at(Source::Raw));
        let sql = format!(
            "SELECT rowid, {} FROM events WHERE rowid > ?1 ORDER BY rowid",
            names.join(", ")
        );
        let mut stmt = src.prepare(&sql)?;
        let mut rows = stmt.query([state.source_rowid])?;
        // `raw` is copied as its text, whatever its stored form (store::raw).
        let unreadable = |e: Error| {
            rusqlite::Error::FromSqlConversionFailure(
                raw_at + 1,
                rusqlite::types::Type::Blob,
                Box::new(e),
            )
        };
        let codec = store::raw::RawCodec::load(src).map_err(unreadable)?;
        let mut app = tx.appender("events")?;
        let mut digests = tx.appender("event_digests")?;
        let mut days = std::collections::BTreeSet::new();
        while let Some(r) = rows.next()? {
            let mut cells = kinds
                .iter()
                .enumerate()
                .map(|(i, kind)| Ok(Cell::read(r.get_ref(i + 1)?, *kind)))
                .collect::<rusqlite::Result<Vec<Cell<'_>>>>()?;
            let raw = codec.text(r.get_ref(raw_at + 1)?).map_err(unreadable)?;
            cells[raw_at] = Cell::Text(Some(raw));
            let refs: Vec<&dyn ToSql> = cells.iter().map(|c| c as &dyn ToSql).collect();
            app.append_row(refs.as_slice())?;
            // The digest of `raw` as copied, which is what the export writes.
            let digest = Sha256::digest(cells[raw_at].text().unwrap_or_default().as_bytes());
            digests.append_row([
                &cells[log_id_at] as &dyn ToSql,
                &cells[ts_at],
                &digest.as_slice(),
            ])?;
            if let Cell::Int(Some(ts)) = cells[ts_at] {
                days.insert(ts.div_euclid(DAY_MS) * DAY_MS);
            }
            appended += 1;
            last = (r.get(0)?, r.get(1)?);
        }
        app.flush()?;
        digests.flush()?;
        // The export's cached fingerprints of the days that gained rows no
        // longer hold.
        let mut stale = tx.prepare("DELETE FROM day_fingerprints WHERE day_ms = ?")?;
        for day in days {
            stale.execute([day])?;
        }
    }
    tx.execute(
        "UPDATE mirror_state SET source_rowid = ?, source_rows = ?, last_log_id = ?,
                chain_seq = ?, chain_link = ?, pruned_links = ?",
        duckdb::params![
            last.0,
            state.source_rows + appended as i64,
            last.1,
            chain_now.seq,
            chain_now.link,
            chain_now.pruned
        ],
    )?;
    tx.commit()?;
    Ok(Refresh {
        appended,
        rebuilt,
        rows: (state.source_rows as u64) + appended,
    })
}

/// One SQLite cell on its way into DuckDB, borrowed where possible.
enum Cell<'a> {
    Text(Option<std::borrow::Cow<'a, str>>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
}

impl<'a> Cell<'a> {
    fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(t) => t.as_deref(),
            _ => None,
        }
    }

    /// Reads leniently: SQLite columns are dynamically typed, so a value of
    /// an unexpected type is converted rather than refused.
    fn read(v: rusqlite::types::ValueRef<'a>, kind: Kind) -> Self {
        use rusqlite::types::ValueRef as V;
        match kind {
            Kind::Text => Cell::Text(match v {
                V::Null => None,
                V::Text(t) => Some(String::from_utf8_lossy(t)),
                V::Integer(i) => Some(i.to_string().into()),
                V::Real(f) => Some(f.to_string().into()),
                V::Blob(b) => Some(String::from_utf8_lossy(b)),
            }),
            Kind::Int => Cell::Int(match v {
                V::Integer(i) => Some(i),
                V::Real(f) => Some(f as i64),
                _ => None,
            }),
            Kind::Real => Cell::Real(match v {
                V::Integer(i) => Some(i as f64),
                V::Real(f) => Some(f),
                _ => None,
            }),
            Kind::Bool => Cell::Bool(match v {
                V::Integer(i) => Some(i != 0),
                V::Real(f) => Some(f != 0.0),
                _ => None,
            }),
        }
    }
}

impl ToSql for Cell<'_> {
    fn to_sql(&self) -> duckdb::Result<ToSqlOutput<'_>> {
        match self {
            Cell::Text(Some(s)) => Ok(ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))),
            Cell::Text(None) => Ok(ToSqlOutput::Owned(duckdb::types::Value::Null)),
            Cell::Int(v) => v.to_sql(),
            Cell::Real(v) => v.to_sql(),
            Cell::Bool(v) => v.to_sql(),
        }
    }
}
