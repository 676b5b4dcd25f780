//! Validated settings. `cli` holds what clap parsed; this turns it, once,
//! into a `SyncPlan` the rest of the program can trust. A tenant's
//! connection settings come from the command line or from a tenants file
//! (`tenants`) in one shape, `TenantSettings`, checked by the same code.

pub mod commands;
pub mod tenants;
pub mod webhooks;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Url;

use crate::auth0::{Auth, HttpPolicy, default_audience};
use crate::cli::{AuthType, SyncArgs};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where progress and the summary go.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutputMode {
    pub json: bool,
    pub quiet: bool,
}

/// Everything needed to sync one tenant.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub db: PathBuf,
    /// The value of the `tenant` column and the checkpoint key: the tenant's host.
    pub tenant: String,
    pub base_url: Url,
    pub auth: Auth,
    pub max_events: Option<u64>,
    pub since: Option<DateTime<Utc>>,
    pub http: HttpPolicy,
    pub output: OutputMode,
}

/// Everything `sync` was asked to do: one or more tenants, once or following.
#[derive(Debug, Clone)]
pub struct SyncPlan {
    pub tenants: Vec<SyncConfig>,
    /// `Some(interval)` in --follow mode.
    pub follow: Option<Duration>,
    pub concurrency: usize,
    /// Where each new chain head is appended (`--head-file`).
    pub head_file: Option<PathBuf>,
    /// `--detect`: a detection pass after each catch-up.
    pub detect: Option<DetectPlan>,
}

/// What `sync --detect` runs after each catch-up and where it tells it.
#[derive(Debug, Clone)]
pub struct DetectPlan {
    pub sigma: Vec<PathBuf>,
    pub webhooks: webhooks::Webhooks,
}

impl SyncPlan {
    /// `typed` says which secrets came as command-line flags; each gets a
    /// warning, whatever else is wrong.
    pub fn from_args(db: PathBuf, args: &SyncArgs, typed: SecretsOnCommandLine) -> Result<Self> {
        if let Some(warning) = typed.warning() {
            crate::log::warn(&warning);
        }
        let follow = if args.follow {
            Some(parse_interval(&args.interval)?)
        } else {
            None
        };
        if args.concurrency == 0 {
            return Err(Error::usage("--concurrency must be at least 1"));
        }
        let shared = SharedSettings::from_args(args)?;
        let detect = if args.detect {
            Some(DetectPlan {
                sigma: args.sigma.clone(),
                webhooks: webhooks::Webhooks::from_args(&args.webhooks)?,
            })
        } else if args.webhooks.webhook_file.is_some() {
            return Err(Error::usage(
                "--webhook-file delivers the findings of --detect: add --detect",
            ));
        } else {
            None
        };
        let tenants = match &args.config {
            Some(file) => tenants::TenantsFile::load(file)?
                .select(args.tenant.as_deref())?
                .into_iter()
                .map(|(name, t)| {
                    SyncConfig::new(db.clone(), &t, &shared).map_err(|e| {
                        Error::usage(format!("{} tenant {name:?}: {e}", file.display()))
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            None => vec![SyncConfig::new(
                db,
                &TenantSettings::from_args(args)?,
                &shared,
            )?],
        };
        Ok(SyncPlan {
            tenants,
            follow,
            concurrency: args.concurrency,
            head_file: args.head_file.clone(),
            detect,
        })
    }
}

/// `30s`, `5m`, `1h`, `250ms`, or plain seconds.
pub fn parse_interval(s: &str) -> Result<Duration> {
    let s = s.trim();
    let bad = || Error::usage(format!("bad --interval {s:?}: use e.g. 30s, 5m or 1h"));
    let (num, unit) = s.split_at(
        s.find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(s.len()),
    );
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if !(0.0..=86_400.0 * 7.0).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// One tenant's connection settings, as given on the command line or in a
/// tenants file entry; not yet checked.
#[derive(Debug, Clone, Default)]
pub struct TenantSettings {
    /// The `tenant` column value [default: the host of `base_url`].
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub auth_type: Option<AuthType>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub access_token: Option<Secret>,
    pub audience: Option<String>,
}

impl TenantSettings {
    /// The command line's tenant. Reads the secret files it names, once.
    pub fn from_args(args: &SyncArgs) -> Result<Self> {
        let stdin = Path::new("-");
        if args.client_secret_file.as_deref() == Some(stdin)
            && args.access_token_file.as_deref() == Some(stdin)
        {
            return Err(Error::usage(
                "--client-secret-file and --access-token-file cannot both read standard input (-); \
                 give one of them a file",
            ));
        }
        let client_secret = match &args.client_secret_file {
            Some(path) => Some(read_secret(
                path,
                "the client secret",
                "--client-secret-file / AUTH0_CLIENT_SECRET_FILE",
            )?),
            None => args.client_secret.clone(),
        };
        let access_token = match &args.access_token_file {
            Some(path) => Some(read_secret(
                path,
                "the access token",
                "--access-token-file / AUTH0_ACCESS_TOKEN_FILE",
            )?),
            None => args.access_token.clone(),
        };
        Ok(TenantSettings {
            name: args.tenant.clone(),
            base_url: args.base_url.clone(),
            auth_type: args.auth_type,
            client_id: args.client_id.clone(),
            client_secret,
            access_token,
            audience: args.audience.clone(),
        })
    }
}

/// A usage error naming the file and the setting, never the content.
fn read_secret(path: &Path, what: &str, setting: &str) -> Result<Secret> {
    Secret::read_from(path).map_err(|e| {
        let from = if path == Path::new("-") {
            "standard input".to_string()
        } else {
            path.display().to_string()
        };
        Error::usage(format!("cannot read {what} from {from} ({setting}): {e}"))
    })
}

/// Which secrets were given as command-line flags, where every local user
/// can read them (`ps`, `/proc/PID/cmdline`), rather than through the
/// environment or a file. Only clap's matches know where a value came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecretsOnCommandLine {
    pub client_secret: bool,
    pub access_token: bool,
}

impl SecretsOnCommandLine {
    /// From the matches of the whole command line; all false unless the
    /// subcommand is `sync`.
    pub fn of(matches: &clap::ArgMatches) -> Self {
        let Some(("sync", sync)) = matches.subcommand() else {
            return Self::default();
        };
        let typed =
            |id: &str| sync.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
        SecretsOnCommandLine {
            client_secret: typed("client_secret"),
            access_token: typed("access_token"),
        }
    }

    /// One line naming the flags and the safer ways to pass them; never the values.
    pub fn warning(&self) -> Option<String> {
        let typed: Vec<[&str; 3]> = [
            (
                self.client_secret,
                [
                    "--client-secret",
                    "AUTH0_CLIENT_SECRET",
                    "--client-secret-file",
                ],
            ),
            (
                self.access_token,
                [
                    "--access-token",
                    "AUTH0_ACCESS_TOKEN",
                    "--access-token-file",
                ],
            ),
        ]
        .into_iter()
        .filter_map(|(typed, names)| typed.then_some(names))
        .collect();
        let names = |i: usize| typed.iter().map(|n| n[i]).collect::<Vec<_>>().join(" and ");
        let (is, it) = match typed.len() {
            0 => return None,
            1 => ("is", "it"),
            _ => ("are", "them"),
        };
        Some(format!(
            "{} on the command line {is} visible to every local user (ps, /proc/PID/cmdline); \
             pass {it} in {} or with {} instead",
            names(0),
            names(1),
            names(2)
        ))
    }
}

/// What every tenant of one `sync` invocation shares.
#[derive(Debug, Clone)]
pub struct SharedSettings {
    pub max_events: Option<u64>,
    pub since: Option<DateTime<Utc>>,
    pub http: HttpPolicy,
    pub output: OutputMode,
}

impl SharedSettings {
    pub fn from_args(args: &SyncArgs) -> Result<Self> {
        let since = args
            .since
            .as_deref()
            .map(|s| {
                crate::time::parse_instant(s).map_err(|e| Error::usage(format!("--since: {e}")))
            })
            .transpose()?;
        if args.max_events == Some(0) {
            return Err(Error::usage("--max-events must be at least 1"));
        }
        if args.timeout == 0 {
            return Err(Error::usage("--timeout must be at least 1 second"));
        }
        Ok(SharedSettings {
            max_events: args.max_events,
            since,
            http: HttpPolicy {
                max_retries: args.max_retries,
                first_retry_delay: Duration::from_millis(args.retry_delay_ms),
                timeout: Duration::from_secs(args.timeout),
                ..HttpPolicy::default()
            },
            output: OutputMode {
                json: args.json,
                quiet: args.quiet,
            },
        })
    }
}

impl SyncConfig {
    /// Checks one tenant's settings.
    pub fn new(db: PathBuf, t: &TenantSettings, shared: &SharedSettings) -> Result<Self> {
        let raw_url = non_empty(t.base_url.as_deref()).ok_or_else(|| {
            Error::usage(
                "missing tenant URL: set --base-url or AUTH0_BASE_URL (e.g. acme.us.auth0.com)",
            )
        })?;
        let base_url = parse_base_url(raw_url)?;
        let tenant = match non_empty(t.name.as_deref()) {
            Some(name) => name.to_string(),
            None => base_url.host_str().unwrap_or_default().to_string(),
        };
        let auth = resolve_auth(t, &base_url)?;
        Ok(SyncConfig {
            db,
            tenant,
            base_url,
            auth,
            max_events: shared.max_events,
            since: shared.since,
            http: shared.http,
            output: shared.output,
        })
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// `acme.us.auth0.com` means `https://acme.us.auth0.com`; plain http is only
/// accepted for loopback hosts, so a token never crosses a network in clear.
pub fn parse_base_url(input: &str) -> Result<Url> {
    let with_scheme = if input.contains("://") {
        input.to_string()
    } else {
        format!("https://{input}")
    };
    // The URL as the message may show it: credentials typed into it
    // (`https://user:password@host`) are not repeated.
    let shown = match with_scheme.split_once("://") {
        Some((scheme, rest)) => match rest
            .split(['/', '?', '#'])
            .next()
            .and_then(|a| a.rfind('@'))
        {
            Some(at) => format!("{scheme}://{}{}", crate::secret::REDACTED, &rest[at..]),
            None => input.to_string(),
        },
        None => input.to_string(),
    };
    let bad = |why: &str| Error::usage(format!("bad --base-url / AUTH0_BASE_URL {shown:?}: {why}"));
    let mut url = Url::parse(&with_scheme).map_err(|e| bad(&e.to_string()))?;
    let host = url.host_str().ok_or_else(|| bad("no host"))?.to_string();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(bad(
                "plain http is only allowed for loopback hosts; use https",
            ));
        }
        other => return Err(bad(&format!("unsupported scheme {other}"))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials do not belong in the URL; use AUTH0_CLIENT_ID/AUTH0_CLIENT_SECRET",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("remove the query string"));
    }
    // Keep any path prefix (a proxy), without a trailing slash.
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&path);
    Ok(url)
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

fn resolve_auth(args: &TenantSettings, base: &Url) -> Result<Auth> {
    let client_id = non_empty(args.client_id.as_deref());
    let secret = args
        .client_secret
        .clone()
        .filter(|s| !s.expose().trim().is_empty());
    let token = args
        .access_token
        .clone()
        .filter(|s| !s.expose().trim().is_empty());
    let kind = match args.auth_type {
        Some(kind) => kind,
        None => match (client_id.is_some() || secret.is_some(), token.is_some()) {
            (true, true) => {
                return Err(Error::usage(
                    "both client credentials (AUTH0_CLIENT_ID/AUTH0_CLIENT_SECRET) and an access token \
                     (AUTH0_ACCESS_TOKEN) are set: choose one with --auth-type or unset the other",
                ));
            }
            (false, true) => AuthType::AccessToken,
            (true, false) => AuthType::ClientCredentials,
            (false, false) => {
                return Err(Error::usage(
                    "missing credentials: set AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET \
                     (or --client-id and --client-secret-file), or AUTH0_ACCESS_TOKEN (or --access-token-file)",
                ));
            }
        },
    };
    match kind {
        AuthType::AccessToken => {
            let token = token.ok_or_else(|| {
                Error::usage(
                    "--auth-type access-token needs a token: set AUTH0_ACCESS_TOKEN or --access-token-file",
                )
            })?;
            Ok(Auth::AccessToken(Secret::new(token.expose().trim())))
        }
        AuthType::ClientCredentials => {
            let client_id = client_id.ok_or_else(|| {
                Error::usage(
                    "missing --client-id (AUTH0_CLIENT_ID) for the client-credentials grant",
                )
            })?;
            let client_secret = secret.ok_or_else(|| {
                Error::usage(
                    "missing client secret for the client-credentials grant: \
                     set AUTH0_CLIENT_SECRET or --client-secret-file",
                )
            })?;
            let audience = non_empty(args.audience.as_deref())
                .map(str::to_string)
                .unwrap_or_else(|| default_audience(base));
            Ok(Auth::ClientCredentials {
                client_id: client_id.to_string(),
                client_secret,
                audience,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_domains_mean_https_and_http_is_loopback_only() {
        assert_eq!(
            parse_base_url("acme.us.auth0.com").unwrap().as_str(),
            "https://acme.us.auth0.com/"
        );
        assert_eq!(
            parse_base_url("https://demo.us.auth0.com/")
                .unwrap()
                .host_str(),
            Some("demo.us.auth0.com")
        );
        assert!(parse_base_url("http://127.0.0.1:8080").is_ok());
        assert!(parse_base_url("http://[::1]:8080").is_ok());
        assert!(parse_base_url("http://localhost:1").is_ok());
        assert_eq!(
            parse_base_url("http://acme.us.auth0.com")
                .unwrap_err()
                .exit_code(),
            2
        );
        assert_eq!(parse_base_url("ftp://x").unwrap_err().exit_code(), 2);
        let e = parse_base_url("https://u:hunter2pw@x.com/p").unwrap_err();
        assert!(!e.to_string().contains("hunter2pw"), "{e}");
        assert!(e.to_string().contains("<redacted>@x.com/p"), "{e}");
        assert_eq!(
            parse_base_url("https://u:p@x.com").unwrap_err().exit_code(),
            2
        );
    }

    fn sync_matches(args: &[&str]) -> clap::ArgMatches {
        use clap::CommandFactory;
        let argv = ["auth0-archive", "sync"].iter().chain(args);
        crate::cli::Cli::command()
            .try_get_matches_from(argv)
            .unwrap()
    }

    fn sync_args(args: &[&str]) -> SyncArgs {
        use clap::FromArgMatches;
        match crate::cli::Cli::from_arg_matches(&sync_matches(args))
            .unwrap()
            .command
        {
            crate::cli::Command::Sync(args) => *args,
            _ => unreachable!(),
        }
    }

    #[test]
    fn secrets_given_as_flags_are_told_apart_and_warned_about_without_their_value() {
        let typed = SecretsOnCommandLine::of(&sync_matches(&["--client-secret", "s3cr3t"]));
        assert_eq!(
            typed,
            SecretsOnCommandLine {
                client_secret: true,
                access_token: false
            }
        );
        let w = typed.warning().unwrap();
        assert!(!w.contains("s3cr3t") && !w.contains('\n'), "{w}");
        assert!(w.contains("--client-secret ") && w.contains("AUTH0_CLIENT_SECRET"));
        assert!(
            w.contains("--client-secret-file") && !w.contains("token"),
            "{w}"
        );

        let both = SecretsOnCommandLine::of(&sync_matches(&[
            "--client-secret=s3cr3t",
            "--access-token",
            "t0ken",
        ]));
        let w = both.warning().unwrap();
        assert!(w.contains("--client-secret and --access-token"), "{w}");
        assert!(!w.contains("s3cr3t") && !w.contains("t0ken"), "{w}");

        let none = SecretsOnCommandLine::of(&sync_matches(&["--client-secret-file", "-"]));
        assert_eq!(none.warning(), None);
    }

    #[test]
    fn secret_files_are_read_once_into_the_tenant_settings() {
        let dir = tempfile::tempdir().unwrap();
        let (secret, token) = (dir.path().join("secret"), dir.path().join("token"));
        std::fs::write(&secret, "s3cr3t\n").unwrap();
        std::fs::write(&token, "t0ken\n").unwrap();
        let t = TenantSettings::from_args(&sync_args(&[
            "--client-secret-file",
            secret.to_str().unwrap(),
            "--access-token-file",
            token.to_str().unwrap(),
        ]))
        .unwrap();
        assert_eq!(t.client_secret.unwrap().expose(), "s3cr3t");
        assert_eq!(t.access_token.unwrap().expose(), "t0ken");

        std::fs::write(&secret, "\n").unwrap();
        let e = TenantSettings::from_args(&sync_args(&[
            "--client-secret-file",
            secret.to_str().unwrap(),
        ]))
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("empty"), "{e}");

        let e = TenantSettings::from_args(&sync_args(&[
            "--client-secret-file",
            "-",
            "--access-token-file",
            "-",
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("standard input"), "{e}");
    }

    #[test]
    fn a_secret_file_conflicts_with_its_flag() {
        use clap::CommandFactory;
        for pair in [
            ["--client-secret", "--client-secret-file"],
            ["--access-token", "--access-token-file"],
        ] {
            let e = crate::cli::Cli::command()
                .try_get_matches_from(["auth0-archive", "sync", pair[0], "s3cr3t", pair[1], "f"])
                .unwrap_err();
            assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
            assert!(!e.to_string().contains("s3cr3t"), "{e}");
        }
    }

    #[test]
    fn default_audience_has_the_trailing_slash() {
        let u = parse_base_url("acme.us.auth0.com").unwrap();
        assert_eq!(default_audience(&u), "https://acme.us.auth0.com/api/v2/");
    }
}
