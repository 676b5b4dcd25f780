//! The copy's layout and its watermark: what was copied from which SQLite
//! snapshot, so a refresh can tell whether appending is enough.

use duckdb::Connection;
use rusqlite::OptionalExtension;

use crate::event::{Kind, Source, event_columns};

/// Bumped whenever the copy's layout changes; a copy of another version is
/// rebuilt.
///
/// 2: `mirror_state` records the integrity chain's head (`chain_seq`,
/// `chain_link`) and the number of pruned links; `event_digests` holds each
/// row's SHA-256 of `raw`; `day_fingerprints` caches the export's per-day
/// fingerprints.
/// 3: `raw` is stored with DuckDB's zstd compression (a sixth of the size).
const MIRROR_VERSION: i64 = 3;

/// Helpers with the same results as the functions `query::sqlite` registers,
/// so one SQL text serves both engines (and `--parquet`, `query::parquet`).
pub const MACROS: &str = "
CREATE OR REPLACE MACRO epoch_day(ms) AS strftime(epoch_ms(ms), '%Y-%m-%d');
CREATE OR REPLACE MACRO epoch_iso(ms) AS strftime(epoch_ms(ms), '%Y-%m-%dT%H:%M:%S.%gZ');
";

/// The DuckDB type a column of `kind` has in the copy (and over an export,
/// `query::parquet`).
pub fn duck_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "VARCHAR",
        Kind::Int => "BIGINT",
        Kind::Real => "DOUBLE",
        Kind::Bool => "BOOLEAN",
    }
}

/// Drops whatever the copy held and creates its empty tables. Run inside
/// the transaction that refills them, so a rebuild cut short leaves the
/// previous copy rather than an empty one.
pub(super) fn create_schema(duck: &Connection) -> duckdb::Result<()> {
    let cols: Vec<String> = event_columns()
        .map(|c| {
            let not_null = if c.required { " NOT NULL" } else { "" };
            // DuckDB's own choice for `raw` (FSST) keeps about 300 bytes of
            // each kilobyte and costs half the copy's time; zstd keeps about
            // 50 in half the time. The other columns are short, repetitive
            // and grouped on: DuckDB's dictionaries suit them.
            let compression = if c.source == Source::Raw {
                " USING COMPRESSION zstd"
            } else {
                ""
            };
            format!("{} {}{not_null}{compression}", c.name, duck_type(c.kind))
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

/// What has been copied: every SQLite row up to `source_rowid`, which were
/// `source_rows` rows, the one at the watermark being `last_log_id`, while
/// the chain looked like `chain`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct State {
    pub source_rowid: i64,
    pub source_rows: i64,
    pub last_log_id: Option<String>,
    pub chain: ChainMark,
}

/// What the integrity chain looked like when the copy was last refreshed:
/// the newest link (`seq` and its `link` text) and how many links were
/// pruned. Every link hashes the one before it, so rewriting any archived
/// event consistently (re-sealing the chain) changes the newest link; a
/// prune marks links pruned.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct ChainMark {
    pub seq: Option<i64>,
    pub link: Option<String>,
    pub pruned: i64,
}

impl ChainMark {
    /// The chain's head and pruned-link count in the caller's snapshot.
    pub fn read(src: &rusqlite::Connection) -> rusqlite::Result<Self> {
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
    pub fn still_holds(
        &self,
        src: &rusqlite::Connection,
        now: &ChainMark,
    ) -> rusqlite::Result<bool> {
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

/// The copy's watermark, or `None` when there is no copy or it has another
/// layout version (an older copy lacks the columns read here).
pub(super) fn read_state(duck: &Connection) -> Option<State> {
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

/// Records `state` as the copy's watermark, in the caller's transaction.
pub(super) fn write_state(duck: &Connection, state: &State) -> duckdb::Result<()> {
    duck.execute(
        "UPDATE mirror_state SET source_rowid = ?, source_rows = ?, last_log_id = ?,
                chain_seq = ?, chain_link = ?, pruned_links = ?",
        duckdb::params![
            state.source_rowid,
            state.source_rows,
            state.last_log_id,
            state.chain.seq,
            state.chain.link,
            state.chain.pruned
        ],
    )?;
    Ok(())
}
