//! A string that must never be shown: client secrets and access tokens.
//! `Debug` and `Display` print a placeholder, so a secret cannot leak through
//! an error message, a log line or a `{:?}` of a config struct.
//!
//! A server can still echo one back (a token endpoint quoting the client
//! secret in `error_description`, a proxy quoting the `Authorization` header
//! in a 5xx page). So every secret the process holds is remembered, and
//! [`scrub`] takes them out of any text: every message that leaves the
//! process (stderr, the sync summary) or enters the archive
//! (`sync_runs.error`) goes through it.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Mutex;

/// A secret file larger than this is surely the wrong file (or a device
/// such as /dev/zero that would never end).
const MAX_FILE_LEN: u64 = 64 * 1024;

/// What a secret is replaced with in scrubbed text.
pub const REDACTED: &str = "<redacted>";
/// Shorter values are not scrubbed: they would cut ordinary words out of
/// messages, and are no secret anyway.
const MIN_SCRUBBED_LEN: usize = 6;

/// Every secret value this process has held.
static KNOWN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn remember(value: &str) {
    let value = value.trim();
    if value.len() < MIN_SCRUBBED_LEN {
        return;
    }
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == value) {
        known.push(value.to_string());
    }
}

/// `text` without any secret this process holds (each replaced by
/// `<redacted>`); borrowed when it has none.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    // Longest first, so a secret containing another goes whole.
    let mut by_length: Vec<&String> = known.iter().collect();
    by_length.sort_by_key(|k| std::cmp::Reverse(k.len()));
    for secret in by_length {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
        }
    }
    out
}

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        remember(&value);
        Secret(value)
    }
    /// The only way to read the value; call it where the value goes on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reads a secret from the file at `path`, or from standard input when
    /// `path` is `-`, without trailing whitespace (the newline an editor or
    /// `echo` adds). A file that holds nothing else, is not UTF-8 text or is
    /// implausibly large is an `InvalidData` error. No error carries any of
    /// the content.
    pub fn read_from(path: &Path) -> io::Result<Secret> {
        let mut bytes = Vec::new();
        if path == Path::new("-") {
            io::stdin()
                .lock()
                .take(MAX_FILE_LEN + 1)
                .read_to_end(&mut bytes)?;
        } else {
            std::fs::File::open(path)?
                .take(MAX_FILE_LEN + 1)
                .read_to_end(&mut bytes)?;
        }
        let invalid = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_string());
        if bytes.len() as u64 > MAX_FILE_LEN {
            return Err(invalid("it is larger than 64 KiB; is it the right file?"));
        }
        // The conversion error would show the bytes; say only what is wrong.
        let mut text = String::from_utf8(bytes).map_err(|_| invalid("it is not UTF-8 text"))?;
        text.truncate(text.trim_end().len());
        if text.is_empty() {
            return Err(invalid("it is empty"));
        }
        Ok(Secret::new(text))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret::new(s))
    }
}

/// From a string only. Any other type is refused with an error that does
/// not show the value (serde's usual "invalid type: integer `12345`" would
/// put a mistyped secret from a tenants file on the terminal).
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret::new(v))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(E::custom("a secret must be a string (value not shown)"))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(E::custom("a secret must be a string (value not shown)"))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(E::custom("a secret must be a string (value not shown)"))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(E::custom("a secret must be a string (value not shown)"))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
                Err(serde::de::Error::custom(
                    "a secret must be a string (value not shown)",
                ))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
                Err(serde::de::Error::custom(
                    "a secret must be a string (value not shown)",
                ))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("hunter2-very-secret");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn scrub_takes_out_every_secret_the_process_holds() {
        let _ = Secret::new("scrub-me-please-123");
        let _ = Secret::new("abc");
        let text = "401: bad secret scrub-me-please-123 (abc)";
        assert_eq!(scrub(text), "401: bad secret <redacted> (abc)");
        assert!(matches!(scrub("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_mistyped_secret_is_refused_without_showing_it() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            #[allow(dead_code)]
            s: Secret,
        }
        let e = toml::from_str::<T>("s = 987654321").unwrap_err();
        // What the tenants file reports (without the source line).
        assert!(!e.message().contains("987654321"), "{}", e.message());
        let t: T = toml::from_str("s = \"fine-secret\"").unwrap();
        assert_eq!(t.s.expose(), "fine-secret");
    }

    #[test]
    fn a_secret_file_loses_its_trailing_whitespace_and_must_hold_something() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, " s3cr3t value \r\n\n").unwrap();
        assert_eq!(Secret::read_from(&path).unwrap().expose(), " s3cr3t value");
        for empty in ["", "\n", " \t\r\n"] {
            std::fs::write(&path, empty).unwrap();
            let e = Secret::read_from(&path).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData);
            assert!(e.to_string().contains("empty"), "{e}");
        }
        std::fs::write(&path, b"s3cr3t\xff").unwrap();
        let e = Secret::read_from(&path).unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        std::fs::write(&path, "x".repeat(64 * 1024 + 1)).unwrap();
        assert!(
            Secret::read_from(&path)
                .unwrap_err()
                .to_string()
                .contains("64 KiB")
        );
        let e = Secret::read_from(&dir.path().join("missing")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
