//! What one tenant's sync did, as printed (`--json`: as is) and returned.

use serde::Serialize;

/// The result of one sync, printed as the summary (`--json` prints it as is).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub tenant: String,
    pub outcome: String,
    pub fetched: u64,
    pub inserted: u64,
    /// Already archived with the same content.
    pub duplicates: u64,
    /// Already archived with different content (kept in `conflicts`).
    pub conflicts: u64,
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
    /// The integrity chain's head after the run (`SEQ:LINK`): record it
    /// outside the archive and check it with `verify --expect-head`.
    pub chain_head: Option<String>,
    /// Whether this run moved the head (for `--head-file`).
    #[serde(skip)]
    pub head_moved: bool,
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
    let line = format!(
        "{tenant}{}: {} fetched, {} new, {} duplicates, {} conflicts, {} rejected; {} requests, {} retries, \
         {} rate-limited; last event {}; {:.1}s; chain head {}",
        s.outcome,
        s.fetched,
        s.inserted,
        s.duplicates,
        s.conflicts,
        s.rejected,
        s.requests,
        s.retries,
        s.rate_limited,
        s.last_event_date.as_deref().unwrap_or("none"),
        s.elapsed_s,
        s.chain_head.as_deref().unwrap_or("none")
    );
    println!("{}", crate::terminal::printable(&line));
}

/// Appends the head a run produced to `path` (one `HEAD<TAB>TIME<TAB>TENANT`
/// line), flushed to disk before the run is reported: the record outside
/// the archive that `verify --expect-head` checks against.
pub fn append_head(path: &std::path::Path, s: &Summary) -> crate::error::Result<()> {
    use crate::error::Context;
    use std::io::Write;
    let Some(head) = &s.chain_head else {
        return Ok(());
    };
    let what = format!("cannot append the chain head to {}", path.display());
    let mut file = crate::private_file::open_append(path).context(&what)?;
    writeln!(file, "{head}\t{}\t{}", crate::time::now_iso(), s.tenant).context(&what)?;
    file.sync_all().context(&what)
}
