//! Files the tool writes: readable by their owner only, and never written
//! through a name someone else could have planted.
//!
//! The archive, its DuckDB copy, the lock, the head file, reports and
//! exports hold email and IP addresses, so the process creates every file
//! 0600 and every directory 0700 ([`restrict_umask`], which also covers the
//! files SQLite and DuckDB create: `-wal`, `-shm`, `.duckdb.wal`, Parquet).
//! A temporary file is created exclusively (`O_EXCL`) under an unguessable
//! name beside its target and renamed over it, so a symlink planted in a
//! shared directory is never followed and its target never changes.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Permission bits no file or directory created by this process gets:
/// group and others, everything.
const UMASK: u32 = 0o077;

/// Makes every file and directory this process creates from now on private
/// to its owner (0600 / 0700). Called first thing in `main`.
pub fn restrict_umask() {
    // SAFETY: umask(2) only swaps the process's mask; it cannot fail.
    unsafe {
        umask(UMASK as ModeT);
    }
}

#[cfg(target_os = "linux")]
type ModeT = std::ffi::c_uint;
#[cfg(not(target_os = "linux"))]
type ModeT = std::ffi::c_ushort;

unsafe extern "C" {
    fn umask(mask: ModeT) -> ModeT;
}

/// A new, empty, owner-only file beside `path` (same directory, so a rename
/// replaces `path` atomically), under a name nobody can have prepared:
/// `.NAME.RANDOM.tmp`, created with `O_EXCL` (which also refuses to follow a
/// symlink).
pub fn create_temp_beside(path: &Path) -> io::Result<(File, PathBuf)> {
    let tmp = temp_name_beside(path);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    Ok((file, tmp))
}

/// An unguessable name for a temporary file beside `path`, for a writer
/// that creates the file itself (DuckDB's `COPY ... TO`).
pub fn temp_name_beside(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()))
}

/// Writes `path` whole or not at all: an exclusive temporary file beside
/// it, fsynced, renamed over `path` (a rename replaces a symlink at `path`
/// rather than writing through it). The temporary file is removed on failure.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (mut file, tmp) = create_temp_beside(path)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Opens `path` for appending, creating it owner-only if absent. A symlink
/// at `path` is followed on purpose: the file is one the user named (a
/// `--head-file` anchor is often a link to a mounted, append-only place).
pub fn open_append(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_planted_symlink_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let out = dir.path().join("report.html");
        std::os::unix::fs::symlink(&victim, &out).unwrap();
        write_replacing(&out, b"<html>").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "<html>");
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 2, "no temporary file is left behind");
    }
}
