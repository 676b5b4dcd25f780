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
