//! The Sigma pass of `detect --sigma`: the unexamined events, in event time
//! order, through the rules and their correlations; plain matches become
//! findings per subject ([`super::subjects`]), correlation fires findings
//! per burst ([`super::correlation`]). The correlation windows continue
//! from the state the last run saved (`sigma_state`), which commits with
//! the findings and the moved watermark.
//!
//! Windows go by each event's own time (`ts`, from its `date`), never the
//! wall clock. An event older than the newest one the windows have seen
//! (beyond [`LATE_TOLERANCE_MS`]) cannot join them as they stand: the run
//! then replays the archive from that event's time minus the longest
//! correlation window, so the late event is judged among the events of its
//! own time; of what the replay fires, only windows resting on an event
//! new in this run are findings. The same replay stands in for saved state
//! made with other rule files.

use std::collections::HashSet;
use std::path::PathBuf;

use rsigma_eval::event::JsonEvent;
use rsigma_eval::{CorrelationEngine, CorrelationSnapshot};
use rusqlite::{Connection, TransactionBehavior, params};

use super::correlation::Fires;
use super::rules::{EventDoc, RuleSet, correlation_index, document, parse_event_ref, rule_index};
use super::subjects::{EPISODE_GAP_MS, Hit, Subjects};
use crate::error::{Error, Result};
use crate::store::findings::{self, Finding, Recorded};
use crate::store::raw::RawCodec;
use crate::store::sigma_state::{self, SavedState};

/// The watermark name of the Sigma rule set.
const WATERMARK: &str = "sigma";

/// How much older than the newest event seen an event may be and still join
/// the open windows as it arrives: Auth0 returns events in `log_id` order,
/// which can differ from `date` order by seconds, and replaying a month of
/// windows for each such event would cost more than the second is worth.
pub const LATE_TOLERANCE_MS: i64 = 60_000;

/// Loads the rules, saying on stderr which could not be used and why; none
/// at all is a usage error.
pub fn load_for_detect(paths: &[PathBuf]) -> Result<RuleSet> {
    let (rules, problems) = super::load(paths);
    for p in &problems {
        crate::log::warn(&format!(
            "Sigma rule {}{}: {}",
            p.path.display(),
            if p.skipped { " skipped" } else { "" },
            p.reason
        ));
    }
    if rules.is_empty() {
        return Err(Error::usage(format!(
            "no Sigma rule with logsource.product auth0 could be loaded from {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(rules)
}

/// One event to feed: its time (epoch ms), row, and whether this run is the
/// first to examine it.
#[derive(Clone, Copy)]
struct Planned {
    ts: Option<i64>,
    rowid: i64,
    new: bool,
}

/// What to feed and how the windows start.
struct Plan {
    events: Vec<Planned>,
    engine: CorrelationEngine,
    /// The newest event time the windows have seen.
    frontier: Option<i64>,
    /// Replaying: fires count only when they rest on one of these log_ids
    /// (`None`: every event fed is new).
    new_ids: Option<HashSet<String>>,
}

/// Evaluates the rules on the events after the watermark (or in `window`,
/// epoch ms, without moving it or the saved state) and files the findings.
/// Returns each finding with whether it is new.
pub fn run(
    conn: &mut Connection,
    rules: &RuleSet,
    scope: &str,
    tenant: Option<&str>,
    window: Option<(i64, i64)>,
    upto: i64,
    run_id: i64,
) -> Result<Vec<(Finding, Recorded)>> {
    let plan = match window {
        Some((lo, hi)) => Plan {
            events: in_window(conn, tenant, lo, hi, upto)?,
            engine: rules.fresh_engine(),
            frontier: None,
            new_ids: None,
        },
        None => plan(conn, rules, scope, tenant, upto)?,
    };
    let codec = RawCodec::load(conn)?;
    let (found, engine, frontier) = evaluate(conn, &codec, rules, tenant, plan)?;

    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = Vec::with_capacity(found.len());
    for (f, window_ms) in found {
        let recorded = findings::record(&tx, &f, scope, window_ms, run_id)?;
        out.push((f, recorded));
    }
    if window.is_none() {
        findings::set_watermark(&tx, WATERMARK, scope, upto)?;
        let state = serde_json::to_string(&engine.export_state())
            .map_err(|e| Error::runtime(format!("cannot save the Sigma correlation state: {e}")))?;
        let saved = SavedState {
            fingerprint: rules.fingerprint().to_owned(),
            frontier: frontier.unwrap_or(i64::MIN),
            state,
        };
        sigma_state::save(&tx, scope, &saved)?;
    }
    tx.commit()?;
    Ok(out)
}

/// The unexamined events, and either the saved windows to continue or a
/// replay of the time before them.
fn plan(
    conn: &Connection,
    rules: &RuleSet,
    scope: &str,
    tenant: Option<&str>,
    upto: i64,
) -> Result<Plan> {
    let after = findings::watermark(conn, WATERMARK, scope)?;
    let mut events = rows(
        conn,
        "SELECT rowid, ts FROM events
         WHERE rowid > ?1 AND rowid <= ?2 AND (?3 IS NULL OR tenant = ?3)",
        params![after, upto, tenant],
        true,
    )?;
    let oldest_new = events.iter().filter_map(|e| e.ts).min();
    let saved = sigma_state::load(conn, scope)?
        .filter(|s| s.fingerprint == rules.fingerprint())
        .and_then(|s| restore(rules, &s).map(|engine| (engine, s.frontier)));
    let on_time = |frontier: i64| {
        oldest_new.is_none_or(|ts| ts >= frontier.saturating_sub(LATE_TOLERANCE_MS))
    };
    match saved {
        Some((engine, frontier)) if on_time(frontier) => {
            sort(&mut events);
            Ok(Plan {
                events,
                engine,
                frontier: Some(frontier),
                new_ids: None,
            })
        }
        // Nothing examined before: nothing to replay.
        _ if after == 0 || oldest_new.is_none() => {
            sort(&mut events);
            Ok(Plan {
                events,
                engine: rules.fresh_engine(),
                frontier: None,
                new_ids: None,
            })
        }
        _ => replay(conn, rules, tenant, after, events, oldest_new.unwrap_or(0)),
    }
}

/// The saved windows in an engine, or `None` when they cannot be read.
fn restore(rules: &RuleSet, saved: &SavedState) -> Option<CorrelationEngine> {
    let snapshot: CorrelationSnapshot = serde_json::from_str(&saved.state).ok()?;
    let mut engine = rules.fresh_engine();
    engine.import_state(snapshot).then_some(engine)
}

/// A plan that rebuilds the windows from the examined events since
/// `oldest_new` minus the longest correlation window.
fn replay(
    conn: &Connection,
    rules: &RuleSet,
    tenant: Option<&str>,
    after: i64,
    mut events: Vec<Planned>,
    oldest_new: i64,
) -> Result<Plan> {
    let since = oldest_new.saturating_sub(rules.lookback_ms());
    let new_rowids: Vec<i64> = events.iter().map(|e| e.rowid).collect();
    events.extend(rows(
        conn,
        "SELECT rowid, ts FROM events
         WHERE ts >= ?1 AND rowid <= ?2 AND (?3 IS NULL OR tenant = ?3)",
        params![since, after, tenant],
        false,
    )?);
    sort(&mut events);
    let mut new_ids = HashSet::with_capacity(new_rowids.len());
    let mut stmt = conn.prepare_cached("SELECT log_id FROM events WHERE rowid = ?1")?;
    for rowid in new_rowids {
        new_ids.insert(stmt.query_row([rowid], |r| r.get::<_, String>(0))?);
    }
    Ok(Plan {
        events,
        engine: rules.fresh_engine(),
        frontier: None,
        new_ids: Some(new_ids),
    })
}

/// `--since/--until`: every event of the window, as if new.
fn in_window(
    conn: &Connection,
    tenant: Option<&str>,
    lo: i64,
    hi: i64,
    upto: i64,
) -> Result<Vec<Planned>> {
    let mut events = rows(
        conn,
        "SELECT rowid, ts FROM events
         WHERE ts >= ?1 AND ts < ?2 AND rowid <= ?3 AND (?4 IS NULL OR tenant = ?4)",
        params![lo, hi, upto, tenant],
        true,
    )?;
    sort(&mut events);
    Ok(events)
}

fn rows(
    conn: &Connection,
    sql: &str,
    values: impl rusqlite::Params,
    new: bool,
) -> Result<Vec<Planned>> {
    let mut stmt = conn.prepare(sql)?;
    let mut out = Vec::new();
    let mut rows = stmt.query(values)?;
    while let Some(r) = rows.next()? {
        out.push(Planned {
            rowid: r.get(0)?,
            ts: r.get(1)?,
            new,
        });
    }
    Ok(out)
}

/// Event time order; events without a time first (they feed plain rules
/// only), ties in archive order.
fn sort(events: &mut [Planned]) {
    if !events.is_sorted_by_key(|e| (e.ts, e.rowid)) {
        events.sort_unstable_by_key(|e| (e.ts, e.rowid));
    }
}

type Found = (Vec<(Finding, i64)>, CorrelationEngine, Option<i64>);

/// Feeds the plan's events to the rules; returns the findings (each with
/// the time within which a later one is the same), the engine with its
/// windows, and the newest event time fed.
fn evaluate(
    conn: &Connection,
    codec: &RawCodec,
    rules: &RuleSet,
    tenant: Option<&str>,
    plan: Plan,
) -> Result<Found> {
    let Plan {
        events,
        mut engine,
        mut frontier,
        new_ids,
    } = plan;
    let mut subjects = Subjects::default();
    let mut fires = Fires::default();
    let mut one = |p: &Planned, log_id: &str, date: Option<&str>, raw: &str| {
        let Some(doc) = document(raw) else {
            return;
        };
        let event = EventDoc {
            inner: JsonEvent::borrow(&doc),
            ts_ms: p.ts.unwrap_or(0),
            log_id,
        };
        let results = match p.ts {
            Some(ts) => {
                frontier = Some(frontier.map_or(ts, |f| f.max(ts)));
                engine.process_event_at(&event, ts.div_euclid(1000))
            }
            None => engine.evaluate(&event),
        };
        for result in &results {
            if let Some(body) = result.as_correlation() {
                let Some(corr) = correlation_index(result.header.rule_id.as_deref()) else {
                    continue;
                };
                let rests_on_new = p.new
                    || new_ids.as_ref().is_none_or(|ids| {
                        body.event_refs.iter().flatten().any(|r| {
                            r.id.as_deref()
                                .and_then(parse_event_ref)
                                .is_some_and(|(_, id)| ids.contains(id))
                        })
                    });
                if rests_on_new
                    && let Some(info) = rules.corr_info.get(&corr)
                    && info.met(body.aggregated_value)
                {
                    fires.add(corr, info, body, p.ts.unwrap_or(0));
                }
            } else if p.new
                && let Some(i) = rule_index(result.header.rule_id.as_deref())
                && !rules.info[i].correlation_only
            {
                let data = &doc["data"];
                let user = data["user_id"].as_str().or(data["user_name"].as_str());
                let hit = Hit {
                    ts: p.ts,
                    date: date.unwrap_or_default(),
                    log_id,
                    ip: data["ip"].as_str().filter(|s| !s.is_empty()),
                    user: user.filter(|s| !s.is_empty()),
                };
                subjects.add(i, &hit);
            }
        }
    };
    read_events(conn, codec, tenant, &events, &mut one)?;
    if let Some(f) = frontier {
        // Windows that no later event can reach are dropped, not saved.
        engine.evict_expired(f.div_euclid(1000));
    }
    let mut found: Vec<(Finding, i64)> = subjects
        .findings(&rules.info)
        .into_iter()
        .map(|f| (f, EPISODE_GAP_MS))
        .collect();
    found.extend(fires.findings(&rules.corr_info));
    Ok((found, engine, frontier))
}

/// What `read_events` calls: the plan entry, log_id, date and raw text.
type EachEvent<'a> = dyn FnMut(&Planned, &str, Option<&str>, &str) + 'a;

/// Calls `each` with every planned event's log_id, date and raw text, in
/// plan order: one scan of the rowid range when that order is the archive's
/// (the common case), one lookup per event otherwise.
fn read_events(
    conn: &Connection,
    codec: &RawCodec,
    tenant: Option<&str>,
    events: &[Planned],
    each: &mut EachEvent<'_>,
) -> Result<()> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok(());
    };
    if events.is_sorted_by_key(|e| e.rowid) {
        let mut stmt = conn.prepare(
            "SELECT rowid, log_id, date, raw FROM events
             WHERE rowid >= ?1 AND rowid <= ?2 AND (?3 IS NULL OR tenant = ?3)
             ORDER BY rowid",
        )?;
        let mut rows = stmt.query(params![first.rowid, last.rowid, tenant])?;
        let mut next = events.iter().peekable();
        while let Some(r) = rows.next()? {
            let rowid: i64 = r.get(0)?;
            let Some(p) = next.next_if(|p| p.rowid == rowid) else {
                continue;
            };
            let (log_id, date): (String, Option<String>) = (r.get(1)?, r.get(2)?);
            let raw = codec.text(r.get_ref(3)?)?;
            each(p, &log_id, date.as_deref(), &raw);
        }
        return Ok(());
    }
    let mut stmt = conn.prepare("SELECT log_id, date, raw FROM events WHERE rowid = ?1")?;
    for p in events {
        let mut rows = stmt.query([p.rowid])?;
        if let Some(r) = rows.next()? {
            let (log_id, date): (String, Option<String>) = (r.get(0)?, r.get(1)?);
            let raw = codec.text(r.get_ref(2)?)?;
            each(p, &log_id, date.as_deref(), &raw);
        }
    }
    Ok(())
}
