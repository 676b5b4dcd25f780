//! Advisory locks on sidecar files, taken with `flock(2)`: the kernel drops
//! them when the process dies, even on SIGKILL, so a crashed run never
//! blocks the next one. Sidecars are used rather than the database itself
//! because SQLite's own POSIX locks are released when any descriptor of the
//! file closes. (`libc::flock` rather than `File::try_lock`, which is newer
//! than the crate's minimum Rust version.)
//!
//! - `SyncLock` (`<db>.lock`): one writer of events at a time (sync,
//!   import, prune); a second one fails at once (exit 4).
//! - `DetectLock` (`<db>.detect.lock`): one detection pass at a time
//!   (`detect`, and `sync --follow --detect` between polls); a second one
//!   waits for the first, up to a bound, so findings are filed once.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Held for as long as the sync runs.
#[derive(Debug)]
pub struct SyncLock {
    _file: File,
}

/// Held for one detection pass (examine, print, deliver).
#[derive(Debug)]
pub struct DetectLock {
    _file: File,
}

/// How long a detection pass waits for another one to finish.
pub const DETECT_WAIT: Duration = Duration::from_secs(120);

pub fn lock_path(db: &Path) -> PathBuf {
    sidecar(db, ".lock")
}

pub fn detect_lock_path(db: &Path) -> PathBuf {
    sidecar(db, ".detect.lock")
}

fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl SyncLock {
    /// Takes the lock or fails at once with exit code 4.
    pub fn acquire(db: &Path) -> Result<Self> {
        let path = lock_path(db);
        let file = open(&path)?;
        if try_flock(&file, &path)? {
            Ok(SyncLock { _file: file })
        } else {
            Err(Error::Locked(format!(
                "another sync is running on {} (lock {} is held); try again when it ends",
                db.display(),
                path.display()
            )))
        }
    }
}

impl DetectLock {
    /// Takes the lock, waiting up to `wait` for another pass to end; exit
    /// code 4 if it does not.
    pub fn acquire(db: &Path, wait: Duration) -> Result<Self> {
        let path = detect_lock_path(db);
        let file = open(&path)?;
        let deadline = Instant::now() + wait;
        loop {
            if try_flock(&file, &path)? {
                return Ok(DetectLock { _file: file });
            }
            if Instant::now() >= deadline {
                return Err(Error::Locked(format!(
                    "another detection pass on {} held its lock ({}) for over {} s; try again later",
                    db.display(),
                    path.display(),
                    wait.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| {
            Error::database(format!(
                "cannot create lock file {}: {e} (is the directory writable?)",
                path.display()
            ))
        })
}

/// An exclusive non-blocking `flock`: `true` when taken, `false` when
/// another descriptor holds it.
fn try_flock(file: &File, path: &Path) -> Result<bool> {
    loop {
        // SAFETY: flock on a descriptor this File owns; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => {
                return Err(Error::database(format!(
                    "cannot lock {}: {e}",
                    path.display()
                )));
            }
        }
    }
}
