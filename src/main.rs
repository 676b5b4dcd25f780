//! Entry point: parse, dispatch, turn errors into one line and an exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches};

use auth0_archive::cli::{Cli, Command, QueryCommand};
use auth0_archive::error::Error;
use auth0_archive::{config, demo, detect, export, import, prune, query, status, sync, verify};

const DEFAULT_DB: &str = "./auth0-logs.db";
const DEFAULT_DEMO_DB: &str = "./auth0-demo.db";

fn main() -> ExitCode {
    // Before any file is created: the archive and everything made from it
    // hold email and IP addresses.
    auth0_archive::private_file::restrict_umask();
    // Through ArgMatches, which remember whether a value came from the command
    // line or the environment: `sync` warns about secrets given as flags.
    let parsed = Cli::command().try_get_matches().and_then(|m| {
        let cli = Cli::from_arg_matches(&m).map_err(|e| e.format(&mut Cli::command()))?;
        Ok((cli, m))
    });
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    auth0_archive::log::init(cli.log_format);
    match run(cli, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            auth0_archive::log::error(&e.to_string());
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(cli: Cli, matches: &ArgMatches) -> Result<(), Error> {
    let db = |default: &str| cli.db.clone().unwrap_or_else(|| PathBuf::from(default));
    match cli.command {
        Command::Sync(ref args) => {
            let typed = config::SecretsOnCommandLine::of(matches);
            let plan = config::SyncPlan::from_args(db(DEFAULT_DB), args, typed)?;
            sync::run_blocking(plan)
        }
        Command::Status(ref args) => status::run(&db(DEFAULT_DB), args),
        Command::Query(ref cmd) => match cmd {
            QueryCommand::List(args) => query::list(args),
            QueryCommand::Run(args) => query::run_report(&db(DEFAULT_DB), args),
            QueryCommand::Sql(args) => query::run_sql(&db(DEFAULT_DB), args),
            QueryCommand::Export(args) => export::run(&db(DEFAULT_DB), args),
        },
        Command::Demo(ref args) => demo::run(&db(DEFAULT_DEMO_DB), args),
        Command::Verify(ref args) => verify::run(&db(DEFAULT_DB), args),
        Command::Import(ref args) => import::run(&db(DEFAULT_DB), args),
        Command::Prune(ref args) => prune::run(&db(DEFAULT_DB), args),
        Command::Detect(ref args) => detect::run(&db(DEFAULT_DB), args),
        Command::Report(ref args) => auth0_archive::report::run(&db(DEFAULT_DB), args),
    }
}
