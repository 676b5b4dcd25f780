//! The closed sets of values the command line offers (output format, query
//! engine, a finding's severity, the `--fail-on` threshold). They live here, below both the
//! parser (`cli`) and the modules that act on them, so that neither has to
//! know the other.

use clap::ValueEnum;

/// Result formats. `csv` is safe to open in a spreadsheet: text cells that
/// a spreadsheet would run as a formula get a leading `'`; `csv-raw` keeps
/// every value exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for a terminal
    Table,
    /// CSV safe for spreadsheets: text starting with = + - @ tab or CR gets a leading '
    Csv,
    /// CSV with every value exact (not for spreadsheets: formulas would run)
    CsvRaw,
    /// One JSON array of objects, values exact
    Json,
    /// One JSON object per line, values exact
    Ndjson,
}

/// Where queries run: the SQLite archive itself, or its DuckDB copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    Sqlite,
    Duckdb,
}

/// The severity at which `detect --fail-on` exits 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
}

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WebhookFormat {
    /// The finding's JSON object (its ndjson line)
    Json,
    /// `{"text": "..."}`, for Slack (and Mattermost, Teams workflows) incoming webhooks
    Slack,
}

/// How urgent a finding is, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "info" | "informational" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" | "critical" => Some(Severity::High),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}
