//! The login map: Natural Earth 110m country outlines (public domain, see
//! `data/NOTICE-world-110m.md`), shipped in the binary as SVG path data in
//! an equirectangular projection (x = longitude + 180, y = 90 - latitude),
//! logins as circles sized by count and coloured by their share of
//! failures, impossible-travel legs as lines.

use maud::{Markup, html};

use super::data::Geo;
use super::svg::fmt;

const OUTLINES: &str = include_str!("../../data/world-110m.tsv");

fn x(lon: f64) -> f64 {
    lon + 180.0
}
fn y(lat: f64) -> f64 {
    90.0 - lat
}

pub fn render(geo: &Geo) -> Markup {
    let max = geo
        .points
        .iter()
        .map(|p| p.succeeded + p.failed)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    // Largest first, so small places stay visible on top.
    let mut points = geo.points.clone();
    points.sort_by_key(|p| std::cmp::Reverse(p.succeeded + p.failed));
    html! {
        svg class="map" viewBox="0 5 360 145" role="img" aria-label="Logins by place" {
            title { "Logins by place (UTC times; circles sized by logins, red = mostly failed)" }
            rect class="sea" x="0" y="5" width="360" height="145" {}
            @for line in OUTLINES.lines() {
                @if let Some((name, d)) = line.split_once('\t') {
                    path class="land" d=(d) { title { (name) } }
                }
            }
            @for p in &points {
                @let n = p.succeeded + p.failed;
                @let r = 0.5 + 3.5 * (n as f64 / max).sqrt();
                @let colour = if p.failed * 2 > n { "#d62828" } else { "#1d7874" };
                circle cx=(fmt(x(p.at.lon))) cy=(fmt(y(p.at.lat))) r=(format!("{r:.2}")) fill=(colour) fill-opacity="0.65" {
                    title { (p.at.lat) ", " (p.at.lon) ": " (p.succeeded) " succeeded, " (p.failed) " failed" }
                }
            }
            @for leg in &geo.legs {
                @if let (Some(a), Some(b)) = (leg.from_xy, leg.to_xy) {
                    line class="leg" x1=(fmt(x(a.lon))) y1=(fmt(y(a.lat))) x2=(fmt(x(b.lon))) y2=(fmt(y(b.lat))) {
                        title { (leg.user) ": " (leg.from_place) " → " (leg.to_place) ", " (leg.km) " km in " (leg.minutes) " min" }
                    }
                }
            }
        }
    }
}
