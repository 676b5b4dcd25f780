//! Hostile tenants: what a broken or malicious tenant (or a proxy in front of
//! it) can send, switched on one by one by the tests of `tests/it/hostile.rs`.
//! Attacks carried by the events themselves (a lone surrogate in a user name,
//! terminal escapes or a path in a `log_id`) are events: see the builders
//! below. Everything here is apart from the limiters and faults in `api`.

use super::http::{Answer, Request};
use super::{StoredEvent, TenantState};

/// How the tenant misbehaves on purpose. All off by default.
#[derive(Debug, Clone, Default)]
pub struct Hostile {
    /// Log requests are answered 200 with a chunked body of this many
    /// bytes that never becomes a page (`[` then spaces), written as it is
    /// sent, never held in memory.
    pub endless_body: Option<u64>,
    /// Log requests are answered 200 with this `Content-Length` and no body
    /// at all: a client trusting the header would reserve that much.
    pub promised_length: Option<u64>,
    /// The token endpoint refuses every grant (401) quoting the client
    /// secret it was sent in `error_description`.
    pub echo_client_secret: bool,
    /// Log requests are answered 500 with a message quoting the request's
    /// `Authorization` header.
    pub echo_authorization: bool,
    /// Requests for paths the tenant does not serve, as `METHOD PATH` with
    /// ` (bearer)` when they carried a token: where a crafted log id would
    /// have aimed the client.
    pub stray_requests: Vec<String>,
}

/// The hostile answer to `req`, when a mode calls for one (requests for
/// unknown paths are recorded and left to the ordinary 404).
pub(super) fn answer(st: &mut TenantState, req: &Request) -> Option<Answer> {
    let h = &mut st.hostile;
    let logs = req.method == "GET" && req.path == "/api/v2/logs";
    let known = req.path == "/oauth/token" || req.path.starts_with("/api/v2/logs");
    if !known {
        let bearer = req.header("authorization").is_some();
        h.stray_requests.push(format!(
            "{} {}{}",
            req.method,
            req.path,
            if bearer { " (bearer)" } else { "" }
        ));
        return None;
    }
    if req.method == "POST" && req.path == "/oauth/token" && h.echo_client_secret {
        let form: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let sent = form
            .get("client_secret")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        return Some(Answer::json(
            401,
            serde_json::json!({
                "error": "access_denied",
                "error_description": format!("Unauthorized: wrong client_secret {sent}"),
            })
            .to_string(),
        ));
    }
    if logs && h.echo_authorization {
        let auth = req.header("authorization").unwrap_or_default();
        return Some(Answer::error(
            500,
            "Internal Server Error",
            &format!("upstream failed for request with Authorization: {auth}"),
        ));
    }
    if logs && let Some(len) = h.endless_body {
        let mut a = Answer::json(200, Vec::new());
        a.stream = Some(super::http::Streamed::Chunked(len));
        return Some(a);
    }
    if logs && let Some(len) = h.promised_length {
        let mut a = Answer::json(200, Vec::new());
        a.stream = Some(super::http::Streamed::PromisedLength(len));
        return Some(a);
    }
    None
}

/// `n` failed logins (`type: f`) from `ip`, one a second from `start`, each
/// user name carrying a lone surrogate escape (`"\ud800x"`, what
/// JavaScript's `JSON.stringify` makes of half a surrogate pair): an attack
/// a strict JSON parser would not see.
pub fn surrogate_failed_logins(
    n: usize,
    ip: &str,
    start: chrono::DateTime<chrono::Utc>,
) -> Vec<StoredEvent> {
    (0..n)
        .map(|i| {
            let at = start + chrono::Duration::seconds(i as i64);
            let id = crate::auth0::log_id::synthetic(at);
            // Distinct ids at one second: the last digits count the event.
            let id = format!("{}{:06}", &id[..id.len() - 6], i);
            StoredEvent {
                key: id.clone(),
                raw: format!(
                    r#"{{"log_id":"{id}","date":"{}","type":"f","description":"Wrong email or password.","ip":"{ip}","user_name":"victim{i}\ud800x","user_agent":"\udc00bot","connection":"Username-Password-Authentication"}}"#,
                    crate::time::iso(at)
                ),
            }
        })
        .collect()
}

/// One event whose `log_id` (and description) is `id`, dated `at`: for ids
/// that carry terminal escapes or a path.
pub fn event_with_id(id: &str, at: chrono::DateTime<chrono::Utc>) -> StoredEvent {
    let raw = serde_json::json!({
        "log_id": id,
        "date": crate::time::iso(at),
        "type": "s",
        "description": id,
        "user_name": id,
        "ip": "10.9.8.7",
    })
    .to_string();
    StoredEvent {
        key: id.to_string(),
        raw,
    }
}
