//! Lone UTF-16 surrogates in JSON escapes (`"\ud800x"`). JavaScript's
//! `JSON.stringify` emits them for a string cut in the middle of a pair, and a
//! login form accepts whatever the attacker types, so Auth0 can send them.
//! They are valid JSON text but no Unicode string, so a strict parser refuses
//! the whole event: an attacker who puts one in a user name would hide the
//! event from every report. The archive keeps `raw` as sent; the typed
//! columns (and Sigma's view of the event) read a copy in which each lone
//! surrogate escape is `\ufffd` (U+FFFD, the replacement character).

use std::borrow::Cow;

/// `text` with every lone surrogate escape replaced by `\ufffd`; borrowed
/// unchanged when it has none (the common case costs one scan). Escapes are
/// read in order, so `\\ud800` (an escaped backslash, then letters) is left
/// alone, and a correct pair (`\ud83d\ude00`) is kept.
pub fn repaired(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    // Bytes of `text` already copied to `out`.
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        if b.get(i + 1) != Some(&b'u') {
            i += 2;
            continue;
        }
        let Some(unit) = hex4(b, i + 2) else {
            i += 2;
            continue;
        };
        let len = match unit {
            0xD800..=0xDBFF => {
                let low = (b.get(i + 6) == Some(&b'\\') && b.get(i + 7) == Some(&b'u'))
                    .then(|| hex4(b, i + 8))
                    .flatten();
                if matches!(low, Some(0xDC00..=0xDFFF)) {
                    i += 12;
                    continue;
                }
                6
            }
            0xDC00..=0xDFFF => 6,
            _ => {
                i += 6;
                continue;
            }
        };
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.push_str(&text[copied..i]);
        o.push_str("\\ufffd");
        i += len;
        copied = i;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

/// The four hex digits at `at`, as a UTF-16 code unit.
fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let digits = b.get(at..at + 4)?;
    let mut v = 0;
    for &d in digits {
        v = v * 16 + (d as char).to_digit(16)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_become_replacement_characters_and_the_rest_is_kept() {
        for (sent, want) in [
            (r#""\ud800x""#, r#""\ufffdx""#),
            (r#""a\uDC00""#, r#""a\ufffd""#),
            (r#""\ud800\ud800""#, r#""\ufffd\ufffd""#),
            (r#""\ud800\u0041""#, r#""\ufffd\u0041""#),
            (r#""\ud800"#, r#""\ufffd"#),
        ] {
            assert_eq!(repaired(sent), want, "{sent}");
            let s: String = serde_json::from_str(&repaired(sent)).unwrap_or_default();
            assert!(s.contains('\u{fffd}') || !sent.ends_with('"'), "{sent}");
        }
        for kept in [
            r#""\ud83d\ude00""#,
            r#""\\ud800""#,
            r#""\u00e9 \n \"""#,
            "plain",
            r#""\u12""#,
        ] {
            assert!(matches!(repaired(kept), Cow::Borrowed(_)), "{kept}");
        }
    }
}
