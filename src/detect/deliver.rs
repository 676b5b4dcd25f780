//! Delivery of findings to webhooks, at least once: a pass registers its
//! webhooks (by fingerprint) before it examines, so the findings it files
//! are queued for them in the same transaction (schema 008's trigger); then
//! it drains the outbox: each pending finding is POSTed with
//! `Idempotency-Key: <id>` and marked delivered only after a 2xx. Failures
//! are retried with capped backoff within a bounded time per webhook, so a
//! dead receiver never stalls a sync; what is left goes out on a later run.

use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use rusqlite::Connection;
use sha2::Sha256;

use crate::choices::WebhookFormat;
use crate::config::webhooks::{Webhook, Webhooks};
use crate::error::{Error, Result};
use crate::store::deliveries;

/// One attempt's longest wait for an answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// A webhook that accepts nothing for this long is left for the next run.
const STALL_BUDGET: Duration = Duration::from_secs(5);
/// The longest one run spends on one webhook, even while it accepts.
const RUN_BUDGET: Duration = Duration::from_secs(30);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Pending deliveries read at a time.
const BATCH: usize = 100;

/// A webhook of this run with its fingerprint in this archive.
pub struct Destination<'a> {
    pub webhook: &'a Webhook,
    pub fingerprint: String,
}

/// How one webhook's drain ended.
pub struct Drained {
    pub label: String,
    pub fingerprint: String,
    pub delivered: usize,
    pub left: usize,
    /// Why the last attempt failed, when some are left.
    pub error: Option<String>,
}

/// The webhook's name in this archive: the first 16 hex digits of an HMAC
/// of its URL under the archive's key. The URL itself is never stored.
pub fn fingerprint(key: &[u8], url: &str) -> String {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(url.as_bytes());
    hex::encode(mac.finalize().into_bytes())[..16].to_string()
}

/// Makes the findings filed from now on queue for these webhooks.
pub fn register<'a>(conn: &Connection, webhooks: &'a Webhooks) -> Result<Vec<Destination<'a>>> {
    if webhooks.is_empty() {
        return Ok(Vec::new());
    }
    let key = deliveries::fingerprint_key(conn)?;
    let min_rank = webhooks.min_severity as u8;
    webhooks
        .targets
        .iter()
        .map(|webhook| {
            let fingerprint = fingerprint(&key, webhook.url.expose());
            deliveries::register(conn, &fingerprint, min_rank)?;
            Ok(Destination {
                webhook,
                fingerprint,
            })
        })
        .collect()
}

/// Sends what is pending for each destination, oldest first.
pub async fn drain(
    conn: &Connection,
    destinations: &[Destination<'_>],
    format: WebhookFormat,
) -> Result<Vec<Drained>> {
    if destinations.is_empty() {
        return Ok(Vec::new());
    }
    let http = reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(ATTEMPT_TIMEOUT)
        // A redirect would carry the finding somewhere the user did not name.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("auth0-archive/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|_| Error::runtime("cannot set up the webhook client"))?;
    let mut out = Vec::with_capacity(destinations.len());
    for d in destinations {
        out.push(drain_one(conn, &http, d, format).await?);
    }
    Ok(out)
}

async fn drain_one(
    conn: &Connection,
    http: &reqwest::Client,
    d: &Destination<'_>,
    format: WebhookFormat,
) -> Result<Drained> {
    let started = Instant::now();
    let mut progress = Instant::now();
    let mut backoff = FIRST_BACKOFF;
    let mut drained = Drained {
        label: d.webhook.label.clone(),
        fingerprint: d.fingerprint.clone(),
        delivered: 0,
        left: 0,
        error: None,
    };
    'batches: loop {
        let ids = deliveries::pending_for(conn, &d.fingerprint, BATCH)?;
        if ids.is_empty() {
            break;
        }
        for id in ids {
            let Some(finding) = deliveries::finding(conn, id)? else {
                // The finding is gone: nothing is left to deliver.
                deliveries::settle(conn, id, &d.fingerprint, None)?;
                continue;
            };
            let body = body(id, &finding, format);
            loop {
                match post(http, d.webhook, id, &body).await {
                    Ok(()) => {
                        deliveries::settle(conn, id, &d.fingerprint, None)?;
                        drained.delivered += 1;
                        drained.error = None;
                        progress = Instant::now();
                        backoff = FIRST_BACKOFF;
                        break;
                    }
                    Err(why) => {
                        deliveries::settle(conn, id, &d.fingerprint, Some(&why))?;
                        drained.error = Some(why);
                        if progress.elapsed() + backoff > STALL_BUDGET
                            || started.elapsed() + backoff > RUN_BUDGET
                        {
                            break 'batches;
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
            if started.elapsed() > RUN_BUDGET {
                break 'batches;
            }
        }
    }
    drained.left = count_pending(conn, &d.fingerprint)?;
    Ok(drained)
}

fn count_pending(conn: &Connection, fingerprint: &str) -> Result<usize> {
    Ok(conn.query_row(
        "SELECT count(*) FROM deliveries WHERE destination = ?1 AND delivered_at IS NULL",
        [fingerprint],
        |r| r.get::<_, i64>(0),
    )? as usize)
}

/// The request body: the finding's JSON line, or Slack's `{"text": ...}`.
fn body(id: i64, f: &crate::store::findings::Finding, format: WebhookFormat) -> String {
    match format {
        WebhookFormat::Json => super::output::finding_json(id, f, true, false).to_string(),
        WebhookFormat::Slack => serde_json::json!({
            "text": format!(
                "[{}] {} (finding {id}, {} events, {} .. {})",
                f.severity.to_uppercase(),
                f.summary,
                f.events,
                f.first_seen,
                f.last_seen
            )
        })
        .to_string(),
    }
}

/// One attempt. The error says what happened, never the URL (reqwest's
/// own messages quote it).
async fn post(
    http: &reqwest::Client,
    webhook: &Webhook,
    id: i64,
    body: &str,
) -> std::result::Result<(), String> {
    let sent = http
        .post(webhook.url.expose())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", id.to_string())
        .body(body.to_string())
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
        Err(e) if e.is_timeout() => {
            Err(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()))
        }
        Err(e) if e.is_connect() => Err("cannot connect".to_string()),
        Err(_) => Err("the connection failed before an answer".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_depends_on_the_key_and_the_url_and_shows_neither() {
        let url = "https://hooks.example.com/services/T0KEN";
        let a = fingerprint(b"key one", url);
        assert_eq!(a.len(), 16);
        assert_eq!(a, fingerprint(b"key one", url));
        assert_ne!(a, fingerprint(b"key two", url));
        assert_ne!(
            a,
            fingerprint(b"key one", "https://hooks.example.com/other")
        );
        assert!(!a.contains("T0KEN"));
    }
}
