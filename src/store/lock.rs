//! One sync at a time per database file. The lock is an advisory `flock`
//! (`File::try_lock`) on a
//! sidecar file (`<db>.lock`): the kernel drops it when the process dies, even
//! on SIGKILL, so a crashed sync never blocks the next one. A sidecar is used
//! rather than the database itself because SQLite's own POSIX locks are
//! released when any descriptor of the file closes.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Held for as long as the sync runs.
#[derive(Debug)]
pub struct SyncLock {
    _file: File,
}

pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl SyncLock {
    /// Takes the lock or fails at once with exit code 4.
    pub fn acquire(db: &Path) -> Result<Self> {
        let path = lock_path(db);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| {
                Error::database(format!(
                    "cannot create lock file {}: {e} (is the directory writable?)",
                    path.display()
                ))
            })?;
        match file.try_lock() {
            Ok(()) => Ok(SyncLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(Error::Locked(format!(
                "another sync is running on {} (lock {} is held); try again when it ends",
                db.display(),
                path.display()
            ))),
            Err(TryLockError::Error(e)) => Err(Error::database(format!(
                "cannot lock {}: {e}",
                path.display()
            ))),
        }
    }
}
