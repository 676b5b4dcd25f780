//! Durable file operations: what is renamed into place is on disk first,
//! and so is the directory entry that names it.

use std::io;
use std::path::Path;

/// Flushes a directory's entries (files created, renamed or removed in it)
/// to disk.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Writes `path` whole or not at all: a temporary file, fsynced, renamed
/// into place, and the directory fsynced so the rename survives a crash.
/// The temporary file is created exclusively under an unguessable name
/// (`private_file`): a symlink planted in the export directory is never
/// followed.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    crate::private_file::write_replacing(path, bytes)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Removes a file or directory tree; one that is already gone is fine, any
/// other failure is returned.
pub(super) fn remove_if_present(path: &Path, tree: bool) -> io::Result<()> {
    let r = if tree {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}
