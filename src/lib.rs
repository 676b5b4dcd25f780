//! auth0-archive: keep an Auth0 tenant's log events in a local SQLite file and
//! investigate them offline.
//!
//! Data flows one way: `auth0` (HTTP, tokens, pacing, log ids) -> `event`
//! (wire JSON -> normalized row) -> `store` (SQLite) -> `query`, `mirror`
//! and `export` (reports, SQL, the DuckDB copy, Parquet). `sync` drives the
//! first three; `docs/ARCHITECTURE.md` draws the whole map and what each
//! module may use. `simulator` is a fake Auth0 tenant for `demo` and tests.

pub mod auth0;
pub mod choices;
pub mod cli;
pub mod config;
pub mod demo;
pub mod detect;
pub mod error;
pub mod event;
pub mod export;
pub mod import;
pub mod log;
pub mod mirror;
pub mod private_file;
pub mod progress;
pub mod prune;
pub mod query;
pub mod report;
pub mod secret;
pub mod sigma;
pub mod simulator;
pub mod status;
pub mod store;
pub mod sync;
pub mod terminal;
pub mod text;
pub mod time;
pub mod verify;
