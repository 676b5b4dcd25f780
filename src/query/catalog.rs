//! The saved-report library: `queries/*.sql`, embedded at compile time.
//!
//! Each file starts with a comment header:
//!
//! ```sql
//! -- name: brute-force
//! -- description: Many failed logins (f, fp, fu) from one IP address.
//! -- param: threshold | integer | 10 | fewest failed logins from one IP to report
//! -- param: since | time | | first instant to consider
//! ```
//!
//! A parameter line is `name | type | default | help`. Types are `integer`,
//! `number`, `text` and `time`. An empty default means "optional" for `time`
//! parameters (the whole archive) and "required" for the others. The SQL
//! refers to parameters as `:name`; they are always bound, never spliced.
//!
//! A report that `detect` runs on a schedule also says so:
//!
//! ```sql
//! -- detection: high
//! -- key: ip
//! -- window: 3600
//! ```
//!
//! `detection` is the severity (`info`, `low`, `medium`, `high`); `key` the
//! columns that identify one finding (a burst by the same key that overlaps
//! an earlier finding is the same finding); `window` how many seconds of
//! events before the unexamined ones the report needs to see (a burst
//! straddling two runs), default 0. A detection must take the `since`,
//! `until` and `tenant` parameters and return `first_seen`, `last_seen`
//! (stored time text), `events` (how many events the finding rests on) and
//! `log_ids` (those events' ids, space-separated), besides its key.
//!
//! `-- doc:` lines hold the longer Markdown documentation that
//! `docs/REPORTS.md` is generated from (see `reference`).

use crate::error::{Error, Result};

use super::params::ParamType;

/// Every saved report, as (file name, text). Adding a file to `queries/`
/// without listing it here fails the `every_query_file_is_embedded` test.
const FILES: &[(&str, &str)] = &[
    (
        "account-linking-takeover.sql",
        include_str!("../../queries/account-linking-takeover.sql"),
    ),
    (
        "admin-actions.sql",
        include_str!("../../queries/admin-actions.sql"),
    ),
    (
        "authorize-probing.sql",
        include_str!("../../queries/authorize-probing.sql"),
    ),
    (
        "breached-passwords.sql",
        include_str!("../../queries/breached-passwords.sql"),
    ),
    (
        "brute-force.sql",
        include_str!("../../queries/brute-force.sql"),
    ),
    (
        "credential-stuffing.sql",
        include_str!("../../queries/credential-stuffing.sql"),
    ),
    (
        "cross-origin-auth.sql",
        include_str!("../../queries/cross-origin-auth.sql"),
    ),
    (
        "event-summary.sql",
        include_str!("../../queries/event-summary.sql"),
    ),
    (
        "impossible-travel.sql",
        include_str!("../../queries/impossible-travel.sql"),
    ),
    (
        "mfa-push-bombing.sql",
        include_str!("../../queries/mfa-push-bombing.sql"),
    ),
    (
        "mfa-weakened.sql",
        include_str!("../../queries/mfa-weakened.sql"),
    ),
    (
        "new-country-for-user.sql",
        include_str!("../../queries/new-country-for-user.sql"),
    ),
    (
        "rate-limit-events.sql",
        include_str!("../../queries/rate-limit-events.sql"),
    ),
    (
        "refresh-token-reuse.sql",
        include_str!("../../queries/refresh-token-reuse.sql"),
    ),
    (
        "refresh-token-spread.sql",
        include_str!("../../queries/refresh-token-spread.sql"),
    ),
    (
        "risky-client-changes.sql",
        include_str!("../../queries/risky-client-changes.sql"),
    ),
    (
        "secret-exposure.sql",
        include_str!("../../queries/secret-exposure.sql"),
    ),
    (
        "security-settings-weakened.sql",
        include_str!("../../queries/security-settings-weakened.sql"),
    ),
    (
        "shared-guardian-device.sql",
        include_str!("../../queries/shared-guardian-device.sql"),
    ),
    (
        "shared-mfa-phone.sql",
        include_str!("../../queries/shared-mfa-phone.sql"),
    ),
    (
        "signup-surge.sql",
        include_str!("../../queries/signup-surge.sql"),
    ),
    (
        "sms-bombing.sql",
        include_str!("../../queries/sms-bombing.sql"),
    ),
    (
        "success-after-attack.sql",
        include_str!("../../queries/success-after-attack.sql"),
    ),
    (
        "tenant-domain-bypass.sql",
        include_str!("../../queries/tenant-domain-bypass.sql"),
    ),
    (
        "tenant-takeover.sql",
        include_str!("../../queries/tenant-takeover.sql"),
    ),
    (
        "unknown-event-types.sql",
        include_str!("../../queries/unknown-event-types.sql"),
    ),
    (
        "unverified-signups.sql",
        include_str!("../../queries/unverified-signups.sql"),
    ),
    (
        "user-timeline.sql",
        include_str!("../../queries/user-timeline.sql"),
    ),
];

/// One declared report parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub kind: ParamType,
    /// `None`: optional for `time` (whole archive), required otherwise.
    pub default: Option<String>,
    pub help: String,
}

/// A saved query: one `queries/*.sql` file with its header. Users call
/// it a saved report (`query run NAME`); in the code `report` is the HTML
/// page only.
#[derive(Debug, Clone)]
pub struct SavedQuery {
    pub name: String,
    pub description: String,
    /// Longer documentation in Markdown (`-- doc:` lines), for docs/REPORTS.md.
    pub doc: Vec<String>,
    pub params: Vec<ParamSpec>,
    /// The whole file, header included (comments are valid SQL).
    pub sql: &'static str,
    /// Set when `detect` runs this report.
    pub detection: Option<Detection>,
}

/// How `detect` runs a report and files its rows as findings.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub severity: Severity,
    /// The columns that identify a finding.
    pub key: Vec<String>,
    /// Seconds of events before the unexamined ones that the report needs.
    pub window_s: i64,
}

pub use crate::choices::Severity;

/// All saved reports, sorted by name.
pub fn reports() -> Result<Vec<SavedQuery>> {
    let mut all = FILES
        .iter()
        .map(|&(file, text)| {
            parse(text).map_err(|e| Error::runtime(format!("saved report {file}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// The report called `name`, or a usage error listing the valid names.
pub fn find(name: &str) -> Result<SavedQuery> {
    let all = reports()?;
    if let Some(r) = all.iter().find(|r| r.name == name) {
        return Ok(r.clone());
    }
    let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
    let near = crate::text::closest(name, names.iter().copied());
    Err(Error::usage(match crate::text::did_you_mean(&near) {
        Some(hint) => {
            format!("unknown report '{name}': {hint} (all of them: `auth0-archive query list`)")
        }
        None => format!(
            "unknown report '{name}'; saved reports are: {} (see `auth0-archive query list`)",
            names.join(", ")
        ),
    }))
}

/// Parses a report file's comment header.
pub fn parse(text: &'static str) -> Result<SavedQuery, String> {
    let mut name = None;
    let mut description = None;
    let mut doc = Vec::new();
    let mut params = Vec::new();
    let (mut severity, mut key, mut window_s) = (None, None, 0);
    for line in text.lines() {
        let Some(comment) = line.trim().strip_prefix("--") else {
            break; // the header ends at the first non-comment line
        };
        if let Some(v) = comment.trim_start().strip_prefix("doc:") {
            doc.push(v.strip_prefix(' ').unwrap_or(v).to_string());
            continue;
        }
        let comment = comment.trim();
        if let Some(v) = comment.strip_prefix("name:") {
            name = Some(v.trim().to_string());
        } else if let Some(v) = comment.strip_prefix("description:") {
            description = Some(v.trim().to_string());
        } else if let Some(v) = comment.strip_prefix("param:") {
            params.push(parse_param(v)?);
        } else if let Some(v) = comment.strip_prefix("detection:") {
            severity = Some(Severity::parse(v).ok_or_else(|| {
                format!(
                    "unknown severity {:?}: use info, low, medium or high",
                    v.trim()
                )
            })?);
        } else if let Some(v) = comment.strip_prefix("key:") {
            key = Some(
                v.split(',')
                    .map(|k| k.trim().to_string())
                    .filter(|k| !k.is_empty())
                    .collect::<Vec<_>>(),
            );
        } else if let Some(v) = comment.strip_prefix("window:") {
            window_s = v
                .trim()
                .parse()
                .map_err(|_| format!("window {:?} is not a number of seconds", v.trim()))?;
        }
    }
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or("header has no `-- name:` line")?;
    let description = description.ok_or("header has no `-- description:` line")?;
    let detection = match severity {
        None => None,
        Some(severity) => {
            for needed in ["since", "until", "tenant"] {
                if !params.iter().any(|p| p.name == needed) {
                    return Err(format!("a detection needs the `{needed}` parameter"));
                }
            }
            Some(Detection {
                severity,
                key: key.ok_or("a detection needs a `-- key:` line")?,
                window_s,
            })
        }
    };
    Ok(SavedQuery {
        name,
        description,
        doc,
        params,
        sql: text,
        detection,
    })
}

fn parse_param(line: &str) -> Result<ParamSpec, String> {
    let fields: Vec<&str> = line.splitn(4, '|').map(str::trim).collect();
    let [name, kind, default, help] = fields[..] else {
        return Err(format!(
            "parameter line `{line}` is not `name | type | default | help`"
        ));
    };
    let kind = ParamType::parse(kind)
        .ok_or_else(|| format!("parameter {name} has unknown type {kind}"))?;
    let default = (!default.is_empty()).then(|| default.to_string());
    if let Some(d) = &default {
        kind.check(d)
            .map_err(|e| format!("default of parameter {name}: {e}"))?;
    }
    Ok(ParamSpec {
        name: name.to_string(),
        kind,
        default,
        help: help.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::params::placeholders;

    #[test]
    fn every_query_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = FILES.iter().map(|(f, _)| f.to_string()).collect();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn every_report_parses_and_declares_exactly_the_parameters_it_uses() {
        let all = reports().unwrap();
        assert_eq!(all.len(), FILES.len());
        for r in &all {
            let (_, used) = placeholders(r.sql);
            let mut used: Vec<&str> = used.iter().map(String::as_str).collect();
            used.sort();
            used.dedup();
            let mut declared: Vec<&str> = r.params.iter().map(|p| p.name.as_str()).collect();
            declared.sort();
            assert_eq!(used, declared, "report {}", r.name);
            assert!(
                FILES.iter().any(|(f, _)| *f == format!("{}.sql", r.name)),
                "report {} lives in a file of another name",
                r.name
            );
        }
    }

    #[test]
    fn unknown_report_lists_the_valid_names() {
        let err = find("no-such-report").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("brute-force"));
    }
}
