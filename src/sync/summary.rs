//! What one tenant's sync did, as printed (`--json`: as is) and returned.

use serde::Serialize;

/// The result of one sync, printed as the summary (`--json` prints it as is).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub tenant: String,
    pub outcome: String,
    pub fetched: u64,
    pub inserted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub requests: u64,
    pub retries: u64,
    pub rate_limited: u64,
    pub checkpoint: Option<String>,
    pub last_event_date: Option<String>,
    pub elapsed_s: f64,
    pub gaps: Vec<GapSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapSummary {
    pub after_date: Option<String>,
    pub before_date: Option<String>,
}

/// Prints a summary on stdout: one JSON object, or one line (prefixed with
/// the tenant when several are synced or in follow mode).
pub fn print(s: &Summary, json: bool, name_tenant: bool) {
    if json {
        println!("{}", serde_json::to_string(s).unwrap_or_default());
        return;
    }
    let tenant = if name_tenant {
        format!("{}: ", s.tenant)
    } else {
        String::new()
    };
    println!(
        "{tenant}{}: {} fetched, {} new, {} duplicates, {} rejected; {} requests, {} retries, {} rate-limited; \
         last event {}; {:.1}s",
        s.outcome,
        s.fetched,
        s.inserted,
        s.duplicates,
        s.rejected,
        s.requests,
        s.retries,
        s.rate_limited,
        s.last_event_date.as_deref().unwrap_or("none"),
        s.elapsed_s
    );
}
