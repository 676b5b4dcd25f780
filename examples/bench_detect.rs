//! `detect` benchmark: a generated archive (planted attacks included) of N
//! events over 30 days, then the release binary's `detect` over all of it,
//! and again after 10,000 new events. Prints figures, asserts nothing.
//! `BENCH_SHAPE=signup-heavy` generates the sign-up heavy tenant instead of
//! the everyday one (`simulator::generator::Shape`).
//!
//! `--growth BASE` times each detection's query alone at BASE, 4xBASE and
//! 16xBASE events over the same 30 days, on both tenant shapes and both
//! engines (or the one `--engine` names), and prints the ratio 16x/1x per
//! detection: about 16-20 for a cost of n log n, far more for one that
//! grows with a product of its inputs.
//!
//! ```sh
//! cargo run --release --example bench_detect -- 1000000 /tmp/bench [SIGMA_DIR]
//! BENCH_SHAPE=signup-heavy cargo run --release --example bench_detect -- 1000000 /tmp/bench
//! cargo run --release --example bench_detect -- --growth 10000 /tmp/bench        # ~3 min
//! cargo run --release --example bench_detect -- --growth 62500 /tmp/bench --engine duckdb
//! # in place on an existing archive (too big to copy), both engines in turn:
//! cargo run --release --example bench_detect -- --archive /tmp/y10m/ours.db
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use auth0_archive::simulator::generator::{Shape, Spec, generate};
use auth0_archive::store;
use chrono::{TimeZone, Utc};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--archive") {
        in_place(Path::new(&args[2]));
        return;
    }
    if args.get(1).map(String::as_str) == Some("--growth") {
        growth::run(&args[2..]);
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
    let shape = shape_from_env();
    println!("tenant shape: {shape:?}");
    let source = dir.join(format!("detect-{shape:?}-{n}.db"));
    if !source.exists() {
        let t = Instant::now();
        append(&source, n, 30, end, 11);
        println!("generated {n} events in {:.1} s", t.elapsed().as_secs_f64());
    }
    // Fresh watermarks every run: work on a copy.
    let db = dir.join(format!("detect-{shape:?}-{n}-run.db"));
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
    let duck = dir.join(format!("detect-{shape:?}-{n}-run-duck.db"));
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

/// The tenant shape `BENCH_SHAPE` names (`everyday`, `signup-heavy`).
fn shape_from_env() -> Shape {
    match std::env::var("BENCH_SHAPE").as_deref() {
        Ok("signup-heavy") => Shape::SignupHeavy,
        _ => Shape::Everyday,
    }
}

/// `n` generated events over `days` days before `end`, appended to `db`.
fn append(db: &Path, n: usize, days: i64, end: chrono::DateTime<Utc>, seed: u64) {
    append_shaped(db, n, days, end, seed, shape_from_env());
}

fn append_shaped(
    db: &Path,
    n: usize,
    days: i64,
    end: chrono::DateTime<Utc>,
    seed: u64,
    shape: Shape,
) {
    let mut spec = Spec::recent(n, days, end);
    spec.seed = seed;
    spec.shape = shape;
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

/// `--growth`: each detection's own query at 1x, 4x and 16x its input.
mod growth {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    use auth0_archive::choices::EngineKind as Kind;
    use auth0_archive::query::output::{Sink, Value};
    use auth0_archive::query::{Origin, catalog, engine, params};
    use auth0_archive::simulator::generator::Shape;
    use chrono::{TimeZone, Utc};

    const FACTORS: [usize; 3] = [1, 4, 16];

    /// Counts rows; the figures are the queries', not the printing's.
    struct Count(usize);
    impl Sink for Count {
        fn columns(&mut self, _: &[String]) -> std::io::Result<()> {
            Ok(())
        }
        fn row(&mut self, _: &[Value]) -> std::io::Result<()> {
            self.0 += 1;
            Ok(())
        }
        fn finish(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    pub fn run(args: &[String]) {
        let base: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(10_000);
        let dir = args
            .get(1)
            .filter(|a| !a.starts_with("--"))
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("auth0-archive-bench"));
        let engines: Vec<Kind> = match args.iter().position(|a| a == "--engine") {
            Some(i) if args.get(i + 1).map(String::as_str) == Some("sqlite") => vec![Kind::Sqlite],
            Some(i) if args.get(i + 1).map(String::as_str) == Some("duckdb") => vec![Kind::Duckdb],
            _ => vec![Kind::Duckdb, Kind::Sqlite],
        };
        std::fs::create_dir_all(&dir).unwrap();
        println!(
            "growth of each detection's query, {base} -> {} events over 30 days; one run each; {} cores",
            base * 16,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        for shape in [Shape::Everyday, Shape::SignupHeavy] {
            let times = measure(shape, base, &dir, &engines);
            print(shape, &times);
        }
    }

    /// (detection, engine) -> seconds at each factor.
    type Times = BTreeMap<(String, String), Vec<f64>>;

    fn measure(shape: Shape, base: usize, dir: &Path, engines: &[Kind]) -> Times {
        let end = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let reports: Vec<catalog::SavedQuery> = catalog::reports()
            .unwrap()
            .into_iter()
            .filter(|r| r.detection.is_some())
            .collect();
        let mut times = Times::new();
        for factor in FACTORS {
            let n = base * factor;
            let db = dir.join(format!("growth-{shape:?}-{n}.db"));
            if !db.exists() {
                super::append_shaped(&db, n, 30, end, 11, shape);
            }
            if engines.contains(&Kind::Duckdb) {
                auth0_archive::mirror::refresh(&db).unwrap();
            }
            for &kind in engines {
                let e = engine::open(&db, kind, Origin::Saved).unwrap();
                for report in &reports {
                    let (sql, values) = params::bind(report, &[]).unwrap();
                    let t = Instant::now();
                    let mut rows = Count(0);
                    e.run(&sql, &values, Origin::Saved, &mut rows)
                        .unwrap_or_else(|_| panic!("{} failed", report.name));
                    times
                        .entry((report.name.clone(), format!("{kind:?}").to_lowercase()))
                        .or_default()
                        .push(t.elapsed().as_secs_f64());
                }
            }
        }
        times
    }

    fn print(shape: Shape, times: &Times) {
        println!("\ntenant {shape:?}");
        println!(
            "{:<28} {:<7} {:>9} {:>9} {:>9} {:>7}",
            "detection", "engine", "1x s", "4x s", "16x s", "16x/1x"
        );
        let mut worst: Option<(f64, &str, &str)> = None;
        for ((name, engine), t) in times {
            let ratio = t[2] / t[0].max(1e-6);
            // Below 5 ms the ratio is mostly fixed cost and noise.
            let flag = if t[2] > 0.05 && ratio > 24.0 {
                "  <- faster than n log n"
            } else {
                ""
            };
            println!(
                "{name:<28} {engine:<7} {:>9.4} {:>9.4} {:>9.4} {ratio:>7.1}{flag}",
                t[0], t[1], t[2]
            );
            if t[2] > 0.05 && worst.is_none_or(|w| ratio > w.0) {
                worst = Some((ratio, name, engine));
            }
        }
        for engine in ["duckdb", "sqlite"] {
            let sums: Vec<f64> = (0..3)
                .map(|i| {
                    times
                        .iter()
                        .filter(|((_, e), _)| e == engine)
                        .map(|(_, t)| t[i])
                        .sum()
                })
                .collect();
            if sums[0] > 0.0 {
                println!(
                    "all detections on {engine}: {:.2} s, {:.2} s, {:.2} s (16x/1x {:.1})",
                    sums[0],
                    sums[1],
                    sums[2],
                    sums[2] / sums[0]
                );
            }
        }
        if let Some((ratio, name, engine)) = worst {
            println!("steepest (of those over 50 ms at 16x): {name} on {engine}, {ratio:.1}");
        }
    }
}
