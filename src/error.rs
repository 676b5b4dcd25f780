//! One error type for the whole tool. Each variant maps to an exit code the
//! README documents; its text is the one line a user sees, so it says what
//! is wrong and what to do, and never contains a secret.
//!
//! Failures of SQLite, DuckDB and the file system keep their cause inside
//! (`std::error::Error::source`); the text already includes the cause's own
//! words, so printing the error alone is enough. Callers add what they were
//! doing with [`Context::context`], at the edge where that is known.

use std::fmt;

/// Exit codes, as documented in the README.
pub mod exit {
    pub const RUNTIME: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const AUTH: i32 = 3;
    pub const LOCKED: i32 = 4;
    pub const DATABASE: i32 = 5;
    pub const INTEGRITY: i32 = 6;
    pub const FINDINGS: i32 = 7;
    pub const UNEXPORTED: i32 = 8;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flag, missing or contradictory settings, unknown report (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Credentials or permissions refused by Auth0 (exit 3).
    #[error("{0}")]
    Auth(String),
    /// Another sync holds the database lock (exit 4).
    #[error("{0}")]
    Locked(String),
    /// The archive cannot be used, with no lower-level cause: not an SQLite
    /// file, a newer schema, no archive at the path (exit 5).
    #[error("{0}")]
    Database(String),
    /// SQLite refused: corrupt, read-only, full, busy, a foreign schema (exit 5).
    #[error("{context}: {}", describe_sqlite(.source))]
    Sqlite {
        context: String,
        #[source]
        source: rusqlite::Error,
    },
    /// DuckDB refused while keeping the copy or exporting (exit 5).
    #[error("{context}: {source}")]
    DuckDb {
        context: String,
        #[source]
        source: duckdb::Error,
    },
    /// A file or directory could not be read or written (exit 1).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A misuse of a library by this program, not by the user or the
    /// environment: a bug worth reporting (exit 1).
    #[error("internal error ({context}): {source}; please report this")]
    Internal {
        context: String,
        #[source]
        source: rusqlite::Error,
    },
    /// The server refused a request for good: a 4xx answer other than the
    /// ones about credentials or rate limits (exit 1).
    #[error("{message}")]
    Refused { status: u16, message: String },
    /// Network or server failure after retries, or any other runtime failure (exit 1).
    #[error("{0}")]
    Runtime(String),
    /// The tenant never answered (no such name, connection refused): most
    /// often a wrong URL (exit 1).
    #[error("{0}")]
    Unreachable(String),
    /// `verify` found an altered, inserted or deleted event (exit 6).
    #[error("{0}")]
    Integrity(String),
    /// `detect --fail-on` met a new finding of that severity (exit 7).
    #[error("{0}")]
    Findings(String),
    /// `prune` would delete events no complete export holds (exit 8).
    #[error("{0}")]
    Unexported(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Runtime(_)
            | Error::Unreachable(_)
            | Error::Refused { .. }
            | Error::Io { .. }
            | Error::Internal { .. } => exit::RUNTIME,
            Error::Usage(_) => exit::USAGE,
            Error::Auth(_) => exit::AUTH,
            Error::Locked(_) => exit::LOCKED,
            Error::Database(_) | Error::Sqlite { .. } | Error::DuckDb { .. } => exit::DATABASE,
            Error::Integrity(_) => exit::INTEGRITY,
            Error::Findings(_) => exit::FINDINGS,
            Error::Unexported(_) => exit::UNEXPORTED,
        }
    }

    pub fn usage(msg: impl fmt::Display) -> Self {
        Error::Usage(msg.to_string())
    }
    pub fn runtime(msg: impl fmt::Display) -> Self {
        Error::Runtime(msg.to_string())
    }
    pub fn database(msg: impl fmt::Display) -> Self {
        Error::Database(msg.to_string())
    }

    /// An SQLite failure while doing `context`. Failures SQLite reports
    /// about the file or the environment are the archive's (exit 5); the
    /// others (a wrong column type, a wrong parameter count) are ours.
    pub fn sqlite(context: impl Into<String>, source: rusqlite::Error) -> Self {
        let context = context.into();
        match source {
            rusqlite::Error::SqliteFailure(..) => Error::Sqlite { context, source },
            _ => Error::Internal { context, source },
        }
    }

    pub fn duckdb(context: impl Into<String>, source: duckdb::Error) -> Self {
        Error::DuckDb {
            context: context.into(),
            source,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The same error, saying first what was being done.
    pub fn within(self, what: &str) -> Self {
        let prefix = |c: String| format!("{what}: {c}");
        match self {
            Error::Usage(m) => Error::Usage(prefix(m)),
            Error::Auth(m) => Error::Auth(prefix(m)),
            Error::Locked(m) => Error::Locked(prefix(m)),
            Error::Database(m) => Error::Database(prefix(m)),
            Error::Runtime(m) => Error::Runtime(prefix(m)),
            Error::Unreachable(m) => Error::Unreachable(prefix(m)),
            Error::Refused { status, message } => Error::Refused {
                status,
                message: prefix(message),
            },
            Error::Integrity(m) => Error::Integrity(prefix(m)),
            Error::Findings(m) => Error::Findings(prefix(m)),
            Error::Unexported(m) => Error::Unexported(prefix(m)),
            Error::Sqlite { context, source } => Error::Sqlite {
                context: prefix(context),
                source,
            },
            Error::DuckDb { context, source } => Error::DuckDb {
                context: prefix(context),
                source,
            },
            Error::Io { context, source } => Error::Io {
                context: prefix(context),
                source,
            },
            Error::Internal { context, source } => Error::Internal {
                context: prefix(context),
                source,
            },
        }
    }
}

/// A bare `?` on an SQLite result keeps the cause and classifies it; add
/// what was being done with [`Context::context`] where it helps the reader.
impl From<rusqlite::Error> for Error {
    fn from(source: rusqlite::Error) -> Self {
        Error::sqlite("database error", source)
    }
}

impl From<duckdb::Error> for Error {
    fn from(source: duckdb::Error) -> Self {
        Error::duckdb("DuckDB error", source)
    }
}

/// Adds what was being done to a failure, at the edge where that is known.
pub trait Context<T> {
    fn context(self, what: &str) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, rusqlite::Error> {
    fn context(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::sqlite(what, e))
    }
}

impl<T> Context<T> for std::result::Result<T, duckdb::Error> {
    fn context(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::duckdb(what, e))
    }
}

impl<T> Context<T> for std::result::Result<T, std::io::Error> {
    fn context(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::io(what, e))
    }
}

impl<T> Context<T> for Result<T> {
    fn context(self, what: &str) -> Result<T> {
        self.map_err(|e| e.within(what))
    }
}

/// Turns the SQLite failures a user can cause into words that say what to do.
pub fn describe_sqlite(err: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode::*;
    if let rusqlite::Error::SqliteFailure(e, _) = err {
        let hint = match e.code {
            ReadOnly => Some(
                "the database file or its directory is read-only; fix the permissions or choose another --db",
            ),
            CannotOpen => Some(
                "the database file cannot be opened; check that the directory exists and is writable",
            ),
            DiskFull => {
                Some("the disk is full; free space and run again (nothing committed was lost)")
            }
            NotADatabase => {
                Some("the file is not an SQLite database; point --db at an archive or a new path")
            }
            DatabaseCorrupt => Some("the database file is corrupt; restore it from a backup"),
            DatabaseBusy | DatabaseLocked => {
                Some("the database is busy; another process holds a write lock")
            }
            _ => None,
        };
        if let Some(hint) = hint {
            return format!("{hint} ({err})");
        }
    }
    err.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn sqlite_failures_keep_their_cause_and_exit_5() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let e: Error = conn
            .execute("INSERT INTO nowhere VALUES (1)", [])
            .context("cannot record the run")
            .unwrap_err();
        assert_eq!(e.exit_code(), exit::DATABASE);
        assert!(e.to_string().starts_with("cannot record the run: "), "{e}");
        assert!(e.to_string().contains("no such table: nowhere"), "{e}");
        assert!(e.source().is_some());
    }

    #[test]
    fn a_programming_error_is_not_blamed_on_the_database() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let e: Error = conn
            .query_row("SELECT 'text'", [], |r| r.get::<_, i64>(0))
            .context("reading a count")
            .unwrap_err();
        assert_eq!(e.exit_code(), exit::RUNTIME);
        assert!(
            e.to_string().contains("internal error (reading a count)"),
            "{e}"
        );
    }

    #[test]
    fn context_prefixes_without_changing_the_exit_code() {
        let e = Err::<(), _>(Error::usage("bad --since"))
            .context("tenant \"eu\"")
            .unwrap_err();
        assert_eq!(e.to_string(), "tenant \"eu\": bad --since");
        assert_eq!(e.exit_code(), exit::USAGE);
    }
}
