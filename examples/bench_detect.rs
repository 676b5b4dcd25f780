//! `detect` benchmark: a generated archive (planted attacks included) of N
//! events over 30 days, then the release binary's `detect` over all of it,
//! and again after 10,000 new events. Prints figures, asserts nothing.
//!
//! ```sh
//! cargo run --release --example bench_detect -- 1000000 /tmp/bench [SIGMA_DIR]
//! # in place on an existing archive (too big to copy), both engines in turn:
//! cargo run --release --example bench_detect -- --archive /tmp/y10m/ours.db
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use auth0_archive::simulator::generator::{Spec, generate};
use auth0_archive::store;
use chrono::{TimeZone, Utc};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--archive") {
        in_place(Path::new(&args[2]));
        return;
    }
    let n: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = args
        .get(2)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("auth0-archive-bench"));
    let sigma = args.get(3).map(PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    let end = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let source = dir.join(format!("detect-{n}.db"));
    if !source.exists() {
        let t = Instant::now();
        append(&source, n, 30, end, 11);
        println!("generated {n} events in {:.1} s", t.elapsed().as_secs_f64());
    }
    // Fresh watermarks every run: work on a copy.
    let db = dir.join(format!("detect-{n}-run.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::copy(&source, &db).unwrap();
    println!(
        "machine: {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // Two copies of the archive, one per engine, so each starts with no
    // watermark; the DuckDB copy is built before the timed run.
    let lite = db.clone();
    let duck = dir.join(format!("detect-{n}-run-duck.db"));
    for suffix in ["", "-wal", "-shm", ".duckdb", ".duckdb.wal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", duck.display()));
    }
    std::fs::copy(&source, &duck).unwrap();
    let t = Instant::now();
    auth0_archive::mirror::refresh(&duck).unwrap();
    println!(
        "DuckDB copy built in {:.2} s (not part of the figures below)",
        t.elapsed().as_secs_f64()
    );
    for (engine, db) in [("duckdb", &duck), ("sqlite", &lite)] {
        let e = ["--engine", engine];
        let (secs, lines) = detect(db, &e);
        println!("[{engine}] detect, first run over {n} events: {secs:.2} s, {lines} findings");
        append(db, 10_000, 1, end + chrono::Duration::days(1), 12);
        let (secs, lines) = detect(db, &e);
        println!("[{engine}] detect after 10,000 new events: {secs:.2} s, {lines} new findings");
        let (secs, _) = detect(db, &e);
        println!("[{engine}] detect with nothing new: {secs:.2} s");
    }
    if let Some(rules) = sigma {
        let count = std::fs::read_dir(&rules).map(|d| d.count()).unwrap_or(0);
        let (secs, lines) = detect(
            &db,
            &[
                "--sigma",
                rules.to_str().unwrap(),
                "--no-reports",
                "--since",
                "2000-01-01",
            ],
        );
        println!("detect --sigma ({count} files) over {n} events: {secs:.2} s, {lines} findings");
    }
}

/// `n` generated events over `days` days before `end`, appended to `db`.
fn append(db: &Path, n: usize, days: i64, end: chrono::DateTime<Utc>, seed: u64) {
    let mut spec = Spec::recent(n, days, end);
    spec.seed = seed;
    let events = generate(&spec);
    let mut conn = store::open_for_write(db).unwrap();
    for chunk in events.chunks(10_000) {
        let body = format!(
            "[{}]",
            chunk
                .iter()
                .map(|e| e.raw.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        let page = auth0_archive::event::parse_page(body.as_bytes()).unwrap();
        let tx = conn.transaction().unwrap();
        store::events::insert_rows(&tx, &spec.tenant_host, &page).unwrap();
        tx.commit().unwrap();
    }
}

/// Times `detect` on an archive as it is, once per engine: the findings,
/// watermarks and runs of the previous engine are cleared first, so each
/// engine's first run examines every event. The 10,000 events appended
/// after each first run stay.
fn in_place(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let (n, max_ts): (i64, i64) = conn
        .query_row("SELECT count(*), max(ts) FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let t = Instant::now();
    auth0_archive::mirror::refresh(db).unwrap();
    println!(
        "DuckDB copy brought up to date in {:.2} s (not part of the figures below)",
        t.elapsed().as_secs_f64()
    );
    let mut end = chrono::DateTime::from_timestamp_millis(max_ts).unwrap();
    for (i, engine) in ["duckdb", "sqlite"].into_iter().enumerate() {
        conn.execute_batch(
            "DELETE FROM findings; DELETE FROM detect_watermarks; DELETE FROM detect_runs;",
        )
        .unwrap();
        let e = ["--engine", engine];
        let (secs, lines) = detect(db, &e);
        println!("[{engine}] detect, first run over {n} events: {secs:.2} s, {lines} findings");
        end += chrono::Duration::hours(6);
        append(db, 10_000, 1, end, 12 + i as u64);
        let (secs, lines) = detect(db, &e);
        println!("[{engine}] detect after 10,000 new events: {secs:.2} s, {lines} new findings");
        let (secs, _) = detect(db, &e);
        println!("[{engine}] detect with nothing new: {secs:.2} s");
    }
}

/// Runs `detect` with ndjson output; wall seconds and lines printed.
fn detect(db: &Path, extra: &[&str]) -> (f64, usize) {
    let t = Instant::now();
    let out = Command::new(binary())
        .arg("--db")
        .arg(db)
        .args(["detect", "--format", "ndjson", "--quiet"])
        .args(extra)
        .output()
        .expect("run detect");
    let secs = t.elapsed().as_secs_f64();
    assert!(
        out.status.success() || out.status.code() == Some(7),
        "detect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (secs, String::from_utf8_lossy(&out.stdout).lines().count())
}

/// The release binary beside this example, or BENCH_BIN.
fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("BENCH_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("exe");
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("auth0-archive"))
        .expect("target dir")
}
