//! `--webhook URL`, `AUTH0_ARCHIVE_WEBHOOK` and `--webhook-file PATH`,
//! validated. A webhook URL is a secret (Slack's and Teams' carry their
//! token in the path): it is held as a `Secret`, so the scrubber knows it,
//! and every message names it only by position and host.

use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

use reqwest::Url;

use crate::choices::{Severity, WebhookFormat};
use crate::cli::WebhookArgs;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// A webhooks file larger than this is surely the wrong file.
const MAX_FILE_LEN: u64 = 64 * 1024;

/// One webhook: its URL (secret) and how messages name it.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: Secret,
    /// `webhook #2 (host hooks.slack.com)`.
    pub label: String,
}

/// Where and what a detection pass delivers.
#[derive(Debug, Clone)]
pub struct Webhooks {
    pub targets: Vec<Webhook>,
    pub min_severity: Severity,
    pub format: WebhookFormat,
}

impl Default for Webhooks {
    fn default() -> Self {
        Webhooks {
            targets: Vec::new(),
            min_severity: Severity::Info,
            format: WebhookFormat::Json,
        }
    }
}

impl Webhooks {
    /// The flags' URLs first, then the file's, in order.
    pub fn from_args(args: &WebhookArgs) -> Result<Self> {
        let mut urls: Vec<Secret> = args
            .webhook
            .iter()
            .filter(|u| !u.expose().trim().is_empty())
            .cloned()
            .collect();
        if let Some(path) = &args.webhook_file {
            urls.extend(read_file(path)?);
        }
        let targets = urls
            .into_iter()
            .enumerate()
            .map(|(i, url)| Webhook::new(i + 1, url))
            .collect::<Result<Vec<_>>>()?;
        Ok(Webhooks {
            targets,
            min_severity: args.webhook_min_severity,
            format: args.webhook_format,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

impl Webhook {
    /// Checks the `n`th URL: http(s), and plain http only to a loopback
    /// host, as for the tenant URL. The message never quotes it.
    fn new(n: usize, url: Secret) -> Result<Self> {
        let bad = |why: &str| Error::usage(format!("webhook #{n}: {why}"));
        let parsed =
            Url::parse(url.expose().trim()).map_err(|e| bad(&format!("not a URL ({e})")))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| bad("the URL has no host"))?
            .to_string();
        match parsed.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(bad(
                    "plain http is only allowed for loopback hosts; use https",
                ));
            }
            _ => return Err(bad("only http(s) URLs can receive findings")),
        }
        Ok(Webhook {
            url: Secret::new(parsed.as_str()),
            label: format!("webhook #{n} (host {host})"),
        })
    }
}

/// The file's URLs, one per line; blank lines and `#` comments skipped.
fn read_file(path: &Path) -> Result<Vec<Secret>> {
    let cannot = |why: String| {
        Error::usage(format!(
            "cannot read --webhook-file {}: {why}",
            path.display()
        ))
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_LEN + 1).read_to_end(&mut bytes))
        .map_err(|e| cannot(e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(cannot("it is larger than 64 KiB".into()));
    }
    // The conversion error would quote the bytes.
    let text = String::from_utf8(bytes).map_err(|_| cannot("it is not UTF-8 text".into()))?;
    let urls: Vec<Secret> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(Secret::new)
        .collect();
    if urls.is_empty() {
        return Err(cannot("it holds no URL".into()));
    }
    Ok(urls)
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(urls: &[&str]) -> WebhookArgs {
        WebhookArgs {
            webhook: urls.iter().map(|u| Secret::new(*u)).collect(),
            webhook_file: None,
            webhook_min_severity: Severity::Low,
            webhook_format: WebhookFormat::Json,
        }
    }

    #[test]
    fn a_webhook_is_named_by_position_and_host_never_by_its_url() {
        let w = Webhooks::from_args(&args(&[
            "https://hooks.example.com/services/T0KEN-in-path",
            "http://127.0.0.1:9/x",
        ]))
        .unwrap();
        assert_eq!(w.targets[0].label, "webhook #1 (host hooks.example.com)");
        assert_eq!(w.targets[1].label, "webhook #2 (host 127.0.0.1)");
        assert_eq!(w.min_severity, Severity::Low);
        for bad in [
            "http://hooks.example.com/T0KEN-in-path",
            "ftp://hooks.example.com/T0KEN-in-path",
            "not a url T0KEN-in-path",
        ] {
            let e = Webhooks::from_args(&args(&[bad])).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().starts_with("webhook #1"), "{e}");
            assert!(!e.to_string().contains("T0KEN"), "{e}");
        }
    }

    #[test]
    fn a_webhooks_file_holds_one_url_per_line_with_comments() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hooks");
        std::fs::write(
            &file,
            "# ops channel\n\nhttps://a.example.com/x\n  https://b.example.com/y  \n",
        )
        .unwrap();
        let mut a = args(&["https://first.example.com/"]);
        a.webhook_file = Some(file.clone());
        let w = Webhooks::from_args(&a).unwrap();
        let labels: Vec<&str> = w.targets.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "webhook #1 (host first.example.com)",
                "webhook #2 (host a.example.com)",
                "webhook #3 (host b.example.com)"
            ]
        );
        std::fs::write(&file, "# nothing\n").unwrap();
        assert_eq!(Webhooks::from_args(&a).unwrap_err().exit_code(), 2);
    }
}
