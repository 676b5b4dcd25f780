//! Realistic synthetic log events: logins from a few hundred users in several
//! countries, the usual failures and token exchanges, plus planted attack
//! patterns the saved reports are meant to find. Deterministic for a seed.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::StoredEvent;
use super::attacks;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub events: usize,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub seed: u64,
    pub tenant_host: String,
    /// Add brute force, credential stuffing, impossible travel, MFA push
    /// bombing, breached passwords and admin actions.
    pub plant_patterns: bool,
    /// The tenant's everyday traffic: its users and its mix of event types.
    pub shape: Shape,
}

/// The shape of a tenant's everyday traffic, so a benchmark can check that
/// a detection's cost follows the events and not one mix's proportions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// 300 users logging in, mostly: a small workforce tenant.
    #[default]
    Everyday,
    /// 50,000 users, a third of the events sign-ups and a fifth email
    /// verifications, more Management API calls: a consumer launch.
    SignupHeavy,
}

impl Shape {
    fn users(self) -> usize {
        match self {
            Shape::Everyday => 300,
            Shape::SignupHeavy => 50_000,
        }
    }

    fn types(self) -> &'static [(&'static str, u32, &'static str)] {
        match self {
            Shape::Everyday => TYPES,
            Shape::SignupHeavy => SIGNUP_HEAVY_TYPES,
        }
    }
}

impl Spec {
    /// `events` events spread over the `days` days before `end`.
    pub fn recent(events: usize, days: i64, end: DateTime<Utc>) -> Self {
        Spec {
            events,
            start: end - Duration::days(days),
            end,
            seed: 7,
            tenant_host: "demo.us.auth0.com".into(),
            plant_patterns: true,
            shape: Shape::Everyday,
        }
    }
}

struct City {
    code: &'static str,
    code3: &'static str,
    country: &'static str,
    city: &'static str,
    lat: f64,
    lon: f64,
    tz: &'static str,
    continent: &'static str,
}

const CITIES: &[City] = &[
    City {
        code: "US",
        code3: "USA",
        country: "United States",
        city: "New York",
        lat: 40.7128,
        lon: -74.006,
        tz: "America/New_York",
        continent: "NA",
    },
    City {
        code: "US",
        code3: "USA",
        country: "United States",
        city: "San Francisco",
        lat: 37.7749,
        lon: -122.4194,
        tz: "America/Los_Angeles",
        continent: "NA",
    },
    City {
        code: "GB",
        code3: "GBR",
        country: "United Kingdom",
        city: "London",
        lat: 51.5074,
        lon: -0.1278,
        tz: "Europe/London",
        continent: "EU",
    },
    City {
        code: "DE",
        code3: "DEU",
        country: "Germany",
        city: "Berlin",
        lat: 52.52,
        lon: 13.405,
        tz: "Europe/Berlin",
        continent: "EU",
    },
    City {
        code: "FR",
        code3: "FRA",
        country: "France",
        city: "Paris",
        lat: 48.8566,
        lon: 2.3522,
        tz: "Europe/Paris",
        continent: "EU",
    },
    City {
        code: "BR",
        code3: "BRA",
        country: "Brazil",
        city: "São Paulo",
        lat: -23.5505,
        lon: -46.6333,
        tz: "America/Sao_Paulo",
        continent: "SA",
    },
    City {
        code: "IN",
        code3: "IND",
        country: "India",
        city: "Mumbai",
        lat: 19.076,
        lon: 72.8777,
        tz: "Asia/Kolkata",
        continent: "AS",
    },
    City {
        code: "JP",
        code3: "JPN",
        country: "Japan",
        city: "Tokyo",
        lat: 35.6762,
        lon: 139.6503,
        tz: "Asia/Tokyo",
        continent: "AS",
    },
    City {
        code: "AU",
        code3: "AUS",
        country: "Australia",
        city: "Sydney",
        lat: -33.8688,
        lon: 151.2093,
        tz: "Australia/Sydney",
        continent: "OC",
    },
];

/// Everyday traffic: code, weight, description.
const TYPES: &[(&str, u32, &str)] = &[
    ("s", 50, "Success Login"),
    ("ssa", 10, ""),
    ("seacft", 10, "Authorization Code for Access Token"),
    ("sertft", 6, "Refresh Token for Access Token"),
    ("f", 3, "Wrong email or password."),
    ("fp", 4, "Wrong email or password."),
    ("fu", 2, "Invalid user"),
    ("slo", 5, "User successfully logged out."),
    ("ss", 2, "Successful signup"),
    ("scoa", 2, "Successful cross-origin authentication"),
    ("gd_send_pn", 3, "Push notification sent"),
    (
        "gd_auth_succeed",
        3,
        "Second factor authentication succeeded",
    ),
    ("sapi", 1, "Update a client"),
    ("seccft", 2, "Client Credentials for Access Token"),
];

/// A consumer launch: sign-ups, verifications, logins, admin calls.
const SIGNUP_HEAVY_TYPES: &[(&str, u32, &str)] = &[
    ("ss", 33, "Successful signup"),
    ("sv", 20, "Email verified"),
    ("fs", 3, "Password is too weak"),
    ("s", 20, "Success Login"),
    ("fp", 4, "Wrong email or password."),
    ("seacft", 6, "Authorization Code for Access Token"),
    ("sertft", 3, "Refresh Token for Access Token"),
    ("gd_send_pn", 2, "Push notification sent"),
    ("sapi", 5, "Update a client"),
    ("seccft", 2, "Client Credentials for Access Token"),
    ("slo", 2, "User successfully logged out."),
];

/// SplitMix64: deterministic and dependency-free, for the generator and the
/// fake tenant's fault dice.
#[derive(Debug)]
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An Auth0-shaped log id for an event at `t`; `seq` keeps ids unique and
/// ordered among events of the same millisecond.
pub fn log_id_for(t: DateTime<Utc>, seq: u64) -> String {
    format!(
        "900{}{:03}{:036}",
        t.format("%Y%m%d%H%M%S"),
        t.timestamp_subsec_millis(),
        seq
    )
}

/// The fields of one synthetic event.
pub struct Draft<'a> {
    pub at: DateTime<Utc>,
    pub code: &'a str,
    pub description: &'a str,
    pub user: Option<usize>,
    pub ip: String,
    pub city: usize,
    pub details: Value,
    /// Top-level fields that replace the rendered ones (a planted event's
    /// type, user, client, hostname...); `Value::Null` for none.
    pub extra: Value,
}

/// Generates the events of `spec`, ordered by `log_id`.
pub fn generate(spec: &Spec) -> Vec<StoredEvent> {
    let mut rng = Rng(spec.seed);
    let span_ms = (spec.end - spec.start).num_milliseconds().max(1) as u64;
    let users = spec.shape.users();
    let types = spec.shape.types();
    let home: Vec<usize> = (0..users)
        .map(|_| rng.below(CITIES.len() as u64) as usize)
        .collect();
    let total_weight: u32 = types.iter().map(|t| t.1).sum();
    let mut drafts: Vec<Draft<'_>> = Vec::with_capacity(spec.events + 200);

    for _ in 0..spec.events {
        let at = spec.start + Duration::milliseconds(rng.below(span_ms) as i64);
        let mut pick = rng.below(total_weight as u64) as u32;
        let &(code, _, description) = types
            .iter()
            .find(|t| {
                if pick < t.1 {
                    true
                } else {
                    pick -= t.1;
                    false
                }
            })
            .unwrap_or(&types[0]);
        let user = rng.below(users as u64) as usize;
        let city = home[user];
        drafts.push(Draft {
            at,
            code,
            description,
            user: (code != "seccft" && code != "sapi").then_some(user),
            ip: format!("{}.{}.{}.{}", 20 + city * 10, user % 250 + 1, rng.below(250) + 1, user % 200 + 10),
            city,
            details: json!({"prompts": [], "initiatedAt": at.timestamp_millis(), "elapsedTime": rng.below(900) + 50}),
            extra: Value::Null,
        });
    }
    if spec.plant_patterns {
        plant(&mut drafts, spec, &home);
    }
    drafts.sort_by_key(|d| d.at);
    drafts
        .iter()
        .enumerate()
        .map(|(seq, d)| {
            let id = log_id_for(d.at, seq as u64);
            StoredEvent {
                raw: render(d, &id, &spec.tenant_host),
                key: id,
            }
        })
        .collect()
}

/// The attack patterns, placed at fixed fractions of the time range.
fn plant(drafts: &mut Vec<Draft<'_>>, spec: &Spec, home: &[usize]) {
    let at = |frac: f64| {
        spec.start
            + Duration::milliseconds(
                ((spec.end - spec.start).num_milliseconds() as f64 * frac) as i64,
            )
    };
    // Brute force: 40 failed logins from one IP within ten minutes.
    for i in 0..40 {
        drafts.push(Draft {
            at: at(0.30) + Duration::seconds(i * 15),
            code: "fp",
            description: "Wrong email or password.",
            user: Some(7),
            ip: "203.0.113.66".into(),
            city: 6,
            details: json!({"error": {"message": "Wrong email or password."}}),
            extra: Value::Null,
        });
    }
    // Credential stuffing: one IP failing against 30 different users.
    for i in 0..30 {
        drafts.push(Draft {
            at: at(0.45) + Duration::seconds(i * 20),
            code: if i % 3 == 0 { "fu" } else { "fp" },
            description: "Wrong email or password.",
            user: Some(100 + i as usize),
            ip: "198.51.100.23".into(),
            city: 5,
            details: json!({}),
            extra: Value::Null,
        });
    }
    // Impossible travel: New York, then Tokyo 70 minutes later.
    for (i, city) in [(0, 0usize), (70, 7usize)] {
        drafts.push(Draft {
            at: at(0.60) + Duration::minutes(i),
            code: "s",
            description: "Success Login",
            user: Some(42),
            ip: if city == 0 {
                "24.1.2.3".into()
            } else {
                "126.4.5.6".into()
            },
            city,
            details: json!({}),
            extra: Value::Null,
        });
    }
    // MFA push bombing: 12 pushes to one user in under a minute.
    for i in 0..12 {
        drafts.push(Draft {
            at: at(0.70) + Duration::seconds(i * 4),
            code: "gd_send_pn",
            description: "Push notification sent",
            user: Some(55),
            ip: "192.0.2.77".into(),
            city: home[55],
            details: json!({}),
            extra: Value::Null,
        });
    }
    // Breached passwords.
    for (i, user) in [(0, 12usize), (1, 88)] {
        drafts.push(Draft {
            at: at(0.80) + Duration::hours(i),
            code: "pwd_leak",
            description: "Blocked login due to a breached password",
            user: Some(user),
            ip: "192.0.2.10".into(),
            city: home[user],
            details: json!({}),
            extra: Value::Null,
        });
    }
    // Admin actions through the Management API.
    for (i, what) in [
        "Delete a connection",
        "Update tenant settings",
        "Create a client",
    ]
    .iter()
    .enumerate()
    {
        drafts.push(Draft {
            at: at(0.90) + Duration::minutes(i as i64 * 3),
            code: "sapi",
            description: what,
            user: None,
            ip: "192.0.2.200".into(),
            city: 2,
            details: json!({"request": {"method": "patch", "path": "/api/v2/tenants/settings"}}),
            extra: Value::Null,
        });
    }
    plant_corpus(drafts, spec, at(0.20));
}

/// The planted-attack corpus, from `from` (or earlier, so that it ends
/// before the range does), each event on a London address of its own unless
/// the corpus names one, so no two unrelated events share an IP.
fn plant_corpus(drafts: &mut Vec<Draft<'_>>, spec: &Spec, from: DateTime<Utc>) {
    let corpus = attacks::corpus(&spec.tenant_host);
    let span = corpus.iter().map(|p| p.after_seconds).max().unwrap_or(0);
    let start = from.min(spec.end - Duration::seconds(span + 60));
    for (i, p) in corpus.into_iter().enumerate() {
        drafts.push(Draft {
            at: start + Duration::seconds(p.after_seconds),
            code: "",
            description: "",
            user: None,
            ip: format!("198.18.{}.{}", i / 250, i % 250 + 1),
            city: 2,
            details: json!({}),
            extra: Value::Object(p.fields),
        });
    }
}

fn render(d: &Draft<'_>, log_id: &str, host: &str) -> String {
    let c = &CITIES[d.city];
    let tenant = host.split('.').next().unwrap_or(host);
    let mut v = json!({
        "date": d.at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "type": d.code,
        "description": d.description,
        "connection": "Username-Password-Authentication",
        "connection_id": "con_9x2Kp0aQ7mZ1",
        "client_id": "aBcD1234EfGh5678",
        "client_name": "Acme Web",
        "ip": d.ip,
        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
        "hostname": host,
        "user_id": d.user.map(|u| format!("auth0|{:024x}", 0x5f00_0000_u64 + u as u64)).unwrap_or_default(),
        "user_name": d.user.map(|u| format!("user{u}@example.com")).unwrap_or_default(),
        "strategy": "auth0",
        "strategy_type": "database",
        "isMobile": false,
        "tenant_name": tenant,
        "log_id": log_id,
        "_id": log_id,
        "$event_schema": {"version": "1.0.0"},
        "location_info": {
            "country_code": c.code,
            "country_code3": c.code3,
            "country_name": c.country,
            "city_name": c.city,
            "latitude": c.lat,
            "longitude": c.lon,
            "time_zone": c.tz,
            "continent_code": c.continent,
        },
        "details": d.details,
    });
    // A machine's call (no user) carries the audience and scope of its
    // token; a planted event says for itself what it carries.
    if d.user.is_none()
        && d.extra.is_null()
        && let Some(o) = v.as_object_mut()
    {
        o.insert("audience".into(), json!(format!("https://{host}/api/v2/")));
        o.insert("scope".into(), json!("read:logs update:tenant_settings"));
        o.insert("strategy".into(), json!(""));
    }
    if let (Some(o), Some(extra)) = (v.as_object_mut(), d.extra.as_object()) {
        for (k, x) in extra {
            o.insert(k.clone(), x.clone());
        }
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_ordered() {
        let end = DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = generate(&Spec::recent(500, 3, end));
        let b = generate(&Spec::recent(500, 3, end));
        assert_eq!(a.len(), b.len());
        assert!(a.len() > 500);
        assert!(a.iter().zip(&b).all(|(x, y)| x.raw == y.raw));
        assert!(a.windows(2).all(|w| w[0].key < w[1].key));
        assert!(a.iter().all(|e| e.key.len() == 56));
    }
}
