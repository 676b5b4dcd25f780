//! The geography section.

use maud::{Markup, html};

use super::{num, when};
use crate::report::data::{MAX_LEGS, MAX_POINTS, PageData};
use crate::report::{map, svg};

pub(super) fn geography(r: &PageData) -> Markup {
    let g = &r.geo;
    let max = g.countries.first().map(|c| c.logins).unwrap_or(0);
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
                        tbody { @for c in &g.countries {
                            tr { td { (c.code) " " span class="note" { (c.name) } } td class="n" { (num(c.logins)) } td class="n" { (num(c.failed)) } td class="n" { (num(c.users)) } td class="n" { (num(c.ips)) } td class="barcell" { (svg::cell_bar(c.logins, max, "#1d7874")) } }
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
