//! `auth0-archive demo`: the whole flow with no Auth0 account. A simulated
//! tenant on 127.0.0.1 holds a few days of realistic events with planted
//! attacks; the real sync archives them, `status` shows the result and saved
//! reports find the attacks.

use std::path::Path;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::auth0::{Auth, HttpPolicy, default_audience};
use crate::choices::{EngineKind, Format};
use crate::config::commands::{
    DemoOptions, DetectOptions, QuerySource, SavedQueryOptions, StatusOptions,
};
use crate::config::{OutputMode, SyncConfig, SyncPlan, parse_base_url};
use crate::error::{Error, Result};
use crate::log::note;
use crate::secret::Secret;
use crate::simulator::generator::{Spec, generate};
use crate::simulator::{FakeTenant, TenantState};
use crate::{query, status, sync};

/// Removes an earlier demo archive and what lives beside it.
fn start_over(db: &Path) -> Result<()> {
    crate::store::remove_with_sidecars(
        db,
        &[
            "-wal",
            "-shm",
            ".duckdb",
            ".duckdb.wal",
            ".lock",
            ".detect.lock",
        ],
    )
    .map_err(|e| {
        Error::runtime(format!(
            "cannot remove the old demo archive {}: {e}",
            db.display()
        ))
    })
}

/// `word`, quoted for a POSIX shell when it needs it.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

pub fn run(db: &Path, args: &DemoOptions) -> Result<()> {
    if args.fresh {
        start_over(db)?;
    } else if db.exists() {
        note(&format!(
            "demo: reusing the demo archive {} from an earlier run (only new events are synced); \
             `auth0-archive demo --fresh` starts over",
            db.display()
        ));
    }
    let end = sync_from_a_simulated_tenant(db, args.events)?;
    println!();
    note(&format!(
        "demo: $ auth0-archive --db {} status",
        db.display()
    ));
    status::run(
        db,
        &StatusOptions {
            json: false,
            retention_days: None,
        },
    )?;
    saved_queries(db, end)?;
    detect_and_report(db)?;
    next_commands(db);
    Ok(())
}

/// Starts the simulated tenant with `events` ending at this hour and syncs
/// it into `db`; gives that end.
fn sync_from_a_simulated_tenant(db: &Path, events: usize) -> Result<DateTime<Utc>> {
    // Anchored to the hour, so running the demo twice shows an incremental
    // sync with nothing new rather than a second copy of history.
    let end = Utc::now()
        .duration_trunc(TimeDelta::hours(1))
        .unwrap_or_else(|_| Utc::now());
    let events = generate(&Spec::recent(events, 5, end));
    let mut state = TenantState::default();
    state.push_events(events);
    let (client_id, client_secret) = (state.client_id.clone(), state.client_secret.clone());
    let tenant = FakeTenant::start(state)
        .map_err(|e| Error::runtime(format!("cannot start the simulated tenant: {e}")))?;
    note(&format!(
        "demo: simulated Auth0 tenant with {} events at {}",
        tenant.with(|s| s.events().len()),
        tenant.base_url()
    ));

    let base_url = parse_base_url(&tenant.base_url())?;
    let cfg = SyncConfig {
        db: db.to_path_buf(),
        tenant: "demo.us.auth0.com".into(),
        auth: Auth::ClientCredentials {
            client_id,
            client_secret: Secret::new(client_secret),
            audience: default_audience(&base_url),
        },
        base_url,
        max_events: None,
        since: None,
        http: HttpPolicy::default(),
        output: OutputMode::default(),
    };
    note(&format!("demo: $ auth0-archive --db {} sync", db.display()));
    sync::run_blocking(SyncPlan {
        tenants: vec![cfg],
        follow: None,
        concurrency: 4,
        head_file: None,
        detect: None,
    })?;
    Ok(end)
}

/// Three saved reports, as a user would run them.
fn saved_queries(db: &Path, end: DateTime<Utc>) -> Result<()> {
    let last_day = format!("since={}", (end - TimeDelta::days(1)).format("%Y-%m-%d"));
    for (report, params) in [
        ("brute-force", vec![]),
        ("impossible-travel", vec![]),
        ("event-summary", vec![last_day]),
    ] {
        println!();
        let shown: Vec<String> = params.iter().map(|p| format!(" --param {p}")).collect();
        note(&format!(
            "demo: $ auth0-archive --db {} query run {report}{}",
            db.display(),
            shown.concat()
        ));
        query::run_report(
            db,
            &SavedQueryOptions {
                name: report.to_string(),
                params,
                format: Some(Format::Table),
                source: QuerySource::Archive(EngineKind::Sqlite),
            },
        )?;
    }
    Ok(())
}

/// `detect`, then the HTML report.
fn detect_and_report(db: &Path) -> Result<()> {
    println!();
    note(&format!(
        "demo: $ auth0-archive --db {} detect",
        db.display()
    ));
    crate::detect::run(
        db,
        &DetectOptions {
            format: Some(Format::Table),
            window: None,
            fail_on: None,
            tenant: None,
            only: Vec::new(),
            quiet: false,
            engine: EngineKind::Sqlite,
            sigma: Vec::new(),
            no_reports: false,
            webhooks: Default::default(),
        },
    )?;
    let report = db.with_file_name("auth0-demo-report.html");
    note(&format!(
        "\ndemo: $ auth0-archive --db {} report --out {}",
        db.display(),
        report.display()
    ));
    crate::report::write_default(db, &report)?;
    println!("{}", report.display());
    Ok(())
}

/// What to type next, with `--db` (the demo's archive is not the default).
fn next_commands(db: &Path) {
    let db_arg = shell_word(&db.display().to_string());
    note("\ndemo: go on exploring this archive (it is not ./auth0-logs.db, so name it):");
    for next in [
        "status",
        "query list",
        "query run credential-stuffing",
        "query sql \"SELECT type, count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC\"",
        "query run impossible-travel --engine duckdb",
    ] {
        note(&format!("  auth0-archive --db {db_arg} {next}"));
    }
}
