//! How an HTTP answer from Auth0 is judged (done, worth a retry, or a
//! failure) and described in one line that never carries a secret: only the
//! human part of an error body, never the body itself.

use reqwest::StatusCode;
use serde::Deserialize;

use super::Auth;
use crate::error::Error;

/// The largest answer body read. An Auth0 logs page holds at most 100
/// events of a few KiB each (well under 1 MiB); a body past this is a
/// broken proxy or a hostile server, refused before it can exhaust memory.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Why a body could not be read whole.
pub(super) enum BodyError {
    /// Longer than [`MAX_BODY_BYTES`]; the text is the error to report.
    TooLarge(String),
    /// The connection broke off.
    Broke(String),
}

/// Reads the body of `resp`, at most [`MAX_BODY_BYTES`] of it (a longer
/// `Content-Length`, or a chunked body that keeps coming, is refused as
/// soon as it shows).
pub(super) async fn read_body(mut resp: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    let too_large = || {
        BodyError::TooLarge(format!(
            "the server sent an answer larger than {} MiB, the limit on one answer \
             (an Auth0 page is far smaller): refused",
            MAX_BODY_BYTES / (1024 * 1024)
        ))
    };
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(BodyError::Broke(describe_transport(&e))),
        }
    }
}

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
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "request failed"
    };
    // The URL carries only the checkpoint; the token travels in a header.
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({detail})")
    }
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
