//! Talking to Auth0: the Management API client with retries, token renewal
//! and rate-limit pacing, and the layout of Auth0 log ids. It knows HTTP and
//! Auth0's rules, nothing about the archive: callers bring the page parser
//! and read the request counters.

mod answer;
pub mod client;
pub mod log_id;
pub mod pacing;
pub mod server_clock;
mod token;

pub use answer::MAX_BODY_BYTES;

use std::time::Duration;

use reqwest::Url;

use crate::secret::Secret;

/// How the client authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Client-credentials grant, minted at start and again on a 401.
    ClientCredentials {
        client_id: String,
        client_secret: Secret,
        audience: String,
    },
    /// A ready token; it cannot be renewed.
    AccessToken(Secret),
}

impl Auth {
    /// The secrets this configuration holds, so output can be scrubbed of them.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            Auth::ClientCredentials { client_secret, .. } => vec![client_secret.expose()],
            Auth::AccessToken(t) => vec![t.expose()],
        }
    }
}

/// Retry and timeout policy for HTTP requests.
#[derive(Debug, Clone, Copy)]
pub struct HttpPolicy {
    pub max_retries: u32,
    pub first_retry_delay: Duration,
    pub max_retry_delay: Duration,
    pub timeout: Duration,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            max_retries: 8,
            first_retry_delay: Duration::from_millis(500),
            max_retry_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
        }
    }
}

/// The Management API audience of a tenant: `<base>/api/v2/`, with the
/// trailing slash Auth0 requires.
pub fn default_audience(base: &Url) -> String {
    format!("{}/api/v2/", base.as_str().trim_end_matches('/'))
}
