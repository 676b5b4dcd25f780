//! The HTML page, rendered with maud: every `(value)` it splices in is
//! HTML-escaped, so an event field such as `<script>` shows as text. The only
//! unescaped text is `CSS`, a constant. No script, no external resource.

mod activity;
mod attacks;
mod geo;
mod overview;
mod user;
mod who;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use self::activity::activity;
use self::attacks::attacks;
use self::geo::geography;
use self::overview::overview;
use self::user::user;
use self::who::{management, who};
use super::data::{
    EventRow, FindingRow, MAX_FINDING_EVENTS, MAX_FINDINGS, MAX_FINDINGS_EXPANDED, PageData,
};
use crate::config::commands::ReportOptions;

const CSS: &str = r#"
:root{--fg:#1f2933;--mute:#616e7c;--line:#e4e7eb;--bg:#fff;--soft:#f5f7fa;--ok:#1d7874;--bad:#d62828}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:var(--soft)}
header{background:#102a43;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;color:#d9e2ec}
nav{position:sticky;top:0;background:#243b53;padding:6px 28px;z-index:2}
nav a{color:#fff;margin-right:18px;text-decoration:none;font-weight:600}
main{max-width:1180px;margin:0 auto;padding:8px 20px 40px}
section{background:var(--bg);border:1px solid var(--line);border-radius:8px;margin:18px 0;padding:8px 22px 18px}
h2{font-size:19px;border-bottom:2px solid var(--line);padding-bottom:6px}
h3{font-size:15px;margin:18px 0 6px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0}
.card{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:150px}
.card b{display:block;font-size:22px;font-variant-numeric:tabular-nums}
.card span{color:var(--mute);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card.bad b{color:var(--bad)} .card.good b{color:var(--ok)}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{white-space:nowrap;font-variant-numeric:tabular-nums}
td.w{overflow-wrap:anywhere;min-width:11em;max-width:420px}
td.barcell{width:28%}
.bar{display:inline-block;height:10px;border-radius:2px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:0 28px}
@media(max-width:900px){.grid2{grid-template-columns:1fr}}
svg.chart{width:100%;height:auto;display:block}
svg.chart .grid{stroke:#e4e7eb} svg.chart text{font-size:11px;fill:#52606d}
svg.map{width:100%;height:auto;display:block;border:1px solid var(--line);border-radius:6px}
svg.map .sea{fill:#eef4f8} svg.map .land{fill:#d9dee3;stroke:#fff;stroke-width:.15}
svg.map .leg{stroke:#f77f00;stroke-width:.6;stroke-dasharray:1.5 .8}
.legend span{margin-right:14px;white-space:nowrap;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
details{margin:2px 0}
details>summary{cursor:pointer;color:#334e68}
details.numbers>summary{font-size:12px}
.sev{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600;color:#fff}
.sev-high{background:#c1121f}.sev-medium{background:#e76f51}.sev-low{background:#e9c46a;color:#333}.sev-info{background:#8d99ae}
.note{color:var(--mute);font-size:12px}
.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}
code{font-size:12px;background:var(--soft);padding:0 3px;border-radius:3px}
"#;

fn num(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A stored instant (`2026-11-20T10:00:00.123Z`) as `2026-11-20 10:00:00`.
fn when(iso: &str) -> String {
    let s = iso.replace('T', " ");
    let s = s.trim_end_matches('Z');
    match s.split_once('.') {
        Some((a, _)) => a.to_string(),
        None => s.to_string(),
    }
}

fn opt_when(iso: &Option<String>) -> String {
    iso.as_deref().map(when).unwrap_or_else(|| "–".into())
}

fn card(label: &str, value: &str, id: &str, class: &str) -> Markup {
    html! {
        div class={"card " (class)} { b id=(id) { (value) } span { (label) } }
    }
}

fn numbers(summary: &str, body: Markup) -> Markup {
    html! {
        details class="numbers" { summary { (summary) } (body) }
    }
}

pub fn render(r: &PageData, args: &ReportOptions) -> String {
    let mut scope = Vec::new();
    if let Some(s) = &args.since {
        scope.push(format!("since {s}"));
    }
    if let Some(u) = &args.until {
        scope.push(format!("until {u}"));
    }
    if let Some(t) = &args.tenant {
        scope.push(format!("tenant {t}"));
    }
    if let Some(u) = &args.user {
        scope.push(format!("user {u}"));
    }
    let scope = if scope.is_empty() {
        "all archived events".to_string()
    } else {
        scope.join(", ")
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:";
                title { "Auth0 investigation report" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { "Auth0 investigation report" }
                    p { "Archive " code style="background:#243b53;color:#fff" { (r.db) } " · " (scope) }
                    p { "Generated " (when(&r.generated_at)) " UTC by auth0-archive " (env!("CARGO_PKG_VERSION")) ". " strong { "All times are UTC." } }
                }
                nav {
                    a href="#overview" { "Overview" }
                    @if r.user.is_some() { a href="#user" { "User" } }
                    a href="#activity" { "Activity" }
                    a href="#attacks" { "Attacks" }
                    a href="#geography" { "Geography" }
                    a href="#who" { "Who and where from" }
                    a href="#management" { "Management changes" }
                }
                main {
                    (overview(r))
                    @if let Some(u) = &r.user { (user(u)) }
                    (activity(r))
                    (attacks(r))
                    (geography(r))
                    (who(r))
                    (management(r))
                }
            }
        }
    };
    page.into_string()
}

fn event_table(rows: &[EventRow], id: &str) -> Markup {
    html! {
        table id=(id) {
            thead { tr { th { "time (UTC)" } th { "type" } th { "user" } th { "IP" } th { "country" } th { "client" } th { "user agent" } th { "description" } } }
            tbody { @for e in rows {
                tr title=(e.log_id) {
                    td class="t" { (when(&e.date)) }
                    td { code { (e.type_code) } " " span class="note" { (e.type_name) } }
                    td class="w" { (e.user) } td class="t" { (e.ip) } td { (e.country) } td { (e.client) }
                    td class="w" { (e.user_agent) } td class="w" { (e.description) }
                }
            } }
        }
    }
}

fn finding_list(findings: &[FindingRow], total: i64, id: &str) -> Markup {
    html! {
        @if findings.is_empty() {
            p { "No findings in this range. " span class="note" { "Findings come from " code { "auth0-archive detect" } "; run it after a sync." } }
        } @else {
            div id=(id) {
                @for (i, f) in findings.iter().enumerate() {
                    details class="finding" {
                        summary {
                            span class={"sev sev-" (f.severity)} { (f.severity) } " "
                            strong { (f.detection) } " · " (f.key) " · " (num(f.events)) " events · "
                            span class="t" { (when(&f.first_seen)) " → " (when(&f.last_seen)) " UTC" }
                        }
                        p { (f.summary) }
                        @if !f.details.is_empty() { p class="note" { (f.details) } }
                        @if i < MAX_FINDINGS_EXPANDED {
                            (event_table(&f.evidence, "finding-events"))
                            @if f.log_ids.len() > MAX_FINDING_EVENTS { p class="note" { "Showing " (MAX_FINDING_EVENTS) " of the " (f.log_ids.len()) " events this finding keeps." } }
                        } @else {
                            p class="note" { "Events: " @for id in &f.log_ids { code { (id) } " " } }
                        }
                    }
                }
                @if total as usize > findings.len() { p class="note" { "Showing the newest " (findings.len()) " of " (num(total)) " findings (at most " (MAX_FINDINGS) ")." } }
            }
        }
    }
}
