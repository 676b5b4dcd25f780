//! Whether a complete Parquet export holds every event a prune would
//! delete. A day counts as exported when one export the archive recorded
//! (`store::exports`) listed it with the row count and fingerprint the
//! archive's events of that day have now, and that export's directory
//! still says so: its manifest complete with `_SUCCESS` beside it, the day
//! listed with the same figures, and the day's file there with that many
//! rows.
//!
//! A day an earlier prune deleted in part (a chain link straddled its
//! midnight) no longer matches its export, which holds the whole day and is
//! never rewritten since. For such a day the events to delete are looked up
//! in the day's file itself: each must be there, by `log_id` and the
//! SHA-256 of its `raw`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use crate::error::{Context, Result};
use crate::export::{self, DayFingerprint, Manifest};
use crate::store::{exports, raw::RawCodec};
use crate::time::{DAY_MS, epoch_day};

use super::plan::Plan;

type Digest32 = [u8; 32];

/// The verdict on the days a prune would delete.
#[derive(Debug)]
pub(super) enum Verdict {
    /// Every day is in a complete export; the directory holding each.
    Covered(BTreeMap<String, String>),
    /// The first day (in date order) that is not, and why.
    Uncovered { day: String, why: String },
}

/// The archive's figures for one day (row count and fingerprint, as the
/// export computes them with `export::DayFingerprint`), and the events of
/// it in the links `deleted`, by `log_id` and SHA-256 of `raw`.
fn archived_day(
    conn: &Connection,
    codec: &RawCodec,
    day_ms: i64,
    deleted: &BTreeSet<i64>,
) -> Result<(exports::Day, Vec<(String, Digest32)>)> {
    let mut stmt = conn
        .prepare_cached("SELECT log_id, raw, chain_seq FROM events WHERE ts >= ?1 AND ts < ?2")?;
    let mut rows = stmt.query([day_ms, day_ms + DAY_MS])?;
    let mut day: Vec<(String, Digest32)> = Vec::new();
    let mut going = Vec::new();
    while let Some(r) = rows.next()? {
        let raw = codec.text(r.get_ref(1)?)?;
        let event = (r.get(0)?, Sha256::digest(raw.as_bytes()).into());
        if r.get::<_, Option<i64>>(2)?
            .is_some_and(|s| deleted.contains(&s))
        {
            going.push(event.clone());
        }
        day.push(event);
    }
    let (rows, fingerprint) = DayFingerprint::of_day(&mut day);
    let figures = exports::Day { rows, fingerprint };
    Ok((figures, going))
}

/// The events in one day file, by `log_id` and SHA-256 of `raw`.
fn file_events(
    duck: &duckdb::Connection,
    file: &Path,
) -> Result<HashSet<(String, Digest32)>, String> {
    let text = file.to_str().ok_or("its path is not UTF-8")?;
    let sql = format!(
        "SELECT log_id, raw FROM read_parquet('{}')",
        text.replace('\'', "''")
    );
    let read = |e: duckdb::Error| {
        format!(
            "its file {} cannot be read ({})",
            file.display(),
            first_line(&e)
        )
    };
    let mut stmt = duck.prepare(&sql).map_err(read)?;
    let mut rows = stmt.query([]).map_err(read)?;
    let mut set = HashSet::new();
    while let Some(r) = rows.next().map_err(read)? {
        let (id, raw): (String, String) = (r.get(0).map_err(read)?, r.get(1).map_err(read)?);
        set.insert((id, Sha256::digest(raw.as_bytes()).into()));
    }
    Ok(set)
}

/// What an export directory holds now: its manifest if complete, or why not.
fn read_dir(dir: &str) -> Result<Manifest, String> {
    let dir = Path::new(dir);
    let manifest: Manifest = std::fs::read(dir.join(export::MANIFEST))
        .map_err(|e| format!("its manifest cannot be read ({e})"))
        .and_then(|b| {
            serde_json::from_slice(&b).map_err(|e| format!("its manifest is damaged ({e})"))
        })?;
    if !manifest.complete || !dir.join(export::SUCCESS).is_file() {
        return Err(
            "it is not a complete export now (an export was interrupted or is running)".into(),
        );
    }
    Ok(manifest)
}

/// DuckDB's message without the SQL excerpt it appends on further lines.
fn first_line(e: &duckdb::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
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
    .map_err(|e| format!("its file cannot be read ({})", first_line(&e)))
}

/// Checks the days a prune would delete events of.
pub(super) fn check(conn: &Connection, plan: &Plan) -> Result<Verdict> {
    let recorded = exports::recorded(conn).context("cannot read the recorded exports")?;
    let pruned_before = exports::pruned_days(conn).context("cannot read the pruned days")?;
    let deleted: BTreeSet<i64> = plan.seqs.iter().copied().collect();
    let codec = RawCodec::load(conn)?;
    let duck = duckdb::Connection::open_in_memory().context("cannot start DuckDB")?;
    let mut dirs: HashMap<String, Result<Manifest, String>> = HashMap::new();
    let mut covered = BTreeMap::new();
    for &day_ms in plan.days.keys() {
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
        let (now, going) = archived_day(conn, &codec, day_ms, &deleted)?;
        let partly_pruned = pruned_before.contains(&day);
        let mut why = None;
        for export in &recorded {
            let Some(then) = export.days.get(&day) else {
                continue;
            };
            if *then != now && !partly_pruned {
                why.get_or_insert(format!(
                    "the export in {} holds {} of it and the archive {} now{}: export again",
                    export.dir,
                    crate::text::count(then.rows, "event"),
                    now.rows,
                    if then.rows == now.rows {
                        ", with other contents"
                    } else {
                        ""
                    }
                ));
                continue;
            }
            let on_disk = dirs
                .entry(export.dir.clone())
                .or_insert_with(|| read_dir(&export.dir));
            let holds = on_disk.as_ref().map_err(Clone::clone).and_then(|m| {
                let entry = m.days.get(&day).ok_or("its manifest no longer lists the day")?;
                if entry.rows != then.rows || entry.fingerprint != then.fingerprint {
                    return Err("its manifest lists other contents for the day".to_string());
                }
                let file = PathBuf::from(&export.dir).join(&entry.file);
                if *then == now {
                    return match parquet_rows(&duck, &file)? {
                        n if n == now.rows => Ok(()),
                        n => Err(format!("its file {} holds {n} rows, not {}", file.display(), now.rows)),
                    };
                }
                // Pruned in part before: look for each event to delete.
                let there = file_events(&duck, &file)?;
                match going.iter().filter(|e| !there.contains(*e)).count() {
                    0 => Ok(()),
                    n => Err(format!(
                        "{n} of the {} to delete are not in its file {} (archived after the day was first pruned)",
                        crate::text::count(going.len() as u64, "event"),
                        file.display()
                    )),
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
