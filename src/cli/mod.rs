//! What clap parsed, and nothing else. Validation happens in `config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod examples;

use crate::choices::{EngineKind as Engine, FailOn, Format, Severity, WebhookFormat};
use crate::log::LogFormat;
use crate::secret::Secret;

/// Archive an Auth0 tenant's log events into a local SQLite file and
/// investigate them offline with saved forensic reports, SQL and Parquet.
#[derive(Debug, Parser)]
#[command(name = "auth0-archive", version, about, long_about = None, after_help = examples::TOP)]
pub struct Cli {
    /// SQLite archive file [default: ./auth0-logs.db; ./auth0-demo.db for `demo`]
    #[arg(long, global = true, env = "AUTH0_ARCHIVE_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Diagnostics on stderr as text or as JSON lines (detail level from RUST_LOG)
    #[arg(long, global = true, env = "AUTH0_ARCHIVE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch new log events since the stored checkpoint (first run: everything retained)
    #[command(after_help = examples::SYNC)]
    Sync(Box<SyncArgs>),
    /// Show what is archived, up to when, and how the last sync went
    #[command(after_help = examples::STATUS)]
    Status(StatusArgs),
    /// Run saved reports or read-only SQL, export Parquet
    #[command(subcommand, after_help = examples::QUERY)]
    Query(QueryCommand),
    /// The whole flow with no Auth0 account: a simulated tenant, a sync, status and reports
    #[command(after_help = examples::DEMO)]
    Demo(DemoArgs),
    /// Recompute the integrity chain; report the first altered, inserted or deleted event
    #[command(after_help = examples::VERIFY)]
    Verify(VerifyArgs),
    /// Back-fill events from log-stream exports or saved API pages (NDJSON or JSON arrays, gzip accepted)
    #[command(after_help = examples::IMPORT)]
    Import(ImportArgs),
    /// Delete archived events older than a date (the integrity chain stays verifiable)
    #[command(after_help = examples::PRUNE)]
    Prune(PruneArgs),
    /// Run the saved detections over events not examined yet; print new findings
    #[command(after_help = examples::DETECT)]
    Detect(DetectArgs),
    /// Write an investigation report: one self-contained HTML page (charts, map, findings)
    #[command(after_help = examples::REPORT)]
    Report(ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell) on stdout
    #[command(after_help = examples::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on stdout
    #[command(after_help = examples::MAN)]
    Man,
}

/// The shells `completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Output format [default: table on a terminal, ndjson otherwise]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Re-examine events from this time (YYYY-MM-DD or RFC 3339) without moving watermarks
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Re-examine events up to this time (a bare date includes the day)
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Exit 7 when a new finding reaches this severity
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Only this tenant's events (the `tenant` column); watermarks are kept per tenant
    #[arg(long, value_name = "NAME")]
    pub tenant: Option<String>,
    /// Only these detections (repeatable)
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,
    /// No summary line on stderr
    #[arg(long)]
    pub quiet: bool,
    /// Also evaluate these Sigma rules (a file or a directory; repeatable);
    /// only rules with `logsource.product: auth0` are used
    #[arg(long, value_name = "PATH")]
    pub sigma: Vec<PathBuf>,
    /// Run only the --sigma rules, not the saved detections
    #[arg(long, requires = "sigma")]
    pub no_reports: bool,
    /// Where the detections run: the archive itself, or its DuckDB copy
    /// (kept up to date beside it; several times faster on large archives)
    #[arg(long, value_enum, default_value_t = Engine::Sqlite)]
    pub engine: Engine,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
}

/// Where new findings are delivered, on `detect` and `sync --detect`.
#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// POST each new finding as JSON to this URL, at least once (repeatable;
    /// the URL is a secret: never printed, logged or stored)
    #[arg(
        long,
        env = "AUTH0_ARCHIVE_WEBHOOK",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub webhook: Vec<Secret>,
    /// Read webhook URLs from this file, one per line (blank lines and
    /// lines starting with # are skipped), out of sight of other users
    #[arg(long, value_name = "PATH")]
    pub webhook_file: Option<PathBuf>,
    /// Deliver only findings of this severity or higher
    #[arg(long, value_enum, default_value_t = Severity::Info, value_name = "SEVERITY")]
    pub webhook_min_severity: Severity,
    /// The request body: the finding's JSON object, or Slack's `{"text": ...}`
    #[arg(long, value_enum, default_value_t = WebhookFormat::Json)]
    pub webhook_format: WebhookFormat,
}

/// No webhook (what the flags mean when none is given).
impl Default for WebhookArgs {
    fn default() -> Self {
        WebhookArgs {
            webhook: Vec::new(),
            webhook_file: None,
            webhook_min_severity: Severity::Info,
            webhook_format: WebhookFormat::Json,
        }
    }
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Print the result as one JSON object
    #[arg(long)]
    pub json: bool,
    /// Fail (exit 6) unless the chain still contains this head (SEQ:LINK, as
    /// printed by sync, status and verify, or the last line of a --head-file)
    #[arg(long, value_name = "HEAD")]
    pub expect_head: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to load: JSON arrays or NDJSON of Auth0 events, plain or gzip;
    /// log-stream envelopes (webhook `data`, EventBridge `detail`) are unwrapped
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Value of the `tenant` column [default: each event's hostname]
    #[arg(long, value_name = "NAME")]
    pub tenant: Option<String>,
    /// Print a one-object JSON summary on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Delete events dated before this day (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "DATE")]
    pub before: String,
    /// Only say what would be deleted
    #[arg(long)]
    pub dry_run: bool,
    /// Confirm the deletion (required unless --dry-run)
    #[arg(long)]
    pub yes: bool,
    /// Reclaim the freed space afterwards (VACUUM)
    #[arg(long)]
    pub vacuum: bool,
    /// Delete even events that no complete `query export` holds (by default
    /// prune refuses, exit 8, unless every day it deletes is exported with
    /// exactly the archived events)
    #[arg(long)]
    pub without_export: bool,
}

#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// Tenant URL or bare domain (acme.us.auth0.com means https://acme.us.auth0.com)
    #[arg(long, env = "AUTH0_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,

    /// How to authenticate [default: inferred from the secrets given]
    #[arg(long, env = "AUTH0_AUTH_TYPE", value_enum)]
    pub auth_type: Option<AuthType>,

    /// Client ID of a machine-to-machine application with read:logs
    #[arg(long, env = "AUTH0_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,

    /// Client secret of that application (never printed, logged or stored)
    #[arg(
        long,
        env = "AUTH0_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub client_secret: Option<Secret>,

    /// Token audience [default: <base-url>/api/v2/]
    #[arg(long, env = "AUTH0_AUDIENCE", value_name = "URL")]
    pub audience: Option<String>,

    /// A ready Management API token with read:logs (never printed)
    #[arg(
        long,
        env = "AUTH0_ACCESS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub access_token: Option<Secret>,

    /// Read the client secret from this file (`-`: standard input), out of
    /// sight of other users, unlike --client-secret
    #[arg(
        long,
        env = "AUTH0_CLIENT_SECRET_FILE",
        value_name = "PATH",
        conflicts_with = "client_secret"
    )]
    pub client_secret_file: Option<PathBuf>,

    /// Read the access token from this file (`-`: standard input), out of
    /// sight of other users, unlike --access-token
    #[arg(
        long,
        env = "AUTH0_ACCESS_TOKEN_FILE",
        value_name = "PATH",
        conflicts_with = "access_token"
    )]
    pub access_token_file: Option<PathBuf>,

    /// Stop after about N new events (whole pages of up to 100)
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,

    /// Start an empty archive at this date (YYYY-MM-DD or RFC 3339) instead of the oldest retained event
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,

    /// Print a one-object JSON summary on stdout
    #[arg(long)]
    pub json: bool,

    /// No progress output
    #[arg(long)]
    pub quiet: bool,

    /// Retries per request (after the first attempt) before giving up on a network or server error
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub max_retries: u32,

    /// First retry delay in milliseconds; doubles per attempt up to 30 s
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub retry_delay_ms: u64,

    /// Seconds to wait for one HTTP answer
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub timeout: u64,

    /// Keep polling after catching up; stop with Ctrl-C or SIGTERM
    #[arg(long)]
    pub follow: bool,

    /// Pause between polls in --follow mode (e.g. 30s, 5m, 1h)
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub interval: String,

    /// Tenants file (TOML) for archiving several tenants into one database
    #[arg(long, env = "AUTH0_ARCHIVE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// With --config: sync only this tenant; without: the name stored in the `tenant` column
    #[arg(long, value_name = "NAME")]
    pub tenant: Option<String>,

    /// Most requests in flight during a long backfill (adapted down to the rate limit)
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub concurrency: usize,

    /// Append each new integrity-chain head to this file (keep it outside the
    /// archive, e.g. on append-only storage); check it with `verify --expect-head`
    #[arg(long, env = "AUTH0_ARCHIVE_HEAD_FILE", value_name = "PATH")]
    pub head_file: Option<PathBuf>,

    /// Run the detections over the new events after each catch-up (once,
    /// after the sync, without --follow) and print new findings, as `detect`
    #[arg(long)]
    pub detect: bool,

    /// With --detect: also evaluate these Sigma rules (a file or a directory; repeatable)
    #[arg(long, value_name = "PATH", requires = "detect")]
    pub sigma: Vec<PathBuf>,

    #[command(flatten)]
    pub webhooks: WebhookArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthType {
    ClientCredentials,
    AccessToken,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the status as one JSON object
    #[arg(long)]
    pub json: bool,
    /// The tenant's log retention in days (plan-dependent: 1 to 30); warns
    /// when the time since the last successful sync risks a gap
    #[arg(long, env = "AUTH0_RETENTION_DAYS", value_name = "DAYS")]
    pub retention_days: Option<f64>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of events the simulated tenant holds
    #[arg(long, default_value_t = 3000, value_name = "N")]
    pub events: usize,
    /// Delete the demo archive of an earlier run first (otherwise it is reused)
    #[arg(long)]
    pub fresh: bool,
}

#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// List the saved reports with their parameters
    #[command(after_help = examples::QUERY_LIST)]
    List(ListArgs),
    /// Run a saved report
    #[command(after_help = examples::QUERY_RUN)]
    Run(RunArgs),
    /// Run read-only ad-hoc SQL against the archive
    #[command(after_help = examples::QUERY_SQL)]
    Sql(SqlArgs),
    /// Export events to Parquet (zstd), partitioned by day, through DuckDB
    #[command(after_help = examples::QUERY_EXPORT)]
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format [default: table on a terminal, csv otherwise]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// Where `query run` and `query sql` read, and how they print.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Output format [default: table on a terminal, csv otherwise]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Query engine
    #[arg(long, value_enum, default_value_t = Engine::Sqlite)]
    pub engine: Engine,
    /// Read a `query export` directory instead of the archive (DuckDB in
    /// memory over its day files; the archive is not opened)
    #[arg(long, value_name = "DIR", conflicts_with = "engine")]
    pub parquet: Option<PathBuf>,
    /// With --parquet: also read an incomplete export (the days its manifest lists)
    #[arg(long, requires = "parquet")]
    pub partial: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Report name (see `query list`)
    pub name: String,
    /// A report parameter, repeatable: --param threshold=20
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The SQL to run; the archive is opened read-only
    pub sql: String,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Target directory; days are written as DIR/date=YYYY-MM-DD/*.parquet
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// First day to export (YYYY-MM-DD), inclusive
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Last day to export (YYYY-MM-DD), inclusive
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The HTML file to write (one self-contained page; nothing is loaded from elsewhere)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// First instant to include (YYYY-MM-DD or RFC 3339, UTC)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Last instant to include (a bare date includes that whole day)
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Only this tenant's events (the `tenant` column)
    #[arg(long, value_name = "NAME")]
    pub tenant: Option<String>,
    /// Add a section on this user (the `user_id` column): timeline, countries, IPs, devices, MFA, findings
    #[arg(long, value_name = "USER_ID")]
    pub user: Option<String>,
    /// Query engine for the event aggregates
    #[arg(long, value_enum, default_value_t = Engine::Sqlite)]
    pub engine: Engine,
    /// Skip recomputing the integrity chain (`verify`); the chain head is still shown
    #[arg(long)]
    pub no_verify: bool,
    /// Do not run the pending detections first; the page shows the findings `detect` filed before
    #[arg(long)]
    pub no_detect: bool,
}
