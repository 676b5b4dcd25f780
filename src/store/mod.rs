//! The SQLite archive: opening, schema migrations and connection settings.
//! `events` writes pages with their checkpoint, `chain` seals them, `runs`
//! keeps the sync history, `slices` the parallel backfill's cursors,
//! `indexes` the indexes a backfill defers, `lock` the one-writer lock.

pub mod chain;
pub mod events;
pub mod indexes;
pub mod lock;
pub mod runs;
pub mod slices;

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// Numbered migrations, applied in order; `PRAGMA user_version` is the number
/// of the last one applied.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../schema/001_init.sql")),
    (2, include_str!("../../schema/002_deferred_indexes.sql")),
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
    migrate(&mut conn)
        .map_err(|e| Error::sqlite(format!("cannot set up {}", path.display()), e))?;
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
/// 8 KiB pages (new files only; an existing file keeps its size) hold five
/// ~1.6 KB event rows where 4 KiB pages held two, with half a page empty:
/// 18% fewer bytes per event and about as much less CPU to write them.
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
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current = user_version(conn)?;
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if version == 1 {
            load_event_types(&tx)?;
        }
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

fn load_event_types(conn: &Connection) -> rusqlite::Result<()> {
    let mut insert = conn.prepare(
        "INSERT OR REPLACE INTO event_types (code, description, category) VALUES (?1, ?2, ?3)",
    )?;
    for line in EVENT_TYPES_TSV.lines().skip(1) {
        let mut cols = line.split('\t');
        if let (Some(code), Some(desc), Some(cat)) = (cols.next(), cols.next(), cols.next()) {
            insert.execute((code.trim(), desc.trim(), cat.trim()))?;
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

    #[test]
    fn a_version_1_archive_is_migrated_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        {
            let conn = open_for_write(&path).unwrap();
            conn.execute_batch("DROP TABLE deferred_indexes; PRAGMA user_version = 1;")
                .unwrap();
        }
        let conn = open_for_write(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        assert!(indexes::deferred(&conn).unwrap().is_empty());
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
