//! The detections a report runs before it reads the findings, so the page
//! never says "0 findings" of an archive `detect` has not seen: by default
//! the pending ones, filed as `detect` files them (same lock, same pass);
//! on an archive that cannot be written (a forensic copy: mode 0444, a
//! read-only directory or mount) all of them, shown but not filed; none
//! with `--no-detect`.

use std::path::Path;

use crate::choices::EngineKind;
use crate::detect::{self, Detections, Scope};
use crate::error::Result;
use crate::query::{Origin, engine};
use crate::store::{
    self,
    lock::{DETECT_WAIT, DetectLock},
};

/// What ran before the page was read, as the page tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detected {
    /// The unexamined events were examined and `new` findings filed.
    Filed { new: usize },
    /// `--no-detect`: the page shows the findings filed before.
    NotAsked,
    /// Every detection ran over every event and its findings are shown
    /// without being filed, because of `why`.
    Unfiled { why: String },
}

/// Runs the pending detections and files their findings as `detect` does,
/// unless asked not to or the archive cannot be written: then it says so,
/// and `data::collect` runs them unfiled.
pub fn before_report(db: &Path, kind: EngineKind, no_detect: bool) -> Result<Detected> {
    if no_detect {
        return Ok(Detected::NotAsked);
    }
    if let Some(why) = read_only(db) {
        return Ok(Detected::Unfiled { why });
    }
    let detections = Detections::choose(&[], false, &[])?;
    // The lock `detect` takes (one pass at a time; it waits for a pass in
    // progress, and a sync writing meanwhile is fine). The findings filed
    // here queue for printing and delivery like any pass's, so the next
    // `detect` or `sync --detect` still tells and delivers them.
    let _lock = DetectLock::acquire(db, DETECT_WAIT)?;
    let mut conn = store::open_for_write(db)?;
    let engine = engine::open(db, kind, Origin::Saved)?;
    let scope = Scope {
        tenant: None,
        window: None,
    };
    let examined = detect::examine(&mut conn, engine.as_ref(), &detections, &scope)?;
    Ok(Detected::Filed {
        new: examined.new_count,
    })
}

/// Why the archive at `db` must not be written, if it must not: its mode
/// bits or its directory's say read-only (honoured even for root, who
/// could write anyway: a copy marked read-only is evidence), or the system
/// refuses writing (a read-only mount, another owner).
fn read_only(db: &Path) -> Option<String> {
    let dir = match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let marked = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().readonly())
            .unwrap_or(false)
    };
    if marked(db) || !may_write(db) {
        return Some(format!("{} is read-only", db.display()));
    }
    if marked(dir) || !may_write(dir) {
        return Some(format!("its directory {} is read-only", dir.display()));
    }
    None
}

/// Whether the system lets us open `path` for writing (a read-only mount
/// or another owner's file says no). Opening writes nothing; a directory
/// is judged by its mode bits alone.
fn may_write(path: &Path) -> bool {
    path.is_dir() || std::fs::OpenOptions::new().write(true).open(path).is_ok()
}
