//! `docs/REPORTS.md`, generated from the saved reports' headers so that the
//! reference cannot drift from what the binary runs (a test compares them).

use super::catalog::SavedQuery;
use super::params::ParamType;

const INTRO: &str = "\
# Saved reports

<!-- Generated from the headers of queries/*.sql by `src/query/reference.rs`.
     Do not edit: change the header, then run
     AUTH0_ARCHIVE_WRITE_DOCS=1 cargo test --release --test it docs:: -->

Each report is one file in `queries/`, compiled into the binary, run with
`auth0-archive query run NAME [--param key=value]...` (list them with
`auth0-archive query list`). Its comment header gives the name, a description,
each parameter as `name | type | default | help`, and, for the reports that
`auth0-archive detect` runs, `detection` (severity), `key` (the columns that
identify one finding) and `window` (seconds of events before the unexamined
ones it needs).

Parameter types are `integer`, `number`, `text` and `time`. Values are always
bound as SQL parameters, never pasted into the SQL. An unknown report, an
unknown parameter, a missing required parameter or a value of the wrong type
exits with code 2 and says what is accepted.

**Time windows.** Every report takes `since` and `until`, both optional: the
default is the whole archive, because forensic work happens on old archives.
They accept `YYYY-MM-DD` or RFC 3339 (`2026-10-01T12:00:00Z`). `since` is
inclusive; a bare `until` date includes that whole day. Windows filter on `ts`
(epoch milliseconds), so events whose `date` could not be parsed are only
visible to ad-hoc SQL. Most reports also take `tenant` (default `*`: all
tenants of a multi-tenant archive).

**Detections** return, besides their own columns and their key,
`first_seen`, `last_seen`, `events` (how many events the finding rests on)
and `log_ids` (their ids, space-separated, in `log_id` order).

Management API events (`sapi`, `mgmt_api_read`) carry the call in `details`:
`request` (`method`, `path`, `body`, `auth.user.email` of the dashboard user)
and `response`. The *actor* of a change is `request.auth.user.email`, else its
`user_id`, else the calling `client_id`. Types of successful login: `s`,
`ssa`, `scoa`, `sens`, `scv` (category `login_success` in `event_types`).
";

/// The whole of `docs/REPORTS.md` for `reports` (sorted by name).
pub fn reports_markdown(reports: &[SavedQuery]) -> String {
    let mut out = String::from(INTRO);
    out.push_str(
        "\n## Detections\n\n| report | severity | key | window (s) |\n|---|---|---|---|\n",
    );
    let mut detections: Vec<&SavedQuery> =
        reports.iter().filter(|r| r.detection.is_some()).collect();
    detections.sort_by_key(|r| {
        (
            std::cmp::Reverse(r.detection.as_ref().map(|d| d.severity)),
            r.name.clone(),
        )
    });
    for r in &detections {
        if let Some(d) = &r.detection {
            let key: Vec<String> = d.key.iter().map(|k| format!("`{k}`")).collect();
            out.push_str(&format!(
                "| [`{}`](#{}) | {} | {} | {} |\n",
                r.name,
                r.name,
                d.severity.as_str(),
                key.join(", "),
                d.window_s
            ));
        }
    }
    out.push_str("\n## Reports\n");
    for r in reports {
        out.push_str(&section(r));
    }
    out
}

fn section(r: &SavedQuery) -> String {
    let mut out = format!("\n### {}\n\n", r.name);
    if r.doc.is_empty() {
        out.push_str(&format!("{}\n", r.description));
    } else {
        for line in &r.doc {
            out.push_str(line);
            out.push('\n');
        }
    }
    if let Some(d) = &r.detection {
        out.push_str(&format!(
            "\nDetection: severity `{}`, key `{}`, window {} s.\n",
            d.severity.as_str(),
            d.key.join(", "),
            d.window_s
        ));
    }
    if !r.params.is_empty() {
        out.push_str("\n| parameter | type | default | meaning |\n|---|---|---|---|\n");
        for p in &r.params {
            let kind = match p.kind {
                ParamType::Integer => "integer",
                ParamType::Number => "number",
                ParamType::Text => "text",
                ParamType::Time => "time",
            };
            let default = match (&p.default, p.kind) {
                (Some(d), _) if !d.is_empty() => format!("`{}`", d.replace('|', "\\|")),
                (_, ParamType::Time) => "whole archive".to_string(),
                _ => "required".to_string(),
            };
            out.push_str(&format!(
                "| `{}` | {kind} | {default} | {} |\n",
                p.name,
                p.help.replace('|', "\\|")
            ));
        }
    }
    out
}
