//! Sigma rules over archived events.
//!
//! Rules whose `logsource.product` is `auth0` are loaded with `rsigma-parser`
//! and compiled and evaluated with `rsigma-eval`. Field names follow the
//! public catalogues (Okta's auth0-customer-detections, Panther): an event is
//! the document `{"data": <raw event>}`, so a rule names `data.type`,
//! `data.details.request.path` and so on. The catalogues' Splunk-style `{}`
//! suffix for array fields (`data.details.response.body.scopes{}`) is
//! stripped at load: the evaluator already matches an array when any element
//! matches.
//!
//! Correlation rules (counts over time windows) are not evaluated: a
//! [`RuleSet`] judges one event at a time. Each one found beside an `auth0`
//! rule is reported as a [`LoadProblem`]; the detection rules it refers to
//! are loaded as usual.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use rsigma_eval::Engine;
use rsigma_eval::event::JsonEvent;
use rsigma_parser::{Detection, SigmaRule, parse_sigma_yaml};
use serde_json::Value;

/// The product a rule must name in `logsource.product` to be loaded.
const PRODUCT: &str = "auth0";

/// Loaded and compiled rules.
pub struct RuleSet {
    engine: Engine,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.len())
            .finish()
    }
}

/// A rule file larger than this is refused unread: real rules are a few
/// KiB, and the YAML parser holds a whole file (and several times its size)
/// in memory.
pub const MAX_RULE_FILE_BYTES: u64 = 1024 * 1024;
/// Deepest nesting of YAML collections a rule file may have (real rules
/// nest about six deep). Checked before parsing: the parser takes minutes
/// to refuse a file nested a hundred thousand deep.
pub const MAX_RULE_DEPTH: usize = 64;

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

/// Loads every `.yml`/`.yaml` file from each path (a file or a directory,
/// searched recursively; hidden files and directories are passed over). Rules
/// whose `logsource.product` is not `auth0` are skipped (not problems); files
/// and rules that cannot be read, parsed or compiled are problems, and the
/// other rules still load.
pub fn load(paths: &[PathBuf]) -> (RuleSet, Vec<LoadProblem>) {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, true, &mut files, &mut problems);
    }

    let mut rules: Vec<(usize, SigmaRule)> = Vec::new();
    let mut filters = Vec::new();
    for (file_idx, path) in files.iter().enumerate() {
        let text = match read_limited(path) {
            Ok(text) => text,
            Err(reason) => {
                problems.push(problem(path, reason));
                continue;
            }
        };
        if let Err(reason) = check_depth(&text) {
            problems.push(problem(path, reason));
            continue;
        }
        let collection = match parse_sigma_yaml(&text) {
            Ok(c) => c,
            Err(e) => {
                problems.push(problem(path, format!("not a Sigma rule: {e}")));
                continue;
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
        let mut names: HashSet<&str> = HashSet::new();
        for rule in &collection.rules {
            // The parser leaves an unreadable level empty, and a rule without
            // one would run as medium: a misspelt `critical` must not.
            if bad_level && rule.level.is_none() {
                continue;
            }
            if is_ours(rule.logsource.product.as_deref()) {
                names.extend(rule.id.as_deref());
                names.extend(rule.name.as_deref());
                names.insert(rule.title.as_str());
                let mut rule = rule.clone();
                strip_array_suffixes(&mut rule);
                rules.push((file_idx, rule));
            }
        }
        for corr in &collection.correlations {
            if corr.rules.iter().any(|r| names.contains(r.as_str())) {
                problems.push(problem(
                    path,
                    format!(
                        "correlation rule {:?} skipped: correlations count events over a time \
                         window, and rules here are evaluated one event at a time (the rules it \
                         refers to are loaded)",
                        corr.title
                    ),
                ));
            }
        }
        for filter in &collection.filters {
            if is_ours(filter.logsource.as_ref().and_then(|l| l.product.as_deref())) {
                let mut filter = filter.clone();
                for detection in filter.detection.named.values_mut() {
                    strip_detection(detection);
                }
                filters.push((file_idx, filter));
            }
        }
    }

    let mut engine = Engine::new();
    for (idx, error) in engine.add_rules(rules.iter().map(|(_, r)| r)) {
        let (file_idx, rule) = &rules[idx];
        problems.push(problem(
            &files[*file_idx],
            format!("rule {:?} cannot be compiled: {error}", rule.title),
        ));
    }
    for (file_idx, filter) in &filters {
        if let Err(error) = engine.apply_filter(filter) {
            problems.push(problem(
                &files[*file_idx],
                format!("filter {:?} cannot be applied: {error}", filter.title),
            ));
        }
    }
    (RuleSet { engine }, problems)
}

impl RuleSet {
    /// The number of detection rules loaded.
    pub fn len(&self) -> usize {
        self.engine.rule_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Evaluates all rules on one event, given the event's raw JSON text and
    /// its log_id. The JSON is parsed once for all rules; text that is not
    /// JSON matches nothing.
    pub fn matches(&self, log_id: &str, raw: &str) -> Vec<SigmaMatch> {
        if self.is_empty() {
            return Vec::new();
        }
        // A lone surrogate escape would hide the event from every rule:
        // the rules see the repaired text, as the typed columns do.
        let parsed = serde_json::from_str::<Value>(raw)
            .or_else(|_| serde_json::from_str::<Value>(&crate::event::surrogates::repaired(raw)));
        let Ok(data) = parsed else {
            return Vec::new();
        };
        let mut doc = serde_json::Map::with_capacity(1);
        doc.insert("data".to_owned(), data);
        let doc = Value::Object(doc);
        self.engine
            .evaluate(&JsonEvent::borrow(&doc))
            .into_iter()
            .map(|m| SigmaMatch {
                title: m.header.rule_title,
                id: m.header.rule_id,
                level: m.header.level.map(|l| l.as_str().to_owned()),
                log_id: log_id.to_owned(),
            })
            .collect()
    }
}

fn is_ours(product: Option<&str>) -> bool {
    product.is_some_and(|p| p.trim().eq_ignore_ascii_case(PRODUCT))
}

fn problem(path: &Path, reason: String) -> LoadProblem {
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

/// The file's text, refused without reading past the size cap.
fn read_limited(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let too_big = || {
        format!(
            "larger than the {} KiB limit on a rule file",
            MAX_RULE_FILE_BYTES / 1024
        )
    };
    let file = fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    if file.metadata().is_ok_and(|m| m.len() > MAX_RULE_FILE_BYTES) {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    file.take(MAX_RULE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_RULE_FILE_BYTES {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|_| "cannot read: not UTF-8 text".to_string())
}

/// Refuses text nested deeper than [`MAX_RULE_DEPTH`], in one pass and
/// without parsing. The depth counted is at least the YAML depth: block
/// indentation levels, `- ` / `? ` entries opened on one line, and flow
/// brackets outside quotes and comments (brackets inside plain or block
/// scalars count too, which only errs towards a higher figure).
fn check_depth(text: &str) -> Result<(), String> {
    let refuse = || {
        Err(format!(
            "nested deeper than {MAX_RULE_DEPTH} levels (the limit on a rule file)"
        ))
    };
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for line in text.lines() {
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if flow == 0 {
            while indents.last().is_some_and(|&i| i > indent) {
                indents.pop();
            }
            if indents.last() != Some(&indent) {
                indents.push(indent);
            }
        }
        let mut compact = 0usize;
        let mut rest = body;
        while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
            compact += 1;
            rest = r.trim_start_matches(' ');
            if indents.len() + compact + flow > MAX_RULE_DEPTH {
                return refuse();
            }
        }
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        for c in rest.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '#') if prev == ' ' || prev == '\t' => break,
                (None, '\'' | '"') if matches!(prev, ' ' | '[' | '{' | ',' | ':') => {
                    quote = Some(c)
                }
                (None, '[' | '{') => {
                    flow += 1;
                    if indents.len() + compact + flow > MAX_RULE_DEPTH {
                        return refuse();
                    }
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
        if indents.len() + compact + flow > MAX_RULE_DEPTH {
            return refuse();
        }
    }
    Ok(())
}

/// Adds the rule files under `path` to `out`, in name order. A path given
/// explicitly is read whatever its extension; inside directories only
/// `.yml`/`.yaml` files count and hidden entries are passed over.
fn collect_files(
    path: &Path,
    explicit: bool,
    out: &mut Vec<PathBuf>,
    problems: &mut Vec<LoadProblem>,
) {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            problems.push(problem(path, format!("cannot read: {e}")));
            return;
        }
    };
    if meta.is_dir() {
        let entries = match fs::read_dir(path) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(problem(path, format!("cannot list directory: {e}")));
                return;
            }
        };
        let mut children: Vec<PathBuf> = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => children.push(entry.path()),
                Err(e) => problems.push(problem(path, format!("cannot list directory: {e}"))),
            }
        }
        children.sort();
        for child in children {
            let hidden = child
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if !hidden {
                collect_files(&child, false, out, problems);
            }
        }
    } else if explicit || is_yaml(path) {
        out.push(path.to_path_buf());
    }
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// Removes the Splunk-style `{}` array marker from every field name.
fn strip_array_suffixes(rule: &mut SigmaRule) {
    for detection in rule.detection.named.values_mut() {
        strip_detection(detection);
    }
}

fn strip_detection(detection: &mut Detection) {
    match detection {
        Detection::AllOf(items) => {
            for item in items {
                if let Some(name) = item.field.name.as_mut() {
                    strip_name(name);
                }
            }
        }
        Detection::AnyOf(parts) | Detection::And(parts) => {
            for part in parts {
                strip_detection(part);
            }
        }
        Detection::Keywords(_) => {}
        Detection::ArrayMatch { field, body, .. } => {
            strip_name(field);
            strip_detection(body);
        }
        Detection::Conditional { named, .. } => {
            for part in named.values_mut() {
                strip_detection(part);
            }
        }
    }
}

fn strip_name(name: &mut String) {
    if name.contains("{}") {
        *name = name.replace("{}", "");
    }
}
