//! What the export tells the archive and learns from it: a completed
//! export's directory and days are recorded (for `prune`), and the days
//! `prune` deleted are kept as they are in the export.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::{Context, Result};
use crate::store::{self, exports};

use super::Manifest;

/// The days whose events `prune` deleted from the archive at `db`.
pub(super) fn pruned_days(db: &Path) -> Result<BTreeSet<String>> {
    let conn = store::open_read_only(db)?;
    exports::pruned_days(&conn).context("cannot read which days were pruned")
}

/// Records in the archive that `dir` holds a complete export listing the
/// manifest's days. A failure only warns: the export itself is complete,
/// but `prune` will not count it.
pub(super) fn record(db: &Path, dir: &Path, manifest: &Manifest) {
    let days: BTreeMap<String, exports::Day> = manifest
        .days
        .iter()
        .map(|(day, e)| {
            (
                day.clone(),
                exports::Day {
                    rows: e.rows,
                    fingerprint: e.fingerprint.clone(),
                },
            )
        })
        .collect();
    let done = std::fs::canonicalize(dir)
        .map_err(|e| e.to_string())
        .and_then(|dir| {
            let mut conn = store::open_for_write(db).map_err(|e| e.to_string())?;
            exports::record(
                &mut conn,
                &dir.to_string_lossy(),
                manifest.format,
                &manifest.updated_at,
                &days,
            )
            .map_err(|e| e.to_string())
        });
    if let Err(e) = done {
        crate::log::warn(&format!(
            "the export is complete, but recording it in the archive failed ({e}); \
             `prune` will not count it until an export records it"
        ));
    }
}
