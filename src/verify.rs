//! `auth0-archive verify`: recompute the integrity chain.

use std::path::Path;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::store;

pub fn run(db: &Path, json: bool) -> Result<()> {
    let conn = store::open_read_only(db)?;
    let started = Instant::now();
    let report = store::chain::verify(&conn)?;
    let elapsed = started.elapsed().as_secs_f64();
    if json {
        let mut v = serde_json::to_value(&report).unwrap_or_default();
        v["ok"] = report.problem.is_none().into();
        v["elapsed_s"] = ((elapsed * 1000.0).round() / 1000.0).into();
        println!("{v}");
    } else if report.problem.is_none() {
        println!(
            "ok: {} events in {} chain links verified ({} links pruned) in {elapsed:.2}s",
            report.events, report.links, report.pruned_links
        );
    }
    match report.problem {
        None => Ok(()),
        Some(p) => Err(Error::Integrity(format!("integrity check failed: {p}"))),
    }
}
