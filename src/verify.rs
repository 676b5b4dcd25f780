//! `auth0-archive verify`: walk the integrity chain back and say whether the
//! archive is as it was written, and what its head is.

use std::path::Path;
use std::time::Instant;

use crate::config::commands::VerifyOptions;
use crate::error::{Error, Result};
use crate::store;
use crate::store::chain::{ChainKey, Head};

pub fn run(db: &Path, args: &VerifyOptions) -> Result<()> {
    let expect = args.expect_head.as_deref().map(Head::parse).transpose()?;
    let key = ChainKey::from_env()?;
    let conn = store::open_read_only(db)?;
    let started = Instant::now();
    let report = store::audit::audit(&conn, key.as_ref(), expect.as_ref())?;
    let elapsed = started.elapsed().as_secs_f64();
    let unchecked = report.problem.is_none() && report.unchecked_links > 0;
    if args.json {
        let mut v = serde_json::to_value(&report).unwrap_or_default();
        v["ok"] = (report.problem.is_none() && !unchecked).into();
        v["elapsed_s"] = ((elapsed * 1000.0).round() / 1000.0).into();
        println!("{v}");
    } else if report.problem.is_none() && !unchecked {
        println!(
            "ok: {} events in {} chain links verified ({} links pruned{}) in {elapsed:.2}s; head {}",
            report.events,
            report.links,
            report.pruned_links,
            if report.keyed_links > 0 {
                format!(", {} keyed", report.keyed_links)
            } else {
                String::new()
            },
            report.head.as_deref().unwrap_or("none"),
        );
    }
    if let Some(p) = report.problem {
        return Err(Error::Integrity(format!("integrity check failed: {p}")));
    }
    if unchecked {
        return Err(Error::usage(format!(
            "cannot check a keyed chain without its key: {} of {} links are sealed with a key; \
             set {} (every event was still checked against its raw content)",
            report.unchecked_links,
            report.links,
            ChainKey::ENV
        )));
    }
    Ok(())
}
