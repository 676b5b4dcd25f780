//! The HTML page, rendered with maud: every `(value)` it splices in is
//! HTML-escaped, so an event field such as `<script>` shows as text. The only
//! unescaped text is `CSS`, a constant. No script, no external resource.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::data::{
    CATEGORIES, EventRow, FindingRow, MAX_FINDING_EVENTS, MAX_FINDINGS, MAX_FINDINGS_EXPANDED,
    MAX_LEGS, MAX_MANAGEMENT, MAX_POINTS, MAX_TIMELINE, Report, TOP, UserSection,
};
use super::{map, svg};
use crate::cli::ReportArgs;

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

pub fn render(r: &Report, args: &ReportArgs) -> String {
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

fn overview(r: &Report) -> Markup {
    let o = &r.overview;
    let s = &o.status;
    let failed_logins = r.activity.logins_failed;
    html! {
        section id="overview" {
            h2 { "Overview" }
            div class="cards" {
                (card("events in this report", &num(o.events), "n-events", ""))
                (card("tenants", &num(o.tenants), "n-tenants", ""))
                (card("logins succeeded", &num(r.activity.logins_ok), "n-logins-ok", "good"))
                (card("logins failed", &num(failed_logins), "n-logins-failed", if failed_logins > 0 { "bad" } else { "" }))
                (card("findings", &num(r.attacks.total), "n-findings", if r.attacks.total > 0 { "bad" } else { "" }))
            }
            table {
                tbody {
                    tr { th { "Events covered (UTC)" } td { (opt_when(&o.first)) " → " (opt_when(&o.last)) } }
                    tr { th { "Whole archive" } td { (num(s.events)) " events, " (opt_when(&s.first_event_date)) " → " (opt_when(&s.last_event_date)) ", schema v" (s.schema_version) ", " (format!("{:.1}", s.db_bytes as f64 / 1e6)) " MB" } }
                    tr { th { "Integrity (verify)" } td {
                        @match &o.verify {
                            Some(Err(e)) => { span class="bad" id="verify" { "could not run" } " · " (e) " (run " code { "auth0-archive verify" } ")" }
                            Some(Ok(v)) => {
                                @match &v.problem {
                                    None => { span class="ok" id="verify" { "ok" } " · " (num(v.links as i64)) " links, " (num(v.events as i64)) " events checked" @if v.unchecked_links > 0 { ", " (v.unchecked_links) " keyed links not checked (no key)" } }
                                    Some(p) => { span class="bad" id="verify" { "FAILED" } " · " (p) }
                                }
                            }
                            None => { span id="verify" { "not run" } " (--no-verify)" }
                        }
                    } }
                    tr { th { "Chain head" } td { code { (s.chain_head.as_deref().unwrap_or("–")) } } }
                    tr { th { "Retention gaps" } td {
                        @if s.gaps.is_empty() { span class="ok" { "none recorded" } }
                        @for g in &s.gaps { div class="bad" { (g.tenant) ": no events between " (g.after_date.as_deref().map(when).unwrap_or("?".into())) " and " (g.before_date.as_deref().map(when).unwrap_or("?".into())) " (found " (when(&g.detected_at)) ")" } }
                    } }
                    tr { th { "Deferred indexes" } td {
                        @if s.deferred_indexes.is_empty() { "none" } @else { (s.deferred_indexes.join(", ")) " (a backfill is unfinished; queries are slower until the next sync)" }
                    } }
                    tr { th { "Findings by severity" } td {
                        @if o.findings_by_severity.is_empty() { "none (run " code { "auth0-archive detect" } " to look)" }
                        @for (sev, n) in &o.findings_by_severity { span class={"sev sev-" (sev)} { span id={"sev-" (sev)} { (num(*n)) } " " (sev) } " " }
                        @if let Some(at) = &s.detect.last_run_at { span class="note" { " · last detect " (s.detect.last_run_outcome.as_deref().unwrap_or("unfinished")) " at " (when(at)) } }
                    } }
                }
            }
            h3 { "Tenants and their last sync" }
            table {
                thead { tr { th { "tenant" } th class="n" { "events" } th { "last sync (UTC)" } th { "outcome" } th class="n" { "fetched" } th class="n" { "new" } th { "last success (UTC)" } th { "note" } } }
                tbody {
                    @if s.tenants.is_empty() { tr { td colspan="8" class="note" { "No sync recorded (events came from " code { "import" } " only, or the archive predates run history)." } } }
                    @for t in &s.tenants {
                        tr {
                            td { (t.tenant) } td class="n" { (num(t.events)) }
                            @match &t.last_sync {
                                Some(l) => {
                                    td class="t" { (when(l.finished_at.as_deref().unwrap_or(&l.started_at))) }
                                    td { span class=(if l.outcome == "ok" { "ok" } else { "bad" }) { (l.outcome) } @if let Some(e) = &l.error { " " span class="note" { (e) } } }
                                    td class="n" { (num(l.fetched)) } td class="n" { (num(l.inserted)) }
                                }
                                None => { td { "never" } td {} td {} td {} }
                            }
                            td class="t" { (opt_when(&t.last_success_at)) }
                            td class="note" { (t.warning.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

fn activity(r: &Report) -> Markup {
    let a = &r.activity;
    let day_labels: Vec<String> = a.days.iter().map(|d| d.0[5..].to_string()).collect();
    let day_values: Vec<Vec<i64>> = a.days.iter().map(|d| d.1.clone()).collect();
    let used: Vec<usize> = (0..CATEGORIES.len())
        .filter(|j| day_values.iter().any(|v| v[*j] > 0))
        .collect();
    let series: Vec<(&str, &str)> = CATEGORIES.to_vec();
    let login_labels: Vec<String> = a
        .logins
        .iter()
        .map(|l| {
            let w = when(&l.0);
            if a.login_bucket_hours >= 24 {
                w[5..10].to_string()
            } else {
                format!("{} {}h", &w[5..10], &w[11..13])
            }
        })
        .collect();
    let login_values: Vec<Vec<i64>> = a.logins.iter().map(|l| vec![l.1, l.2]).collect();
    let login_series = [("succeeded", "#2a9d8f"), ("failed", "#d62828")];
    let top_max = a.top_types.first().map(|t| t.3).unwrap_or(0);
    let signup_values: Vec<Vec<i64>> = a.signups.iter().map(|s| vec![s.1, s.2]).collect();
    let signup_series = [("signed up", "#457b9d"), ("sign-up failed", "#e07a5f")];
    html! {
        section id="activity" {
            h2 { "Activity" }
            h3 { "Events per day (UTC), by category" }
            (svg::legend(&used.iter().map(|j| series[*j]).collect::<Vec<_>>()))
            (svg::stacked_bars("Events per day by category", &day_labels, &series, &day_values))
            @if a.days_cut > 0 { p class="note" { "The first " (a.days_cut) " days are not shown (the last 370 are)." } }
            (numbers("Numbers: events per day", html! {
                table id="events-per-day" {
                    thead { tr { th { "day (UTC)" } @for j in &used { th class="n" { (series[*j].0) } } th class="n" { "total" } } }
                    tbody { @for (d, v) in &a.days { tr { td class="t" { (d) } @for j in &used { td class="n" { (num(v[*j])) } } td class="n" { (num(v.iter().sum())) } } } }
                }
            }))
            h3 { "Logins succeeded and failed, per " (if a.login_bucket_hours == 1 { "hour".to_string() } else { format!("{} hours", a.login_bucket_hours) }) " (UTC)" }
            (svg::legend(&login_series))
            (svg::lines("Logins succeeded and failed", &login_labels, &login_series, &login_values))
            (numbers("Numbers: logins per bucket", html! {
                table id="logins" {
                    thead { tr { th { "from (UTC)" } th class="n" { "succeeded" } th class="n" { "failed" } } }
                    tbody { @for (at, ok, failed) in &a.logins { @if ok + failed > 0 { tr { td class="t" { (when(at)) } td class="n" { (num(*ok)) } td class="n" { (num(*failed)) } } } } }
                    tfoot { tr { th { "total" } th class="n" { (num(a.logins_ok)) } th class="n" { (num(a.logins_failed)) } } }
                }
            }))
            h3 { "Sign-ups per day (UTC)" }
            (svg::legend(&signup_series))
            (svg::stacked_bars("Sign-ups per day", &day_labels, &signup_series, &signup_values))
            (numbers("Numbers: sign-ups per day", html! {
                table id="signups" {
                    thead { tr { th { "day (UTC)" } th class="n" { "signed up" } th class="n" { "failed" } } }
                    tbody { @for (d, ok, failed) in &a.signups { @if ok + failed > 0 { tr { td class="t" { (d) } td class="n" { (num(*ok)) } td class="n" { (num(*failed)) } } } } }
                }
            }))
            h3 { "Top event types" }
            table id="top-types" {
                thead { tr { th { "type" } th { "what it means" } th { "category" } th class="n" { "events" } th {} } }
                tbody { @for (code, name, cat, n) in &a.top_types {
                    @let colour = CATEGORIES.iter().find(|c| c.0 == cat).map(|c| c.1).unwrap_or("#999");
                    tr { td { code { (code) } } td { (name) } td class="note" { (cat) } td class="n" { (num(*n)) } td class="barcell" { (svg::cell_bar(*n, top_max, colour)) } }
                } }
            }
        }
    }
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

fn attacks(r: &Report) -> Markup {
    let a = &r.attacks;
    html! {
        section id="attacks" {
            h2 { "Attacks" }
            p { "Every finding filed by " code { "detect" } " whose time span meets this report's range, newest first (" (num(a.total)) " in all). Open one to see the events it rests on." }
            @if !a.by_detection.is_empty() {
                h3 { "By detection" }
                table id="findings-by-detection" {
                    thead { tr { th { "severity" } th { "detection" } th class="n" { "findings" } th class="n" { "events" } th { "last seen (UTC)" } } }
                    tbody { @for (d, sev, n, events, last) in &a.by_detection {
                        tr { td { span class={"sev sev-" (sev)} { (sev) } } td { strong { (d) } } td class="n" { (num(*n)) } td class="n" { (num(*events)) } td class="t" { (when(last)) } }
                    } }
                }
                h3 { "Every finding, newest first" }
            }
            (finding_list(&a.findings, a.total, "findings"))
        }
    }
}

fn geography(r: &Report) -> Markup {
    let g = &r.geo;
    let max = g.countries.first().map(|c| c.2).unwrap_or(0);
    html! {
        section id="geography" {
            h2 { "Geography" }
            (svg::legend(&[("mostly succeeded", "#1d7874"), ("mostly failed", "#d62828"), ("impossible travel", "#f77f00")]))
            (map::render(g))
            p class="note" { "Logins with a location, grouped to 0.1° (" (num(g.points_total as i64)) " places"
                @if g.points_total > MAX_POINTS { "; the " (MAX_POINTS) " busiest are drawn" } "). Hover a circle or line for its numbers." }
            div class="grid2" {
                div {
                    h3 { "Logins by country" }
                    table id="countries" {
                        thead { tr { th { "country" } th class="n" { "logins" } th class="n" { "failed" } th class="n" { "users" } th class="n" { "IPs" } th {} } }
                        tbody { @for (cc, name, n, _ok, failed, users, ips) in &g.countries {
                            tr { td { (cc) " " span class="note" { (name) } } td class="n" { (num(*n)) } td class="n" { (num(*failed)) } td class="n" { (num(*users)) } td class="n" { (num(*ips)) } td class="barcell" { (svg::cell_bar(*n, max, "#1d7874")) } }
                        } }
                    }
                }
                div {
                    h3 { "Impossible travel" }
                    @if g.legs.is_empty() { p { "No consecutive logins of one user farther apart than a plane could fly." } } @else {
                        table id="legs" {
                            thead { tr { th { "user" } th { "from → to" } th class="n" { "km" } th class="n" { "min" } th class="n" { "km/h" } } }
                            tbody { @for l in &g.legs {
                                tr {
                                    td class="w" { (l.user) }
                                    td { (l.from_place) " (" (l.from_ip) ", " (when(&l.from_date)) ") → " (l.to_place) " (" (l.to_ip) ", " (when(&l.to_date)) ")" }
                                    td class="n" { (format!("{:.0}", l.km)) } td class="n" { (format!("{:.0}", l.minutes)) }
                                    td class="n" { (l.kmh.map(|k| format!("{k:.0}")).unwrap_or_else(|| "∞".into())) }
                                }
                            } }
                        }
                        @if g.legs_total > g.legs.len() { p class="note" { "Showing the newest " (MAX_LEGS) " of " (g.legs_total) " legs." } }
                    }
                }
            }
        }
    }
}

fn who(r: &Report) -> Markup {
    let w = &r.who;
    let ip_max = w.failing_ips.first().map(|x| x.1).unwrap_or(0);
    let user_max = w.failing_users.first().map(|x| x.1).unwrap_or(0);
    html! {
        section id="who" {
            h2 { "Who and where from" }
            h3 { "Top failing IPs" }
            table id="failing-ips" {
                thead { tr { th { "IP" } th class="n" { "failed logins" } th class="n" { "users tried" } th { "country" } th { "last (UTC)" } th {} } }
                tbody { @for (i, (ip, n, users, cc, _first, last)) in w.failing_ips.iter().enumerate() {
                    tr { td class="t" id=[(i == 0).then_some("top-failing-ip")] { (ip) } td class="n" id=[(i == 0).then_some("top-failing-ip-count")] { (num(*n)) } td class="n" { (num(*users)) } td { (cc) } td class="t" { (when(last)) } td class="barcell" { (svg::cell_bar(*n, ip_max, "#d62828")) } }
                } }
            }
            h3 { "Top failing users" }
            table id="failing-users" {
                thead { tr { th { "user" } th class="n" { "failed logins" } th class="n" { "IPs" } th { "last (UTC)" } th {} } }
                tbody { @for (u, n, ips, last) in &w.failing_users {
                    tr { td class="w" { (u) } td class="n" { (num(*n)) } td class="n" { (num(*ips)) } td class="t" { (when(last)) } td class="barcell" { (svg::cell_bar(*n, user_max, "#d62828")) } }
                } }
            }
            div class="grid2" {
                div {
                    h3 { "Top clients (applications)" }
                    table id="clients" {
                        thead { tr { th { "client" } th { "client id" } th class="n" { "events" } th class="n" { "users" } } }
                        tbody { @for (name, id, n, users) in &w.clients { tr { td { (name) } td class="w" { code { (id) } } td class="n" { (num(*n)) } td class="n" { (num(*users)) } } } }
                    }
                }
                div {
                    h3 { "Top connections" }
                    table id="connections" {
                        thead { tr { th { "connection" } th class="n" { "events" } th class="n" { "failed logins" } } }
                        tbody { @for (c, n, failed) in &w.connections { tr { td { (c) } td class="n" { (num(*n)) } td class="n" { (num(*failed)) } } } }
                    }
                }
            }
            h3 { "Top user agents" }
            table id="user-agents" {
                thead { tr { th { "user agent" } th class="n" { "events" } th class="n" { "users" } th class="n" { "IPs" } } }
                tbody { @for (ua, n, users, ips) in &w.user_agents { tr { td class="w" { (ua) } td class="n" { (num(*n)) } td class="n" { (num(*users)) } td class="n" { (num(*ips)) } } } }
            }
            p class="note" { "Each list shows its top " (TOP) "." }
        }
    }
}

fn management(r: &Report) -> Markup {
    let m = &r.management;
    let labels: Vec<String> = m
        .days
        .iter()
        .map(|d| d.0.get(5..).unwrap_or("").to_string())
        .collect();
    let values: Vec<Vec<i64>> = m.days.iter().map(|d| vec![d.1, d.2]).collect();
    let series = [
        ("succeeded (sapi)", "#f4a261"),
        ("failed (fapi)", "#d62828"),
    ];
    html! {
        section id="management" {
            h2 { "Management changes" }
            p { span id="n-management" { (num(m.total)) } " Management API operations (" (num(m.failed)) " failed). The actor is the dashboard user from " code { "details.request.auth.user" } ", else the client." }
            @if !m.days.is_empty() {
                (svg::legend(&series))
                (svg::stacked_bars("Management API operations per day", &labels, &series, &values))
            }
            table id="management-changes" {
                thead { tr { th { "time (UTC)" } th { "result" } th { "actor" } th { "method" } th { "path" } th { "IP" } th { "description" } } }
                tbody { @for c in &m.rows {
                    tr {
                        td class="t" { (when(&c.date)) }
                        td { @if c.type_code == "fapi" { span class="bad" { "failed" } } @else { "ok" } }
                        td class="w" { (c.actor) } td { @if !c.method.is_empty() { code { (c.method) } } } td class="w" { @if !c.path.is_empty() { code { (c.path) } } }
                        td class="t" { (c.ip) } td class="w" { (c.description) }
                    }
                } }
            }
            @if m.total as usize > m.rows.len() { p class="note" { "Showing the newest " (MAX_MANAGEMENT) " of " (num(m.total)) "." } }
        }
    }
}

fn user(u: &UserSection) -> Markup {
    html! {
        section id="user" {
            h2 { "User " code { (u.user_id) } }
            div class="cards" {
                (card("events", &num(u.events), "n-user-events", ""))
                (card("countries", &num(u.countries.len() as i64), "n-user-countries", ""))
                (card("IPs", &num(u.ips.len() as i64), "n-user-ips", ""))
                (card("findings", &num(u.findings.len() as i64), "n-user-findings", if u.findings.is_empty() { "" } else { "bad" }))
            }
            p { "Names seen: " (u.names.join(", ")) ". Events from " (opt_when(&u.first)) " to " (opt_when(&u.last)) " UTC." }
            div class="grid2" {
                div {
                    h3 { "Countries" }
                    table id="user-countries" {
                        thead { tr { th { "country" } th class="n" { "events" } th { "first (UTC)" } th { "last (UTC)" } } }
                        tbody { @for (cc, name, n, first, last) in &u.countries { tr { td { (cc) " " span class="note" { (name) } } td class="n" { (num(*n)) } td class="t" { (when(first)) } td class="t" { (when(last)) } } } }
                    }
                }
                div {
                    h3 { "IPs" }
                    table id="user-ips" {
                        thead { tr { th { "IP" } th { "country" } th class="n" { "events" } th class="n" { "failed logins" } th { "last (UTC)" } } }
                        tbody { @for (ip, cc, n, failed, _first, last) in &u.ips { tr { td class="t" { (ip) } td { (cc) } td class="n" { (num(*n)) } td class="n" { (num(*failed)) } td class="t" { (when(last)) } } } }
                    }
                }
            }
            h3 { "Devices (user agents)" }
            table id="user-devices" {
                thead { tr { th { "user agent" } th { "mobile" } th class="n" { "events" } th { "last (UTC)" } } }
                tbody { @for (ua, mobile, n, last) in &u.devices { tr { td class="w" { (ua) } td { (mobile) } td class="n" { (num(*n)) } td class="t" { (when(last)) } } } }
            }
            h3 { "MFA and Guardian events" }
            @if u.mfa.is_empty() { p { "None." } } @else { (event_table(&u.mfa, "user-mfa")) }
            h3 { "Findings about this user" }
            (finding_list(&u.findings, u.findings.len() as i64, "user-findings"))
            details open {
                summary { "Timeline (newest " (u.timeline.len()) " events" @if u.events as usize > u.timeline.len() { " of " (num(u.events)) ", at most " (MAX_TIMELINE) } ")" }
                (event_table(&u.timeline, "user-timeline"))
            }
        }
    }
}
