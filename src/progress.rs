//! Sync progress on stderr: an indicatif spinner on a terminal, a plain line
//! every few seconds otherwise (cron, CI, pipes), nothing with `--quiet`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub enum Progress {
    Bar(ProgressBar),
    Plain { started: Instant, last: Instant },
    Quiet,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {human_pos} events  {per_sec}  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            Progress::Bar(bar)
        } else {
            let now = Instant::now();
            Progress::Plain {
                started: now,
                last: now,
            }
        }
    }

    /// `total` events archived so far in this run; `date` the newest event date seen.
    pub fn update(&mut self, total: u64, date: Option<&str>) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position(total);
                if let Some(d) = date {
                    bar.set_message(format!("at {d}"));
                }
            }
            Progress::Plain { started, last } => {
                if last.elapsed() >= PLAIN_EVERY {
                    *last = Instant::now();
                    let rate = total as f64 / started.elapsed().as_secs_f64().max(0.001);
                    crate::log::note(&format!(
                        "sync: {} ({rate:.0}/s){}",
                        crate::text::count(total, "event"),
                        date.map(|d| format!(", at {d}")).unwrap_or_default()
                    ));
                }
            }
            Progress::Quiet => {}
        }
    }

    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }

    /// Prints a warning without tearing the progress display.
    pub fn warn(&self, msg: &str) {
        match self {
            Progress::Bar(bar) => bar.suspend(|| crate::log::warn(msg)),
            _ => crate::log::warn(msg),
        }
    }
}
