//! The DuckDB side: a columnar copy of `events` kept beside the archive,
//! the DuckDB query engine and Parquet export.
