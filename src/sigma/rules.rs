//! Loading Sigma rules: each file parsed, its names made its own, field
//! names mapped to the event layout, and everything compiled once to find
//! what cannot be used.
//!
//! Names are per file. The catalogues give the rule a correlation counts the
//! same `name` (`selected_events`) in many files, and rsigma resolves
//! references across everything it holds. So every loaded rule gets an
//! internal id (`r0`, `r1`, ...; correlations `c0`, ...), and a correlation's
//! `rules:` are resolved first within its own file (by `name` or `id`), then
//! across the rule set by `id` alone. The internal ids are what rsigma sees;
//! findings carry the rule's own id, or its file and title.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rsigma_eval::event::{Event, EventValue, JsonEvent};
use rsigma_eval::{CorrelationConfig, CorrelationEngine, CorrelationEventMode, TimestampFallback};
use rsigma_parser::{
    ConditionExpr, ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType,
    Detection, FilterRule, FilterRuleTarget, SigmaRule, parse_sigma_yaml,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::source::{check_depth, collect_files, read_limited};
use crate::store::findings::MAX_LOG_IDS;

/// The product a rule must name in `logsource.product` to be loaded.
const PRODUCT: &str = "auth0";

/// Field names the catalogues write for an event field, and the name in the
/// event document (`{"data": <raw event>}`). Okta's catalogue mostly writes
/// `data.type` but its queries, and rules adapted from them, say `type`.
const FIELD_ALIASES: &[(&str, &str)] = &[("type", "data.type")];

/// Bumped when the internal naming changes, so saved correlation state made
/// under another scheme is not reused.
const NAMING_VERSION: &str = "auth0-archive sigma naming 1";

/// A file, or a document in it, that could not be used, or was used with a
/// caveat (`skipped` false: an unknown `status`, a malformed `related`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    pub path: PathBuf,
    pub reason: String,
    /// Whether the rule (or file) was left out.
    pub skipped: bool,
}

/// One rule that matched one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigmaMatch {
    pub title: String,
    pub id: Option<String>,
    pub level: Option<String>,
    pub log_id: String,
}

/// What a finding says about the detection rule behind it.
#[derive(Debug, Clone)]
pub(super) struct RuleInfo {
    pub title: String,
    pub id: Option<String>,
    pub level: Option<String>,
    /// The rule's own id, or `file: title`: the `rule` of a finding's key.
    pub key: String,
    /// Referenced only by correlations that do not `generate` it: its
    /// matches count towards them and are not findings of their own.
    pub correlation_only: bool,
}

/// What a finding says about the correlation rule behind it.
#[derive(Debug, Clone)]
pub(super) struct CorrelationInfo {
    pub title: String,
    pub level: Option<String>,
    pub key: String,
    pub kind: &'static str,
    pub timespan: String,
    pub timespan_s: u64,
    /// rsigma 0.23 fires `value_percentile` whatever its threshold: the
    /// threshold is checked here, on the value the fire reports.
    pub threshold: Option<Vec<(ConditionOperator, u64)>>,
}

impl CorrelationInfo {
    /// Whether a fire's value meets the threshold rsigma left unchecked.
    pub fn met(&self, value: f64) -> bool {
        self.threshold.iter().flatten().all(|(op, limit)| {
            let limit = *limit as f64;
            match op {
                ConditionOperator::Lt => value < limit,
                ConditionOperator::Lte => value <= limit,
                ConditionOperator::Gt => value > limit,
                ConditionOperator::Gte => value >= limit,
                ConditionOperator::Eq => value == limit,
                ConditionOperator::Neq => value != limit,
            }
        })
    }
}

/// Loaded and compiled rules.
pub struct RuleSet {
    /// Never fed: answers `matches` and is the template `fresh_engine`
    /// rebuilds from the items below.
    template: CorrelationEngine,
    rules: Vec<SigmaRule>,
    filters: Vec<FilterRule>,
    correlations: Vec<CorrelationRule>,
    pub(super) info: Vec<RuleInfo>,
    /// By the number of the internal id (`c<N>`).
    pub(super) corr_info: HashMap<usize, CorrelationInfo>,
    fingerprint: String,
    lookback_s: u64,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.len())
            .field("correlations", &self.correlation_count())
            .finish()
    }
}

/// One file's usable documents, before internal ids are given.
struct FileRules {
    path: PathBuf,
    rules: Vec<SigmaRule>,
    correlations: Vec<CorrelationRule>,
    filters: Vec<FilterRule>,
    /// Names and ids of rules of other products in this file: a correlation
    /// over them is not ours and is passed over quietly.
    foreign: Vec<String>,
}

/// Loads every `.yml`/`.yaml` file from each path (a file or a directory,
/// searched recursively; hidden files and directories are passed over). Rules
/// whose `logsource.product` is not `auth0` are skipped (not problems), and
/// so are correlations over them; files and rules that cannot be read,
/// parsed or compiled are problems, and the other rules still load.
pub fn load(paths: &[PathBuf]) -> (RuleSet, Vec<LoadProblem>) {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, true, &mut files, &mut problems);
    }
    let mut hash = Sha256::new();
    hash.update(NAMING_VERSION.as_bytes());
    let mut parsed = Vec::new();
    for path in &files {
        if let Some((text, file)) = parse_file(path, &mut problems) {
            hash.update(Sha256::digest(text.as_bytes()));
            parsed.push(file);
        }
    }
    let mut set = assemble(parsed, &mut problems);
    set.fingerprint = hex::encode(hash.finalize());
    (set, problems)
}

/// Reads and parses one file, keeping its `auth0` rules, its filters and
/// its correlations (checked later, once every file's names are known).
fn parse_file(path: &Path, problems: &mut Vec<LoadProblem>) -> Option<(String, FileRules)> {
    let text = match read_limited(path) {
        Ok(text) => text,
        Err(reason) => {
            problems.push(problem(path, reason));
            return None;
        }
    };
    if let Err(reason) = check_depth(&text) {
        problems.push(problem(path, reason));
        return None;
    }
    let collection = match parse_sigma_yaml(&text) {
        Ok(c) => c,
        Err(e) => {
            problems.push(problem(path, format!("not a Sigma rule: {e}")));
            return None;
        }
    };
    let mut bad_level = false;
    for error in &collection.errors {
        if error.starts_with("invalid level") {
            bad_level = true;
            problems.push(problem(
                path,
                format!("{error}: its rules without a valid level are not run"),
            ));
        } else if is_warning(error) {
            problems.push(LoadProblem {
                path: path.to_path_buf(),
                reason: format!("{error} (the rule is loaded)"),
                skipped: false,
            });
        } else {
            problems.push(problem(path, format!("not a Sigma rule: {error}")));
        }
    }
    let mut file = FileRules {
        path: path.to_path_buf(),
        rules: Vec::new(),
        correlations: collection.correlations.clone(),
        filters: Vec::new(),
        foreign: Vec::new(),
    };
    for rule in &collection.rules {
        if !is_ours(rule.logsource.product.as_deref()) {
            file.foreign.extend(rule.id.clone());
            file.foreign.extend(rule.name.clone());
            continue;
        }
        // The parser leaves an unreadable level empty, and a rule without
        // one would run as medium: a misspelt `critical` must not.
        if bad_level && rule.level.is_none() {
            continue;
        }
        let mut rule = rule.clone();
        for detection in rule.detection.named.values_mut() {
            map_detection(detection);
        }
        file.rules.push(rule);
    }
    for filter in &collection.filters {
        if is_ours(filter.logsource.as_ref().and_then(|l| l.product.as_deref())) {
            let mut filter = filter.clone();
            for detection in filter.detection.named.values_mut() {
                map_detection(detection);
            }
            file.filters.push(filter);
        }
    }
    Some((text, file))
}

/// Gives internal ids, resolves correlation references, compiles, and
/// drops (as problems) whatever does not compile.
fn assemble(files: Vec<FileRules>, problems: &mut Vec<LoadProblem>) -> RuleSet {
    let mut template = new_engine();
    let mut rules = Vec::new();
    let mut info = Vec::new();
    // Per file: its names and ids -> internal id. Across files: ids only.
    let mut local: Vec<HashMap<String, String>> = vec![HashMap::new(); files.len()];
    let mut global: HashMap<String, String> = HashMap::new();
    for (f, file) in files.iter().enumerate() {
        for rule in &file.rules {
            let internal = format!("r{}", rules.len());
            let mut compiled = rule.clone();
            compiled.id = Some(internal.clone());
            compiled.name = None;
            if let Err(e) = template.add_rule(&compiled) {
                problems.push(problem(
                    &file.path,
                    format!("rule {:?} cannot be compiled: {e}", rule.title),
                ));
                continue;
            }
            for own in rule.id.iter().chain(rule.name.iter()) {
                local[f].insert(own.clone(), internal.clone());
            }
            if let Some(id) = &rule.id {
                global.insert(id.clone(), internal.clone());
            }
            info.push(RuleInfo {
                title: rule.title.clone(),
                id: rule.id.clone(),
                level: rule.level.map(|l| l.as_str().to_owned()),
                key: rule
                    .id
                    .clone()
                    .unwrap_or_else(|| file_key(&file.path, &rule.title)),
                correlation_only: false,
            });
            rules.push(compiled);
        }
    }
    let filters = add_filters(&mut template, &files, &global, problems);
    let correlations = resolve_correlations(&files, &mut local, &mut global, problems);
    let mut kept = Vec::new();
    let mut corr_info = HashMap::new();
    for (f, corr) in correlations {
        if let Err(e) = template.add_correlation(&corr) {
            problems.push(problem(
                &files[f].path,
                format!("correlation {:?} cannot be compiled: {e}", corr.title),
            ));
            continue;
        }
        let number = correlation_index(corr.id.as_deref()).unwrap_or_default();
        corr_info.insert(number, correlation_info(&corr));
        kept.push((f, corr));
    }
    finish(template, rules, filters, kept, info, corr_info, &files)
}

/// What a finding needs of a correlation (its key is filled in by `finish`).
fn correlation_info(corr: &CorrelationRule) -> CorrelationInfo {
    CorrelationInfo {
        title: corr.title.clone(),
        level: corr.level.map(|l| l.as_str().to_owned()),
        key: String::new(),
        kind: corr.correlation_type.as_str(),
        timespan: corr.timespan.original.clone(),
        timespan_s: corr.timespan.seconds,
        threshold: match &corr.condition {
            CorrelationCondition::Threshold { predicates, .. }
                if corr.correlation_type == CorrelationType::ValuePercentile =>
            {
                Some(predicates.clone())
            }
            _ => None,
        },
    }
}

/// Fills in what depends on the kept correlations: each correlation's key,
/// which rules only feed correlations, and how far back a rebuild looks.
fn finish(
    template: CorrelationEngine,
    rules: Vec<SigmaRule>,
    filters: Vec<FilterRule>,
    kept: Vec<(usize, CorrelationRule)>,
    mut info: Vec<RuleInfo>,
    mut corr_info: HashMap<usize, CorrelationInfo>,
    files: &[FileRules],
) -> RuleSet {
    let mut generated: HashMap<&str, bool> = HashMap::new();
    for (f, corr) in &kept {
        let own = corr.name.as_deref().unwrap_or_default();
        if let Some(info) =
            correlation_index(corr.id.as_deref()).and_then(|n| corr_info.get_mut(&n))
        {
            info.key = own
                .strip_prefix("id:")
                .map(str::to_owned)
                .unwrap_or_else(|| file_key(&files[*f].path, &corr.title));
        }
        for r in &corr.rules {
            let g = generated.entry(r.as_str()).or_insert(false);
            *g |= corr.generate;
        }
    }
    for (i, rule) in info.iter_mut().enumerate() {
        let internal = format!("r{i}");
        rule.correlation_only = generated.get(internal.as_str()) == Some(&false);
    }
    let lookback_s = lookback(&kept.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>());
    RuleSet {
        template,
        rules,
        filters,
        correlations: kept.into_iter().map(|(_, c)| c).collect(),
        info,
        corr_info,
        fingerprint: String::new(),
        lookback_s,
    }
}

/// Applies each file's filters (their `rules:` by id or title; ids are
/// mapped to the internal ones).
fn add_filters(
    template: &mut CorrelationEngine,
    files: &[FileRules],
    global: &HashMap<String, String>,
    problems: &mut Vec<LoadProblem>,
) -> Vec<FilterRule> {
    let mut kept = Vec::new();
    for file in files {
        for filter in &file.filters {
            let mut filter = filter.clone();
            if let FilterRuleTarget::Specific(refs) = &mut filter.rules {
                let internal: Vec<String> =
                    refs.iter().filter_map(|r| global.get(r).cloned()).collect();
                refs.extend(internal);
            }
            let mut one = rsigma_parser::SigmaCollection::new();
            one.filters.push(filter.clone());
            match template.add_collection(&one) {
                Ok(()) => kept.push(filter),
                Err(e) => problems.push(problem(
                    &file.path,
                    format!("filter {:?} cannot be applied: {e}", filter.title),
                )),
            }
        }
    }
    kept
}

/// Each file's correlations with internal ids and their references
/// resolved; one that refers to no loaded rule is a problem (unless it
/// counts rules of another product, which is not ours).
fn resolve_correlations(
    files: &[FileRules],
    local: &mut [HashMap<String, String>],
    global: &mut HashMap<String, String>,
    problems: &mut Vec<LoadProblem>,
) -> Vec<(usize, CorrelationRule)> {
    // Ids first, so correlations can refer to correlations in any order.
    let mut pending = Vec::new();
    for (f, file) in files.iter().enumerate() {
        for corr in &file.correlations {
            let internal = format!("c{}", pending.len());
            for own in corr.id.iter().chain(corr.name.iter()) {
                local[f].insert(own.clone(), internal.clone());
            }
            if let Some(id) = &corr.id {
                global.insert(id.clone(), internal.clone());
            }
            pending.push((f, internal, corr.clone()));
        }
    }
    // Drop unresolvable ones until none refers to a dropped one.
    let mut alive: Vec<bool> = vec![true; pending.len()];
    loop {
        let mut changed = false;
        for (n, (f, _, corr)) in pending.iter().enumerate() {
            if !alive[n] {
                continue;
            }
            let unresolved = corr.rules.iter().find(|r| {
                let target = local[*f].get(*r).or_else(|| global.get(*r));
                match target {
                    None => true,
                    Some(t) => t
                        .strip_prefix('c')
                        .and_then(|i| i.parse::<usize>().ok())
                        .is_some_and(|i| !alive[i]),
                }
            });
            if let Some(r) = unresolved {
                alive[n] = false;
                changed = true;
                if !files[*f].foreign.contains(r) {
                    problems.push(problem(
                        &files[*f].path,
                        format!(
                            "correlation {:?} skipped: it refers to {r:?}, which is not a loaded \
                             auth0 rule in its file (nor the id of one elsewhere)",
                            corr.title
                        ),
                    ));
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut out = Vec::new();
    for (n, (f, internal, corr)) in pending.into_iter().enumerate() {
        if alive[n] {
            out.push((f, rewrite(corr, internal, &local[f], global)));
        }
    }
    out
}

/// The correlation as rsigma sees it: internal ids for it and for what it
/// refers to, field names mapped. Its own id (if any) survives in `name`
/// as `id:<id>`, read back for the finding's key.
fn rewrite(
    mut corr: CorrelationRule,
    internal: String,
    local: &HashMap<String, String>,
    global: &HashMap<String, String>,
) -> CorrelationRule {
    let resolve = |r: &str| -> String {
        local
            .get(r)
            .or_else(|| global.get(r))
            .cloned()
            .unwrap_or_else(|| r.to_owned())
    };
    corr.name = corr.id.as_ref().map(|id| format!("id:{id}"));
    corr.id = Some(internal);
    corr.rules = corr.rules.iter().map(|r| resolve(r)).collect();
    for alias in &mut corr.aliases {
        alias.mapping = alias
            .mapping
            .drain()
            .map(|(r, field)| (resolve(&r), mapped_field(&field)))
            .collect();
    }
    corr.group_by = corr.group_by.iter().map(|g| mapped_field(g)).collect();
    let count = corr.rules.len() as u64;
    match &mut corr.condition {
        // rsigma reads a temporal rule without a condition as "at least one
        // rule fired"; Sigma means all of them.
        CorrelationCondition::Threshold {
            predicates,
            field: None,
            percentile: None,
        } if corr.correlation_type == CorrelationType::Temporal
            && predicates.as_slice() == [(ConditionOperator::Gte, 1)] =>
        {
            *predicates = vec![(ConditionOperator::Gte, count)];
        }
        CorrelationCondition::Threshold { field, .. } => {
            if let Some(fields) = field {
                for name in fields.iter_mut() {
                    *name = mapped_field(name);
                }
            }
        }
        CorrelationCondition::Extended(expr) => rename_identifiers(expr, &resolve),
    }
    corr
}

fn rename_identifiers(expr: &mut ConditionExpr, resolve: &dyn Fn(&str) -> String) {
    match expr {
        ConditionExpr::Identifier(name) => *name = resolve(name),
        ConditionExpr::And(parts) | ConditionExpr::Or(parts) => {
            for part in parts {
                rename_identifiers(part, resolve);
            }
        }
        ConditionExpr::Not(part) => rename_identifiers(part, resolve),
        ConditionExpr::Selector { .. } => {}
    }
}

/// The longest time a correlation looks back, chains included (a
/// correlation over correlations adds its window to theirs), in seconds.
fn lookback(correlations: &[CorrelationRule]) -> u64 {
    let by_id: HashMap<&str, &CorrelationRule> = correlations
        .iter()
        .filter_map(|c| c.id.as_deref().map(|id| (id, c)))
        .collect();
    fn span(c: &CorrelationRule, by_id: &HashMap<&str, &CorrelationRule>, depth: usize) -> u64 {
        let below = if depth > 10 {
            0
        } else {
            c.rules
                .iter()
                .filter_map(|r| by_id.get(r.as_str()))
                .map(|child| span(child, by_id, depth + 1))
                .max()
                .unwrap_or(0)
        };
        c.timespan.seconds.saturating_add(below)
    }
    correlations
        .iter()
        .map(|c| span(c, &by_id, 0))
        .max()
        .unwrap_or(0)
}

/// A correlation engine for a run: windows by the time given with each
/// event (never the wall clock), and the events each window rests on kept
/// as references (`_id` of the event document), up to a finding's share.
fn new_engine() -> CorrelationEngine {
    let config = CorrelationConfig {
        timestamp_fallback: TimestampFallback::Skip,
        correlation_event_mode: CorrelationEventMode::Refs,
        max_correlation_events: MAX_LOG_IDS,
        ..CorrelationConfig::default()
    };
    CorrelationEngine::new(config)
}

impl RuleSet {
    /// The number of detection rules loaded.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of correlation rules loaded.
    pub fn correlation_count(&self) -> usize {
        self.correlations.len()
    }

    /// Identifies the rule files (their contents, in load order): saved
    /// correlation state is reused only under the same fingerprint.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// How far before an event a correlation can look, chains included.
    pub fn lookback_ms(&self) -> i64 {
        (self.lookback_s as i64).saturating_mul(1000)
    }

    /// A new engine holding these rules, with no window state.
    pub(super) fn fresh_engine(&self) -> CorrelationEngine {
        let mut engine = new_engine();
        for rule in &self.rules {
            // These compiled once already, in `load`.
            let _ = engine.add_rule(rule);
        }
        for filter in &self.filters {
            let mut one = rsigma_parser::SigmaCollection::new();
            one.filters.push(filter.clone());
            let _ = engine.add_collection(&one);
        }
        for corr in &self.correlations {
            let _ = engine.add_correlation(corr);
        }
        engine
    }

    /// Evaluates the detection rules (not the correlations) on one event,
    /// given its raw JSON text and its log_id. Text that is not JSON matches
    /// nothing.
    pub fn matches(&self, log_id: &str, raw: &str) -> Vec<SigmaMatch> {
        if self.is_empty() {
            return Vec::new();
        }
        let Some(doc) = document(raw) else {
            return Vec::new();
        };
        self.template
            .evaluate(&JsonEvent::borrow(&doc))
            .into_iter()
            .filter_map(|m| rule_index(m.header.rule_id.as_deref()))
            .map(|i| {
                let rule = &self.info[i];
                SigmaMatch {
                    title: rule.title.clone(),
                    id: rule.id.clone(),
                    level: rule.level.clone(),
                    log_id: log_id.to_owned(),
                }
            })
            .collect()
    }
}

/// The document rules see, the raw event as `data`; `None` when `raw` is
/// not JSON.
pub(super) fn document(raw: &str) -> Option<Value> {
    // A lone surrogate escape would hide the event from every rule: the
    // rules see the repaired text, as the typed columns do.
    let data = serde_json::from_str::<Value>(raw)
        .or_else(|_| serde_json::from_str::<Value>(&crate::event::surrogates::repaired(raw)))
        .ok()?;
    let mut doc = serde_json::Map::with_capacity(1);
    doc.insert("data".to_owned(), data);
    Some(Value::Object(doc))
}

/// One event as rsigma reads it: the document, and for what a correlation
/// keeps of each event it rests on (rsigma asks `to_json` for its `_id`)
/// the event's time and log_id, `<epoch ms> <log_id>`, instead of a copy of
/// the whole event.
pub(super) struct EventDoc<'a> {
    pub inner: JsonEvent<'a>,
    pub ts_ms: i64,
    pub log_id: &'a str,
}

impl Event for EventDoc<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        self.inner.get_field(path)
    }
    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.inner.any_string_value(pred)
    }
    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        self.inner.all_string_values()
    }
    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        self.inner.visit_string_values(visit)
    }
    fn to_json(&self) -> Value {
        serde_json::json!({ "_id": format!("{} {}", self.ts_ms, self.log_id) })
    }
    fn top_level_keys(&self) -> Option<Vec<Cow<'_, str>>> {
        self.inner.top_level_keys()
    }
    fn visit_top_level_keys(&self, visit: &mut dyn FnMut(&str)) -> bool {
        self.inner.visit_top_level_keys(visit)
    }
}

/// The event time (ms) and log_id of a kept event reference.
pub(super) fn parse_event_ref(id: &str) -> Option<(i64, &str)> {
    let (ts, log_id) = id.split_once(' ')?;
    Some((ts.parse().ok()?, log_id))
}

/// The detection rule behind an internal id `r<N>`.
pub(super) fn rule_index(id: Option<&str>) -> Option<usize> {
    id?.strip_prefix('r')?.parse().ok()
}

/// The correlation behind an internal id `c<N>`.
pub(super) fn correlation_index(id: Option<&str>) -> Option<usize> {
    id?.strip_prefix('c')?.parse().ok()
}

/// `file.yml: Title`, the identity of a rule without an id.
fn file_key(path: &Path, title: &str) -> String {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{file}: {title}")
}

fn is_ours(product: Option<&str>) -> bool {
    product.is_some_and(|p| p.trim().eq_ignore_ascii_case(PRODUCT))
}

pub(super) fn problem(path: &Path, reason: String) -> LoadProblem {
    LoadProblem {
        path: path.to_path_buf(),
        reason,
        skipped: true,
    }
}

/// What the parser reports about a rule it still returns (its `warnings`),
/// as opposed to a document it could not use.
fn is_warning(error: &str) -> bool {
    error.starts_with("invalid ") || error.starts_with("related") || error.starts_with("'related'")
}

/// A field name as the event document has it: the catalogues' Splunk-style
/// `{}` array marker removed (the evaluator already matches an array when
/// any element matches), and aliases such as `type` mapped to `data.type`.
fn mapped_field(name: &str) -> String {
    let name = name.replace("{}", "");
    FIELD_ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, field)| (*field).to_owned())
}

fn map_detection(detection: &mut Detection) {
    match detection {
        Detection::AllOf(items) => {
            for item in items {
                if let Some(name) = item.field.name.as_mut() {
                    *name = mapped_field(name);
                }
            }
        }
        Detection::AnyOf(parts) | Detection::And(parts) => {
            for part in parts {
                map_detection(part);
            }
        }
        Detection::Keywords(_) => {}
        Detection::ArrayMatch { field, body, .. } => {
            *field = mapped_field(field);
            map_detection(body);
        }
        Detection::Conditional { named, .. } => {
            for part in named.values_mut() {
                map_detection(part);
            }
        }
    }
}
