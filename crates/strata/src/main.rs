//! The `strata` binary: parse arguments, run one command, turn the outcome
//! into Docker's exit codes (0 ok, 1 failure, 125 bad usage).

mod changes;
mod cli;
mod commands;
mod env;
mod fetch;
mod output;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let usage = e.use_stderr();
            let _ = e.print();
            return if usage {
                ExitCode::from(125)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let serving = match &cli.command {
        cli::Command::Registry {
            command: cli::RegistryCommand::Serve(a),
        } => Some(a.log_format == "json"),
        _ => None,
    };
    let filter = match (cli.debug, serving) {
        (true, _) => "debug",
        // The server's access log.
        (false, Some(_)) => "warn,strata_registry=info",
        (false, None) => "warn",
    };
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env(env::STRATA_LOG)
                .unwrap_or_else(|_| filter.into()),
        )
        .with_writer(io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&io::stderr()));
    match serving {
        // A server's lines carry their time.
        Some(true) => subscriber.json().init(),
        Some(false) => subscriber.init(),
        None => subscriber.without_time().init(),
    }
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                // `strata images | head -1`: the reader went away; not an error.
                return ExitCode::SUCCESS;
            }
            if let Some(u) = e.downcast_ref::<UsageError>() {
                let _ = writeln!(io::stderr(), "{u}\nSee 'strata --help'.");
                return ExitCode::from(125);
            }
            let _ = writeln!(io::stderr(), "Error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// A mistake in how the command was invoked (Docker exits 125 for these).
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
