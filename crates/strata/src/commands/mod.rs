//! One file per command; each turns parsed arguments into store calls and
//! prints the result.

mod analyze;
mod build;
pub(crate) mod builder_prune;
mod containers;
mod df;
mod distribution;
mod history;
mod images;
mod import;
mod inspect;
mod lint;
mod load;
mod prune;
mod ps;
mod registry;
mod rmi;
mod run;
mod save;
mod sbom;
mod scan;
mod sign;
mod tag;
pub(crate) mod terminal;
mod volume;

use std::process::ExitCode;

use anyhow::{Context, Result};
use strata_store::Store;

use crate::cli::{
    BuilderCommand, Cli, Command, ContainerCommand, DbCommand, ImageCommand, KeyCommand,
    RegistryCommand, SystemCommand, VolumeCommand,
};

/// Asks `prompt` on standard output and reads a yes/no answer.
pub(crate) fn confirm(prompt: &str) -> Result<bool> {
    use std::io::{BufRead, Write};
    let mut out = std::io::stdout().lock();
    write!(out, "{prompt}")?;
    out.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Lint(a) => return lint::run(a),
        Command::Sign(a) => return sign::sign(a),
        Command::Verify(a) => return sign::verify(a),
        Command::Key {
            command: KeyCommand::Generate(a),
        } => return sign::key_generate(a),
        Command::Key {
            command: KeyCommand::PublicKey(a),
        } => return sign::key_public(a),
        _ => {}
    }
    if let Command::Registry { command } = cli.command {
        return match command {
            RegistryCommand::Serve(a) => registry::serve(cli.root, a),
            RegistryCommand::Gc(a) => registry::gc(cli.root, a),
        };
    }
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
        Command::Inspect(a) => {
            // Docker's `inspect` takes containers too.
            let store = open()?;
            let containers = a
                .images
                .iter()
                .all(|n| store.resolve(n).is_err() && store.container_find(n).is_ok());
            if containers {
                let args = crate::cli::ContainerInspectArgs {
                    format: a.format,
                    size: false,
                    containers: a.images,
                };
                ps::inspect(&store, args)
            } else {
                inspect::run(&store, a)
            }
        }
        Command::Image {
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
        Command::Run(a)
        | Command::Container {
            command: ContainerCommand::Run(a),
        } => run::run(&open()?, &root, a),
        Command::Create(a)
        | Command::Container {
            command: ContainerCommand::Create(a),
        } => run::create(&open()?, a),
        Command::Start(a)
        | Command::Container {
            command: ContainerCommand::Start(a),
        } => run::start(&open()?, &root, a),
        Command::Stop(a)
        | Command::Container {
            command: ContainerCommand::Stop(a),
        } => containers::stop(&open()?, a),
        Command::Restart(a)
        | Command::Container {
            command: ContainerCommand::Restart(a),
        } => containers::restart(&open()?, &root, a),
        Command::Kill(a)
        | Command::Container {
            command: ContainerCommand::Kill(a),
        } => containers::kill(&open()?, a),
        Command::Rm(a)
        | Command::Container {
            command: ContainerCommand::Rm(a),
        } => containers::rm(&open()?, a),
        Command::Ps(a)
        | Command::Container {
            command: ContainerCommand::Ps(a),
        } => ps::ps(&open()?, a),
        Command::Logs(a)
        | Command::Container {
            command: ContainerCommand::Logs(a),
        } => containers::logs(&open()?, a),
        Command::Exec(a)
        | Command::Container {
            command: ContainerCommand::Exec(a),
        } => containers::exec(&open()?, a),
        Command::Wait(a)
        | Command::Container {
            command: ContainerCommand::Wait(a),
        } => containers::wait(&open()?, a),
        Command::Container {
            command: ContainerCommand::Inspect(a),
        } => ps::inspect(&open()?, a),
        Command::Diff(a)
        | Command::Container {
            command: ContainerCommand::Diff(a),
        } => containers::diff(&open()?, a),
        Command::Commit(a)
        | Command::Container {
            command: ContainerCommand::Commit(a),
        } => volume::commit(&open()?, a),
        Command::Cp(a)
        | Command::Container {
            command: ContainerCommand::Cp(a),
        } => containers::cp(&open()?, a),
        Command::Container {
            command: ContainerCommand::Prune(a),
        } => containers::prune(&open()?, a),
        Command::Volume { command } => match command {
            VolumeCommand::Create(a) => volume::create(&open()?, a),
            VolumeCommand::Ls(a) => volume::ls(&open()?, a),
            VolumeCommand::Inspect(a) => volume::inspect(&open()?, a),
            VolumeCommand::Rm(a) => volume::rm(&open()?, a),
            VolumeCommand::Prune(a) => volume::prune(&open()?, a),
        },
        Command::Shim(a) => containers::shim(&open()?, a),
        Command::Builder {
            command: BuilderCommand::Prune(a),
        } => builder_prune::run(&open()?, a),
        Command::Pull(a) => distribution::pull(&open()?, a),
        Command::Push(a) => distribution::push(&open()?, a),
        Command::Copy(a) => distribution::copy(&open()?, a),
        Command::Login(a) => distribution::login(a),
        Command::Logout(a) => distribution::logout(a),
        Command::Analyze(a) => analyze::run(&open()?, a),
        Command::Scan(a) => scan::run(&open()?, a),
        Command::Sbom(a) => sbom::run(&open()?, a),
        Command::Db {
            command: DbCommand::Import(a),
        } => scan::db_import(&open()?, a),
        Command::Db {
            command: DbCommand::Update(a),
        } => scan::db_update(&open()?, a),
        Command::Registry { .. }
        | Command::Lint(_)
        | Command::Sign(_)
        | Command::Verify(_)
        | Command::Key { .. } => unreachable!("handled above"),
    }
}
