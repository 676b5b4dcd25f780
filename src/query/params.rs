//! SavedQuery parameters: types, parsing of `--param key=value`, and turning the
//! `:name` placeholders of a saved report into positional `?` so the same
//! values can be bound on SQLite and DuckDB alike.

use crate::error::{Error, Result};

use super::catalog::{ParamSpec, SavedQuery};

/// The type of a report parameter, as written in the report header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Integer,
    Number,
    Text,
    /// An instant: `YYYY-MM-DD` (midnight UTC) or RFC 3339; bound as epoch ms.
    Time,
}

/// A value ready to bind.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    Int(i64),
    Real(f64),
    Text(String),
}

impl ParamType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "integer" => Some(Self::Integer),
            "number" => Some(Self::Number),
            "text" => Some(Self::Text),
            "time" => Some(Self::Time),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Text => "text",
            Self::Time => "time",
        }
    }

    /// Checks that `value` is of this type, without binding it.
    pub fn check(self, value: &str) -> Result<(), String> {
        self.value(value, false).map(|_| ())
    }

    /// Parses `value`. `upper` makes a bare date of a `time` parameter mean
    /// the end of that day (an exclusive bound at the next midnight).
    fn value(self, value: &str, upper: bool) -> Result<Bound, String> {
        let v = value.trim();
        match self {
            Self::Integer => v
                .parse::<i64>()
                .map(Bound::Int)
                .map_err(|_| format!("'{value}' is not an integer")),
            Self::Number => v
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Bound::Real)
                .ok_or_else(|| format!("'{value}' is not a number")),
            Self::Text => Ok(Bound::Text(value.to_string())),
            Self::Time => crate::time::parse_ms(v, upper).map(Bound::Int),
        }
    }
}

/// Epoch milliseconds of `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.fff]` (UTC) or
/// RFC 3339. With `end_of_day`, a bare date means the next midnight, so
/// `until=2026-10-05` includes all of 5 October.
/// Whether a time parameter is an upper bound (its bare dates include the day).
fn is_upper_bound(name: &str) -> bool {
    name == "until" || name.ends_with("_until")
}

/// Resolves `--param key=value` arguments against a report's declared
/// parameters: unknown names, missing required values and wrong types are
/// usage errors that list what the report accepts. Returns the SQL with `?`
/// placeholders and the values in placeholder order.
pub fn bind(report: &SavedQuery, args: &[String]) -> Result<(String, Vec<Bound>)> {
    let mut given: Vec<(&str, &str)> = Vec::new();
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(Error::usage(format!(
                "--param {arg}: expected KEY=VALUE; {}",
                accepted(report)
            )));
        };
        let key = key.trim();
        if !report.params.iter().any(|p| p.name == key) {
            return Err(Error::usage(format!(
                "report {} has no parameter '{key}'; {}",
                report.name,
                accepted(report)
            )));
        }
        // The last occurrence wins, as with most command-line flags.
        given.retain(|(k, _)| *k != key);
        given.push((key, value));
    }

    let given_value = |k: &str| given.iter().find(|(g, _)| *g == k).map(|(_, v)| *v);
    // A value that is not a time is reported below, with the parameter.
    if let (Some(since), Some(until)) = (given_value("since"), given_value("until"))
        && crate::time::parse_ms(since, false).is_ok()
        && crate::time::parse_ms(until, true).is_ok()
    {
        crate::time::parse_range(Some(since), Some(until), ("since", "until"))
            .map_err(|e| Error::usage(format!("report {}: {e}", report.name)))?;
    }

    let mut values: Vec<(&str, Bound)> = Vec::new();
    for spec in &report.params {
        let raw = given
            .iter()
            .find(|(k, _)| *k == spec.name)
            .map(|(_, v)| *v)
            .or(spec.default.as_deref());
        let upper = is_upper_bound(&spec.name);
        let bound = match raw {
            Some(v) if !(spec.kind == ParamType::Time && v.trim().is_empty()) => {
                spec.kind.value(v, upper).map_err(|e| {
                    Error::usage(format!(
                        "parameter {} of report {} must be {}: {e}",
                        spec.name,
                        report.name,
                        spec.kind.as_str()
                    ))
                })?
            }
            _ if spec.kind == ParamType::Time => {
                Bound::Int(if upper { i64::MAX } else { i64::MIN })
            }
            _ => {
                return Err(Error::usage(format!(
                    "report {} needs --param {}=<{}> ({}); {}",
                    report.name,
                    spec.name,
                    spec.kind.as_str(),
                    spec.help,
                    accepted(report)
                )));
            }
        };
        values.push((spec.name.as_str(), bound));
    }

    let (sql, names) = placeholders(report.sql);
    let ordered = names
        .iter()
        .map(|n| {
            values
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| {
                    Error::runtime(format!(
                        "report {} uses undeclared parameter :{n}",
                        report.name
                    ))
                })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((sql, ordered))
}

/// "accepted parameters: threshold (integer, default 10), since (time, optional)".
fn accepted(report: &SavedQuery) -> String {
    if report.params.is_empty() {
        return "it takes no parameters".to_string();
    }
    let list: Vec<String> = report.params.iter().map(describe).collect();
    format!("accepted parameters: {}", list.join(", "))
}

/// One parameter as `query list` and error messages show it.
pub fn describe(p: &ParamSpec) -> String {
    match (&p.default, p.kind) {
        (Some(d), k) => format!("{} ({}, default {d})", p.name, k.as_str()),
        (None, ParamType::Time) => format!("{} (time, optional)", p.name),
        (None, k) => format!("{} ({}, required)", p.name, k.as_str()),
    }
}

/// Replaces each `:name` placeholder outside string literals, quoted
/// identifiers and comments with `?`, and returns the names in order. `::`
/// (a DuckDB cast) is left alone.
pub fn placeholders(sql: &str) -> (String, Vec<String>) {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut names = Vec::new();
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if i + 1 < b.len() && b[i + 1] == q {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b':' if b.get(i + 1) == Some(&b':') => i += 2,
            b':' if b
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
                    end += 1;
                }
                out.push_str(&sql[copied..i]);
                out.push('?');
                names.push(sql[start..end].to_string());
                copied = end;
                i = end;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied.min(sql.len())..]);
    (out, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_skip_literals_comments_and_casts() {
        let (sql, names) = placeholders(
            "-- :nope\nSELECT ':nope', \"a:b\", x::INT, :one /* :no */ FROM t WHERE y = :two OR z = :one",
        );
        assert_eq!(names, vec!["one", "two", "one"]);
        assert_eq!(
            sql,
            "-- :nope\nSELECT ':nope', \"a:b\", x::INT, ? /* :no */ FROM t WHERE y = ? OR z = ?"
        );
    }

    #[test]
    fn a_bare_until_date_includes_the_whole_day() {
        let since = crate::time::parse_ms("2026-10-05", false).unwrap();
        let until = crate::time::parse_ms("2026-10-05", true).unwrap();
        assert_eq!(until - since, 86_400_000);
        assert_eq!(
            crate::time::parse_ms("2026-10-05T00:00:00Z", true).unwrap(),
            since
        );
        assert!(crate::time::parse_ms("yesterday", false).is_err());
    }
}
