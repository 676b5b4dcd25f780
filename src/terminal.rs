//! Text shown to a person: event fields are written by whoever logs in, and
//! a terminal obeys the control characters in what it prints (`ESC ] 0 ;`
//! retitles it, `ESC [2J` clears it, a bidi override reorders the line). Every
//! human-readable output (status, tables, summaries, errors, progress) goes
//! through [`printable`]; JSON, CSV and NDJSON keep exact values.

use std::borrow::Cow;
use std::fmt::Write;

/// `s` with every control character (C0, DEL, C1) and bidi control shown
/// as an escape (`\n`, `\t`, `\x1b`, `\u{202e}`). Meant for eyes, not to
/// be read back: the JSON outputs carry the exact text. Borrowed when
/// nothing needs escaping.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && needs_escape(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped_and_plain_text_is_untouched() {
        assert_eq!(
            printable("a\x1b]0;owned\x07b\x1b[2J"),
            "a\\x1b]0;owned\\x07b\\x1b[2J"
        );
        assert_eq!(
            printable("l1\nl2\t\r\u{7f}\u{9b}"),
            "l1\\nl2\\t\\r\\x7f\\u{9b}"
        );
        assert_eq!(printable("evil\u{202e}txt"), "evil\\u{202e}txt");
        assert!(matches!(printable("café ✓ C:\\path"), Cow::Borrowed(_)));
    }
}
