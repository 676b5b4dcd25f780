//! The generated archive `bench_query` and `bench_mirror` time: N events of
//! a busy B2C tenant's type mix (20,000 users, 12 cities), inserted through
//! the library in pages of 10,000, deterministic for a seed. Shared, so the
//! archive `DIR/bench-N.db` is the same whichever benchmark made it.

use std::path::Path;

use auth0_archive::store;

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
pub fn generate(db: &Path, n: u64, seed: u64, start_ms: i64, span_ms: i64, seq0: u64) {
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
