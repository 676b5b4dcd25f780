//! The attacks the detection reports find (tenant configuration changes,
//! secret reads, takeovers, bursts), each written the way Auth0 logs it and
//! each beside a near miss the reports must not report.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::Draft;

/// A Management API write as Auth0 logs it: request and response in
/// `details`, made by a dashboard user.
fn sapi<'a>(
    at: DateTime<Utc>,
    description: &'a str,
    method: &str,
    path: &str,
    actor: &str,
    body: Value,
    resp: Value,
) -> Draft<'a> {
    Draft {
        at,
        code: "sapi",
        description,
        user: None,
        ip: "192.0.2.201".into(),
        city: 2,
        details: json!({
            "request": {
                "method": method, "path": path, "query": {}, "body": body,
                "channel": "https://manage.auth0.com/", "ip": "192.0.2.201",
                "auth": {"strategy": "jwt", "user": {"user_id": format!("google-oauth2|{actor}"), "email": actor, "name": actor}}
            },
            "response": {"statusCode": 200, "body": resp}
        }),
        extra: Value::Null,
    }
}

/// The attacks the detection reports find, each with a near miss that they
/// must not report.
pub(super) fn plant(drafts: &mut Vec<Draft<'_>>, at: &dyn Fn(f64) -> DateTime<Utc>) {
    let m = "mallory@demo-corp.example";
    let ok = "alice@demo-corp.example";
    let t = at(0.20);
    let min = Duration::minutes;
    // security-settings-weakened: brute-force protection off; near miss: on.
    drafts.push(sapi(t, "Update Brute-force settings", "patch", "/api/v2/attack-protection/brute-force-protection", m,
        json!({"enabled": false}), json!({"enabled": false, "shields": ["block", "user_notification"], "mode": "count_per_identifier_and_ip", "allowlist": []})));
    drafts.push(sapi(t + min(5), "Update Brute-force settings", "patch", "/api/v2/attack-protection/brute-force-protection", ok,
        json!({"enabled": true}), json!({"enabled": true, "shields": ["block", "user_notification"], "mode": "count_per_identifier_and_ip", "allowlist": []})));
    // mfa-weakened: MFA set to Never; near miss: a factor enabled.
    drafts.push(sapi(
        t + min(10),
        "Set the Multi-factor Authentication policies",
        "put",
        "/api/v2/guardian/policies",
        m,
        json!([]),
        json!([]),
    ));
    drafts.push(sapi(
        t + min(12),
        "Update a Multi-factor Authentication Factor",
        "put",
        "/api/v2/guardian/factors/otp",
        ok,
        json!({"enabled": true}),
        json!({"enabled": true}),
    ));
    // tenant-takeover: an owner invited, then two members deleted by the
    // same actor; near miss: an owner invited by another admin, no deletions.
    drafts.push(sapi(
        t + min(20),
        "Create tenant invitations for a given client",
        "post",
        "/api/v2/tenants/invitations",
        m,
        json!({"owners": ["evil@gmail.com"], "roles": ["owner"]}),
        json!({"id": "inv_1"}),
    ));
    for (i, who) in ["google-oauth2|alice", "google-oauth2|bob"]
        .iter()
        .enumerate()
    {
        drafts.push(sapi(
            t + min(25 + 5 * i as i64),
            "Delete tenant member",
            "delete",
            &format!("/api/v2/tenants/members/{who}"),
            m,
            json!({}),
            json!({}),
        ));
    }
    drafts.push(sapi(
        t + min(200),
        "Create tenant invitations for a given client",
        "post",
        "/api/v2/tenants/invitations",
        ok,
        json!({"owners": ["carol@demo-corp.example"], "roles": ["owner"]}),
        json!({"id": "inv_2"}),
    ));
    // risky-client-changes: cross-origin authentication on; near miss: off.
    drafts.push(sapi(
        t + min(40),
        "Update a client",
        "patch",
        "/api/v2/clients/aBcD1234EfGh5678",
        m,
        json!({"cross_origin_authentication": true}),
        json!({"client_id": "aBcD1234EfGh5678", "cross_origin_authentication": true}),
    ));
    drafts.push(sapi(
        t + min(45),
        "Update a client",
        "patch",
        "/api/v2/clients/aBcD1234EfGh5678",
        ok,
        json!({"cross_origin_authentication": false}),
        json!({"client_id": "aBcD1234EfGh5678", "cross_origin_authentication": false}),
    ));
    // secret-exposure: a client secret read.
    let mut read = sapi(
        t + min(50),
        "Get client by ID",
        "get",
        "/api/v2/clients/aBcD1234EfGh5678",
        m,
        Value::Null,
        json!({"client_id": "aBcD1234EfGh5678"}),
    );
    read.code = "mgmt_api_read";
    read.details["accessedSecrets"] = json!(["client_secret"]);
    drafts.push(read);
    // sms-bombing: eight codes to one user in under three minutes; near
    // miss: three to another.
    let t = at(0.35);
    for (n, user) in [(8, 61usize), (3, 62)] {
        for i in 0..n {
            drafts.push(Draft {
                at: t + Duration::seconds(i * 20),
                code: "gd_send_sms",
                description: "Guardian - Second factor sms sent",
                user: Some(user),
                ip: "192.0.2.78".into(),
                city: 3,
                details: json!({}),
                extra: Value::Null,
            });
        }
    }
    // authorize-probing: twelve callback mismatches from one IP.
    for i in 0..12 {
        drafts.push(Draft {
            at: t + Duration::seconds(600 + i * 15),
            code: "f",
            description: "Callback URL mismatch. https://evil.example/cb is not in the list of allowed callback URLs",
            user: None,
            ip: "198.51.100.66".into(),
            city: 5,
            details: json!({}),
            extra: Value::Null,
        });
    }
    // shared-guardian-device: one device enrolled by two users; near miss:
    // a user enrolling its own device twice.
    for (i, (user, dev)) in [
        (63usize, "dev-shared"),
        (64, "dev-shared"),
        (65, "dev-own"),
        (65, "dev-own"),
    ]
    .iter()
    .enumerate()
    {
        drafts.push(Draft {
            at: t + min(30 + 10 * i as i64),
            code: "gd_enrollment_complete",
            description: "Guardian - Enrollment complete",
            user: Some(*user),
            ip: "192.0.2.79".into(),
            city: 3,
            details: json!({"enrollment": {"identifier": dev, "name": "iPhone 15", "type": "pn"}}),
            extra: Value::Null,
        });
    }
    // refresh-token-spread: one family from six IPs; near miss: one IP.
    for (family, user, ips) in [("fam-stolen", 66usize, 6u64), ("fam-ok", 67, 1)] {
        for i in 0..6u64 {
            drafts.push(Draft {
                at: t + min(120 + 20 * i as i64),
                code: "sertft",
                description: "Refresh Token for Access Token",
                user: Some(user),
                ip: format!("198.51.100.{}", 120 + i % ips),
                city: 1,
                details: json!({"familyId": family}),
                extra: Value::Null,
            });
        }
    }
    // success-after-attack: a breached-password block, then a login from
    // the same IP; near miss: a login after an ordinary wrong password.
    let t = at(0.50);
    for (code, ip, min_after) in [
        ("pwd_leak", "203.0.113.90", 0),
        ("s", "203.0.113.90", 30),
        ("fp", "203.0.113.91", 0),
        ("s", "203.0.113.91", 30),
    ] {
        drafts.push(Draft {
            at: t + min(min_after),
            code,
            description: "",
            user: Some(70),
            ip: ip.into(),
            city: 4,
            details: json!({}),
            extra: Value::Null,
        });
    }
    // unverified-signups: twelve unverified sign-ups from one domain.
    for i in 0..12u64 {
        drafts.push(Draft {
            at: t + min(60 + i as i64),
            code: "ss",
            description: "Successful signup",
            user: Some(200 + i as usize),
            ip: "198.51.100.150".into(),
            city: 5,
            details: json!({}),
            extra: json!({"user_name": format!("u{i}@spam-signups.example")}),
        });
    }
    // tenant-domain-bypass: the mobile app logs in through its custom
    // domain, and twice through the auth0.com host.
    for (i, host) in [
        "login.demo-corp.example",
        "login.demo-corp.example",
        "demo.us.auth0.com",
        "demo.us.auth0.com",
    ]
    .iter()
    .enumerate()
    {
        drafts.push(Draft {
            at: t + min(120 + 5 * i as i64),
            code: "s",
            description: "Success Login",
            user: Some(71 + i),
            ip: "203.0.113.95".into(),
            city: 0,
            details: json!({}),
            extra: json!({"hostname": host, "client_id": "mOb1Le0000000001", "client_name": "Acme Mobile"}),
        });
    }
    // account-linking-takeover: an identity with an unverified email linked.
    drafts.push(sapi(t + min(180), "Link a user account", "post", "/api/v2/users/auth0%7C00000000000000005f000048/identities", m,
        json!({"provider": "google-oauth2", "user_id": "1093"}),
        json!([
            {"provider": "auth0", "user_id": "00000000000000005f000048", "connection": "Username-Password-Authentication", "isSocial": false},
            {"provider": "google-oauth2", "user_id": "1093", "connection": "google-oauth2", "isSocial": true,
             "profileData": {"email": "user72@example.com", "email_verified": false}}
        ])));
    // rate-limit-events (Panther's Auth0.Limits): attack protection blocks
    // one IP after repeated failures on one account, three times within the
    // hour (one burst), and the Management API rate limit trips once; near
    // miss: a rate-limit warning, which blocks nothing.
    for i in 0..3 {
        drafts.push(Draft {
            at: t + min(200 + 10 * i),
            code: "limit_wc",
            description: "User (user73@example.com) attempted 10 consecutive logins unsuccessfully. Brute force protection is enabled for this connection, further attempts are blocked from this IP address for this user.",
            user: Some(73),
            ip: "198.51.100.201".into(),
            city: 5,
            details: json!({}),
            extra: Value::Null,
        });
    }
    for (i, code) in ["api_limit", "api_limit_warning"].into_iter().enumerate() {
        drafts.push(Draft {
            at: t + min(240 + 5 * i as i64),
            code,
            description: "Global per second default group limit has been reached",
            user: None,
            ip: "192.0.2.202".into(),
            city: 2,
            details: json!({}),
            extra: json!({"client_id": "bAcKeNd000000001", "client_name": "Acme Backend"}),
        });
    }
}
