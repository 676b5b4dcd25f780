//! `--parquet DIR`: reports and ad-hoc SQL over a `query export` directory
//! instead of the archive. DuckDB in memory defines `events` over the day
//! files the manifest lists, with `date` and `ts` as the archive has them
//! (ISO text and epoch milliseconds) and a `rowid` in (ts, log_id) order,
//! plus `event_types` and the helper
//! macros of the DuckDB copy, so the same SQL runs unchanged.
//!
//! The sandbox: DuckDB may read exactly those files (`allowed_paths`) and no
//! other file; the configuration is then locked, and only SELECT statements
//! run, so nothing can write into the export either.

use std::path::{Path, PathBuf};

use duckdb::{Config, Connection};

use crate::error::{Context, Error, Result};
use crate::event::event_columns;
use crate::export::{self, Manifest, sql_string};
use crate::mirror::{self, duck_type};
use crate::store;

/// The day files of the export in `dir`. Unless `partial`, the export must
/// be complete (manifest and `_SUCCESS`) and every listed file present.
fn day_files(dir: &Path, partial: bool) -> Result<Vec<PathBuf>> {
    let path = dir.join(export::MANIFEST);
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::usage(format!(
            "{} is not a `query export` directory: cannot read {} ({e})",
            dir.display(),
            path.display()
        ))
    })?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| Error::usage(format!("{} is damaged ({e}): export again", path.display())))?;
    if manifest.format != export::FORMAT {
        return Err(Error::usage(format!(
            "{} was written by another version (manifest format {}, this one reads {}): \
             run `auth0-archive query export --out {}` again",
            dir.display(),
            manifest.format,
            export::FORMAT,
            dir.display()
        )));
    }
    if !partial && (!manifest.complete || !dir.join(export::SUCCESS).is_file()) {
        return Err(Error::usage(format!(
            "{} is not a complete export (interrupted or still running): export again, \
             or pass --partial to read the days it lists",
            dir.display()
        )));
    }
    let mut files = Vec::new();
    for (day, entry) in &manifest.days {
        let file = dir.join(&entry.file);
        if file.is_file() {
            files.push(file);
        } else if !partial {
            return Err(Error::usage(format!(
                "{} lists {day} but {} is missing: export again, or pass --partial",
                path.display(),
                file.display()
            )));
        }
    }
    Ok(files)
}

/// `events` as the archive presents it: every column in the archive's order
/// and type; `ts` back to epoch ms and `date` to the stored ISO text, both
/// from the file's UTC timestamp.
fn events_view(files: &[PathBuf]) -> Result<String> {
    let cols: Vec<String> = event_columns()
        .map(|c| match c.name {
            "date" => "epoch_iso(ts) AS date".to_string(),
            n => format!("CAST({n} AS {}) AS {n}", duck_type(c.kind)),
        })
        .collect();
    if files.is_empty() {
        let empty: Vec<String> = event_columns()
            .map(|c| format!("CAST(NULL AS {}) AS {}", duck_type(c.kind), c.name))
            .collect();
        return Ok(format!(
            "CREATE VIEW events AS SELECT {}, CAST(NULL AS BIGINT) AS rowid WHERE false",
            empty.join(", ")
        ));
    }
    let list = files
        .iter()
        .map(|f| {
            f.to_str().map(sql_string).ok_or_else(|| {
                Error::usage(format!("export path {} is not valid UTF-8", f.display()))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // Reports break ties by `rowid`, the archive's insertion order, which
    // the files do not carry; the order of (ts, log_id) stands in for it.
    Ok(format!(
        "CREATE VIEW events AS SELECT {}, row_number() OVER (ORDER BY ts, log_id) AS rowid FROM \
         (SELECT * REPLACE (epoch_ms(ts) AS ts) FROM read_parquet([{}], hive_partitioning = false))",
        cols.join(", "),
        list.join(", ")
    ))
}

/// An in-memory DuckDB over the export in `dir`, sealed: it reads only the
/// export's day files.
pub fn open(dir: &Path, partial: bool) -> Result<Connection> {
    let files = day_files(dir, partial)?;
    let config = Config::default()
        .enable_autoload_extension(false)
        .context("cannot configure DuckDB")?;
    let conn = Connection::open_in_memory_with_flags(config).context("cannot start DuckDB")?;
    let fail = |e: duckdb::Error| Error::duckdb("cannot set up the export's tables", e);
    let paths: Vec<String> = files
        .iter()
        .filter_map(|f| f.to_str().map(sql_string))
        .collect();
    conn.execute_batch(&format!(
        "SET allowed_paths = [{}]; SET allowed_directories = [];",
        paths.join(", ")
    ))
    .map_err(fail)?;
    conn.execute_batch(mirror::MACROS).map_err(fail)?;
    conn.execute_batch(&events_view(&files)?).map_err(fail)?;
    conn.execute_batch(
        "CREATE TABLE event_types (code VARCHAR NOT NULL, description VARCHAR NOT NULL, category VARCHAR NOT NULL)",
    )
    .map_err(fail)?;
    {
        let mut app = conn.appender("event_types").map_err(fail)?;
        for (code, desc, cat) in store::catalogue() {
            app.append_row([code, desc, cat]).map_err(fail)?;
        }
    }
    conn.execute_batch(
        "SET enable_external_access = false;
         SET default_null_order = 'nulls_first_on_asc_last_on_desc';
         SET lock_configuration = true;",
    )
    .map_err(fail)?;
    Ok(conn)
}

/// Refuses anything but one SELECT (or WITH, FROM, DESCRIBE ... that DuckDB
/// parses as one): the connection can reach the export's files, so no
/// statement may write.
pub fn check_select(conn: &Connection, sql: &str) -> Result<(), String> {
    let verdict: String = conn
        .query_row("SELECT json_serialize_sql(?)", [sql], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_str(&verdict).map_err(|e| e.to_string())?;
    if v["error"].as_bool() == Some(true) {
        let msg = v["error_message"].as_str().unwrap_or("not a SELECT");
        return Err(if msg.contains("Only SELECT") {
            "only SELECT statements run over --parquet".to_string()
        } else {
            msg.to_string()
        });
    }
    Ok(())
}
