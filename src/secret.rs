//! A string that must never be shown: client secrets and access tokens.
//! `Debug` and `Display` print a placeholder, so a secret cannot leak through
//! an error message, a log line or a `{:?}` of a config struct.

use std::fmt;
use std::io::{self, Read};
use std::path::Path;

/// A secret file larger than this is surely the wrong file (or a device
/// such as /dev/zero that would never end).
const MAX_FILE_LEN: u64 = 64 * 1024;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
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
        Ok(Secret(text))
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
        Ok(Secret(s.to_string()))
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
