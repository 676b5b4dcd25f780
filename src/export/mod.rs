//! `query export`: the archive as Parquet, one zstd file per UTC day under
//! hive partitions (`date=YYYY-MM-DD/events.parquet`), rewriting only the
//! days that changed, with a manifest and a `_SUCCESS` marker written last.
//!
//! Durability: every file is fsynced before it is renamed into place, and
//! the directory that received it (the day's, then the export root) is
//! fsynced before the next step relies on it, so after a power loss the
//! manifest and `_SUCCESS` never vouch for a day file that is not on disk.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use duckdb::Connection;
use serde::{Deserialize, Serialize};

use crate::config::commands::ExportOptions;
use crate::error::{Context, Error, Result};
use crate::event::event_columns;
use crate::mirror;
use crate::text::count;
use crate::time::{DAY_MS, epoch_day, now_iso, parse_ms};

mod files;
mod fingerprint;
mod record;

use files::{remove_if_present, sync_dir, write_atomic};
pub use fingerprint::DayFingerprint;
use fingerprint::fingerprint_day;

/// The export's table of contents, written last: a directory whose manifest
/// is missing or says `complete: false` is not a finished export.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub complete: bool,
    pub updated_at: String,
    /// Per day (`YYYY-MM-DD`): what its file holds.
    pub days: BTreeMap<String, DayEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayEntry {
    pub file: String,
    pub rows: u64,
    /// SHA-256 (lowercase hex) over the day's events in `log_id` order, each
    /// as its `log_id`, a 0x00 byte and the SHA-256 of its `raw`: changes
    /// when the day gains or loses an event or an event's raw bytes change
    /// (see [`DayFingerprint`]).
    pub fingerprint: String,
}

/// The manifest layout and fingerprint definition this version writes.
///
/// 1: fingerprint = XOR of DuckDB's internal `hash(log_id)`, which may change
///    between DuckDB versions and ignored the events' contents.
/// 2: fingerprint = SHA-256 over log ids and raw digests ([`DayFingerprint`]).
///
/// Days recorded under another format never count as unchanged, so a
/// directory exported by an older version has each of its days rewritten
/// once (its old fingerprints could not be compared with the new ones).
pub const FORMAT: u32 = 2;

pub const MANIFEST: &str = "_manifest.json";
pub const SUCCESS: &str = "_SUCCESS";
const DAY_FILE: &str = "events.parquet";

/// Columns as written to Parquet. `date` is the partition (`date=…/`), so
/// the files carry the instant as `ts` TIMESTAMP WITH TIME ZONE instead;
/// readers that use hive partitioning get `date` back as the day, and `raw`
/// keeps the event as received.
fn export_select() -> String {
    event_columns()
        .map(|c| c.name)
        .filter(|n| *n != "date")
        .map(|n| match n {
            "ts" => "CAST(epoch_ms(ts) AS TIMESTAMPTZ) AS ts".to_string(),
            n => n.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `s` as an SQL string literal.
pub(crate) fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(m)
        .map_err(|e| Error::runtime(format!("cannot encode manifest: {e}")))?;
    write_atomic(&dir.join(MANIFEST), &bytes)
        .context(&format!("cannot write {}", dir.join(MANIFEST).display()))
}

fn day_range(args: &ExportOptions) -> Result<(i64, i64)> {
    crate::time::parse_range(
        args.since.as_deref(),
        args.until.as_deref(),
        ("--since", "--until"),
    )
    .map_err(Error::usage)?;
    let bound = |v: &Option<String>, upper: bool, flag: &str| -> Result<i64> {
        match v {
            None => Ok(if upper { i64::MAX } else { i64::MIN }),
            Some(v) => parse_ms(v.trim(), upper)
                .map(|ms| {
                    // Whole days only: partitions are days.
                    let floor = ms - ms.rem_euclid(DAY_MS);
                    if upper && floor != ms {
                        floor + DAY_MS
                    } else {
                        floor
                    }
                })
                .map_err(|e| Error::usage(format!("--{flag}: {e}"))),
        }
    };
    Ok((
        bound(&args.since, false, "since")?,
        bound(&args.until, true, "until")?,
    ))
}

/// What an export did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub days_written: u64,
    pub rows_written: u64,
    pub days_unchanged: u64,
    pub days_removed: u64,
}

/// Writes one day's file: to a hidden temporary file, fsynced, renamed into
/// place, and the day's directory fsynced.
fn write_day(conn: &Connection, dir: &Path, select: &str, day: &str, day_ms: i64) -> Result<()> {
    let day_dir = dir.join(format!("date={day}"));
    std::fs::create_dir_all(&day_dir).context(&format!("cannot create {}", day_dir.display()))?;
    let path = day_dir.join(DAY_FILE);
    // DuckDB creates the file itself (following a symlink, were one
    // there): an unguessable name leaves nothing to plant. Temporaries a
    // crash left are removed first (a link is removed, never followed).
    remove_stale_temporaries(&day_dir);
    let tmp = crate::private_file::temp_name_beside(&path);
    let tmp_text = tmp
        .to_str()
        .ok_or_else(|| Error::usage(format!("export path {} is not valid UTF-8", dir.display())))?;
    // Only our own integers and the output path reach this text; the path is
    // quoted as an SQL string literal.
    let copy = format!(
        "COPY (SELECT {select} FROM events WHERE ts >= {lo} AND ts < {hi} ORDER BY ts, log_id) \
         TO {file} (FORMAT parquet, COMPRESSION zstd)",
        lo = day_ms,
        hi = day_ms + DAY_MS,
        file = sql_string(tmp_text),
    );
    conn.execute_batch(&copy).context("export failed")?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .context(&format!("cannot flush {} to disk", tmp.display()))?;
    std::fs::rename(&tmp, &path).context(&format!("cannot move {} into place", path.display()))?;
    sync_dir(&day_dir).context(&format!("cannot flush {} to disk", day_dir.display()))
}

/// Removes `.events.parquet.*.tmp` files an interrupted export left in
/// `day_dir`; one that cannot be removed only costs its space.
fn remove_stale_temporaries(day_dir: &Path) {
    let prefix = format!(".{DAY_FILE}.");
    let Ok(entries) = std::fs::read_dir(day_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The UTC day of `ts` as epoch ms, as SQL (also right before 1970, where
/// `%` is negative): the same bounds `write_day` selects.
const DAY_OF_TS: &str = "ts - ((ts % 86400000) + 86400000) % 86400000";

/// Every day in `[since, until)` that has events, with its row count and
/// fingerprint. Fingerprints are kept in the copy's `day_fingerprints`
/// (which a refresh clears for every day it appends to, and a rebuild
/// empties), so only days that changed since the last export are hashed
/// again, one pass over that day's row digests each.
fn current_days(
    duck: &Connection,
    since: i64,
    until: i64,
) -> Result<BTreeMap<String, (i64, DayEntry)>> {
    let derr = |e: duckdb::Error| Error::duckdb("export failed", e);
    let present: Vec<(i64, u64)> = duck
        .prepare(&format!(
            "SELECT {DAY_OF_TS} AS day_ms, count(*) FROM event_digests
             WHERE ts IS NOT NULL AND ts >= ? AND ts < ? GROUP BY 1 ORDER BY 1"
        ))
        .and_then(|mut st| {
            st.query_map(duckdb::params![since, until], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect()
        })
        .map_err(derr)?;
    let cached: BTreeMap<i64, (u64, String)> = duck
        .prepare("SELECT day_ms, rows, fingerprint FROM day_fingerprints")
        .and_then(|mut st| {
            st.query_map([], |r| {
                Ok((r.get(0)?, (r.get::<_, i64>(1)? as u64, r.get(2)?)))
            })?
            .collect()
        })
        .map_err(derr)?;
    let stale: Vec<i64> = present
        .iter()
        .filter(|(ms, n)| cached.get(ms).is_none_or(|(rows, _)| rows != n))
        .map(|(ms, _)| *ms)
        .collect();
    let fresh = in_parallel(duck, &stale, |conn, day_ms| {
        fingerprint_day(conn, *day_ms).map(|(rows, fp)| (*day_ms, rows, fp))
    })?;
    if !fresh.is_empty() {
        let tx = duck.unchecked_transaction().map_err(derr)?;
        for (day_ms, rows, fp) in &fresh {
            tx.execute("DELETE FROM day_fingerprints WHERE day_ms = ?", [day_ms])
                .and_then(|_| {
                    tx.execute(
                        "INSERT INTO day_fingerprints VALUES (?, ?, ?)",
                        duckdb::params![day_ms, *rows as i64, fp],
                    )
                })
                .map_err(derr)?;
        }
        tx.commit().map_err(derr)?;
    }
    let mut known: BTreeMap<i64, (u64, String)> = cached;
    known.extend(fresh.into_iter().map(|(ms, rows, fp)| (ms, (rows, fp))));
    Ok(present
        .into_iter()
        .map(|(day_ms, _)| {
            let day = epoch_day(day_ms).unwrap_or_default();
            let (rows, fingerprint) = known.remove(&day_ms).unwrap_or_default();
            let entry = DayEntry {
                file: format!("date={day}/{DAY_FILE}"),
                rows,
                fingerprint,
            };
            (day, (day_ms, entry))
        })
        .collect())
}

/// Runs `job` for every item on several connections to the copy at once
/// (one per core, at most 4), and stops at the first failure. Results come
/// back in no particular order.
fn in_parallel<T: Sync, R: Send>(
    duck: &Connection,
    items: &[T],
    job: impl Fn(&Connection, &T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(items.len());
    let next = AtomicUsize::new(0);
    let conns = (0..workers)
        .map(|_| duck.try_clone().context("export failed"))
        .collect::<Result<Vec<_>>>()?;
    // One DuckDB thread per worker: with DuckDB's own pool on top, the
    // workers' tasks queued behind each other's and a seventh of the CPU
    // went to its scheduler's locks (perf, full export of 10M events).
    duck.execute_batch("SET threads = 1")
        .context("export failed")?;
    let results: Vec<Result<Vec<R>>> = std::thread::scope(|s| {
        let handles: Vec<_> = conns
            .into_iter()
            .map(|conn| {
                let (next, job) = (&next, &job);
                s.spawn(move || -> Result<Vec<R>> {
                    let mut done = Vec::new();
                    while let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
                        match job(&conn, item) {
                            Ok(r) => done.push(r),
                            Err(e) => {
                                // Stop the other workers too.
                                next.store(items.len(), Ordering::Relaxed);
                                return Err(e);
                            }
                        }
                    }
                    Ok(done)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::runtime("export worker panicked")))
            })
            .collect()
    });
    duck.execute_batch("RESET threads")
        .context("export failed")?;
    let mut all = Vec::with_capacity(items.len());
    for r in results {
        all.extend(r?);
    }
    Ok(all)
}

/// `query export`: Parquet (zstd) per day, rewriting only days that changed.
pub fn run(db: &Path, args: &ExportOptions) -> Result<()> {
    let summary = export_to(db, &args.out, args)?;
    let mut out = io::stdout().lock();
    let line = format!(
        "exported {} ({}) to {}; {} unchanged{}\n",
        count(summary.days_written as u64, "day"),
        count(summary.rows_written as u64, "event"),
        args.out.display(),
        count(summary.days_unchanged as u64, "day"),
        if summary.days_removed > 0 {
            format!(
                ", {} removed",
                count(summary.days_removed as u64, "emptied day")
            )
        } else {
            String::new()
        }
    );
    match out.write_all(line.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(Error::runtime(format!("cannot write: {e}")))
        }
        _ => Ok(()),
    }
}

fn export_to(db: &Path, dir: &Path, args: &ExportOptions) -> Result<ExportSummary> {
    let (since, until) = day_range(args)?;
    if since >= until {
        return Err(Error::usage("--since is after --until: nothing to export"));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::usage(format!(
            "cannot create export directory {}: {e}",
            dir.display()
        ))
    })?;
    let (duck, _) = mirror::refresh(db)?;
    let derr = |e: duckdb::Error| Error::duckdb("export failed", e);

    // The days in range as they are now.
    let current = current_days(&duck, since, until)?;
    let undated: i64 = duck
        .query_row("SELECT count(*) FROM events WHERE ts IS NULL", [], |r| {
            r.get(0)
        })
        .map_err(derr)?;

    let manifest_path = dir.join(MANIFEST);
    let mut manifest: Manifest = std::fs::read(&manifest_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let plan = ExportPlan::compare(db, dir, &manifest, &current, (since, until))?;
    manifest.format = FORMAT;
    let mut summary = ExportSummary {
        days_unchanged: (current.len() - plan.to_write.len() - plan.kept_as_is) as u64,
        ..Default::default()
    };
    if plan.is_empty() && plan.same_format && manifest.complete && dir.join(SUCCESS).is_file() {
        record::record(db, dir, &manifest);
        return Ok(summary);
    }

    mark_incomplete(dir, &mut manifest, &plan)?;
    for day in &plan.to_remove {
        let day_dir = dir.join(format!("date={day}"));
        remove_if_present(&day_dir, true).context(&format!(
            "cannot remove {}, a day that no longer has events",
            day_dir.display()
        ))?;
        summary.days_removed += 1;
    }

    // Each day is one ordered COPY; a single day rarely fills more than one
    // row group, so DuckDB compresses it on one thread. Days are therefore
    // written by several connections at once.
    let select = export_select();
    let jobs: Vec<(&String, i64)> = plan.to_write.iter().map(|d| (d, current[d].0)).collect();
    let written = in_parallel(&duck, &jobs, |conn, (day, day_ms)| {
        write_day(conn, dir, &select, day, *day_ms).map(|()| (*day).clone())
    })?;
    for day in written {
        let entry = &current[&day].1;
        summary.days_written += 1;
        summary.rows_written += entry.rows;
        manifest.days.insert(day, entry.clone());
    }
    mark_complete(db, dir, &mut manifest)?;
    if undated > 0 {
        crate::log::note(&format!(
            "auth0-archive: note: {} without a parseable date were not exported (see `raw` in the archive)",
            crate::text::count(undated as u64, "event")
        ));
    }
    Ok(summary)
}

/// What an export changes: the days to write and the days to remove.
struct ExportPlan {
    to_write: Vec<String>,
    to_remove: Vec<String>,
    /// Days whose file is kept although the archive changed (pruned).
    kept_as_is: usize,
    /// Whether the manifest found is of this format.
    same_format: bool,
}

impl ExportPlan {
    /// Compares the days in the archive now with what the manifest says
    /// the directory holds.
    fn compare(
        db: &Path,
        dir: &Path,
        manifest: &Manifest,
        current: &BTreeMap<String, (i64, DayEntry)>,
        (since, until): (i64, i64),
    ) -> Result<Self> {
        // A manifest of another format has fingerprints that mean something
        // else: none of its days counts as unchanged, each is rewritten once.
        let same_format = manifest.format == FORMAT;
        // Days `prune` deleted events of, which the export holds: its file has
        // what the archive no longer has, so it is neither rewritten nor
        // removed. (An event archived for such a day afterwards stays in the
        // archive only, and `prune` refuses to delete it.)
        let pruned = record::pruned_days(db)?;
        let frozen = |day: &str| pruned.contains(day) && manifest.days.contains_key(day);
        let in_range = |day: &str| parse_ms(day, false).is_ok_and(|ms| ms >= since && ms < until);
        let to_write = current
            .iter()
            .filter(|(day, (_, entry))| {
                !frozen(day)
                    && (!same_format
                        || manifest.days.get(*day) != Some(entry)
                        || !dir.join(&entry.file).is_file())
            })
            .map(|(day, _)| day.clone())
            .collect();
        let to_remove = manifest
            .days
            .keys()
            .filter(|d| in_range(d.as_str()) && !current.contains_key(d.as_str()) && !frozen(d))
            .cloned()
            .collect();
        Ok(ExportPlan {
            to_write,
            to_remove,
            kept_as_is: current.keys().filter(|d| frozen(d)).count(),
            same_format,
        })
    }

    fn is_empty(&self) -> bool {
        self.to_write.is_empty() && self.to_remove.is_empty()
    }
}

/// From here until [`mark_complete`] the directory is not a complete
/// export: the marker goes first, and the days being replaced leave the
/// manifest, so an interrupted export redoes them next time. A marker that
/// cannot be removed would vouch for a directory that is about to change:
/// stop.
fn mark_incomplete(dir: &Path, manifest: &mut Manifest, plan: &ExportPlan) -> Result<()> {
    let success = dir.join(SUCCESS);
    remove_if_present(&success, false).map_err(|e| {
        Error::io(
            format!(
                "cannot remove the completion marker {} before exporting (nothing was changed; \
                 remove it by hand and export again)",
                success.display()
            ),
            e,
        )
    })?;
    manifest.complete = false;
    manifest.updated_at = now_iso();
    for d in plan.to_write.iter().chain(&plan.to_remove) {
        manifest.days.remove(d);
    }
    // Also makes the marker's removal durable: same directory.
    write_manifest(dir, manifest)
}

/// The new day directories and the removed ones reach the disk before the
/// manifest vouches for them; then the marker.
fn mark_complete(db: &Path, dir: &Path, manifest: &mut Manifest) -> Result<()> {
    sync_dir(dir).context(&format!("cannot flush {} to disk", dir.display()))?;
    manifest.complete = true;
    manifest.updated_at = now_iso();
    write_manifest(dir, manifest)?;
    let success = dir.join(SUCCESS);
    write_atomic(&success, b"").context(&format!("cannot write {}", success.display()))?;
    record::record(db, dir, manifest);
    Ok(())
}
