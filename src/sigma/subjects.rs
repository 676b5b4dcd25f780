//! Findings of plain (uncorrelated) detection rules, one per rule, per IP
//! address, per episode: the rule's matching events from one `ip` (the
//! actor of an Auth0 event: the browser, the API caller) that follow each
//! other by no more than [`EPISODE_GAP_MS`]. So "Failed login" over a day
//! reads as one finding per attacking address and burst, as the saved
//! detections do, not one lump per run. Events without an `ip` share one
//! finding per rule and episode.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::rules::RuleInfo;
use crate::store::findings::{Finding, MAX_LOG_IDS};

/// The longest quiet time within one episode. A later run's matches this
/// close to a known finding's extend it.
pub(super) const EPISODE_GAP_MS: i64 = 60 * 60 * 1000;

/// Most distinct users a finding names in `details.users`.
const MAX_USERS: usize = 10;

/// One event that a plain rule matched.
pub(super) struct Hit<'a> {
    pub ts: Option<i64>,
    pub date: &'a str,
    pub log_id: &'a str,
    pub ip: Option<&'a str>,
    pub user: Option<&'a str>,
}

struct Episode {
    last_ms: Option<i64>,
    first: String,
    last: String,
    events: i64,
    log_ids: Vec<String>,
    users: BTreeSet<String>,
}

/// Open and closed episodes, fed in event time order.
#[derive(Default)]
pub(super) struct Subjects {
    /// Per rule, per ip ("" for none): the episode still open.
    open: HashMap<usize, HashMap<String, Episode>>,
    closed: Vec<(usize, String, Episode)>,
}

impl Subjects {
    pub(super) fn add(&mut self, rule: usize, hit: &Hit<'_>) {
        let by_ip = self.open.entry(rule).or_default();
        let ip = hit.ip.unwrap_or_default();
        let stale = by_ip.get(ip).is_some_and(
            |e| matches!((e.last_ms, hit.ts), (Some(last), Some(ts)) if ts - last > EPISODE_GAP_MS),
        );
        if stale && let Some((ip, episode)) = by_ip.remove_entry(ip) {
            self.closed.push((rule, ip, episode));
        }
        let episode = match by_ip.get_mut(ip) {
            Some(e) => e,
            None => by_ip.entry(ip.to_owned()).or_insert_with(|| Episode {
                last_ms: None,
                first: hit.date.to_owned(),
                last: hit.date.to_owned(),
                events: 0,
                log_ids: Vec::new(),
                users: BTreeSet::new(),
            }),
        };
        episode.last_ms = hit.ts.or(episode.last_ms);
        if hit.date < episode.first.as_str() {
            episode.first = hit.date.to_owned();
        }
        if hit.date > episode.last.as_str() {
            episode.last = hit.date.to_owned();
        }
        episode.events += 1;
        if episode.log_ids.len() < MAX_LOG_IDS {
            episode.log_ids.push(hit.log_id.to_owned());
        }
        if let Some(user) = hit.user
            && episode.users.len() < MAX_USERS
            && !episode.users.contains(user)
        {
            episode.users.insert(user.to_owned());
        }
    }

    /// Every episode as a finding, in rule order and then by time.
    pub(super) fn findings(mut self, rules: &[RuleInfo]) -> Vec<Finding> {
        for (rule, by_ip) in self.open.drain() {
            for (ip, episode) in by_ip {
                self.closed.push((rule, ip, episode));
            }
        }
        self.closed
            .sort_by(|a, b| (a.0, &a.2.first, &a.1).cmp(&(b.0, &b.2.first, &b.1)));
        self.closed
            .into_iter()
            .map(|(rule, ip, episode)| finding(&rules[rule], &ip, episode))
            .collect()
    }
}

fn finding(rule: &RuleInfo, ip: &str, e: Episode) -> Finding {
    let mut key = serde_json::Map::new();
    key.insert("rule".into(), rule.key.clone().into());
    if !ip.is_empty() {
        key.insert("ip".into(), ip.into());
    }
    let mut details = serde_json::Map::new();
    if !e.users.is_empty() {
        details.insert(
            "users".into(),
            Value::Array(e.users.iter().map(|u| u.clone().into()).collect()),
        );
    }
    let from = if ip.is_empty() {
        String::new()
    } else {
        format!("ip {ip}, ")
    };
    let users = match e.users.len() {
        0 => String::new(),
        1 => format!(", user {}", e.users.iter().next().unwrap_or(&String::new())),
        n if n >= MAX_USERS => format!(", {n}+ users"),
        n => format!(", {n} users"),
    };
    Finding {
        detection: rule.title.clone(),
        source: "sigma".into(),
        severity: super::severity(rule.level.as_deref()).into(),
        summary: format!(
            "Sigma rule \"{}\": {from}{}{users}, {} .. {}",
            rule.title,
            crate::text::count(e.events as u64, "event"),
            e.first,
            e.last
        ),
        key,
        first_seen: e.first,
        last_seen: e.last,
        events: e.events,
        log_ids: e.log_ids,
        details,
    }
}
