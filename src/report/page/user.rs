//! The `--user` section.

use maud::{Markup, html};

use super::{card, event_table, finding_list, num, opt_when, when};
use crate::report::data::{MAX_TIMELINE, UserSection};

pub(super) fn user(u: &UserSection) -> Markup {
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
                        tbody { @for c in &u.countries { tr { td { (c.code) " " span class="note" { (c.name) } } td class="n" { (num(c.events)) } td class="t" { (when(&c.first_seen)) } td class="t" { (when(&c.last_seen)) } } } }
                    }
                }
                div {
                    h3 { "IPs" }
                    table id="user-ips" {
                        thead { tr { th { "IP" } th { "country" } th class="n" { "events" } th class="n" { "failed logins" } th { "last (UTC)" } } }
                        tbody { @for i in &u.ips { tr { td class="t" { (i.ip) } td { (i.country) } td class="n" { (num(i.events)) } td class="n" { (num(i.failures)) } td class="t" { (when(&i.last_seen)) } } } }
                    }
                }
            }
            h3 { "Devices (user agents)" }
            table id="user-devices" {
                thead { tr { th { "user agent" } th { "mobile" } th class="n" { "events" } th { "last (UTC)" } } }
                tbody { @for d in &u.devices { tr { td class="w" { (d.user_agent) } td { @if d.mobile { "yes" } } td class="n" { (num(d.events)) } td class="t" { (when(&d.last_seen)) } } } }
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
