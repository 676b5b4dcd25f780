//! The overview section.

use maud::{Markup, html};

use super::{card, num, opt_when, when};
use crate::report::data::PageData;

pub(super) fn overview(r: &PageData) -> Markup {
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
                        @for c in &o.findings_by_severity { span class={"sev sev-" (c.severity)} { span id={"sev-" (c.severity)} { (num(c.findings)) } " " (c.severity) } " " }
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
