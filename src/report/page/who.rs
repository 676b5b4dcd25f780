//! The "who and where from" and management changes sections.

use maud::{Markup, html};

use super::{num, when};
use crate::report::data::{MAX_MANAGEMENT, PageData, TOP};
use crate::report::svg;

pub(super) fn who(r: &PageData) -> Markup {
    let w = &r.who;
    let ip_max = w.failing_ips.first().map(|x| x.failures).unwrap_or(0);
    let user_max = w.failing_users.first().map(|x| x.failures).unwrap_or(0);
    html! {
        section id="who" {
            h2 { "Who and where from" }
            h3 { "Top failing IPs" }
            table id="failing-ips" {
                thead { tr { th { "IP" } th class="n" { "failed logins" } th class="n" { "users tried" } th { "country" } th { "last (UTC)" } th {} } }
                tbody { @for (i, row) in w.failing_ips.iter().enumerate() {
                    tr { td class="t" id=[(i == 0).then_some("top-failing-ip")] { (row.ip) } td class="n" id=[(i == 0).then_some("top-failing-ip-count")] { (num(row.failures)) } td class="n" { (num(row.users_tried)) } td { (row.country) } td class="t" { (when(&row.last_seen)) } td class="barcell" { (svg::cell_bar(row.failures, ip_max, "#d62828")) } }
                } }
            }
            h3 { "Top failing users" }
            table id="failing-users" {
                thead { tr { th { "user" } th class="n" { "failed logins" } th class="n" { "IPs" } th { "last (UTC)" } th {} } }
                tbody { @for u in &w.failing_users {
                    tr { td class="w" { (u.user) } td class="n" { (num(u.failures)) } td class="n" { (num(u.ips)) } td class="t" { (when(&u.last_seen)) } td class="barcell" { (svg::cell_bar(u.failures, user_max, "#d62828")) } }
                } }
            }
            div class="grid2" {
                div {
                    h3 { "Top clients (applications)" }
                    table id="clients" {
                        thead { tr { th { "client" } th { "client id" } th class="n" { "events" } th class="n" { "users" } } }
                        tbody { @for c in &w.clients { tr { td { (c.name) } td class="w" { code { (c.client_id) } } td class="n" { (num(c.events)) } td class="n" { (num(c.users)) } } } }
                    }
                }
                div {
                    h3 { "Top connections" }
                    table id="connections" {
                        thead { tr { th { "connection" } th class="n" { "events" } th class="n" { "failed logins" } } }
                        tbody { @for c in &w.connections { tr { td { (c.connection) } td class="n" { (num(c.events)) } td class="n" { (num(c.failed_logins)) } } } }
                    }
                }
            }
            h3 { "Top user agents" }
            table id="user-agents" {
                thead { tr { th { "user agent" } th class="n" { "events" } th class="n" { "users" } th class="n" { "IPs" } } }
                tbody { @for a in &w.user_agents { tr { td class="w" { (a.user_agent) } td class="n" { (num(a.events)) } td class="n" { (num(a.users)) } td class="n" { (num(a.ips)) } } } }
            }
            p class="note" { "Each list shows its top " (TOP) "." }
        }
    }
}

pub(super) fn management(r: &PageData) -> Markup {
    let m = &r.management;
    let labels: Vec<String> = m
        .days
        .iter()
        .map(|d| d.day.get(5..).unwrap_or("").to_string())
        .collect();
    let values: Vec<Vec<i64>> = m.days.iter().map(|d| vec![d.succeeded, d.failed]).collect();
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
