//! Sync benchmark: serves a generated tenant on loopback with a configurable
//! rate limit and latency, runs the release binary against it, and compares
//! it with a plain serial reference loop and with SQLite's own insert cost
//! (the storage floor), all measured in the same run.
//!
//! ```sh
//! cargo run --release --example bench_sync -- all          # the three scenarios of BENCHMARKS.md
//! cargo run --release --example bench_sync -- pacing       # every limiter of BENCHMARKS.md "Pacing"
//! cargo run --release --example bench_sync -- catchup [--events 1000000]  # cron-style catch-ups
//! cargo run --release --example bench_sync -- one --events 200000 --rps 10 --latency-ms 50
//! cargo run --release --example bench_sync -- lean --per-day 15000 --days 30
//! # lean: bytes/event after a fresh backfill of DAYS days, then after DAYS
//! # daily catch-up syncs, with SQLite's per-object space (dbstat).
//! # --fixed-window: the limit is N requests per 1 s window instead of a token bucket;
//! # --other-rps M: another client spends M req/s of the same limit.
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use auth0_archive::simulator::generator::{Spec, generate};
use auth0_archive::simulator::{
    FakeTenant, Limiter, RateLimit, RateLimitHeaders, StoredEvent, TenantClock, TenantState,
    WindowPhase,
};
use chrono::{TimeZone, Utc};

/// What one process cost.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    wall: f64,
    cpu: f64,
    max_rss_kb: i64,
}

#[derive(Debug, Clone)]
struct Scenario {
    name: &'static str,
    events: usize,
    rps: Option<f64>,
    /// The limit is `rps` requests per 1 s window rather than a token
    /// bucket of `rps` tokens refilled at `rps` a second.
    fixed_window: bool,
    /// The bucket's burst, when not `rps`.
    burst: Option<f64>,
    /// Where windows begin, and how limits are told.
    window_phase: WindowPhase,
    headers: RateLimitHeaders,
    /// The tenant's clock is this many seconds ahead of ours.
    clock_offset: f64,
    /// Another client spending this many requests a second of the limit.
    other_rps: Option<f64>,
    latency_ms: u64,
    /// The events are spread over this many days before 2026-11-20.
    days: i64,
    reference: bool,
    /// Also measure SQLite's storage floor for the archived rows.
    floor: bool,
}

impl Scenario {
    fn new(name: &'static str, events: usize, rps: Option<f64>, latency_ms: u64) -> Self {
        Scenario {
            name,
            events,
            rps,
            fixed_window: false,
            burst: None,
            window_phase: WindowPhase::UnixAligned,
            headers: RateLimitHeaders::ResetEpoch,
            clock_offset: 0.0,
            other_rps: None,
            latency_ms,
            days: 7,
            reference: false,
            floor: true,
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("reference") {
        reference_loop(&args[2], Path::new(&args[3]));
        return;
    }
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if args.get(1).map(String::as_str) == Some("lean") {
        let per_day = flag("--per-day").and_then(|v| v.parse().ok());
        let days = flag("--days").and_then(|v| v.parse().ok());
        lean(per_day.unwrap_or(15_000), days.unwrap_or(30));
        return;
    }
    let scenarios = match args.get(1).map(String::as_str) {
        Some("one") => vec![Scenario {
            fixed_window: args.iter().any(|a| a == "--fixed-window"),
            other_rps: flag("--other-rps").and_then(|v| v.parse().ok()),
            reference: !args.iter().any(|a| a == "--no-reference"),
            floor: !args.iter().any(|a| a == "--no-floor"),
            days: flag("--days").and_then(|v| v.parse().ok()).unwrap_or(7),
            ..Scenario::new(
                "custom",
                flag("--events")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(100_000),
                flag("--rps").and_then(|v| v.parse().ok()),
                flag("--latency-ms")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            )
        }],
        Some("pacing") => pacing_scenarios(),
        _ => vec![
            Scenario {
                reference: true,
                ..Scenario::new("latency 50 ms, no rate limit", 50_000, None, 50)
            },
            Scenario::new("10 req/s limit, 50 ms latency", 200_000, Some(10.0), 50),
            Scenario {
                reference: true,
                ..Scenario::new("instant server, CPU and memory", 1_000_000, None, 0)
            },
        ],
    };
    if args.get(1).map(String::as_str) == Some("catchup") {
        let archived = flag("--events").and_then(|v| v.parse().ok());
        catch_up(archived.unwrap_or(1_000_000), 1_000, 3);
        return;
    }
    let pacing = args.get(1).map(String::as_str) == Some("pacing");
    println!(
        "machine: {} cores; auth0-archive {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        env!("CARGO_PKG_VERSION")
    );
    let mut table = Vec::new();
    for s in scenarios {
        table.push((s.clone(), run_scenario(&s)));
    }
    if pacing {
        println!("\n| limiter | events | wall | % of the sustained ceiling | 429s |");
        println!("|---|---|---|---|---|");
        for (s, o) in table {
            println!(
                "| {} | {} | {:.1} s | **{:.0}%** of {:.0} events/s | {} of {} = **{:.2}%** |",
                s.name,
                s.events,
                o.wall,
                100.0 * o.share_of_ceiling,
                o.ceiling,
                o.rate_limited,
                o.requests,
                100.0 * o.rate_limited as f64 / o.requests.max(1) as f64
            );
        }
    }
}

/// Every limiter of the pacing table, each about 50 s at its sustained
/// ceiling (rps x 100 events a second; with another client, what it leaves).
fn pacing_scenarios() -> Vec<Scenario> {
    let at_ceiling = |rps: f64| (rps * 100.0 * 50.0) as usize;
    let bucket = |name, rps: f64, burst: f64| Scenario {
        burst: Some(burst),
        floor: false,
        ..Scenario::new(name, at_ceiling(rps), Some(rps), 50)
    };
    let window = |name, phase| Scenario {
        fixed_window: true,
        window_phase: phase,
        floor: false,
        ..Scenario::new(name, at_ceiling(10.0), Some(10.0), 50)
    };
    vec![
        // Twice as long: slicing a short backfill costs a partial page per
        // slice, which at 2 req/s would weigh on the figure.
        Scenario {
            events: 2 * at_ceiling(2.0),
            ..bucket("token bucket 2 req/s, burst 2 (the Free plan)", 2.0, 2.0)
        },
        window(
            "fixed window 10 per 1 s from the first request after the last ended, reset rounded up",
            WindowPhase::FromFirstRequest,
        ),
        bucket("token bucket 16 req/s, burst 16", 16.0, 16.0),
        bucket("token bucket 10 req/s, burst 120", 10.0, 120.0),
        Scenario {
            other_rps: Some(3.0),
            events: at_ceiling(7.0),
            ..bucket(
                "token bucket 10 req/s, burst 10, another client spending 3 req/s",
                10.0,
                10.0,
            )
        },
        bucket("token bucket 10 req/s, burst 10", 10.0, 10.0),
        window(
            "fixed window 10 per 1 s on the Unix second",
            WindowPhase::UnixAligned,
        ),
        Scenario {
            other_rps: Some(3.0),
            events: at_ceiling(7.0),
            ..window(
                "fixed window 10 per 1 s on the Unix second, another client spending 3 req/s",
                WindowPhase::UnixAligned,
            )
        },
        Scenario {
            clock_offset: 2.0,
            ..window(
                "fixed window 10 per 1 s on the Unix second, tenant clock 2 s ahead",
                WindowPhase::UnixAligned,
            )
        },
        Scenario {
            clock_offset: -2.0,
            ..bucket(
                "token bucket 2 req/s, burst 2, tenant clock 2 s behind",
                2.0,
                2.0,
            )
        },
        Scenario {
            headers: RateLimitHeaders::ResetSecondsFromNow,
            ..window(
                "fixed window 10 per 1 s from the first request, reset in seconds from now",
                WindowPhase::FromFirstRequest,
            )
        },
        Scenario {
            headers: RateLimitHeaders::None,
            ..bucket(
                "token bucket 10 req/s, burst 10, no rate-limit headers (429 + Retry-After only)",
                10.0,
                10.0,
            )
        },
    ]
}

/// What one scenario measured of our sync.
struct Outcome {
    wall: f64,
    ceiling: f64,
    share_of_ceiling: f64,
    requests: u64,
    rate_limited: u64,
}

/// `n` events over the `days` days before 2026-11-20, generated a week at a
/// time so that a year of 10M events needs memory for the events alone.
fn events(n: usize, days: i64) -> Vec<StoredEvent> {
    let end = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
    let weeks = (days.max(1) + 6) / 7;
    let mut out = Vec::with_capacity(n);
    for w in 0..weeks {
        let from = (w * 7).min(days);
        let to = ((w + 1) * 7).min(days.max(1));
        let share = n * (to - from) as usize / days.max(1) as usize;
        let count = if w + 1 == weeks { n - out.len() } else { share };
        let mut spec = Spec::recent(count, to - from, end - chrono::Duration::days(days - to));
        spec.seed ^= w as u64;
        spec.plant_patterns = false;
        out.extend(generate(&spec));
    }
    out
}

fn run_scenario(s: &Scenario) -> Outcome {
    println!("\n== {} : {} events ==", s.name, s.events);
    let mut evs = events(s.events, s.days);
    let raw_bytes: usize = evs.iter().map(|e| e.raw.len()).sum();
    println!("mean event JSON: {} bytes", raw_bytes / evs.len().max(1));
    // BENCH_KEEP=DIR keeps the databases there for inspection.
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = match std::env::var_os("BENCH_KEEP") {
        Some(keep) => {
            let keep = PathBuf::from(keep);
            let _ = std::fs::remove_file(keep.join("ours.db"));
            let _ = std::fs::remove_file(keep.join("reference.db"));
            std::fs::create_dir_all(&keep).expect("keep dir");
            keep
        }
        None => temp.path().to_path_buf(),
    };

    let outcome;
    let ours = {
        // The tenant takes the events unless the reference loop needs them
        // again (at 10M events a second copy would not fit in memory).
        let served = if s.reference {
            evs.clone()
        } else {
            std::mem::take(&mut evs)
        };
        let tenant = start(served, s);
        let db = dir.join("ours.db");
        // BENCH_PERF=FILE profiles our sync with `perf record`.
        let mut cmd = match std::env::var("BENCH_PERF") {
            Ok(file) => {
                let mut c = Command::new("perf");
                c.args(["record", "-F", "1999", "-o", &file, "--"])
                    .arg(binary());
                c
            }
            Err(_) => Command::new(binary()),
        };
        let cost = run_child(
            cmd.arg("--db")
                .arg(&db)
                .args(["sync", "--quiet", "--json"])
                .env("AUTH0_BASE_URL", tenant.base_url())
                .env("AUTH0_CLIENT_ID", "test-client-id")
                .env("AUTH0_CLIENT_SECRET", "test-client-secret"),
        );
        let stats = tenant.stats();
        report(
            "auth0-archive",
            s.events,
            cost,
            stats.log_requests,
            stats.rate_limited,
            &db,
            s.rps,
        );
        let ceiling = (s.rps.unwrap_or(0.0) - s.other_rps.unwrap_or(0.0)) * 100.0;
        outcome = Outcome {
            wall: cost.wall,
            ceiling,
            share_of_ceiling: s.events as f64 / cost.wall / ceiling.max(1e-9),
            requests: stats.log_requests,
            rate_limited: stats.rate_limited,
        };
        if let Some(other) = s.other_rps {
            let share = s.rps.unwrap_or(0.0) - other;
            println!(
                "{:>15}: {:.0}% of the {:.0} events/s left by the other client; it sent {} requests, {} x 429 ({:.2}%)",
                "shared limit",
                100.0 * s.events as f64 / cost.wall / (share * 100.0),
                share * 100.0,
                stats.other_requests,
                stats.other_rate_limited,
                100.0 * stats.other_rate_limited as f64 / stats.other_requests.max(1) as f64
            );
        }
        (cost, db)
    };

    if s.reference {
        let tenant = start(std::mem::take(&mut evs), s);
        let db = dir.join("reference.db");
        let cost = run_child(
            Command::new(std::env::current_exe().expect("exe"))
                .arg("reference")
                .arg(tenant.base_url())
                .arg(&db),
        );
        let stats = tenant.stats();
        report(
            "reference loop",
            s.events,
            cost,
            stats.log_requests,
            stats.rate_limited,
            &db,
            s.rps,
        );
        println!(
            "ratio: {:.2}x faster wall, {:.2}x less CPU per event",
            cost.wall / ours.0.wall,
            cost.cpu / ours.0.cpu
        );
    }

    if !s.floor {
        return outcome;
    }
    for (defer, what) in [
        (false, "INSERT ... SELECT into the same schema and indexes"),
        (true, "the same, ip/user/login indexes created afterwards"),
    ] {
        let floor = storage_floor(&ours.1, defer);
        println!(
            "storage floor ({what}): {:.0} rows per CPU-second; ours: {:.0} events per CPU-second ({:.2}x the floor's CPU)",
            floor,
            s.events as f64 / ours.0.cpu,
            ours.0.cpu / (s.events as f64 / floor)
        );
    }
    outcome
}

fn start(evs: Vec<StoredEvent>, s: &Scenario) -> FakeTenant {
    let mut state = TenantState::default();
    state.push_events(evs);
    // The tenant's clock just after its newest event, whatever today is.
    if let Some(newest) = state.newest_event_time() {
        state.clock = TenantClock::reading(newest + chrono::Duration::minutes(1));
    }
    // Or just that far from ours (the events are then weeks old).
    if s.clock_offset != 0.0 {
        state.clock = TenantClock::skewed(s.clock_offset);
    }
    state.latency = Duration::from_millis(s.latency_ms);
    state.window_phase = s.window_phase;
    state.rate_limit_headers = s.headers;
    if let Some(rps) = s.rps {
        state.set_limiter(Some(if s.fixed_window {
            Limiter::FixedWindow {
                limit: rps as u64,
                window_secs: 1,
            }
        } else {
            Limiter::TokenBucket(RateLimit {
                per_second: rps,
                burst: s.burst.unwrap_or(rps),
            })
        }));
        state.set_other_client(s.other_rps);
    }
    FakeTenant::start(state).expect("tenant")
}

fn report(who: &str, n: usize, c: Cost, requests: u64, r429: u64, db: &Path, rps: Option<f64>) {
    let bytes = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    let ceiling = rps
        .map(|r| {
            format!(
                ", {:.0}% of the {:.0} events/s ceiling",
                100.0 * n as f64 / c.wall / (r * 100.0),
                r * 100.0
            )
        })
        .unwrap_or_default();
    println!(
        "{who:>15}: {:.2}s wall, {:.0} events/s{ceiling}; {:.2}s CPU, {:.0} events/CPU-s; {requests} requests, {r429} x 429 ({:.2}%); peak RSS {:.1} MB; {:.0} bytes/event",
        c.wall,
        n as f64 / c.wall,
        c.cpu,
        n as f64 / c.cpu.max(1e-9),
        100.0 * r429 as f64 / requests.max(1) as f64,
        c.max_rss_kb as f64 / 1024.0,
        bytes as f64 / n as f64
    );
}

/// The release binary beside this example, or BENCH_BIN (to compare builds).
fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("BENCH_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("exe");
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("auth0-archive"))
        .expect("release binary beside examples/")
}

/// Runs a child to completion and reads its CPU time and peak RSS.
// The child is reaped by `wait4`, which also returns its resource usage.
#[allow(clippy::zombie_processes)]
/// Writes back dirty pages left by the previous measurement, so that the
/// kernel's write-back throttling does not bill them to the next process.
fn settle() {
    unsafe { libc::sync() };
    std::thread::sleep(Duration::from_secs(2));
}

// The child is reaped by the wait4 loop below, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run_child(cmd: &mut Command) -> Cost {
    settle();
    let started = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // ru_maxrss would include the pre-exec image shared with this (large)
    // process, so peak RSS is sampled from /proc while the child runs.
    let own_cmdline = std::fs::read("/proc/self/cmdline").unwrap_or_default();
    let mut hwm_kb = 0i64;
    loop {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
        let r = unsafe { libc::waitid(libc::P_PID, child.id(), &mut info, flags) };
        if r != 0 || unsafe { info.si_pid() } != 0 {
            break;
        }
        // Until exec, the child is a copy of this process: skip it.
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap_or_default();
        if cmdline != own_cmdline {
            hwm_kb = hwm_kb.max(peak_rss_kb(child.id()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = started.elapsed().as_secs_f64();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed: {status}"
    );
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Cost {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kb: hwm_kb,
    }
}

/// VmHWM of a running process in kB; for a wrapper such as perf, the
/// largest of it and its children.
fn peak_rss_kb(pid: u32) -> i64 {
    let read = |pid: &str| -> i64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    };
    let mut best = read(&pid.to_string());
    if let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
        for c in children.split_whitespace() {
            best = best.max(read(c));
        }
    }
    best
}

fn self_cpu() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Rows per CPU-second SQLite needs to insert the archived rows into an
/// empty table with the same schema and indexes. With `defer`, the
/// random-order indexes are created after the copy instead, as a long
/// backfill does (store::indexes): SQLite's own cost for our strategy.
fn storage_floor(db: &Path, defer: bool) -> f64 {
    const DEFERRED: [&str; 3] = ["events_ip ", "events_user_ts ", "events_login_user "];
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        .expect("pragmas");
    let ddl: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_master WHERE tbl_name = 'events' AND sql IS NOT NULL")
            .expect("schema");
        stmt.query_map([], |r| r.get::<_, String>(0))
            .expect("rows")
            .map(Result::unwrap)
            .collect()
    };
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for sql in ddl {
        let later = defer && DEFERRED.iter().any(|name| sql.contains(name));
        let sql = sql
            .replace("CREATE TABLE events", "CREATE TABLE floor_events")
            .replace(" ON events", " ON floor_events");
        let sql = sql.replacen("CREATE INDEX events_", "CREATE INDEX floor_events_", 1);
        if later {
            after.push(sql);
        } else {
            before.push(sql);
        }
    }
    for sql in &before {
        conn.execute_batch(sql).expect("ddl");
    }
    let n: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .expect("count");
    settle();
    let start = self_cpu();
    conn.execute_batch("BEGIN; INSERT INTO floor_events SELECT * FROM events; COMMIT;")
        .expect("copy");
    for sql in &after {
        conn.execute_batch(sql).expect("index");
    }
    let cpu = self_cpu() - start;
    conn.execute_batch("DROP TABLE floor_events").expect("drop");
    n as f64 / cpu.max(1e-9)
}

/// The plain reference: fetch a page, parse it into JSON values, insert its
/// rows in one transaction, repeat. No pipelining, no borrowing, statements
/// prepared per row, SQLite's default journal and sync settings.
fn reference_loop(base: &str, db: &Path) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let http = reqwest::Client::new();
        let token: serde_json::Value = http
            .post(format!("{base}/oauth/token"))
            .json(&serde_json::json!({"grant_type":"client_credentials","client_id":"test-client-id","client_secret":"test-client-secret","audience":format!("{base}/api/v2/")}))
            .send().await.expect("token").json().await.expect("token json");
        let token = token["access_token"].as_str().expect("access_token").to_string();
        // Plain: SQLite's defaults (rollback journal, synchronous=FULL,
        // 4 KiB pages, 2 MB cache) with the same schema and indexes.
        let mut conn = rusqlite::Connection::open(db).expect("db");
        auth0_archive::store::migrate(&mut conn).expect("schema");
        let mut from = "0".to_string();
        loop {
            let body = http
                .get(format!("{base}/api/v2/logs?from={from}&take=100"))
                .bearer_auth(&token)
                .send().await.expect("page").text().await.expect("body");
            let page: Vec<serde_json::Value> = serde_json::from_str(&body).expect("json");
            if page.is_empty() {
                break;
            }
            let tx = conn.transaction().expect("tx");
            for e in &page {
                let s = |k: &str| e.get(k).and_then(|v| v.as_str()).filter(|v| !v.is_empty()).map(str::to_string);
                let loc = |k: &str| e.get("location_info").and_then(|l| l.get(k)).cloned();
                tx.execute(
                    "INSERT OR IGNORE INTO events (log_id, tenant, date, type, description, ip, user_id, user_name, client_id, country_code, city_name, latitude, longitude, details, raw)
                     VALUES (?1, 'ref', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                    rusqlite::params![
                        s("log_id"), s("date"), s("type"), s("description"), s("ip"), s("user_id"), s("user_name"), s("client_id"),
                        loc("country_code").and_then(|v| v.as_str().map(str::to_string)),
                        loc("city_name").and_then(|v| v.as_str().map(str::to_string)),
                        loc("latitude").and_then(|v| v.as_f64()),
                        loc("longitude").and_then(|v| v.as_f64()),
                        e.get("details").map(|d| d.to_string()),
                        e.to_string(),
                    ],
                ).expect("insert");
            }
            tx.commit().expect("commit");
            from = page.iter().filter_map(|e| e.get("log_id").and_then(|v| v.as_str())).max().expect("ids").to_string();
        }
    });
}

/// A fresh backfill of `days` days, then `days` daily catch-up syncs, each
/// appending a day of events to the tenant: the file's bytes per event after
/// both, and where the bytes are (dbstat) at the end.
fn lean(per_day: usize, days: usize) {
    println!("== lean: backfill of {days} days x {per_day} events, then {days} daily catch-ups ==");
    let end = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
    let mut spec = Spec::recent(per_day * days * 2, 2 * days as i64, end);
    spec.plant_patterns = false;
    let mut evs = generate(&spec);
    evs.sort_by(|a, b| auth0_archive::auth0::log_id::compare(&a.key, &b.key));
    let raw_bytes: usize = evs.iter().map(|e| e.raw.len()).sum();
    println!("mean event JSON: {} bytes", raw_bytes / evs.len().max(1));
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = std::env::var_os("BENCH_KEEP")
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("lean.db");
    let _ = std::fs::remove_file(&db);
    let mut later = evs.split_off(evs.len() / 2);
    let mut archived = evs.len();
    let scenario = Scenario::new("lean", evs.len(), None, 0);
    let tenant = start(evs, &scenario);
    let sync = |tenant: &FakeTenant| {
        run_child(
            Command::new(binary())
                .arg("--db")
                .arg(&db)
                .args(["sync", "--quiet", "--json"])
                .env("AUTH0_BASE_URL", tenant.base_url())
                .env("AUTH0_CLIENT_ID", "test-client-id")
                .env("AUTH0_CLIENT_SECRET", "test-client-secret"),
        )
    };
    let cost = sync(&tenant);
    let size = |db: &Path| std::fs::metadata(db).map(|m| m.len()).unwrap_or(0) as f64;
    println!(
        "fresh backfill: {archived} events, {:.2}s CPU ({:.1} us/event), {:.0} bytes/event",
        cost.cpu,
        cost.cpu * 1e6 / archived as f64,
        size(&db) / archived as f64
    );
    let per_sync = later.len().div_ceil(days);
    let mut cpu = 0.0;
    let mut new = 0;
    while !later.is_empty() {
        let rest = later.split_off(per_sync.min(later.len()));
        let day = std::mem::replace(&mut later, rest);
        new += day.len();
        tenant.with(|s| s.push_events(day));
        cpu += sync(&tenant).cpu;
    }
    archived += new;
    println!(
        "after {days} catch-ups: {archived} events, {:.2}s CPU ({:.1} us/event), {:.0} bytes/event",
        cpu,
        cpu * 1e6 / new.max(1) as f64,
        size(&db) / archived as f64
    );
    dbstat(&db, archived);
}

/// Cron-style catch-ups: an archive of `archived` events (30 days), then
/// `rounds` syncs, each a new process finding `new` more events, plain and
/// with `--head-file`: the CPU and wall of each.
fn catch_up(archived: usize, new: usize, rounds: usize) {
    println!(
        "== catch-up: {new} new events on an archive of {archived}, {rounds} rounds each way =="
    );
    let end = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
    let total = archived + new * rounds * 3;
    let mut spec = Spec::recent(total, 30, end);
    spec.plant_patterns = false;
    let mut evs = generate(&spec);
    evs.sort_by(|a, b| auth0_archive::auth0::log_id::compare(&a.key, &b.key));
    let mut later = evs.split_off(archived);
    // Batches for the follow run as well as the plain and --head-file ones.
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = std::env::var_os("BENCH_KEEP")
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("catchup.db");
    let head = dir.join("catchup.heads");
    let _ = std::fs::remove_file(&db);
    let _ = std::fs::remove_file(&head);
    let tenant = start(evs, &Scenario::new("catch-up", archived, None, 0));
    let sync = |tenant: &FakeTenant, head_file: bool| {
        let mut cmd = Command::new(binary());
        cmd.arg("--db")
            .arg(&db)
            .args(["sync", "--quiet", "--json"])
            .env("AUTH0_BASE_URL", tenant.base_url())
            .env("AUTH0_CLIENT_ID", "test-client-id")
            .env("AUTH0_CLIENT_SECRET", "test-client-secret");
        if head_file {
            cmd.arg("--head-file").arg(&head);
        }
        run_child(&mut cmd)
    };
    let first = sync(&tenant, false);
    println!(
        "archive built: {archived} events, {:.1} s wall, {:.1} s CPU",
        first.wall, first.cpu
    );
    follow(&tenant, &db, &mut later, new, rounds);
    for head_file in [false, true] {
        for round in 1..=rounds {
            let rest = later.split_off(new.min(later.len()));
            let batch = std::mem::replace(&mut later, rest);
            tenant.with(|s| s.push_events(batch));
            let c = sync(&tenant, head_file);
            println!(
                "catch-up {round}{}: {new} new events, {:.2} s CPU, {:.2} s wall, peak RSS {:.1} MB",
                if head_file { " with --head-file" } else { "" },
                c.cpu,
                c.wall,
                c.max_rss_kb as f64 / 1024.0
            );
        }
    }
}

/// `sync --follow` polling every second: `rounds` batches of `new` events
/// arrive 3 s apart, then it is stopped; the CPU of the whole process, of
/// its first poll (a start on the archive), and what its polls cost each.
fn follow(tenant: &FakeTenant, db: &Path, later: &mut Vec<StoredEvent>, new: usize, rounds: usize) {
    settle();
    let mut child = Command::new(binary())
        .arg("--db")
        .arg(db)
        .args(["sync", "--quiet", "--follow", "--interval", "1s"])
        .env("AUTH0_BASE_URL", tenant.base_url())
        .env("AUTH0_CLIENT_ID", "test-client-id")
        .env("AUTH0_CLIENT_SECRET", "test-client-secret")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let cpu_of = |pid: u32| -> f64 {
        // utime and stime, fields 14 and 15 of /proc/PID/stat, in ticks.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
            f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
        });
        ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
    };
    std::thread::sleep(Duration::from_secs(3));
    let started = cpu_of(child.id());
    let polls_before = tenant.stats().log_requests;
    for _ in 0..rounds {
        let rest = later.split_off(new.min(later.len()));
        let batch = std::mem::replace(later, rest);
        tenant.with(|s| s.push_events(batch));
        std::thread::sleep(Duration::from_secs(3));
    }
    let total = cpu_of(child.id());
    let requests = tenant.stats().log_requests - polls_before;
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    println!(
        "follow, polling every 1 s: first poll (start, catch-up of nothing new) {:.2} s CPU; then {rounds} x {new} new events over {} s: {:.2} s CPU in {requests} requests",
        started,
        rounds * 3,
        total - started
    );
}

/// Where an archive's bytes are, per table and index.
fn dbstat(db: &Path, events: usize) {
    let conn = rusqlite::Connection::open(db).expect("open");
    let page: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .expect("page size");
    let free: i64 = conn
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .expect("freelist");
    println!("page size {page} bytes, {free} free pages");
    println!(
        "{:>20} {:>12} {:>12} {:>8} {:>12}",
        "object", "bytes", "unused", "unused%", "bytes/event"
    );
    let mut stmt = conn
        .prepare(
            "SELECT name, sum(pgsize), sum(unused) FROM dbstat GROUP BY name
             ORDER BY sum(pgsize) DESC",
        )
        .expect("dbstat");
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .expect("rows");
    for row in rows.map(Result::unwrap).take(12) {
        let (name, bytes, unused) = row;
        println!(
            "{name:>20} {bytes:>12} {unused:>12} {:>7.1}% {:>12.1}",
            100.0 * unused as f64 / bytes.max(1) as f64,
            bytes as f64 / events as f64
        );
    }
    let raw: f64 = conn
        .query_row(
            "SELECT avg(length(CAST(raw AS BLOB))) FROM events",
            [],
            |r| r.get(0),
        )
        .expect("raw");
    println!("stored raw: {raw:.0} bytes/event on average");
}
