//! Entry point: parse, dispatch, turn errors into one line and an exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches};

use auth0_archive::cli::{Cli, Command, QueryCommand, Shell};
use auth0_archive::error::Error;
use auth0_archive::log::LogFormat;
use auth0_archive::{config, demo, detect, export, import, prune, query, status, sync, verify};

const DEFAULT_DB: &str = "./auth0-logs.db";
const DEFAULT_DEMO_DB: &str = "./auth0-demo.db";

fn main() -> ExitCode {
    // Before any file is created: the archive and everything made from it
    // hold email and IP addresses.
    auth0_archive::private_file::restrict_umask();
    let log_format = log_format_asked();
    // Whatever goes wrong, one line on stderr in the chosen format, never a
    // backtrace.
    std::panic::set_hook(Box::new(move |info| {
        let message = panic_message(info);
        // A reader that stopped early (`| head`) is not an error: stop
        // quietly, as `query` and `verify` always did. Every `println!` of
        // every command ends here, so this is the one place to handle it.
        if message.contains("Broken pipe") {
            std::process::exit(0);
        }
        auth0_archive::log::init(log_format);
        auth0_archive::log::error(&format!("internal error: {message}; please report it"));
    }));
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
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if log_format == LogFormat::Json {
                auth0_archive::log::init(log_format);
                auth0_archive::log::error(e.render().to_string().trim());
            } else {
                let _ = e.print();
            }
            return ExitCode::from(2);
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
        Command::Status(ref args) => status::run(&db(DEFAULT_DB), &args.into()),
        Command::Query(ref cmd) => match cmd {
            QueryCommand::List(args) => query::list(&args.into()),
            QueryCommand::Run(args) => query::run_report(&db(DEFAULT_DB), &args.into()),
            QueryCommand::Sql(args) => query::run_sql(&db(DEFAULT_DB), &args.into()),
            QueryCommand::Export(args) => export::run(&db(DEFAULT_DB), &args.into()),
        },
        Command::Demo(ref args) => demo::run(&db(DEFAULT_DEMO_DB), &args.into()),
        Command::Verify(ref args) => verify::run(&db(DEFAULT_DB), &args.into()),
        Command::Import(ref args) => import::run(&db(DEFAULT_DB), &args.into()),
        Command::Prune(ref args) => prune::run(&db(DEFAULT_DB), &args.into()),
        Command::Detect(ref args) => detect::run(
            &db(DEFAULT_DB),
            &config::commands::DetectOptions::from_args(args)?,
        ),
        Command::Report(ref args) => auth0_archive::report::run(&db(DEFAULT_DB), &args.into()),
        Command::Completions(ref args) => {
            let shell = match args.shell {
                Shell::Bash => clap_complete::Shell::Bash,
                Shell::Zsh => clap_complete::Shell::Zsh,
                Shell::Fish => clap_complete::Shell::Fish,
                Shell::Powershell => clap_complete::Shell::PowerShell,
            };
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "auth0-archive", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::runtime(format!("cannot write the manual page: {e}")))
                }
                _ => Ok(()),
            }
        }
    }
}

/// `--log-format json` (or its env var), read before clap parses, so that
/// a usage error is JSON too.
fn log_format_asked() -> LogFormat {
    let args: Vec<String> = std::env::args().collect();
    let from_args = args
        .windows(2)
        .find_map(|w| match (w[0].as_str(), w[1].as_str()) {
            ("--log-format", v) => Some(v.to_string()),
            _ => None,
        });
    let from_eq = args
        .iter()
        .find_map(|a| a.strip_prefix("--log-format=").map(str::to_string));
    let value = from_args
        .or(from_eq)
        .or_else(|| std::env::var("AUTH0_ARCHIVE_LOG_FORMAT").ok());
    match value.as_deref() {
        Some("json") => LogFormat::Json,
        _ => LogFormat::Text,
    }
}

fn panic_message(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".into())
}
