//! The activity section.

use maud::{Markup, html};

use super::{num, numbers, when};
use crate::report::data::{CATEGORIES, Report};
use crate::report::svg;

pub(super) fn activity(r: &Report) -> Markup {
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
