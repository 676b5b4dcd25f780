//! The DuckDB copy of `events` kept beside the archive (`<archive>.duckdb`),
//! for the DuckDB engine and the Parquet export.
//!
//! DuckDB's SQLite scanner is an extension downloaded at run time, which is
//! not available offline, so the copy is filled from SQLite through rusqlite
//! and the DuckDB Appender, in Arrow record batches (`copy`). It is brought
//! up to date before every use: rows whose SQLite rowid is above the copied
//! watermark are appended, so the cost follows the number of new rows. If
//! rows at or below the watermark changed (deleted, or renumbered by a
//! VACUUM) or the integrity chain no longer holds the link that was newest
//! at the last refresh (the head was rewritten, or links were pruned) the
//! copy is rebuilt from scratch, in one DuckDB transaction with the schema,
//! so an interrupted rebuild leaves the previous copy. Every read of `raw`
//! goes through `store::raw::RawCodec`.
//! Its columns are the event columns of `event::COLUMNS`; beside them,
//! `event_digests` keeps each row's SHA-256 of `raw`, computed once when the
//! row is copied, for the export's day fingerprints, and `day_fingerprints`
//! caches those per UTC day: the export fills it, a refresh deletes the days
//! it appends rows to, a rebuild empties it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use duckdb::{AccessMode, Config, Connection};
use rusqlite::OptionalExtension;

use crate::error::{Context, Error, Result};
use crate::store;

mod copy;
mod state;

use state::{ChainMark, State};
pub use state::{MACROS, duck_type};

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
    /// Rows appended.
    pub appended: u64,
    /// Whether the copy was rebuilt from scratch.
    pub rebuilt: bool,
    /// Rows in the copy afterwards.
    pub rows: u64,
}

/// Brings the DuckDB copy of `db` up to date and returns an open connection
/// to it (read-write, with the helper macros).
pub fn refresh(db: &Path) -> Result<(Connection, Refresh)> {
    let mut src = store::open_read_only(db)?;
    // One read transaction: the rows appended and the watermark recorded
    // come from the same snapshot, even while a sync is writing.
    src.execute_batch("BEGIN")?;
    let mut duck = open_mirror_rw(&mirror_path(db))?;
    let outcome = refresh_with(&mut src, &mut duck)?;
    src.execute_batch("COMMIT")?;
    Ok((duck, outcome))
}

/// The archive's side of the watermark, read from one snapshot.
struct Source {
    /// Rows in `events`.
    rows: i64,
    /// The greatest rowid in `events` (0 when empty).
    max_rowid: i64,
    chain: ChainMark,
    /// Rows in `event_types`.
    types: i64,
}

impl Source {
    fn read(src: &rusqlite::Connection) -> rusqlite::Result<Self> {
        // A lone count(*) walks the narrowest index (about 9 ms per million
        // events with the pages cached) and a lone max(rowid) is one seek;
        // asked in one statement, SQLite scans for both (0.9 s at 10M).
        let rows = src.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        let max_rowid = src.query_row("SELECT coalesce(max(rowid), 0) FROM events", [], |r| {
            r.get(0)
        })?;
        let types = src.query_row("SELECT count(*) FROM event_types", [], |r| r.get(0))?;
        Ok(Source {
            rows,
            max_rowid,
            chain: ChainMark::read(src)?,
            types,
        })
    }
}

/// Whether the rows at or below the copy's watermark may still be the ones
/// copied: no fewer rows than were copied, the same event at the watermark
/// itself, and the integrity chain still holding the link that was newest
/// when they were copied (an event rewritten in place and re-sealed changes
/// that link; a prune marks links pruned). The exact count of the rows at or
/// below the watermark is checked after appending, when the rows above it
/// have been counted on the way.
fn may_append(src: &rusqlite::Connection, state: &State, now: &Source) -> rusqlite::Result<bool> {
    if state.source_rowid == 0 {
        return Ok(true);
    }
    let at_mark: Option<String> = src
        .query_row(
            "SELECT log_id FROM events WHERE rowid = ?1",
            [state.source_rowid],
            |r| r.get(0),
        )
        .optional()?;
    Ok(now.rows >= state.source_rows
        && at_mark == state.last_log_id
        && state.chain.still_holds(src, &now.chain)?)
}

fn refresh_with(src: &mut rusqlite::Connection, duck: &mut Connection) -> Result<Refresh> {
    let now = Source::read(src).context("cannot read the archive")?;
    let found = state::read_state(duck);
    let duck_types: i64 = match found {
        Some(_) => duck
            .query_row("SELECT count(*) FROM event_types", [], |r| r.get(0))
            .context("cannot read the DuckDB copy")?,
        None => -1,
    };
    let mut rebuild = match &found {
        Some(state) => !may_append(src, state, &now).context("cannot read the archive")?,
        None => true,
    };
    if let Some(state) = &found
        && !rebuild
        && now.max_rowid <= state.source_rowid
        && now.rows == state.source_rows
        && now.chain == state.chain
        && now.types == duck_types
    {
        return Ok(Refresh {
            appended: 0,
            rebuilt: false,
            rows: state.source_rows as u64,
        });
    }
    let what = "cannot update the DuckDB copy";
    loop {
        let base = if rebuild {
            State::default()
        } else {
            found.clone().unwrap_or_default()
        };
        // DuckDB compresses on helper threads and has this one wait for
        // them by polling, which took a core from our SQLite reader (a
        // fifth of the copy's CPU time went to that wait on two cores).
        duck.execute_batch("SET threads = 1").context(what)?;
        let tx = duck.transaction().context(what)?;
        if rebuild {
            state::create_schema(&tx).context(what)?;
        }
        if rebuild || now.types != duck_types {
            copy_event_types(src, &tx)?;
        }
        let copied = copy::copy_rows(src, &tx, base.source_rowid)?;
        // Every row above the watermark was appended, so the rest of the
        // archive's rows are the ones at or below it: if there are fewer
        // than were copied, some were deleted and the copy starts over.
        if base.source_rows + copied.rows as i64 != now.rows {
            if rebuild {
                return Err(Error::runtime(format!(
                    "{what}: the archive holds {} events but {} were read",
                    now.rows, copied.rows
                )));
            }
            drop(tx);
            rebuild = true;
            continue;
        }
        // The export's cached fingerprints of the days that gained rows no
        // longer hold.
        {
            let mut stale = tx
                .prepare("DELETE FROM day_fingerprints WHERE day_ms = ?")
                .context(what)?;
            for day in &copied.days {
                stale.execute([day]).context(what)?;
            }
        }
        let (source_rowid, last_log_id) = match copied.last {
            Some((rowid, log_id)) => (rowid, Some(log_id)),
            None => (base.source_rowid, base.last_log_id.clone()),
        };
        let state = State {
            source_rowid,
            source_rows: now.rows,
            last_log_id,
            chain: now.chain.clone(),
        };
        state::write_state(&tx, &state).context(what)?;
        tx.commit().context(what)?;
        duck.execute_batch("RESET threads").context(what)?;
        return Ok(Refresh {
            appended: copied.rows,
            rebuilt: rebuild,
            rows: now.rows as u64,
        });
    }
}

/// Replaces the copy's `event_types` with the archive's.
fn copy_event_types(src: &rusqlite::Connection, duck: &Connection) -> Result<()> {
    let what = "cannot copy event types to the DuckDB copy";
    duck.execute("DELETE FROM event_types", []).context(what)?;
    let mut app = duck.appender("event_types").context(what)?;
    let mut stmt = src
        .prepare("SELECT code, description, category FROM event_types")
        .context(what)?;
    let mut rows = stmt.query([]).context(what)?;
    while let Some(r) = rows.next().context(what)? {
        let (a, b, c): (String, String, String) = (
            r.get(0).context(what)?,
            r.get(1).context(what)?,
            r.get(2).context(what)?,
        );
        app.append_row([a, b, c]).context(what)?;
    }
    app.flush().context(what)
}
