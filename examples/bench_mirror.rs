//! DuckDB copy benchmark: times the copy's first build, a refresh with
//! nothing new, refreshes after 1k, 10k and 100k new events, and compares
//! the copy's size with the SQLite file's. Prints figures, asserts nothing.
//!
//! The archive `DIR/bench-EVENTS.db` (the name `bench_query` uses) is
//! generated when missing and never written to: each run works on a copy of
//! it, `DIR/mirror-EVENTS.db`, so the figures of two runs are comparable.
//!
//! ```sh
//! export CARGO_TARGET_DIR=$HOME/.cache/auth0-archive/target
//! cargo run --release --example bench_mirror -- [EVENTS] [DIR]
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use auth0_archive::{mirror, store};

/// (type, description), picked uniformly: what matters here is the size
/// and shape of a row, not the report-shaped mix `bench_query` generates.
const TYPES: &[(&str, &str)] = &[
    ("s", "Successful login"),
    ("seacft", "Authorization Code for Access Token"),
    ("fp", "Wrong email or password."),
    ("ssa", ""),
    ("slo", "User successfully logged out"),
];
const CITIES: &[(&str, &str, f64, f64)] = &[
    ("Berlin", "DE", 52.52, 13.405),
    ("Tokyo", "JP", 35.6762, 139.6503),
    ("Lagos", "NG", 6.5244, 3.3792),
    ("Toronto", "CA", 43.6532, -79.3832),
];

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*: deterministic, dependency-free.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

fn event(rng: &mut Rng, seq: u64, ts_ms: i64) -> serde_json::Value {
    let (ty, desc) = TYPES[rng.below(TYPES.len() as u64) as usize];
    let user = rng.below(20_000);
    let city = CITIES[(user % CITIES.len() as u64) as usize];
    let at = chrono::DateTime::from_timestamp_millis(ts_ms).unwrap();
    serde_json::json!({
        "log_id": format!("900{}{:039}", at.format("%Y%m%d%H%M%S"), seq),
        "date": at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "type": ty,
        "description": desc,
        "connection": "Username-Password-Authentication",
        "connection_id": "con_8yWqzlMUd1QmEmnd",
        "client_id": format!("client{}", rng.below(8)),
        "client_name": "Acme Web",
        "ip": format!("10.{}.{}.{}", user % 200, rng.below(4), user % 250),
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
        "details": {"prompts": [], "initiatedAt": ts_ms, "completedAt": ts_ms + 120, "elapsedTime": 120},
    })
}

/// Appends `n` events from `start_ms` on, spread over `span_ms`, in pages of
/// 10,000 (one transaction and chain link each).
fn generate(db: &Path, n: u64, seed: u64, start_ms: i64, span_ms: i64, seq0: u64) {
    let mut rng = Rng(seed | 1);
    let mut conn = store::open_for_write(db).unwrap();
    let step = (span_ms / n.max(1) as i64).max(1);
    for lo in (0..n).step_by(10_000) {
        let page: Vec<serde_json::Value> = (lo..(lo + 10_000).min(n))
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
