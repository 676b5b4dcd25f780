//! The attacks section.

use maud::{Markup, html};

use super::{finding_list, num, when};
use crate::report::data::Report;

pub(super) fn attacks(r: &Report) -> Markup {
    let a = &r.attacks;
    html! {
        section id="attacks" {
            h2 { "Attacks" }
            p { "Every finding filed by " code { "detect" } " whose time span meets this report's range, newest first (" (num(a.total)) " in all). Open one to see the events it rests on." }
            @if !a.by_detection.is_empty() {
                h3 { "By detection" }
                table id="findings-by-detection" {
                    thead { tr { th { "severity" } th { "detection" } th class="n" { "findings" } th class="n" { "events" } th { "last seen (UTC)" } } }
                    tbody { @for d in &a.by_detection {
                        tr { td { span class={"sev sev-" (d.severity)} { (d.severity) } } td { strong { (d.detection) } } td class="n" { (num(d.findings)) } td class="n" { (num(d.events)) } td class="t" { (when(&d.last_seen)) } }
                    } }
                }
                h3 { "Every finding, newest first" }
            }
            (finding_list(&a.findings, a.total, "findings"))
        }
    }
}
