//! Diagnostics on stderr, as text lines or, with `--log-format json`, one
//! JSON object per line for log collectors. User-facing warnings always
//! show; internal detail (each retry, each wait) follows `RUST_LOG`.

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
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or_default()
}

fn emit(level: &str, message: &str) {
    match format() {
        LogFormat::Text => eprintln!("auth0-archive: {level}: {message}"),
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
