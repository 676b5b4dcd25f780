//! One error type for the whole tool. Each variant maps to an exit code from
//! DESIGN.md; the message is the one line a user sees, so it must say what is
//! wrong and what to do, and must never contain a secret.

use std::fmt;

/// Exit codes fixed by DESIGN.md.
pub mod exit {
    pub const RUNTIME: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const AUTH: i32 = 3;
    pub const LOCKED: i32 = 4;
    pub const DATABASE: i32 = 5;
    pub const INTEGRITY: i32 = 6;
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
    /// The database cannot be used: corrupt, read-only, full, newer schema (exit 5).
    #[error("{0}")]
    Database(String),
    /// Network or server failure after retries, or any other runtime failure (exit 1).
    #[error("{0}")]
    Runtime(String),
    /// `verify` found an altered, inserted or deleted event (exit 6).
    #[error("{0}")]
    Integrity(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Runtime(_) => exit::RUNTIME,
            Error::Usage(_) => exit::USAGE,
            Error::Auth(_) => exit::AUTH,
            Error::Locked(_) => exit::LOCKED,
            Error::Database(_) => exit::DATABASE,
            Error::Integrity(_) => exit::INTEGRITY,
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

    /// A database error with the context of what was being done.
    pub fn sqlite(context: &str, err: rusqlite::Error) -> Self {
        Error::Database(format!("{context}: {}", describe_sqlite(&err)))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        Error::Database(format!("database error: {}", describe_sqlite(&err)))
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
