//! Finding and reading rule files: directories walked in name order, a
//! size cap and a nesting cap checked before the YAML parser sees a byte.

use std::fs;
use std::path::{Path, PathBuf};

use super::rules::{LoadProblem, problem};

/// A rule file larger than this is refused unread: real rules are a few
/// KiB, and the YAML parser holds a whole file (and several times its size)
/// in memory.
pub const MAX_RULE_FILE_BYTES: u64 = 1024 * 1024;
/// Deepest nesting of YAML collections a rule file may have (real rules
/// nest about six deep). Checked before parsing: the parser takes minutes
/// to refuse a file nested a hundred thousand deep.
pub const MAX_RULE_DEPTH: usize = 64;

/// The file's text, refused without reading past the size cap.
pub(super) fn read_limited(path: &Path) -> Result<String, String> {
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
pub(super) fn check_depth(text: &str) -> Result<(), String> {
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
pub(super) fn collect_files(
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
