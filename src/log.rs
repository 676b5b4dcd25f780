//! Diagnostics on stderr, as text lines or, with `--log-format json`, one
//! JSON object per line for log collectors. User-facing warnings always
//! show; internal detail (each retry, each wait) follows `RUST_LOG`. Every
//! line is scrubbed of secrets (`secret::scrub`); text lines show control
//! characters escaped (`terminal::printable`).

use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Sets the format and installs the `tracing` subscriber (filter from
/// `RUST_LOG`, default: errors only).
pub fn init(format: LogFormat) {
    let _ = FORMAT.set(format);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("error"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| ScrubbedStderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or_default()
}

/// Standard error, with every secret taken out of what is written (the
/// `tracing` lines: each event arrives in one write).
struct ScrubbedStderr;

impl std::io::Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(crate::secret::scrub(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn emit(level: &str, message: &str) {
    let message = crate::secret::scrub(message);
    match format() {
        LogFormat::Text => eprintln!(
            "auth0-archive: {level}: {}",
            crate::terminal::printable(&message)
        ),
        LogFormat::Json => eprintln!(
            "{}",
            serde_json::json!({
                "timestamp": crate::time::now_iso(),
                "level": level,
                "message": message,
            })
        ),
    }
}

pub fn warn(message: &str) {
    emit("warning", message);
}

pub fn error(message: &str) {
    emit("error", message);
}

pub fn info(message: &str) {
    emit("info", message);
}

/// A line for the person at the terminal (a summary, progress): as it is in
/// text mode, an `info` object with `--log-format json`, so that every line
/// on stderr is JSON then.
pub fn note(message: &str) {
    match format() {
        LogFormat::Text => eprintln!("{message}"),
        LogFormat::Json => emit("info", message),
    }
}
