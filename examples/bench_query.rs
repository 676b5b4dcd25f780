//! Query and export benchmark: generates an archive of N events (default
//! 1,000,000), then times every saved report on both engines, the DuckDB
//! refresh for new rows, and Parquet export. Prints figures, asserts nothing.
//!
//! ```sh
//! export CARGO_TARGET_DIR=$HOME/.cache/auth0-archive/target
//! cargo run --release --example bench_query -- [EVENTS] [DIR]
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use auth0_archive::choices::EngineKind as Engine;
use auth0_archive::config::commands::ExportOptions;
use auth0_archive::mirror;
use auth0_archive::query::Origin;
use auth0_archive::query::output::{Sink, Value};
use auth0_archive::query::{Stop, catalog, execute, params};

#[path = "common/archive.rs"]
mod archive;
use archive::generate;

struct Count(u64);
impl Sink for Count {
    fn columns(&mut self, _: &[String]) -> io::Result<()> {
        Ok(())
    }
    fn row(&mut self, _: &[Value]) -> io::Result<()> {
        self.0 += 1;
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn time_report(db: &Path, engine: Engine, name: &str, args: &[String]) -> (f64, u64) {
    let report = catalog::find(name).unwrap();
    let (sql, values) = params::bind(&report, args).unwrap();
    let mut sink = Count(0);
    let t = Instant::now();
    match execute(db, engine, &sql, &values, Origin::Saved, &mut sink) {
        Ok(()) => {}
        Err(Stop::Err(e)) => panic!("{name}: {e}"),
        Err(Stop::Pipe) => unreachable!(),
    }
    (t.elapsed().as_secs_f64(), sink.0)
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let m = e.metadata().unwrap();
                    if m.is_dir() {
                        dir_size(&e.path())
                    } else {
                        m.len()
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    // `--archive PATH` times an existing archive (for example the one
    // `bench_sync one --events 10000000 --days 365` leaves in BENCH_KEEP)
    // instead of generating one; `--rounds N` measures the best of N.
    let rounds: usize = flag("--rounds").and_then(|v| v.parse().ok()).unwrap_or(3);
    let (db, dir, n, start_ms, span) = match flag("--archive") {
        Some(path) => {
            let db = PathBuf::from(path);
            let dir = db.parent().unwrap().to_path_buf();
            let c = rusqlite::Connection::open(&db).unwrap();
            let (n, max_ts): (i64, i64) = c
                .query_row("SELECT count(*), max(ts) FROM events", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .unwrap();
            (db, dir, n as u64, max_ts + 1, 0)
        }
        None => {
            let n: u64 = args
                .get(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(1_000_000);
            let dir = args
                .get(2)
                .map(PathBuf::from)
                .unwrap_or_else(|| std::env::temp_dir().join("auth0-archive-bench"));
            std::fs::create_dir_all(&dir).unwrap();
            let db = dir.join(format!("bench-{n}.db"));
            let start_ms = 1_790_000_000_000; // 2026-09-21
            let span = 30 * 86_400_000;
            if !db.exists() {
                let t = Instant::now();
                generate(&db, n, 42, start_ms, span, 0);
                println!("generated {n} events in {:.1} s", t.elapsed().as_secs_f64());
            }
            (db, dir, n, start_ms, span)
        }
    };
    let _ = std::fs::remove_file(mirror::mirror_path(&db));
    let sqlite_size = std::fs::metadata(&db).unwrap().len()
        + std::fs::metadata(db.with_extension("db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "archive: {} ({:.0} MB)",
        db.display(),
        sqlite_size as f64 / 1e6
    );

    let t = Instant::now();
    let (_, r) = mirror::refresh(&db).unwrap();
    println!(
        "DuckDB copy built: {} rows in {:.2} s",
        r.rows,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    mirror::refresh(&db).unwrap();
    println!(
        "DuckDB refresh with no new rows: {:.3} s",
        t.elapsed().as_secs_f64()
    );

    println!(
        "\n{:<22} {:>10} {:>10} {:>8}",
        "report", "sqlite s", "duckdb s", "rows"
    );
    let sample_user = {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row(
            "SELECT user_id FROM events WHERE user_id IS NOT NULL LIMIT 1",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap()
    };
    for report in catalog::reports().unwrap() {
        let args: Vec<String> = if report.name == "user-timeline" {
            vec![format!("user={sample_user}")]
        } else {
            vec![]
        };
        // Warm once (page cache, DuckDB open), then measure the best of three.
        time_report(&db, Engine::Sqlite, &report.name, &args);
        time_report(&db, Engine::Duckdb, &report.name, &args);
        let best = |engine| {
            (0..rounds)
                .map(|_| time_report(&db, engine, &report.name, &args))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap()
        };
        let (ls, lrows) = best(Engine::Sqlite);
        let (ds, drows) = best(Engine::Duckdb);
        assert_eq!(lrows, drows, "{}", report.name);
        println!("{:<22} {:>10.3} {:>10.3} {:>8}", report.name, ls, ds, lrows);
    }

    println!();
    let mut seq = n;
    for add in [1_000u64, 10_000, 100_000] {
        generate(&db, add, 7 + add, start_ms + span, 86_400_000, seq);
        seq += add;
        let t = Instant::now();
        let (_, r) = mirror::refresh(&db).unwrap();
        println!(
            "DuckDB refresh after {add} new rows: {:.3} s (appended {}, rebuilt {})",
            t.elapsed().as_secs_f64(),
            r.appended,
            r.rebuilt
        );
    }

    let out = dir.join(format!("parquet-{n}"));
    let _ = std::fs::remove_dir_all(&out);
    let sqlite_size = std::fs::metadata(&db).unwrap().len();
    let export = |label: &str| {
        let t = Instant::now();
        auth0_archive::export::run(
            &db,
            &ExportOptions {
                out: out.clone(),
                since: None,
                until: None,
            },
        )
        .unwrap();
        println!("{label}: {:.2} s", t.elapsed().as_secs_f64());
    };
    export("export (all days, copy current)");
    let pq = dir_size(&out);
    println!(
        "Parquet {:.0} MB vs SQLite {:.0} MB: {:.1}%",
        pq as f64 / 1e6,
        sqlite_size as f64 / 1e6,
        100.0 * pq as f64 / sqlite_size as f64
    );
    export("export again, nothing changed");
    generate(&db, 500, 99, start_ms + span + 3_600_000, 60_000, seq);
    export("export after 500 late events in one day");
}
