//! DuckDB copy benchmark: times the copy's first build, a refresh with
//! nothing new, refreshes after 1k, 10k and 100k new events, and compares
//! the copy's size with the SQLite file's. Prints figures, asserts nothing.
//!
//! The archive `DIR/bench-EVENTS.db` (`bench_query`'s, from the same generator) is
//! generated when missing and never written to: each run works on a copy of
//! it, `DIR/mirror-EVENTS.db`, so the figures of two runs are comparable.
//!
//! ```sh
//! export CARGO_TARGET_DIR=$HOME/.cache/auth0-archive/target
//! cargo run --release --example bench_mirror -- [EVENTS] [DIR]
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use auth0_archive::mirror;

#[path = "common/archive.rs"]
mod archive;
use archive::generate;

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = args
        .get(2)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("auth0-archive-bench"));
    std::fs::create_dir_all(&dir).unwrap();
    let base = dir.join(format!("bench-{n}.db"));
    let start_ms = 1_790_000_000_000; // 2026-09-21
    let span = 30 * 86_400_000;
    if !base.exists() {
        let t = Instant::now();
        generate(&base, n, 42, start_ms, span, 0);
        println!("generated {n} events in {:.1} s", t.elapsed().as_secs_f64());
    }
    let db = dir.join(format!("mirror-{n}.db"));
    for suffix in ["", "-wal", "-shm", ".duckdb", ".duckdb.wal"] {
        let mut p = db.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    std::fs::copy(&base, &db).unwrap();
    let rows: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    let rows = rows as u64;
    println!(
        "archive: {} ({rows} events, {:.0} MB)",
        db.display(),
        size(&db) as f64 / 1e6
    );

    let t = Instant::now();
    let (_, r) = mirror::refresh(&db).unwrap();
    let s = t.elapsed().as_secs_f64();
    println!(
        "first build: {} rows in {s:.2} s = {:.0} rows/s",
        r.rows,
        r.rows as f64 / s
    );
    if args.get(3).is_some_and(|a| a == "build-only") {
        return;
    }
    let t = Instant::now();
    mirror::refresh(&db).unwrap();
    println!("no-op refresh: {:.3} s", t.elapsed().as_secs_f64());

    let mut seq = rows + 1_000_000_000;
    for add in [1_000u64, 10_000, 100_000] {
        generate(&db, add, 7 + add, start_ms + span, 86_400_000, seq);
        seq += add;
        let t = Instant::now();
        let (_, r) = mirror::refresh(&db).unwrap();
        println!(
            "refresh after {add} new events: {:.3} s (appended {}, rebuilt {})",
            t.elapsed().as_secs_f64(),
            r.appended,
            r.rebuilt
        );
    }
    let t = Instant::now();
    mirror::refresh(&db).unwrap();
    println!("no-op refresh: {:.3} s", t.elapsed().as_secs_f64());

    let (sqlite, duck) = (
        size(&db) + size(&db.with_extension("db-wal")),
        size(&mirror::mirror_path(&db)),
    );
    println!(
        "sizes: SQLite {:.0} MB, DuckDB copy {:.0} MB ({:.0}% of SQLite)",
        sqlite as f64 / 1e6,
        duck as f64 / 1e6,
        100.0 * duck as f64 / sqlite as f64
    );
}
