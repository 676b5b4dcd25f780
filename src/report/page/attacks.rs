//! The attacks section.

use maud::{Markup, html};

use super::{finding_list, num, when};
use crate::report::Detected;
use crate::report::data::PageData;

pub(super) fn attacks(r: &PageData) -> Markup {
    let a = &r.attacks;
    html! {
        section id="attacks" {
            h2 { "Attacks" }
            (detect_note(&r.detected))
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

/// What ran before the findings were read: the reader must know whether the
/// list is complete and whether it is in the archive.
fn detect_note(d: &Detected) -> Markup {
    html! {
        @match d {
            Detected::Filed { new } => p id="detect-note" class="note" {
                "The detections ran over the events not examined before and filed "
                (num(*new as i64)) " new " (if *new == 1 { "finding" } else { "findings" }) " (as "
                code { "detect" } " does)."
            },
            Detected::NotAsked => p id="detect-note" class="bad" {
                "Asked not to run the detections (" code { "--no-detect" } "): these are the findings "
                code { "detect" } " filed before; events it has not examined are not in them."
            },
            Detected::Unfiled { why } => p id="detect-note" class="bad" {
                "Not filed: " (why) ", so the detections ran over all its events and their findings "
                "are shown here without being written to the archive."
            },
        }
    }
}
