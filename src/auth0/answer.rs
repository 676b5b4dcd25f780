//! How an HTTP answer from Auth0 is judged (done, worth a retry, or a
//! failure) and described in one line that never carries a secret: only the
//! human part of an error body, never the body itself.

use reqwest::StatusCode;
use serde::Deserialize;

use super::Auth;
use crate::error::Error;

/// How one answer is judged by the caller.
pub(super) enum Verdict<T> {
    Done(T),
    /// Worth trying again; the text says what went wrong.
    Retry(String),
    Fail(Error),
}

/// The error for a token Auth0 refused even after renewal.
pub(super) fn refused_token(auth: &Auth) -> Error {
    Error::Auth(match auth {
        Auth::AccessToken(_) => {
            "the access token was refused (401 Unauthorized): it is expired or invalid; \
             provide a fresh AUTH0_ACCESS_TOKEN or use client credentials"
                .to_string()
        }
        Auth::ClientCredentials { .. } => {
            "Auth0 refused a freshly minted token (401 Unauthorized); \
             check --audience (AUTH0_AUDIENCE) and the application's grants"
                .to_string()
        }
    })
}

/// 5xx and 408 are worth retrying; any other unexpected status is not.
pub(super) fn retry_or_fail<T>(status: StatusCode, body: &[u8], what: &str) -> Verdict<T> {
    let msg = server_message(body);
    let text = if msg.is_empty() {
        format!("{what} answered {status}")
    } else {
        format!("{what} answered {status}: {msg}")
    };
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT || status.is_success() {
        Verdict::Retry(text)
    } else {
        Verdict::Fail(Error::Refused {
            status: status.as_u16(),
            message: text,
        })
    }
}

/// The human part of an Auth0 error body (`message` or
/// `error_description`), shortened; never the whole body, which could be an
/// HTML page.
pub(super) fn server_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        message: Option<String>,
        error_description: Option<String>,
        error: Option<String>,
    }
    let Ok(b) = serde_json::from_slice::<ErrorBody>(body) else {
        return String::new();
    };
    let text = b
        .message
        .or(b.error_description)
        .or(b.error)
        .unwrap_or_default();
    let clean: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    clean
}

pub(super) fn describe_transport(e: &reqwest::Error) -> String {
    // Only the host is named: the URL carries the checkpoint, the token
    // travels in a header, and a password in the URL must not show.
    let host = e
        .url()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(443)))
        })
        .unwrap_or_else(|| "the tenant".into());
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    let lower = detail.to_lowercase();
    let (what, check) = if e.is_timeout() {
        (
            format!("{host} did not answer in time"),
            "check the network path to it (firewall, proxy) or raise --timeout",
        )
    } else if lower.contains("dns") || lower.contains("lookup") || lower.contains("resolve") {
        (
            format!("the name {host} does not resolve (DNS)"),
            "check --base-url (AUTH0_BASE_URL): it should be your tenant's domain, e.g. acme.us.auth0.com",
        )
    } else if lower.contains("refused") {
        (
            format!("{host} refused the connection"),
            "check --base-url (AUTH0_BASE_URL) and that no firewall or proxy is in the way",
        )
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        (
            format!("the TLS handshake with {host} failed"),
            "check --base-url, and whether a proxy intercepts TLS with a certificate this machine does not trust",
        )
    } else if e.is_connect() {
        (
            format!("cannot connect to {host}"),
            "check --base-url (AUTH0_BASE_URL) and the network",
        )
    } else if e.is_body() || e.is_decode() {
        (format!("the answer from {host} broke off"), "")
    } else {
        (format!("the request to {host} failed"), "")
    };
    let mut out = what;
    if !detail.is_empty() {
        out.push_str(&format!(" ({})", crate::text::one_line(&detail, 160)));
    }
    if !check.is_empty() {
        out.push_str(": ");
        out.push_str(check);
    }
    out
}

/// Whether a failure never reached the server (nothing answered): retried
/// only briefly while the host has never answered, as it is most often a
/// wrong URL rather than an outage.
pub(super) fn never_reached(e: &reqwest::Error) -> bool {
    e.is_connect() && !e.is_timeout()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_are_short_and_single_line() {
        let body = format!(r#"{{"message":"bad\nthing {}"}}"#, "x".repeat(500));
        let m = server_message(body.as_bytes());
        assert!(m.len() <= 200 && !m.contains('\n'));
        assert_eq!(server_message(b"<html>502</html>"), "");
    }
}
