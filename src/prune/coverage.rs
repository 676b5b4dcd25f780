//! Whether a complete Parquet export holds every event a prune would
//! delete. A day counts as exported when one export the archive recorded
//! (`store::exports`) listed it with the row count and fingerprint the
//! archive's events of that day have now, and that export's directory
//! still says so: its manifest complete with `_SUCCESS` beside it, the day
//! listed with the same figures, and the day's file there with that many
//! rows.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use crate::error::{Context, Result};
use crate::export::{self, DayFingerprint, Manifest};
use crate::store::{exports, raw::RawCodec};
use crate::time::{DAY_MS, epoch_day};

/// The verdict on the days a prune would delete.
#[derive(Debug)]
pub(super) enum Verdict {
    /// Every day is in a complete export; the directory holding each.
    Covered(BTreeMap<String, String>),
    /// The first day (in date order) that is not, and why.
    Uncovered { day: String, why: String },
}

/// The archive's figures for one day: row count and fingerprint, as the
/// export computes them (`export::DayFingerprint`), from the SQLite rows.
fn archived_day(conn: &Connection, codec: &RawCodec, day_ms: i64) -> Result<exports::Day> {
    let mut stmt = conn.prepare_cached("SELECT log_id, raw FROM events WHERE ts >= ?1 AND ts < ?2")?;
    let mut rows = stmt.query([day_ms, day_ms + DAY_MS])?;
    let mut day: Vec<(String, [u8; 32])> = Vec::new();
    while let Some(r) = rows.next()? {
        let raw = codec.text(r.get_ref(1)?)?;
        day.push((r.get(0)?, Sha256::digest(raw.as_bytes()).into()));
    }
    // Bytewise, as the export orders them.
    day.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut fp = DayFingerprint::default();
    for (log_id, digest) in &day {
        fp.add(log_id, digest);
    }
    Ok(exports::Day {
        rows: fp.rows(),
        fingerprint: fp.finish(),
    })
}

/// What an export directory holds now: its manifest if complete, or why not.
fn read_dir(dir: &str) -> Result<Manifest, String> {
    let dir = Path::new(dir);
    let manifest: Manifest = std::fs::read(dir.join(export::MANIFEST))
        .map_err(|e| format!("its manifest cannot be read ({e})"))
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| format!("its manifest is damaged ({e})")))?;
    if !manifest.complete || !dir.join(export::SUCCESS).is_file() {
        return Err("it is not a complete export now (an export was interrupted or is running)".into());
    }
    Ok(manifest)
}

/// Rows in one Parquet file, from its footer.
fn parquet_rows(duck: &duckdb::Connection, file: &Path) -> Result<u64, String> {
    let text = file.to_str().ok_or("its path is not UTF-8")?;
    duck.query_row(
        &format!(
            "SELECT count(*) FROM read_parquet('{}')",
            text.replace('\'', "''")
        ),
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
    .map_err(|e| format!("its file cannot be read ({e})"))
}

/// Checks the days (epoch ms of their midnights) a prune would delete.
pub(super) fn check(conn: &Connection, days: &BTreeMap<i64, u64>) -> Result<Verdict> {
    let recorded = exports::recorded(conn).context("cannot read the recorded exports")?;
    let codec = RawCodec::load(conn)?;
    let duck = duckdb::Connection::open_in_memory().context("cannot start DuckDB")?;
    let mut dirs: HashMap<String, Result<Manifest, String>> = HashMap::new();
    let mut covered = BTreeMap::new();
    for &day_ms in days.keys() {
        let day = epoch_day(day_ms).unwrap_or_default();
        let uncovered = |why: String| {
            Ok(Verdict::Uncovered {
                day: day.clone(),
                why,
            })
        };
        if recorded.is_empty() {
            return uncovered(
                "no complete export of this archive is recorded (run `auth0-archive query export --out DIR` first)".into(),
            );
        }
        let now = archived_day(conn, &codec, day_ms)?;
        let mut why = None;
        for export in &recorded {
            let Some(then) = export.days.get(&day) else {
                continue;
            };
            if *then != now {
                why.get_or_insert(format!(
                    "the export in {} holds {} event(s) of it and the archive {} now{}: export again",
                    export.dir,
                    then.rows,
                    now.rows,
                    if then.rows == now.rows { ", with other contents" } else { "" }
                ));
                continue;
            }
            let on_disk = dirs
                .entry(export.dir.clone())
                .or_insert_with(|| read_dir(&export.dir));
            let holds = on_disk.as_ref().map_err(Clone::clone).and_then(|m| {
                let entry = m.days.get(&day).ok_or("its manifest no longer lists the day")?;
                if entry.rows != now.rows || entry.fingerprint != now.fingerprint {
                    return Err("its manifest lists other contents for the day".to_string());
                }
                let file = PathBuf::from(&export.dir).join(&entry.file);
                match parquet_rows(&duck, &file)? {
                    n if n == now.rows => Ok(()),
                    n => Err(format!("its file {} holds {n} rows, not {}", file.display(), now.rows)),
                }
            });
            match holds {
                Ok(()) => {
                    covered.insert(day.clone(), export.dir.clone());
                    break;
                }
                Err(e) => {
                    why.get_or_insert(format!("the export in {}: {e}", export.dir));
                }
            }
        }
        if !covered.contains_key(&day) {
            return uncovered(why.unwrap_or_else(|| {
                let listed: Vec<&str> = recorded.iter().map(|e| e.dir.as_str()).collect();
                format!("no recorded export holds it ({})", listed.join(", "))
            }));
        }
    }
    Ok(Verdict::Covered(covered))
}
