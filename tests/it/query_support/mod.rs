//! Shared by the query and export tests: real archives on disk, filled
//! through the same parse → insert path a sync uses, and the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_auth0-archive");

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// `2026-10-01T00:00:00.000Z` plus `seconds`.
pub fn at(seconds: i64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-10-01T00:00:00Z").unwrap();
    (base + chrono::Duration::seconds(seconds))
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub const MIN: i64 = 60;
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;

/// A log event as Auth0 sends it, built field by field.
#[derive(Clone)]
pub struct Ev(pub Value);

pub fn ev(ty: &str, seconds: i64) -> Ev {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    Ev(json!({
        "log_id": format!("900{:053}", n),
        "date": at(seconds),
        "type": ty,
        "description": "",
        "user_id": "",
    }))
}

impl Ev {
    fn set(mut self, k: &str, v: Value) -> Self {
        self.0[k] = v;
        self
    }
    pub fn ip(self, ip: &str) -> Self {
        self.set("ip", json!(ip))
    }
    pub fn user(self, id: &str) -> Self {
        let name = id.rsplit('|').next().unwrap_or(id).to_string() + "@example.com";
        self.set("user_id", json!(id)).set("user_name", json!(name))
    }
    pub fn user_name(self, name: &str) -> Self {
        self.set("user_name", json!(name))
    }
    pub fn desc(self, d: &str) -> Self {
        self.set("description", json!(d))
    }
    pub fn client(self, id: &str) -> Self {
        self.set("client_id", json!(id))
            .set("client_name", json!(format!("app {id}")))
    }
    pub fn field(self, k: &str, v: Value) -> Self {
        self.set(k, v)
    }
    pub fn client_named(self, id: &str, name: &str) -> Self {
        self.set("client_id", json!(id))
            .set("client_name", json!(name))
    }
    pub fn details(self, d: Value) -> Self {
        self.set("details", d)
    }
    pub fn country(self, cc: &str) -> Self {
        self.set(
            "location_info",
            json!({ "country_code": cc, "country_name": cc }),
        )
    }
    pub fn place(self, city: &str, cc: &str, lat: f64, lon: f64) -> Self {
        self.set(
            "location_info",
            json!({ "city_name": city, "country_code": cc, "latitude": lat, "longitude": lon }),
        )
    }
}

/// An archive in a temporary directory.
pub struct Archive {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

pub fn archive(events: &[Ev]) -> Archive {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("archive.db");
    add(&db, events);
    Archive { dir, db }
}

/// Appends events to the archive at `db` in one transaction.
pub fn add(db: &Path, events: &[Ev]) {
    let body = serde_json::to_vec(&events.iter().map(|e| e.0.clone()).collect::<Vec<_>>()).unwrap();
    let page = auth0_archive::event::parse_page(&body).unwrap();
    assert_eq!(page.events.len(), events.len());
    let mut conn = auth0_archive::store::open_for_write(db).unwrap();
    let tx = conn.transaction().unwrap();
    auth0_archive::store::events::insert_rows(&tx, "acme.us.auth0.com", &page).unwrap();
    tx.commit().unwrap();
}

pub fn cli(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Rows of a saved report as JSON objects, on one engine.
pub fn report_on(db: &Path, engine: &str, name: &str, params: &[&str]) -> Vec<Map<String, Value>> {
    let mut args = vec!["query", "run", name, "--format", "json", "--engine", engine];
    for p in params {
        args.push("--param");
        args.push(p);
    }
    let out = ok(&cli(db, &args));
    let v: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: bad JSON {e}: {out}"));
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

/// Rows of a saved report, after checking that SQLite and DuckDB agree.
pub fn report(db: &Path, name: &str, params: &[&str]) -> Vec<Map<String, Value>> {
    let lite = report_on(db, "sqlite", name, params);
    let duck = report_on(db, "duckdb", name, params);
    assert_eq!(
        lite, duck,
        "report {name} differs between sqlite and duckdb"
    );
    lite
}

/// The rows whose `key` column equals `value`.
pub fn with<'a>(
    rows: &'a [Map<String, Value>],
    key: &str,
    value: &str,
) -> Vec<&'a Map<String, Value>> {
    rows.iter()
        .filter(|r| r.get(key).and_then(Value::as_str) == Some(value))
        .collect()
}

pub fn sql_count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// A Management API event (`sapi` unless `ty` says otherwise) as Auth0
/// writes it: the request (method, path, body, the dashboard user who made
/// it) and the response (status, body) in `details`.
#[allow(clippy::too_many_arguments)]
pub fn mgmt(
    ty: &str,
    t: i64,
    desc: &str,
    method: &str,
    path: &str,
    actor: &str,
    body: Value,
    resp: Value,
) -> Ev {
    ev(ty, t)
        .desc(desc)
        .client_named("dashboard0", "")
        .ip("192.0.2.90")
        .details(json!({
            "request": {
                "method": method,
                "path": path,
                "query": {},
                "body": body,
                "channel": "https://manage.auth0.com/",
                "ip": "192.0.2.90",
                "auth": {
                    "strategy": "jwt",
                    "credentials": { "jti": "0a1b2c3d" },
                    "user": { "user_id": format!("google-oauth2|{actor}"), "email": actor, "name": actor }
                }
            },
            "response": { "statusCode": 200, "body": resp }
        }))
}

/// The attacks the detection reports look for, each beside a near miss, on
/// 2026-10-06 and later (after the volume-attack fixture's days).
pub fn detection_events() -> Vec<Ev> {
    let mut e = Vec::new();
    let t = 5 * DAY + 10 * HOUR;
    let ap = |p: &str| format!("/api/v2/attack-protection/{p}");
    // security-settings-weakened
    e.push(mgmt("sapi", t, "Update Brute-force settings", "patch", &ap("brute-force-protection"), "mallory@acme.example",
        json!({"enabled": false}),
        json!({"enabled": false, "shields": ["block", "user_notification"], "mode": "count_per_identifier_and_ip", "allowlist": [], "max_attempts": 10})));
    e.push(mgmt(
        "sapi",
        t + 60,
        "Update Suspicious IP Throttling settings",
        "patch",
        &ap("suspicious-ip-throttling"),
        "mallory@acme.example",
        json!({"shields": ["admin_notification"]}),
        json!({"enabled": true, "shields": ["admin_notification"], "allowlist": []}),
    ));
    e.push(mgmt("sapi", t + 120, "Update Breached Password Detection settings", "patch", &ap("breached-password-detection"), "mallory@acme.example",
        json!({"shields": ["admin_notification"]}),
        json!({"enabled": true, "shields": ["admin_notification"], "admin_notification_frequency": ["daily"], "method": "standard",
               "stage": {"pre-user-registration": {"shields": ["block"]}}})));
    e.push(mgmt("sapi", t + 180, "Update Bot Detection settings", "patch", &ap("bot-detection"), "mallory@acme.example",
        json!({"bot_detection_level": "off"}),
        json!({"bot_detection_level": "off", "challenge_password_policy": "never", "allowlist": []})));
    e.push(mgmt("sapi", t + 240, "Create or update the anomaly detection captcha", "post", "/api/v2/anomaly/captchas", "mallory@acme.example",
        json!({"policy": "off", "passwordless_policy": "off", "password_reset_policy": "off", "selected": "auth_challenge"}),
        json!({"policy": "off", "passwordless_policy": "off", "password_reset_policy": "off", "selected": "auth_challenge"})));
    e.push(mgmt("sapi", t + 300, "Update Suspicious IP Throttling settings", "patch", &ap("suspicious-ip-throttling"), "mallory@acme.example",
        json!({"allowlist": ["192.0.2.0/24", "45.155.205.233"]}),
        json!({"enabled": true, "shields": ["block", "admin_notification"], "allowlist": ["192.0.2.0/24", "45.155.205.233"]})));
    // Near misses: brute-force protection switched on with blocking, bot
    // detection raised, all by another admin.
    e.push(mgmt("sapi", t + 360, "Update Brute-force settings", "patch", &ap("brute-force-protection"), "alice@acme.example",
        json!({"enabled": true}),
        json!({"enabled": true, "shields": ["block", "user_notification"], "mode": "count_per_identifier_and_ip", "allowlist": [], "max_attempts": 10})));
    e.push(mgmt("sapi", t + 420, "Update Bot Detection settings", "patch", &ap("bot-detection"), "alice@acme.example",
        json!({"bot_detection_level": "high"}),
        json!({"bot_detection_level": "high", "challenge_password_policy": "always", "allowlist": []})));

    // mfa-weakened
    let t = t + HOUR;
    e.push(mgmt(
        "sapi",
        t,
        "Set the Multi-factor Authentication policies",
        "put",
        "/api/v2/guardian/policies",
        "mallory@acme.example",
        json!([]),
        json!([]),
    ));
    e.push(mgmt(
        "sapi",
        t + 60,
        "Update a Multi-factor Authentication Factor",
        "put",
        "/api/v2/guardian/factors/push-notification",
        "mallory@acme.example",
        json!({"enabled": false}),
        json!({"enabled": false}),
    ));
    e.push(mgmt(
        "sapi",
        t + 120,
        "Updates risk assessment configs",
        "patch",
        "/api/v2/risk-assessment/config",
        "mallory@acme.example",
        json!({"AfterAuthentication": false}),
        json!({"AfterAuthentication": false}),
    ));
    e.push(mgmt(
        "sapi",
        t + 180,
        "Set the Multi-factor Authentication policies",
        "put",
        "/api/v2/guardian/policies",
        "alice@acme.example",
        json!(["all-applications"]),
        json!(["all-applications"]),
    ));
    e.push(mgmt(
        "sapi",
        t + 240,
        "Update a Multi-factor Authentication Factor",
        "put",
        "/api/v2/guardian/factors/webauthn-roaming",
        "alice@acme.example",
        json!({"enabled": true}),
        json!({"enabled": true}),
    ));
    e.push(mgmt(
        "sapi",
        t + 300,
        "Updates risk assessment configs",
        "patch",
        "/api/v2/risk-assessment/config",
        "alice@acme.example",
        json!({"AfterAuthentication": true}),
        json!({"AfterAuthentication": true}),
    ));

    // tenant-takeover: mallory invites an owner, then deletes two admins
    // within 20 minutes; alice invites an owner and deletes one member; a
    // user-role invitation is nothing.
    let t = t + HOUR;
    let invite = |t: i64, actor: &str, who: &str, role: &str| {
        mgmt(
            "sapi",
            t,
            "Create tenant invitations for a given client",
            "post",
            "/api/v2/tenants/invitations",
            actor,
            json!({"owners": [who], "roles": [role]}),
            json!({"id": "inv_1"}),
        )
    };
    let delete = |t: i64, actor: &str, who: &str| {
        mgmt(
            "sapi",
            t,
            "Delete tenant member",
            "delete",
            &format!("/api/v2/tenants/members/{who}"),
            actor,
            json!({}),
            json!({}),
        )
    };
    e.push(invite(t, "mallory@acme.example", "evil@gmail.com", "owner"));
    e.push(mgmt(
        "sapi",
        t + 300,
        "Update an invitation",
        "patch",
        "/api/v2/tenants/invitations/inv_1",
        "evil@gmail.com",
        json!({"state": "accepted"}),
        json!({"state": "accepted"}),
    ));
    e.push(delete(
        t + 600,
        "mallory@acme.example",
        "google-oauth2|alice",
    ));
    e.push(delete(
        t + 1200,
        "mallory@acme.example",
        "google-oauth2|bob",
    ));
    e.push(invite(
        t + 2 * HOUR,
        "alice@acme.example",
        "carol@acme.example",
        "owner",
    ));
    e.push(delete(
        t + 2 * HOUR + 600,
        "alice@acme.example",
        "google-oauth2|dave",
    ));
    e.push(invite(
        t + 2 * HOUR + 900,
        "alice@acme.example",
        "erin@acme.example",
        "user",
    ));

    // risky-client-changes
    let t = t + 3 * HOUR;
    e.push(mgmt(
        "sapi",
        t,
        "Update a client",
        "patch",
        "/api/v2/clients/spaCOA1",
        "mallory@acme.example",
        json!({"cross_origin_authentication": true}),
        json!({"client_id": "spaCOA1", "cross_origin_authentication": true}),
    ));
    e.push(mgmt(
        "sapi",
        t + 60,
        "Update a client",
        "patch",
        "/api/v2/clients/spaIMPL1",
        "mallory@acme.example",
        json!({"grant_types": ["authorization_code", "implicit"]}),
        json!({"client_id": "spaIMPL1", "grant_types": ["authorization_code", "implicit"]}),
    ));
    e.push(mgmt("sapi", t + 120, "Create client grant", "post", "/api/v2/client-grants", "mallory@acme.example",
        json!({"client_id": "m2mWRITE", "audience": "https://acme.us.auth0.com/api/v2/", "scope": ["read:users", "update:users", "delete:users"]}),
        json!({"id": "cgr_1", "client_id": "m2mWRITE", "audience": "https://acme.us.auth0.com/api/v2/", "scope": ["read:users", "update:users", "delete:users"]})));
    let many: Vec<String> = (0..25).map(|i| format!("read:thing{i}")).collect();
    e.push(mgmt(
        "sapi",
        t + 180,
        "Create client grant",
        "post",
        "/api/v2/client-grants",
        "mallory@acme.example",
        json!({"client_id": "m2mBROAD", "audience": "https://api.acme.example/", "scope": many}),
        json!({"id": "cgr_2"}),
    ));
    e.push(mgmt(
        "sapi",
        t + 240,
        "Create a role",
        "post",
        "/api/v2/roles",
        "mallory@acme.example",
        json!({"name": "support-admin", "description": "admin for support"}),
        json!({"id": "rol_1", "name": "support-admin"}),
    ));
    e.push(mgmt(
        "sapi",
        t + 300,
        "Update trigger bindings",
        "patch",
        "/api/v2/actions/triggers/post-login/bindings",
        "mallory@acme.example",
        json!({"bindings": [{"ref": {"type": "action_name", "value": "exfiltrate"}}]}),
        json!({"bindings": []}),
    ));
    e.push(mgmt(
        "sapi",
        t + 360,
        "Install an available integration",
        "post",
        "/api/v2/integrations/installed",
        "mallory@acme.example",
        json!({"name": "shady-integration"}),
        json!({"id": "int_1"}),
    ));
    e.push(mgmt("sapi", t + 420, "Update tenant settings", "patch", "/api/v2/tenants/settings", "mallory@acme.example",
        json!({"error_page": {"html": "<p>{{ error_description }}</p><p>{{ tracking | escape }}</p>", "show_log_link": false}}),
        json!({"error_page": {"html": "<p>{{ error_description }}</p><p>{{ tracking | escape }}</p>", "show_log_link": false}})));
    for i in 0..12 {
        e.push(mgmt(
            "sapi",
            t + 480 + i * 10,
            "Dynamic client registration",
            "post",
            "/oidc/register",
            "",
            json!({"client_name": format!("dcr{i}"), "redirect_uris": ["https://evil.example/cb"]}),
            json!({"client_id": format!("dcr{i}")}),
        ));
    }
    // Near misses by alice: cross-origin auth turned off, a safe grant type,
    // a read-only grant, an escaped template, a few spread registrations.
    e.push(mgmt("sapi", t + 900, "Update a client", "patch", "/api/v2/clients/spaSAFE", "alice@acme.example",
        json!({"cross_origin_authentication": false, "grant_types": ["authorization_code", "refresh_token"]}), json!({"client_id": "spaSAFE"})));
    e.push(mgmt("sapi", t + 960, "Create client grant", "post", "/api/v2/client-grants", "alice@acme.example",
        json!({"client_id": "m2mREAD", "audience": "https://acme.us.auth0.com/api/v2/", "scope": ["read:users", "read:clients"]}), json!({"id": "cgr_3"})));
    e.push(mgmt("sapi", t + 1020, "Update tenant settings", "patch", "/api/v2/tenants/settings", "alice@acme.example",
        json!({"error_page": {"html": "<p>{{ error_description | escape }}</p>", "show_log_link": false}}), json!({})));
    for i in 0..3 {
        e.push(mgmt(
            "sapi",
            t + 2 * HOUR + i * HOUR,
            "Dynamic client registration",
            "post",
            "/oidc/register",
            "",
            json!({"client_name": format!("ok{i}")}),
            json!({"client_id": format!("ok{i}")}),
        ));
    }

    // secret-exposure
    let t = t + 6 * HOUR;
    e.push(ev("mgmt_api_read", t).desc("Get client by ID").client_named("dashboard0", "").ip("192.0.2.91").details(json!({
        "accessedSecrets": ["client_secret"],
        "request": {"method": "get", "path": "/api/v2/clients/m2mWRITE", "auth": {"user": {"email": "mallory@acme.example"}}},
        "response": {"statusCode": 200, "body": {"client_id": "m2mWRITE"}}})));
    e.push(
        ev("seccft", t + 60)
            .desc("Client Credentials for Access Token")
            .client_named("explorer1", "API Explorer Application")
            .ip("192.0.2.91")
            .field("audience", json!("https://acme.us.auth0.com/api/v2/")),
    );
    e.push(ev("mgmt_api_read", t + 120).desc("Get a connection").client_named("dashboard0", "").details(json!({
        "accessedSecrets": ["options.client_secret"],
        "request": {"method": "get", "path": "/api/v2/connections/con_1", "auth": {"user": {"email": "alice@acme.example"}}},
        "response": {"statusCode": 200, "body": {"id": "con_1"}}})));
    e.push(
        ev("seccft", t + 180)
            .desc("Client Credentials for Access Token")
            .client_named("m2mREAD", "Reporting job")
            .field("audience", json!("https://acme.us.auth0.com/api/v2/")),
    );

    // success-after-attack
    let t = t + HOUR;
    e.push(ev("pwd_leak", t).ip("203.0.113.200").user("auth0|leaked"));
    e.push(ev("s", t + 1800).ip("203.0.113.200").user("auth0|victim"));
    e.push(
        ev("pla", t + 60)
            .ip("203.0.113.202")
            .details(json!({"requiresVerification": true})),
    );
    e.push(
        ev("ss", t + HOUR)
            .ip("203.0.113.202")
            .user("auth0|botsignup"),
    );
    e.push(ev("fp", t).ip("203.0.113.203").user("auth0|typo"));
    e.push(ev("s", t + 60).ip("203.0.113.203").user("auth0|typo"));
    e.push(ev("s", t).ip("203.0.113.204").user("auth0|early"));
    e.push(
        ev("limit_wc", t + 60)
            .ip("203.0.113.204")
            .user("auth0|early"),
    );

    // refresh-token-spread: one family from six IPs and three browsers; another
    // from two IPs.
    let t = t + 2 * HOUR;
    let agents = [
        "Mozilla/5.0 Firefox/131.0",
        "curl/8.5.0",
        "python-requests/2.32",
    ];
    for i in 0..6 {
        e.push(
            ev("sertft", t + i * 600)
                .user("auth0|rt1")
                .client_named("spa1", "Acme SPA")
                .ip(&format!("198.51.100.{}", 120 + i))
                .field("user_agent", json!(agents[i as usize % 3]))
                .details(json!({"familyId": "fam-stolen"})),
        );
    }
    for i in 0..3 {
        e.push(
            ev("sertft", t + i * 600)
                .user("auth0|rt2")
                .client_named("spa1", "Acme SPA")
                .ip(&format!("198.51.100.{}", 130 + i % 2))
                .field("user_agent", json!(agents[0]))
                .details(json!({"familyId": "fam-ok"})),
        );
    }

    // account-linking-takeover
    let t = t + 2 * HOUR;
    let link = |t: i64, user: &str, email: &str, verified: bool| {
        mgmt(
            "sapi",
            t,
            "Link a user account",
            "post",
            &format!("/api/v2/users/auth0%7C{user}/identities"),
            "linker@acme.example",
            json!({"provider": "google-oauth2", "user_id": format!("g-{user}")}),
            json!([
                {"provider": "auth0", "user_id": user, "connection": "Username-Password-Authentication", "isSocial": false},
                {"provider": "google-oauth2", "user_id": format!("g-{user}"), "connection": "google-oauth2", "isSocial": true,
                 "profileData": {"email": email, "email_verified": verified}}
            ]),
        )
    };
    e.push(ev("s", t).user("auth0|linkvictim"));
    e.push(link(t + 60, "linkvictim", "linkvictim@example.com", false));
    e.push(ev("s", t).user("auth0|linkswap"));
    e.push(link(t + 120, "linkswap", "attacker@example.net", true));
    e.push(ev("s", t).user("auth0|linkok"));
    e.push(link(t + 180, "linkok", "linkok@example.com", true));

    // sms-bombing: eight codes 20 s apart; four; six an hour apart.
    let t = t + HOUR;
    for i in 0..8 {
        e.push(
            ev(
                if i % 4 == 3 {
                    "gd_send_voice"
                } else {
                    "gd_send_sms"
                },
                t + i * 20,
            )
            .user("auth0|smsvictim"),
        );
    }
    for i in 0..4 {
        e.push(ev("gd_send_sms", t + i * 20).user("auth0|smsfew"));
    }
    for i in 0..6 {
        e.push(ev("gd_send_sms", t + i * HOUR).user("auth0|smsslow"));
    }

    // shared-guardian-device
    let device =
        |id: &str| json!({"enrollment": {"identifier": id, "name": "iPhone 15", "type": "pn"}});
    e.push(
        ev("gd_enrollment_complete", t)
            .user("auth0|g1")
            .desc("Guardian - Enrollment complete")
            .details(device("dev-shared-1")),
    );
    e.push(
        ev("gd_enrollment_complete", t + 600)
            .user("auth0|g2")
            .desc("Guardian - Enrollment complete")
            .details(device("dev-shared-1")),
    );
    e.push(
        ev("gd_enrollment_complete", t + 60)
            .user("auth0|g3")
            .desc("Guardian - Enrollment complete")
            .details(device("dev-own")),
    );
    e.push(
        ev("gd_enrollment_complete", t + 660)
            .user("auth0|g3")
            .desc("Guardian - Enrollment complete")
            .details(device("dev-own")),
    );

    // authorize-probing: twelve parameter errors from one IP; twelve wrong
    // passwords from another; three parameter errors from a third.
    let t = t + 2 * HOUR;
    for i in 0..12 {
        e.push(ev("f", t + i * 10).ip("198.51.100.66").client_named("spa1", "Acme SPA")
            .desc(&format!("Callback URL mismatch. https://evil{i}.example/cb is not in the list of allowed callback URLs")));
        e.push(
            ev("f", t + i * 10)
                .ip("198.51.100.67")
                .user("auth0|pwuser")
                .desc("Wrong email or password."),
        );
    }
    for i in 0..3 {
        e.push(
            ev("f", t + i * 10)
                .ip("198.51.100.68")
                .desc("Unknown client: nope"),
        );
    }

    // unverified-signups: twelve unverified from one domain in 12 minutes, one
    // from a throw-away domain; twelve that verify.
    let t = t + HOUR;
    for i in 0..12 {
        e.push(
            ev("ss", t + i * 60)
                .user(&format!("auth0|spam{i}"))
                .user_name(&format!("u{i}@spam.example"))
                .ip("198.51.100.150"),
        );
        e.push(
            ev("ss", t + i * 60)
                .user(&format!("auth0|corp{i}"))
                .user_name(&format!("u{i}@corp.example")),
        );
        e.push(
            ev("sv", t + i * 60 + 30)
                .user(&format!("auth0|corp{i}"))
                .user_name(&format!("u{i}@corp.example")),
        );
    }
    e.push(
        ev("ss", t + 3 * HOUR)
            .user("auth0|temp1")
            .user_name("temp1@mailinator.com"),
    );

    // tenant-domain-bypass: the mobile app logs in through its custom domain,
    // twice through the auth0.com host; the web app only ever uses the
    // auth0.com host.
    let t = t + 4 * HOUR;
    for i in 0..3 {
        e.push(
            ev("s", t + i * 60)
                .user("auth0|m1")
                .client_named("mobile1", "Acme Mobile")
                .field("hostname", json!("login.acme.example")),
        );
    }
    e.push(
        ev("s", t + 600)
            .user("auth0|m2")
            .client_named("mobile1", "Acme Mobile")
            .ip("203.0.113.250")
            .field("hostname", json!("acme.us.auth0.com")),
    );
    e.push(
        ev("fp", t + 660)
            .user("auth0|m3")
            .client_named("mobile1", "Acme Mobile")
            .ip("203.0.113.250")
            .field("hostname", json!("acme.us.auth0.com")),
    );
    for i in 0..3 {
        e.push(
            ev("s", t + i * 60)
                .user("auth0|w1")
                .client_named("web2", "Acme Web")
                .field("hostname", json!("acme.us.auth0.com")),
        );
    }
    e
}

/// `log_ids` lists exactly `events` ids, each an event of the archive.
pub fn check_evidence(db: &Path, name: &str, rows: &[Map<String, Value>]) {
    for r in rows {
        let ids: Vec<&str> = r["log_ids"].as_str().unwrap().split(' ').collect();
        let events = r["events"].as_i64().unwrap();
        assert_eq!(ids.len() as i64, events, "{name}: {r:?}");
        for id in ids {
            let n = sql_count(
                db,
                &format!("SELECT count(*) FROM events WHERE log_id = '{id}'"),
            );
            assert_eq!(n, 1, "{name}: log id {id} not in the archive");
        }
    }
}
