//! The activity section.

use maud::{Markup, html};

use super::{num, numbers, when};
use crate::report::data::{CATEGORIES, PageData};
use crate::report::svg;

pub(super) fn activity(r: &PageData) -> Markup {
    let a = &r.activity;
    let day_labels: Vec<String> = a.days.iter().map(|d| d.day[5..].to_string()).collect();
    let day_values: Vec<Vec<i64>> = a.days.iter().map(|d| d.per_category.clone()).collect();
    let used: Vec<usize> = (0..CATEGORIES.len())
        .filter(|j| day_values.iter().any(|v| v[*j] > 0))
        .collect();
    let series: Vec<(&str, &str)> = CATEGORIES.to_vec();
    let login_labels: Vec<String> = a
        .logins
        .iter()
        .map(|l| {
            let w = when(&l.start);
            if a.login_bucket_hours >= 24 {
                w[5..10].to_string()
            } else {
                format!("{} {}h", &w[5..10], &w[11..13])
            }
        })
        .collect();
    let login_values: Vec<Vec<i64>> = a
        .logins
        .iter()
        .map(|l| vec![l.succeeded, l.failed])
        .collect();
    let login_series = [("succeeded", "#2a9d8f"), ("failed", "#d62828")];
    let top_max = a.top_types.first().map(|t| t.events).unwrap_or(0);
    let signup_values: Vec<Vec<i64>> = a
        .signups
        .iter()
        .map(|s| vec![s.succeeded, s.failed])
        .collect();
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
                    tbody { @for d in &a.days { tr { td class="t" { (d.day) } @for j in &used { td class="n" { (num(d.per_category[*j])) } } td class="n" { (num(d.per_category.iter().sum())) } } } }
                }
            }))
            h3 { "Logins succeeded and failed, per " (if a.login_bucket_hours == 1 { "hour".to_string() } else { format!("{} hours", a.login_bucket_hours) }) " (UTC)" }
            (svg::legend(&login_series))
            (svg::lines("Logins succeeded and failed", &login_labels, &login_series, &login_values))
            (numbers("Numbers: logins per bucket", html! {
                table id="logins" {
                    thead { tr { th { "from (UTC)" } th class="n" { "succeeded" } th class="n" { "failed" } } }
                    tbody { @for l in &a.logins { @if l.succeeded + l.failed > 0 { tr { td class="t" { (when(&l.start)) } td class="n" { (num(l.succeeded)) } td class="n" { (num(l.failed)) } } } } }
                    tfoot { tr { th { "total" } th class="n" { (num(a.logins_ok)) } th class="n" { (num(a.logins_failed)) } } }
                }
            }))
            h3 { "Sign-ups per day (UTC)" }
            (svg::legend(&signup_series))
            (svg::stacked_bars("Sign-ups per day", &day_labels, &signup_series, &signup_values))
            (numbers("Numbers: sign-ups per day", html! {
                table id="signups" {
                    thead { tr { th { "day (UTC)" } th class="n" { "signed up" } th class="n" { "failed" } } }
                    tbody { @for s in &a.signups { @if s.succeeded + s.failed > 0 { tr { td class="t" { (s.day) } td class="n" { (num(s.succeeded)) } td class="n" { (num(s.failed)) } } } } }
                }
            }))
            h3 { "Top event types" }
            table id="top-types" {
                thead { tr { th { "type" } th { "what it means" } th { "category" } th class="n" { "events" } th {} } }
                tbody { @for t in &a.top_types {
                    @let colour = CATEGORIES.iter().find(|c| c.0 == t.category).map(|c| c.1).unwrap_or("#999");
                    tr { td { code { (t.code) } } td { (t.name) } td class="note" { (t.category) } td class="n" { (num(t.events)) } td class="barcell" { (svg::cell_bar(t.events, top_max, colour)) } }
                } }
            }
        }
    }
}
