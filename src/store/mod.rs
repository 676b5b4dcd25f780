//! The SQLite archive: opening, schema migrations and connection settings.
//! `events` writes pages with their checkpoint, `chain` seals them, `runs`
//! keeps the sync history, `slice_progress` the parallel backfill's cursors,
//! `indexes` the indexes a backfill defers, `lock` the one-writer lock,
//! `exports` the completed exports and the days `prune` deleted,
//! `deliveries` the outbox of findings not yet told.

pub mod audit;
pub mod chain;
pub mod deliveries;
pub mod events;
pub mod exports;
pub mod findings;
pub mod indexes;
pub mod lock;
pub mod raw;
pub mod runs;
pub mod sigma_state;
pub mod slice_progress;

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Context, Error, Result};

/// Numbered migrations, applied in order; `PRAGMA user_version` is the number
/// of the last one applied.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../schema/001_init.sql")),
    (2, include_str!("../../schema/002_deferred_indexes.sql")),
    (3, include_str!("../../schema/003_evidence.sql")),
    (4, include_str!("../../schema/004_findings.sql")),
    (5, include_str!("../../schema/005_raw_dictionaries.sql")),
    (6, include_str!("../../schema/006_exports.sql")),
    (7, include_str!("../../schema/007_sigma_state.sql")),
    (8, include_str!("../../schema/008_deliveries.sql")),
];

/// Auth0 event type codes, loaded into `event_types` (copied from
/// shared/event-types.tsv so the binary needs nothing at run time).
const EVENT_TYPES_TSV: &str = include_str!("../../schema/event-types.tsv");

/// The schema version this binary writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Refuses a file that exists but is not an SQLite database, before SQLite
/// gets a chance to touch it.
pub fn check_is_sqlite_or_absent(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Error::database(format!(
                "cannot read database {}: {e}",
                path.display()
            )));
        }
    };
    let mut head = [0u8; 16];
    let n = read_up_to(&mut file, &mut head)
        .map_err(|e| Error::database(format!("cannot read database {}: {e}", path.display())))?;
    if n == 0 || &head == SQLITE_MAGIC {
        return Ok(());
    }
    fn read_up_to(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut total = 0;
        while total < buf.len() {
            match f.read(&mut buf[total..])? {
                0 => break,
                n => total += n,
            }
        }
        Ok(total)
    }
    Err(Error::database(format!(
        "{} is not an SQLite database; it was left untouched (point --db at an archive or a new file)",
        path.display()
    )))
}

/// Opens (creating if needed) the archive for writing and brings its schema
/// up to date.
pub fn open_for_write(path: &Path) -> Result<Connection> {
    check_is_sqlite_or_absent(path)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)
        .map_err(|e| Error::sqlite(format!("cannot open {}", path.display()), e))?;
    configure(&conn).map_err(|e| Error::sqlite(format!("cannot use {}", path.display()), e))?;
    check_version(&conn, path)?;
    migrate(&mut conn).context(&format!("cannot set up {}", path.display()))?;
    Ok(conn)
}

/// Opens an existing archive for reading only. Nothing can be written through
/// this connection, whatever SQL runs on it.
pub fn open_read_only(path: &Path) -> Result<Connection> {
    if !path.exists() {
        return Err(Error::database(format!(
            "no archive at {}: run `auth0-archive sync` first or pass --db",
            path.display()
        )));
    }
    check_is_sqlite_or_absent(path)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| Error::sqlite(format!("cannot open {}", path.display()), e))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let version = user_version(&conn)
        .map_err(|e| Error::sqlite(format!("cannot read {}", path.display()), e))?;
    if version == 0 {
        return Err(Error::database(format!(
            "{} holds no archive yet: run `auth0-archive sync` first",
            path.display()
        )));
    }
    check_version(&conn, path)?;
    Ok(conn)
}

/// Connection settings applied on every open, outside migrations.
/// 8 KiB pages (new files only; an existing file keeps its size): they hold
/// five ~1.6 KB rows of uncompressed `raw` (4 KiB pages held two, with half
/// a page empty), and about twelve ~650-byte rows once `raw` is compressed
/// (store::raw), leaving under 2% of the table's pages unused.
/// WAL lets `query` read while `sync` writes; synchronous=NORMAL in WAL mode
/// never corrupts and never loses a committed page to a process crash (only
/// to power loss, and then the checkpoint rolls back with its rows).
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch("PRAGMA page_size = 8192;")?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
            Some(format!("could not switch to WAL mode (got {mode})")),
        ));
    }
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -8000;
         PRAGMA wal_autocheckpoint = 10000;",
    )?;
    Ok(())
}

fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

fn check_version(conn: &Connection, path: &Path) -> Result<()> {
    let version = user_version(conn)
        .map_err(|e| Error::sqlite(format!("cannot read {}", path.display()), e))?;
    if version > SCHEMA_VERSION {
        return Err(Error::database(format!(
            "{} has schema version {version}, newer than this auth0-archive knows ({SCHEMA_VERSION}); \
             upgrade auth0-archive (the file was not changed)",
            path.display()
        )));
    }
    Ok(())
}

/// Brings the schema of a connection opened by the caller up to date. Used by
/// `open_for_write`, and by the sync benchmark's plain reference, which
/// keeps SQLite's default settings.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current = user_version(conn).context("cannot read the schema version")?;
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let step = format!("cannot apply schema migration {version}");
        let tx = conn.transaction().context(&step)?;
        tx.execute_batch(sql).context(&step)?;
        if version == 3 {
            chain::adopt_unrecorded_prunes(&tx).context(&step)?;
        }
        tx.pragma_update(None, "user_version", version)
            .context(&step)?;
        tx.commit().context(&step)?;
    }
    update_event_types(conn).context("cannot update the event type catalogue")
}

/// Brings `event_types` to the catalogue this binary carries, so an archive
/// made by an older version gets new codes and corrected names; events are
/// not touched. A no-op (one read) when they already agree.
fn update_event_types(conn: &mut Connection) -> rusqlite::Result<()> {
    let mut stored = std::collections::HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT code, description, category FROM event_types")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                (r.get::<_, String>(1)?, r.get::<_, String>(2)?),
            ))
        })?;
        for row in rows {
            let (code, rest) = row?;
            stored.insert(code, rest);
        }
    }
    let current = catalogue();
    let same = current.len() == stored.len()
        && current
            .iter()
            .all(|(c, d, k)| stored.get(*c).is_some_and(|(sd, sk)| sd == d && sk == k));
    if same {
        return Ok(());
    }
    let tx = conn.transaction()?;
    load_event_types(&tx)?;
    tx.commit()
}

/// The embedded catalogue: (code, description, category).
pub fn catalogue() -> Vec<(&'static str, &'static str, &'static str)> {
    EVENT_TYPES_TSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split('\t');
            Some((
                cols.next()?.trim(),
                cols.next()?.trim(),
                cols.next()?.trim(),
            ))
        })
        .collect()
}

fn load_event_types(conn: &Connection) -> rusqlite::Result<()> {
    let mut insert = conn.prepare(
        "INSERT OR REPLACE INTO event_types (code, description, category) VALUES (?1, ?2, ?3)",
    )?;
    for (code, desc, cat) in catalogue() {
        insert.execute((code, desc, cat))?;
    }
    Ok(())
}

/// Removes `db` and the files named after it with `suffixes` (`-wal`,
/// `.lock`, ...); files that are not there are no error.
pub fn remove_with_sidecars(db: &Path, suffixes: &[&str]) -> std::io::Result<()> {
    for suffix in std::iter::once(&"").chain(suffixes) {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_to_an_empty_file_and_load_event_types() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let conn = open_for_write(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let n: i64 = conn
            .query_row("SELECT count(*) FROM event_types", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n as usize, EVENT_TYPES_TSV.lines().count() - 1);
        drop(conn);
        // Reopening is a no-op.
        open_for_write(&path).unwrap();
    }

    /// An archive as a binary of schema `version` left it.
    fn archive_at(path: &Path, version: u32) -> Connection {
        let conn = Connection::open(path).unwrap();
        for &(v, sql) in MIGRATIONS.iter().filter(|(v, _)| *v <= version) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", v).unwrap();
        }
        load_event_types(&conn).unwrap();
        conn
    }

    #[test]
    fn a_version_1_archive_is_migrated_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        drop(archive_at(&path, 1));
        let conn = open_for_write(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        assert!(indexes::deferred(&conn).unwrap().is_empty());
        let conflicts: i64 = conn
            .query_row("SELECT count(*) FROM conflicts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(conflicts, 0);
    }

    /// Links an older `prune` emptied carry `pruned_at` but no record; the
    /// upgrade adopts them with one prune link, and the chain verifies.
    #[test]
    fn an_older_archives_prunes_are_adopted_at_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        {
            let conn = archive_at(&path, 2);
            let mut prev = chain::GENESIS.to_string();
            for seq in 1..=3i64 {
                let (id, raw) = (format!("{seq}"), format!(r#"{{"log_id":"{seq}"}}"#));
                conn.execute(
                    "INSERT INTO events (log_id, tenant, raw, chain_seq) VALUES (?1, 't', ?2, ?3)",
                    rusqlite::params![id, raw, seq],
                )
                .unwrap();
                let seal = chain::Seal {
                    version: 1,
                    kind: chain::EVENTS,
                    tenant: "t",
                    detail: None,
                };
                let link = chain::link_digest(&prev, &seal, None, &mut [(&id, &raw)]);
                conn.execute(
                    "INSERT INTO chain (seq, tenant, events, first_log_id, last_log_id, link, created_at)
                     VALUES (?1, 't', 1, ?2, ?2, ?3, '2026-01-01T00:00:00.000Z')",
                    rusqlite::params![seq, id, link],
                )
                .unwrap();
                prev = link;
            }
            conn.execute_batch(
                "DELETE FROM events WHERE chain_seq IN (1, 2);
                 UPDATE chain SET pruned_at = '2026-02-01T00:00:00.000Z' WHERE seq IN (1, 2);",
            )
            .unwrap();
        }
        let conn = open_for_write(&path).unwrap();
        let report = audit::audit(&conn, None, None).unwrap();
        assert_eq!(report.problem, None);
        assert_eq!(
            (report.links, report.pruned_links, report.events),
            (4, 2, 1)
        );
    }

    /// `verify` opens read-only, so an archive not yet upgraded is checked
    /// as it is.
    #[test]
    fn an_archive_not_yet_upgraded_verifies_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        {
            let conn = archive_at(&path, 2);
            let (id, raw) = ("1", r#"{"log_id":"1"}"#);
            conn.execute(
                "INSERT INTO events (log_id, tenant, raw, chain_seq) VALUES (?1, 't', ?2, 1)",
                rusqlite::params![id, raw],
            )
            .unwrap();
            let seal = chain::Seal {
                version: 1,
                kind: chain::EVENTS,
                tenant: "t",
                detail: None,
            };
            let link = chain::link_digest(chain::GENESIS, &seal, None, &mut [(id, raw)]);
            conn.execute(
                "INSERT INTO chain (seq, tenant, events, first_log_id, last_log_id, link, created_at)
                 VALUES (1, 't', 1, '1', '1', ?1, '2026-01-01T00:00:00.000Z')",
                [link],
            )
            .unwrap();
        }
        let conn = open_read_only(&path).unwrap();
        let report = audit::audit(&conn, None, None).unwrap();
        assert_eq!((report.problem, report.events), (None, 1));
        conn.execute_batch("SELECT 1").unwrap();
        drop(conn);
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE events SET raw = '{\"log_id\":\"1\",\"x\":1}'", [])
            .unwrap();
        let conn = open_read_only(&path).unwrap();
        assert!(audit::audit(&conn, None, None).unwrap().problem.is_some());
    }

    /// A newer binary brings its event type catalogue (new codes, fixed
    /// names) to an archive an older one made, without touching events.
    #[test]
    fn an_older_catalogue_is_brought_up_to_date_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        {
            let conn = archive_at(&path, 2);
            conn.execute_batch(
                "DELETE FROM event_types WHERE code IN ('f', 'sapi');
                 UPDATE event_types SET description = 'old name' WHERE code = 's';",
            )
            .unwrap();
        }
        let conn = open_for_write(&path).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM event_types", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n as usize, catalogue().len());
        let name: String = conn
            .query_row(
                "SELECT description FROM event_types WHERE code = 's'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_ne!(name, "old name");
    }

    #[test]
    fn a_non_sqlite_file_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, b"hello, this is not a database at all").unwrap();
        let err = open_for_write(&path).unwrap_err();
        assert_eq!(err.exit_code(), 5);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"hello, this is not a database at all"
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        {
            let conn = open_for_write(&path).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        assert_eq!(open_for_write(&path).unwrap_err().exit_code(), 5);
        assert_eq!(open_read_only(&path).unwrap_err().exit_code(), 5);
    }
}
