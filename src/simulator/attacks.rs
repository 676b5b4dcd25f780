//! The planted-attack corpus: every attack the saved detections look for,
//! each beside a near miss they must not report, written the way Auth0 logs
//! it. One corpus serves both the simulated tenant (the demo, the
//! benchmarks) and the detection tests, so a detection tested against it is
//! the one the demo shows.

use serde_json::{Map, Value, json};

const HOUR: i64 = 3600;

/// One planted event: when, in seconds after the corpus starts, and its
/// fields as Auth0 writes them (without `log_id` and `date`, which the
/// archive or tenant that receives it assigns).
#[derive(Debug, Clone)]
pub struct Planted {
    pub after_seconds: i64,
    pub fields: Map<String, Value>,
}

impl Planted {
    /// The event's `type` code.
    pub fn code(&self) -> &str {
        self.fields["type"].as_str().unwrap_or_default()
    }

    fn set(mut self, k: &str, v: Value) -> Self {
        self.fields.insert(k.to_string(), v);
        self
    }
    fn ip(self, ip: &str) -> Self {
        self.set("ip", json!(ip))
    }
    /// The user `id`, named `<last part of the id>@example.com`.
    fn user(self, id: &str) -> Self {
        let name = id.rsplit('|').next().unwrap_or(id).to_string() + "@example.com";
        self.set("user_id", json!(id)).set("user_name", json!(name))
    }
    fn user_name(self, name: &str) -> Self {
        self.set("user_name", json!(name))
    }
    fn desc(self, d: &str) -> Self {
        self.set("description", json!(d))
    }
    fn field(self, k: &str, v: Value) -> Self {
        self.set(k, v)
    }
    fn client_named(self, id: &str, name: &str) -> Self {
        self.set("client_id", json!(id))
            .set("client_name", json!(name))
    }
    fn details(self, d: Value) -> Self {
        self.set("details", d)
    }
}

fn ev(ty: &str, after_seconds: i64) -> Planted {
    let fields = json!({"type": ty, "description": "", "user_id": ""});
    Planted {
        after_seconds,
        fields: fields.as_object().cloned().unwrap_or_default(),
    }
}

/// A Management API event (`sapi` unless `ty` says otherwise) as Auth0
/// writes it: the request (method, path, body, the dashboard user who made
/// it) and the response (status, body) in `details`.
#[allow(clippy::too_many_arguments)]
fn mgmt(
    ty: &str,
    t: i64,
    desc: &str,
    method: &str,
    path: &str,
    actor: &str,
    body: Value,
    resp: Value,
) -> Planted {
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

/// The corpus for a tenant served at `host`, in the order it was written
/// (not by time). It spans about a day and a half.
pub fn corpus(host: &str) -> Vec<Planted> {
    let api = format!("https://{host}/api/v2/");
    let mut e = Vec::new();
    let t = 0;
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
        json!({"client_id": "m2mWRITE", "audience": &api, "scope": ["read:users", "update:users", "delete:users"]}),
        json!({"id": "cgr_1", "client_id": "m2mWRITE", "audience": &api, "scope": ["read:users", "update:users", "delete:users"]})));
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
    e.push(mgmt(
        "sapi",
        t + 960,
        "Create client grant",
        "post",
        "/api/v2/client-grants",
        "alice@acme.example",
        json!({"client_id": "m2mREAD", "audience": &api, "scope": ["read:users", "read:clients"]}),
        json!({"id": "cgr_3"}),
    ));
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
            .field("audience", json!(&api)),
    );
    e.push(ev("mgmt_api_read", t + 120).desc("Get a connection").client_named("dashboard0", "").details(json!({
        "accessedSecrets": ["options.client_secret"],
        "request": {"method": "get", "path": "/api/v2/connections/con_1", "auth": {"user": {"email": "alice@acme.example"}}},
        "response": {"statusCode": 200, "body": {"id": "con_1"}}})));
    e.push(
        ev("seccft", t + 180)
            .desc("Client Credentials for Access Token")
            .client_named("m2mREAD", "Reporting job")
            .field("audience", json!(&api)),
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
            .field("hostname", json!(host)),
    );
    e.push(
        ev("fp", t + 660)
            .user("auth0|m3")
            .client_named("mobile1", "Acme Mobile")
            .ip("203.0.113.250")
            .field("hostname", json!(host)),
    );
    for i in 0..3 {
        e.push(
            ev("s", t + i * 60)
                .user("auth0|w1")
                .client_named("web2", "Acme Web")
                .field("hostname", json!(host)),
        );
    }

    // rate-limit-events (Panther's Auth0.Limits): attack protection blocks
    // one IP after repeated failures on one account, three times within the
    // hour (one burst), and the Management API rate limit trips once; near
    // miss: a rate-limit warning, which blocks nothing.
    let t = t + 2 * HOUR;
    for i in 0..3 {
        e.push(
            ev("limit_wc", t + i * 600)
                .user("auth0|ratelimited")
                .ip("198.51.100.201")
                .desc("User (ratelimited@example.com) attempted 10 consecutive logins unsuccessfully. Brute force protection is enabled for this connection, further attempts are blocked from this IP address for this user."),
        );
    }
    for (i, code) in ["api_limit", "api_limit_warning"].into_iter().enumerate() {
        e.push(
            ev(code, t + HOUR + i as i64 * 300)
                .client_named("bAcKeNd000000001", "Acme Backend")
                .ip("192.0.2.202")
                .desc("Global per second default group limit has been reached"),
        );
    }
    e
}
