//! Entry point: parse, dispatch, turn errors into one line and an exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use auth0_archive::cli::{Cli, Command};
use auth0_archive::error::Error;
use auth0_archive::{config, demo, query, status, sync};

const DEFAULT_DB: &str = "./auth0-logs.db";
const DEFAULT_DEMO_DB: &str = "./auth0-demo.db";

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auth0-archive: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    let db = |default: &str| cli.db.clone().unwrap_or_else(|| PathBuf::from(default));
    match cli.command {
        Command::Sync(ref args) => {
            let cfg = config::SyncConfig::from_args(db(DEFAULT_DB), args)?;
            sync::run_blocking(cfg)
        }
        Command::Status(ref args) => status::run(&db(DEFAULT_DB), args.json),
        Command::Query(cmd) => query::run(&cli.db.unwrap_or_else(|| PathBuf::from(DEFAULT_DB)), cmd),
        Command::Demo(ref args) => demo::run(&db(DEFAULT_DEMO_DB), args),
    }
}
