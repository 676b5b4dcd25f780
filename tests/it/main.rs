//! The integration tests, one binary so that DuckDB is linked once: one
//! module per area, with shared helpers in `common` (the fake tenant and the
//! binary) and `query_support` (the planted-attack archive).

mod common;
mod query_support;

mod cold;
mod delivery;
mod detect;
mod detect_grouped;
mod detections;
mod docs;
mod export_parquet;
mod faults;
mod first_contact;
mod fuzz;
mod hostile;
mod integrity;
mod mirror_copy;
mod operations;
mod pacing;
mod query_cli;
mod query_duckdb;
mod query_reports;
mod report;
mod secrets;
mod sigma;
mod sigma_correlation;
mod storage;
mod sync;
