//! Sigma rules over archived events.
//!
//! Rules whose `logsource.product` is `auth0` are loaded with `rsigma-parser`
//! and compiled and evaluated with `rsigma-eval`. Field names follow the
//! public catalogues (Okta's auth0-customer-detections, Panther): an event is
//! the document `{"data": <raw event>}`, so a rule names `data.type`,
//! `data.details.request.path` and so on (`type` alone is read as
//! `data.type`). The catalogues' Splunk-style `{}` suffix for array fields
//! (`data.details.response.body.scopes{}`) is stripped at load: the
//! evaluator already matches an array when any element matches.
//!
//! Correlation rules (`event_count`, `value_count`, `temporal`,
//! `temporal_ordered`, `value_sum`, `value_avg`, `value_percentile`,
//! `value_median`) run in `detect` ([`pass`]), with their windows kept in
//! the archive between runs.
//!
//! - [`rules`]: loading, naming, compiling ([`load`], [`RuleSet`]).
//! - `source`: finding and reading rule files, with size and nesting caps.
//! - [`pass`]: the `detect --sigma` pass, which files the findings.
//! - `subjects` and `correlation`: how matches become findings.

mod correlation;
pub mod pass;
pub mod rules;
mod source;
mod subjects;

pub use pass::LATE_TOLERANCE_MS;
pub use rules::{LoadProblem, RuleSet, SigmaMatch, load};
pub use source::{MAX_RULE_DEPTH, MAX_RULE_FILE_BYTES};

use crate::query::catalog::Severity;

/// A finding's severity from a rule's `level` (`critical` is `high`,
/// `informational` is `info`); a rule without one is `medium`.
fn severity(level: Option<&str>) -> &'static str {
    level
        .and_then(Severity::parse)
        .unwrap_or(Severity::Medium)
        .as_str()
}
