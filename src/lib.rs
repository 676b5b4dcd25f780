//! auth0-archive: keep an Auth0 tenant's log events in a local SQLite file and
//! investigate them offline.
//!
//! Data flows one way: `auth0` (HTTP, tokens, pacing, event model) →
//! `sync` (the incremental loop) → `store` (SQLite) → `query` / `duck`
//! (reports, SQL, Parquet). `simulator` is a fake Auth0 tenant used by
//! `demo` and by the tests.

pub mod auth0;
pub mod cli;
pub mod config;
pub mod demo;
pub mod duck;
pub mod error;
pub mod import;
pub mod log;
pub mod progress;
pub mod prune;
pub mod query;
pub mod secret;
pub mod simulator;
pub mod status;
pub mod store;
pub mod sync;
pub mod tenants;
pub mod verify;
