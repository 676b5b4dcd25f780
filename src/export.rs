//! `query export`: the archive as Parquet, one zstd file per UTC day under
//! hive partitions (`date=YYYY-MM-DD/events.parquet`), rewriting only the
//! days that changed, with a manifest and a `_SUCCESS` marker written last.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use duckdb::Connection;
use serde::{Deserialize, Serialize};

use crate::cli::ExportArgs;
use crate::error::{Context, Error, Result};
use crate::event::event_columns;
use crate::mirror;
use crate::time::{DAY_MS, epoch_day, now_iso, parse_ms};

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
    /// XOR of DuckDB's hash of every log_id of the day: changes when the
    /// day gains or loses an event.
    pub fingerprint: String,
}

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

fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(m)
        .map_err(|e| Error::runtime(format!("cannot encode manifest: {e}")))?;
    write_atomic(&dir.join(MANIFEST), &bytes)
        .context(&format!("cannot write {}", dir.join(MANIFEST).display()))
}

fn day_range(args: &ExportArgs) -> Result<(i64, i64)> {
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

/// Writes one day's file: to a hidden temporary file, renamed into place.
fn write_day(conn: &Connection, dir: &Path, select: &str, day: &str, day_ms: i64) -> Result<()> {
    let day_dir = dir.join(format!("date={day}"));
    std::fs::create_dir_all(&day_dir).context(&format!("cannot create {}", day_dir.display()))?;
    let tmp = day_dir.join(format!(".{DAY_FILE}.tmp"));
    let path = day_dir.join(DAY_FILE);
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
    std::fs::rename(&tmp, &path).context(&format!("cannot move {} into place", path.display()))
}

/// `query export`: Parquet (zstd) per day, rewriting only days that changed.
pub fn run(db: &Path, args: &ExportArgs) -> Result<()> {
    let summary = export_to(db, &args.out, args)?;
    let mut out = io::stdout().lock();
    let line = format!(
        "exported {} day(s) ({} events) to {}; {} day(s) unchanged{}\n",
        summary.days_written,
        summary.rows_written,
        args.out.display(),
        summary.days_unchanged,
        if summary.days_removed > 0 {
            format!(", {} emptied day(s) removed", summary.days_removed)
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

fn export_to(db: &Path, dir: &Path, args: &ExportArgs) -> Result<ExportSummary> {
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
    let mut current: BTreeMap<String, (i64, DayEntry)> = BTreeMap::new();
    {
        let mut stmt = duck
            .prepare(
                "SELECT ts - ts % 86400000 AS day_ms, count(*) AS n, bit_xor(hash(log_id)) AS fp
                 FROM events WHERE ts IS NOT NULL AND ts >= ? AND ts < ?
                 GROUP BY 1 ORDER BY 1",
            )
            .map_err(derr)?;
        let mut rows = stmt.query(duckdb::params![since, until]).map_err(derr)?;
        while let Some(r) = rows.next().map_err(derr)? {
            let day_ms: i64 = r.get(0).map_err(derr)?;
            let n: i64 = r.get(1).map_err(derr)?;
            let fp: u64 = r.get(2).map_err(derr)?;
            let day = epoch_day(day_ms).unwrap_or_default();
            let entry = DayEntry {
                file: format!("date={day}/{DAY_FILE}"),
                rows: n as u64,
                fingerprint: format!("{fp:016x}"),
            };
            current.insert(day, (day_ms, entry));
        }
    }
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
    manifest.format = 1;

    let in_range = |day: &str| parse_ms(day, false).is_ok_and(|ms| ms >= since && ms < until);
    let to_write: Vec<String> = current
        .iter()
        .filter(|(day, (_, entry))| {
            manifest.days.get(*day) != Some(entry) || !dir.join(&entry.file).is_file()
        })
        .map(|(day, _)| day.clone())
        .collect();
    let to_remove: Vec<String> = manifest
        .days
        .keys()
        .filter(|d| in_range(d.as_str()) && !current.contains_key(d.as_str()))
        .cloned()
        .collect();

    let mut summary = ExportSummary {
        days_unchanged: (current.len() - to_write.len()) as u64,
        ..Default::default()
    };
    if to_write.is_empty()
        && to_remove.is_empty()
        && manifest.complete
        && dir.join(SUCCESS).is_file()
    {
        return Ok(summary);
    }

    // From here until the end the directory is not a complete export: the
    // marker goes first, and the days being replaced leave the manifest, so
    // an interrupted export redoes them next time.
    let _ = std::fs::remove_file(dir.join(SUCCESS));
    manifest.complete = false;
    manifest.updated_at = now_iso();
    for d in to_write.iter().chain(&to_remove) {
        manifest.days.remove(d);
    }
    write_manifest(dir, &manifest)?;

    for day in &to_remove {
        let _ = std::fs::remove_dir_all(dir.join(format!("date={day}")));
        summary.days_removed += 1;
    }

    // Each day is one ordered COPY; a single day rarely fills more than one
    // row group, so DuckDB compresses it on one thread. Days are therefore
    // written by several connections at once (one per core, at most 4).
    let select = export_select();
    let jobs: Vec<(&String, i64)> = to_write.iter().map(|d| (d, current[d].0)).collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let conns = (0..workers)
        .map(|_| duck.try_clone().map_err(derr))
        .collect::<Result<Vec<_>>>()?;
    let results: Vec<Result<Vec<String>>> = std::thread::scope(|s| {
        let handles: Vec<_> = conns
            .into_iter()
            .map(|conn| {
                let (jobs, next, select) = (&jobs, &next, &select);
                s.spawn(move || -> Result<Vec<String>> {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((day, day_ms)) = jobs.get(i) else {
                            return Ok(done);
                        };
                        if let Err(e) = write_day(&conn, dir, select, day, *day_ms) {
                            // Stop the other workers too.
                            next.store(jobs.len(), std::sync::atomic::Ordering::Relaxed);
                            return Err(e);
                        }
                        done.push((*day).clone());
                    }
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
    for r in results {
        for day in r? {
            let entry = &current[&day].1;
            summary.days_written += 1;
            summary.rows_written += entry.rows;
            manifest.days.insert(day, entry.clone());
        }
    }

    manifest.complete = true;
    manifest.updated_at = now_iso();
    write_manifest(dir, &manifest)?;
    write_atomic(&dir.join(SUCCESS), b"")
        .context(&format!("cannot write {}", dir.join(SUCCESS).display()))?;
    if undated > 0 {
        eprintln!(
            "auth0-archive: note: {undated} event(s) without a parseable date were not exported (see `raw` in the archive)"
        );
    }
    Ok(summary)
}
