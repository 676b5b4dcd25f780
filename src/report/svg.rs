//! Small inline SVG charts: stacked bars and lines over time buckets. Hand
//! written (a few dozen lines each) rather than a plotting crate: the page
//! needs two chart shapes, static SVG with no script or font, and every
//! label escaped by maud like the rest of the page.

use maud::{Markup, html};

const W: f64 = 960.0;
const H: f64 = 210.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

/// The top of the y axis: four times a round step, at or above `n`, so
/// the four grid lines fall on round numbers.
fn nice_max(n: i64) -> i64 {
    let want = (n.max(1) as f64 / 4.0).max(1.0);
    let mag = 10f64.powi(want.log10().floor() as i32);
    for step in [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        let k = step * mag;
        if k >= want && k.fract() == 0.0 {
            return 4 * k as i64;
        }
    }
    4 * (10.0 * mag) as i64
}

fn short(n: i64) -> String {
    if n >= 1_000_000 {
        format!("{:.1}M", n as f64 / 1e6)
    } else if n >= 10_000 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// Axes, grid lines and x labels shared by both chart kinds.
fn frame(labels: &[String], top: i64) -> Markup {
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = labels.len().max(1);
    let every = n.div_ceil(12).max(1);
    let bw = plot_w / n as f64;
    html! {
        @for i in 0..=4 {
            @let y = TOP + plot_h - plot_h * i as f64 / 4.0;
            line class="grid" x1=(LEFT) x2=(W - RIGHT) y1=(y) y2=(y) {}
            text class="ylab" x=(LEFT - 6.0) y=(y + 4.0) text-anchor="end" { (short(top * i / 4)) }
        }
        @for (i, l) in labels.iter().enumerate() {
            @if i.is_multiple_of(every) {
                text class="xlab" x=(LEFT + bw * (i as f64 + 0.5)) y=(H - 6.0) text-anchor="middle" { (l) }
            }
        }
    }
}

/// Bars over `labels`, each stacked from `values[i]` in `series` order
/// (name, colour).
pub fn stacked_bars(
    title: &str,
    labels: &[String],
    series: &[(&str, &str)],
    values: &[Vec<i64>],
) -> Markup {
    let max = values
        .iter()
        .map(|v| v.iter().sum::<i64>())
        .max()
        .unwrap_or(0);
    let top = nice_max(max);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = labels.len().max(1);
    let bw = plot_w / n as f64;
    let gap = if bw > 4.0 { bw * 0.15 } else { 0.0 };
    let mut rects = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let x = LEFT + bw * i as f64 + gap / 2.0;
        let mut acc = 0i64;
        for (j, n) in v.iter().enumerate().filter(|(_, n)| **n > 0) {
            let y0 = TOP + plot_h - plot_h * (acc + n) as f64 / top as f64;
            let h = plot_h * *n as f64 / top as f64;
            let tip = format!("{}: {} {}", labels[i], n, series[j].0);
            rects.push((fmt(x), fmt(y0), fmt(h), series[j].1, tip));
            acc += n;
        }
    }
    let width = fmt(bw - gap);
    html! {
        svg class="chart" viewBox={"0 0 " (W) " " (H)} role="img" aria-label=(title) {
            title { (title) }
            (frame(labels, top))
            @for (x, y, h, colour, tip) in &rects {
                rect x=(x) y=(y) width=(width) height=(h) fill=(colour) { title { (tip) } }
            }
        }
    }
}

/// One line per series over `labels`.
pub fn lines(
    title: &str,
    labels: &[String],
    series: &[(&str, &str)],
    values: &[Vec<i64>],
) -> Markup {
    let max = values
        .iter()
        .flat_map(|v| v.iter().copied())
        .max()
        .unwrap_or(0);
    let top = nice_max(max);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = labels.len().max(1);
    let bw = plot_w / n as f64;
    let points = |j: usize| -> String {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let x = LEFT + bw * (i as f64 + 0.5);
                let y = TOP + plot_h - plot_h * v[j] as f64 / top as f64;
                format!("{},{}", fmt(x), fmt(y))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    html! {
        svg class="chart" viewBox={"0 0 " (W) " " (H)} role="img" aria-label=(title) {
            title { (title) }
            (frame(labels, top))
            @for (j, s) in series.iter().enumerate() {
                polyline points=(points(j)) fill="none" stroke=(s.1) stroke-width="2" stroke-linejoin="round" {}
            }
        }
    }
}

/// An HTML legend for `series`.
pub fn legend(series: &[(&str, &str)]) -> Markup {
    html! {
        p class="legend" {
            @for (name, colour) in series {
                span { i style={"background:" (colour)} {} (name) }
            }
        }
    }
}

/// A horizontal bar for a table cell: `n` of `max`.
pub fn cell_bar(n: i64, max: i64, colour: &str) -> Markup {
    let pct = if max > 0 {
        (n as f64 / max as f64 * 100.0).max(0.5)
    } else {
        0.0
    };
    html! {
        span class="bar" style={"width:" (format!("{pct:.1}")) "%;background:" (colour)} {}
    }
}

pub fn fmt(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::nice_max;

    #[test]
    fn the_axis_top_splits_into_four_round_steps() {
        for (n, top) in [
            (0, 4),
            (3, 4),
            (5, 8),
            (37, 40),
            (50, 60),
            (120, 120),
            (999, 1000),
            (156_284, 160_000),
        ] {
            assert_eq!(nice_max(n), top, "n = {n}");
            assert_eq!(nice_max(n) % 4, 0);
        }
    }
}
