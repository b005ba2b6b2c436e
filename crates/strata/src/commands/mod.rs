//! One file per command; each turns parsed arguments into store calls and
//! prints the result.

mod build;
mod builder_prune;
mod df;
mod history;
mod images;
mod import;
mod inspect;
mod load;
mod prune;
mod rmi;
mod run;
mod save;
mod tag;

use std::process::ExitCode;

use anyhow::{Context, Result};
use strata_store::Store;

use crate::cli::{BuilderCommand, Cli, Command, ImageCommand, SystemCommand};

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> Result<ExitCode> {
    let root = cli.root.clone().unwrap_or_else(Store::default_root);
    let open =
        || Store::open(&root).with_context(|| format!("opening the store at {}", root.display()));
    match cli.command {
        Command::Images(a)
        | Command::Image {
            command: ImageCommand::Ls(a),
        } => images::run(&open()?, a),
        Command::Tag(a)
        | Command::Image {
            command: ImageCommand::Tag(a),
        } => tag::run(&open()?, a),
        Command::Rmi(a)
        | Command::Image {
            command: ImageCommand::Rm(a),
        } => rmi::run(&open()?, a),
        Command::History(a)
        | Command::Image {
            command: ImageCommand::History(a),
        } => history::run(&open()?, a),
        Command::Save(a)
        | Command::Image {
            command: ImageCommand::Save(a),
        } => save::run(&open()?, a),
        Command::Load(a)
        | Command::Image {
            command: ImageCommand::Load(a),
        } => load::run(&open()?, a),
        Command::Import(a)
        | Command::Image {
            command: ImageCommand::Import(a),
        } => import::run(&open()?, a),
        Command::Inspect(a)
        | Command::Image {
            command: ImageCommand::Inspect(a),
        } => inspect::run(&open()?, a),
        Command::Image {
            command: ImageCommand::Prune(a),
        } => prune::run(&open()?, a, false),
        Command::System {
            command: SystemCommand::Prune(a),
        } => prune::run(&open()?, a, true),
        Command::System {
            command: SystemCommand::Df(a),
        } => df::run(&open()?, a),
        Command::Build(a) => build::run(&open()?, a),
        Command::Run(a) => run::run(&open()?, a),
        Command::Builder {
            command: BuilderCommand::Prune(a),
        } => builder_prune::run(&open()?, a),
    }
}
