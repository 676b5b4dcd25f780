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

use auth0_archive::cli::{Engine, ExportArgs};
use auth0_archive::query::Origin;
use auth0_archive::query::output::{Sink, Value};
use auth0_archive::query::{Stop, catalog, execute, params};
use auth0_archive::{mirror, store};

const CITIES: &[(&str, &str, f64, f64)] = &[
    ("Berlin", "DE", 52.52, 13.405),
    ("Paris", "FR", 48.8566, 2.3522),
    ("London", "GB", 51.5074, -0.1278),
    ("New York", "US", 40.7128, -74.006),
    ("San Francisco", "US", 37.7749, -122.4194),
    ("Sao Paulo", "BR", -23.5505, -46.6333),
    ("Tokyo", "JP", 35.6762, 139.6503),
    ("Sydney", "AU", -33.8688, 151.2093),
    ("Mumbai", "IN", 19.076, 72.8777),
    ("Lagos", "NG", 6.5244, 3.3792),
    ("Madrid", "ES", 40.4168, -3.7038),
    ("Toronto", "CA", 43.6532, -79.3832),
];

/// (type, weight, description) — roughly a busy B2C tenant's mix.
const TYPES: &[(&str, u32, &str)] = &[
    ("s", 420, "Successful login"),
    ("ssa", 120, ""),
    ("seacft", 80, "Authorization Code for Access Token"),
    ("sertft", 60, "Refresh Token for Access Token"),
    ("fp", 90, "Wrong email or password."),
    ("fu", 30, "Wrong email or password."),
    ("f", 10, "Invalid request"),
    ("gd_send_pn", 30, "Push notification sent"),
    ("gd_auth_succeed", 25, ""),
    ("gd_enrollment_complete", 5, "Guardian enrollment complete"),
    ("ss", 20, ""),
    ("fs", 5, "Password is too weak"),
    ("sapi", 10, "Update a client"),
    ("mgmt_api_read", 5, "Get a client"),
    ("fcoa", 10, "Wrong email or password."),
    ("scoa", 15, ""),
    ("pwd_leak", 2, "Breached password"),
    ("limit_wc", 2, "Blocked IP"),
    ("api_limit", 2, "Rate limit exceeded"),
    (
        "ferrt",
        3,
        "Unsuccessful Refresh Token exchange, reused refresh token detected",
    ),
    ("slo", 50, "User successfully logged out"),
    ("brand_new_type", 1, ""),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, dependency-free.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn event(rng: &mut Rng, seq: u64, ts_ms: i64) -> serde_json::Value {
    let total: u32 = TYPES.iter().map(|t| t.1).sum();
    let mut pick = rng.below(total as u64) as u32;
    let (ty, _, desc) = TYPES
        .iter()
        .find(|t| {
            if pick < t.1 {
                true
            } else {
                pick -= t.1;
                false
            }
        })
        .unwrap();
    let user = rng.below(20_000);
    // Users mostly stay in their home city.
    let city = if rng.below(50) == 0 {
        CITIES[rng.below(CITIES.len() as u64) as usize]
    } else {
        CITIES[(user % CITIES.len() as u64) as usize]
    };
    let ip = format!("10.{}.{}.{}", user % 200, rng.below(4), user % 250);
    let date = chrono::DateTime::from_timestamp_millis(ts_ms)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let details = if *ty == "gd_enrollment_complete" {
        serde_json::json!({"authenticator": {"type": "phone", "phone_number": format!("+1555{:07}", user % 19_000)}})
    } else {
        serde_json::json!({"prompts": [], "initiatedAt": ts_ms, "completedAt": ts_ms + 120, "elapsedTime": 120})
    };
    serde_json::json!({
        "log_id": format!("900{}{:039}", chrono::DateTime::from_timestamp_millis(ts_ms).unwrap().format("%Y%m%d%H%M%S"), seq),
        "date": date,
        "type": ty,
        "description": desc,
        "connection": "Username-Password-Authentication",
        "connection_id": "con_8yWqzlMUd1QmEmnd",
        "client_id": format!("client{}", rng.below(8)),
        "client_name": "Acme Web",
        "ip": ip,
        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
        "hostname": "acme.us.auth0.com",
        "user_id": format!("auth0|{user:024x}"),
        "user_name": format!("user{user}@example.com"),
        "strategy": "auth0",
        "strategy_type": "database",
        "isMobile": rng.below(3) == 0,
        "tenant_name": "acme",
        "location_info": {
            "country_code": city.1, "country_code3": city.1, "country_name": city.1,
            "city_name": city.0, "latitude": city.2, "longitude": city.3,
            "time_zone": "Europe/Berlin", "continent_code": "EU"
        },
        "details": details,
    })
}

/// Appends `n` events starting at `start_ms`, spread over `span_ms`.
fn generate(db: &Path, n: u64, seed: u64, start_ms: i64, span_ms: i64, seq0: u64) {
    let mut rng = Rng(seed | 1);
    let mut conn = store::open_for_write(db).unwrap();
    let step = (span_ms / n.max(1) as i64).max(1);
    for chunk in 0..n.div_ceil(10_000) {
        let lo = chunk * 10_000;
        let hi = (lo + 10_000).min(n);
        let page: Vec<serde_json::Value> = (lo..hi)
            .map(|i| {
                let jitter = rng.below(step as u64) as i64;
                event(&mut rng, seq0 + i, start_ms + i as i64 * step + jitter)
            })
            .collect();
        let body = serde_json::to_vec(&page).unwrap();
        let page = auth0_archive::event::parse_page(&body).unwrap();
        let tx = conn.transaction().unwrap();
        store::events::insert_rows(&tx, "acme.us.auth0.com", &page).unwrap();
        tx.commit().unwrap();
    }
}

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
    match execute(db, engine, &sql, &values, Origin::Report, &mut sink) {
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
            &ExportArgs {
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
