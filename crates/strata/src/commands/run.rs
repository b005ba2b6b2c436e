//! `strata run` and `strata create` (`docker run`/`create`'s flags), and
//! `strata start`.
//!
//! `run` creates the container, starts it through its shim, and then
//! either prints the ID (`-d`) or stays attached: the container's output
//! is copied here, signals sent to `strata` are passed on to the
//! container, and `strata` exits with the container's status (125 when
//! strata itself fails, 126/127 when the command cannot run, as Docker).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use strata_container::lifecycle::{self, Attach, ShimCommand, Started};
use strata_container::parse;
use strata_container::{ContainerError, CreateOptions};
use strata_store::{ContainerRecord, Store, StoreError};

use crate::cli::{RunArgs, StartArgs};
use crate::commands::terminal;

/// Docker's code for a failure of the container system itself.
const FAILED: u8 = 125;

/// The signals `run` and `start -a` pass on to the container.
const FORWARDED: [nix::sys::signal::Signal; 6] = [
    nix::sys::signal::Signal::SIGINT,
    nix::sys::signal::Signal::SIGTERM,
    nix::sys::signal::Signal::SIGHUP,
    nix::sys::signal::Signal::SIGQUIT,
    nix::sys::signal::Signal::SIGUSR1,
    nix::sys::signal::Signal::SIGUSR2,
];

pub(crate) fn run(store: &Store, root: &Path, args: RunArgs) -> Result<ExitCode> {
    let opts = match options(&args, true) {
        Ok(o) => o,
        Err(e) => return Ok(refused(&e, "run")),
    };
    let stdin_attached = args.interactive && !args.detach;
    if args.tty && stdin_attached && !terminal::is_terminal(std::io::stdin()) {
        writeln!(std::io::stderr(), "the input device is not a TTY")?;
        return Ok(ExitCode::from(1));
    }
    // Blocked before any thread exists, so the forwarding thread alone
    // receives them; children get a clean mask from `Command::spawn`.
    let signals = (!args.detach).then(block_signals).transpose()?;
    let rec = match create_reporting(store, &opts) {
        Ok(rec) => rec,
        Err(code) => return Ok(code),
    };
    let shim = shim_command(root)?;
    if args.detach {
        let attach = Attach {
            output: false,
            stdin: args.interactive,
            console_size: None,
        };
        return Ok(match lifecycle::start(store, &rec, &shim, attach) {
            Ok(_) => {
                writeln!(std::io::stdout(), "{}", rec.id)?;
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        });
    }
    let attach = Attach {
        output: true,
        stdin: args.interactive,
        console_size: args.tty.then(terminal::size).flatten(),
    };
    match lifecycle::start(store, &rec, &shim, attach) {
        Ok(started) => {
            let tty = args.tty.then(|| lifecycle::resize_fifo(store, &rec.id));
            let recorded = || restart_exit(store, &rec);
            attached(started, signals, tty, args.interactive, &recorded)
        }
        Err(e) => {
            if opts.auto_remove {
                let _ = lifecycle::remove(store, &rec, true, true);
            }
            Ok(fail(&e))
        }
    }
}

pub(crate) fn create(store: &Store, args: RunArgs) -> Result<ExitCode> {
    let opts = match options(&args, false) {
        Ok(o) => o,
        Err(e) => return Ok(refused(&e, "create")),
    };
    Ok(match create_reporting(store, &opts) {
        Ok(rec) => {
            writeln!(std::io::stdout(), "{}", rec.id)?;
            ExitCode::SUCCESS
        }
        Err(code) => code,
    })
}

pub(crate) fn start(store: &Store, root: &Path, args: StartArgs) -> Result<ExitCode> {
    let shim = shim_command(root)?;
    if args.attach || args.interactive {
        if args.containers.len() > 1 {
            return Ok(usage(
                "you cannot start and attach multiple containers at once",
                "start",
            ));
        }
        let signals = Some(block_signals()?);
        let rec = match find(store, &args.containers[0]) {
            Ok(r) => r,
            Err(e) => return Ok(fail_code(&e, 1)),
        };
        let tty = strata_container::Definition::from_json(&rec.spec)
            .map(|d| d.config.tty)
            .unwrap_or(false);
        if tty && args.interactive && !terminal::is_terminal(std::io::stdin()) {
            writeln!(std::io::stderr(), "the input device is not a TTY")?;
            return Ok(ExitCode::from(1));
        }
        let attach = Attach {
            output: true,
            stdin: args.interactive,
            console_size: tty.then(terminal::size).flatten(),
        };
        return match lifecycle::start(store, &rec, &shim, attach) {
            Ok(started) => {
                let tty = tty.then(|| lifecycle::resize_fifo(store, &rec.id));
                let recorded = || restart_exit(store, &rec);
                attached(started, signals, tty, args.interactive, &recorded)
            }
            Err(e) => Ok(fail(&e)),
        };
    }
    let mut failed = false;
    for name in &args.containers {
        let result = find(store, name).and_then(|rec| {
            if rec.is_running() {
                return Ok(());
            }
            lifecycle::start(store, &rec, &shim, Attach::default()).map(drop)
        });
        match result {
            Ok(()) => writeln!(std::io::stdout(), "{name}")?,
            Err(e) => {
                writeln!(std::io::stderr(), "Error response from daemon: {e}")?;
                failed = true;
            }
        }
    }
    if failed {
        writeln!(
            std::io::stderr(),
            "Error: failed to start containers: {}",
            args.containers.join(", ")
        )?;
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The record of container NAME|ID|prefix, with its state made true.
pub(crate) fn find(store: &Store, name: &str) -> Result<ContainerRecord, ContainerError> {
    let rec = store.container_find(name)?;
    lifecycle::refresh(store, rec)
}

/// How this binary runs a shim.
pub(crate) fn shim_command(root: &Path) -> Result<ShimCommand> {
    let program = std::env::current_exe().context("finding the strata binary")?;
    Ok(ShimCommand {
        program,
        args: vec!["--root".into(), root.display().to_string(), "__shim".into()],
    })
}

fn create_reporting(store: &Store, opts: &CreateOptions) -> Result<ContainerRecord, ExitCode> {
    match strata_container::create(store, opts) {
        Ok(rec) => Ok(rec),
        Err(ContainerError::Store(StoreError::ImageNotFound(_))) => {
            let shown = opts
                .image
                .parse::<strata_core::Reference>()
                .map(|r| r.with_default_tag().familiar_string())
                .unwrap_or_else(|_| opts.image.clone());
            let _ = writeln!(
                std::io::stderr(),
                "Unable to find image '{shown}' locally\nError: No such image: {shown}"
            );
            Err(ExitCode::from(FAILED))
        }
        Err(e) => Err(fail(&e)),
    }
}

/// A flag Docker's CLI or daemon refuses, worded as Docker prints it:
/// the flag parser's line and `See '... --help'.`, or the message (with
/// `Error response from daemon: ` when the daemon refuses it) and the
/// pointer to the help; exit 125 either way.
fn refused(e: &parse::ParseError, command: &str) -> ExitCode {
    if e.shows_usage() {
        let _ = writeln!(std::io::stderr(), "{e}\nSee 'strata {command} --help'.");
        return ExitCode::from(FAILED);
    }
    let daemon = if e.from_daemon() {
        "Error response from daemon: "
    } else {
        ""
    };
    usage(&format!("{daemon}{e}"), command)
}

fn usage(msg: &str, command: &str) -> ExitCode {
    let _ = writeln!(
        std::io::stderr(),
        "strata: {msg}\n\nRun 'strata {command} --help' for more information"
    );
    ExitCode::from(FAILED)
}

fn fail(e: &ContainerError) -> ExitCode {
    let _ = writeln!(
        std::io::stderr(),
        "strata: Error response from daemon: {e}\n\nRun 'strata run --help' for more information"
    );
    ExitCode::from(e.exit_code())
}

fn fail_code(e: &ContainerError, code: u8) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "Error: {e}");
    ExitCode::from(code)
}

/// Blocks the forwarded signals in this (still single-threaded) process
/// and returns a descriptor that reads them.
fn block_signals() -> Result<nix::sys::signalfd::SignalFd> {
    let mut set = nix::sys::signal::SigSet::empty();
    for s in FORWARDED {
        set.add(s);
    }
    set.add(nix::sys::signal::Signal::SIGWINCH);
    set.thread_block().context("blocking signals")?;
    nix::sys::signalfd::SignalFd::new(&set).context("signalfd")
}

/// Stays attached to a started container: copies its output, passes
/// signals on, and returns its exit code (the shim's). With a terminal
/// (`resize_fifo` set) the user's terminal follows Docker's CLI: raw while
/// the container reads it, and its size passed on when it changes.
fn attached(
    started: Started,
    signals: Option<nix::sys::signalfd::SignalFd>,
    resize_fifo: Option<PathBuf>,
    interactive: bool,
    restarting_exit: &dyn Fn() -> Option<i32>,
) -> Result<ExitCode> {
    let Started {
        pid,
        mut shim,
        stdout,
    } = started;
    let raw = match (&resize_fifo, interactive) {
        (Some(_), true) => terminal::TerminalMode::raw(),
        _ => None,
    };
    if let Some(sfd) = signals {
        std::thread::spawn(move || forward(sfd, pid, resize_fifo));
    }
    if let Some(mut out) = stdout {
        let mut buf = vec![0u8; 64 * 1024];
        let mut stdout = std::io::stdout();
        loop {
            match out.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if stdout
                        .write_all(&buf[..n])
                        .and_then(|()| stdout.flush())
                        .is_err()
                    {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }
    drop(raw);
    // The shim ends with the container, unless a restart policy keeps it
    // going: it then lets go of our output after the first exit, whose
    // code it wrote down, and that exit is ours (as with Docker's CLI).
    if let Some(code) = restarting_exit() {
        return Ok(ExitCode::from(code.clamp(0, 255) as u8));
    }
    let status = shim.wait()?;
    Ok(ExitCode::from(status.code().map_or(FAILED, |c| c as u8)))
}

/// For a container with a restart policy, the code of the exit that
/// ended an attached run.
fn restart_exit(store: &Store, rec: &ContainerRecord) -> Option<i32> {
    let def = strata_container::Definition::from_json(&rec.spec).ok()?;
    match def.host_config.restart_policy.name.as_str() {
        "" | "no" => None,
        _ => lifecycle::last_exit_code(store, &rec.id),
    }
}

/// Passes each signal read from `sfd` to process `pid`; a window size
/// change goes to the container's terminal through `resize_fifo`.
fn forward(sfd: nix::sys::signalfd::SignalFd, pid: i32, resize_fifo: Option<PathBuf>) {
    while let Ok(Some(info)) = sfd.read_signal() {
        let Ok(sig) = nix::sys::signal::Signal::try_from(info.ssi_signo as i32) else {
            continue;
        };
        if sig == nix::sys::signal::Signal::SIGWINCH {
            if let (Some(fifo), Some(size)) = (&resize_fifo, terminal::size()) {
                let _ = lifecycle::resize(fifo, size);
            }
            continue;
        }
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
    }
}

/// `docker run`/`create`'s flags as [`CreateOptions`]; an error is a
/// usage error (exit 125).
fn options(args: &RunArgs, attach: bool) -> Result<CreateOptions, parse::ParseError> {
    let lookup = |name: &str| std::env::var(name).ok();
    let mut env = Vec::new();
    for file in &args.env_file {
        let text = std::fs::read_to_string(file).map_err(|e| {
            parse::ParseError::Message(format!("open {}: {}", file.display(), io_text(&e)))
        })?;
        env.extend(parse::parse_env_file(&text, &lookup)?);
    }
    env.extend(args.env.iter().filter_map(|e| parse::parse_env(e, &lookup)));
    let mut mounts = Vec::new();
    for v in &args.volume {
        mounts.push(parse::parse_volume(v)?);
    }
    for m in &args.mount {
        mounts.push(parse::parse_mount(m)?);
    }
    let mut tmpfs = std::collections::BTreeMap::new();
    for t in &args.tmpfs {
        mounts.push(parse::parse_tmpfs(t)?);
        let (path, options) = t.split_once(':').unwrap_or((t, ""));
        tmpfs.insert(path.to_owned(), options.to_owned());
    }
    let mut no_new_privileges = true;
    for s in &args.security_opt {
        if let parse::SecurityOpt::NoNewPrivileges(v) = parse::parse_security_opt(s)? {
            no_new_privileges = v;
        }
    }
    let labels = args
        .label
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (l.clone(), String::new()),
        })
        .collect();
    let restart = parse::parse_restart_policy(&args.restart)?;
    if args.rm && !matches!(restart.0.as_str(), "" | "no") {
        return Err(parse::ParseError::Client(
            "Conflicting options: --restart and --rm".into(),
        ));
    }
    Ok(CreateOptions {
        name: args.name.clone(),
        image: args.image.clone(),
        command: args.command.clone(),
        entrypoint: args.entrypoint.clone(),
        env,
        user: args.user.clone(),
        workdir: args.workdir.clone(),
        hostname: args.hostname.clone(),
        mounts,
        binds: args.volume.clone(),
        tmpfs,
        network: args.network.clone(),
        tty: args.tty,
        interactive: args.interactive,
        attach: attach && !args.detach,
        read_only: args.read_only,
        memory: args
            .memory
            .as_deref()
            .map(|s| parse::parse_bytes(s).map_err(|e| e.for_flag("-m, --memory", s)))
            .transpose()?,
        memory_swap: args
            .memory_swap
            .as_deref()
            .map(|s| {
                if s == "-1" {
                    Ok(-1)
                } else {
                    parse::parse_bytes(s).map_err(|e| e.for_flag("--memory-swap", s))
                }
            })
            .transpose()?,
        cpus: args.cpus.as_deref().map(parse::parse_cpus).transpose()?,
        pids_limit: args.pids_limit,
        cap_add: args.cap_add.clone(),
        cap_drop: args.cap_drop.clone(),
        privileged: args.privileged,
        security_opt: args.security_opt.clone(),
        no_new_privileges,
        runtime: args.runtime.clone(),
        init: args.init,
        auto_remove: args.rm,
        labels,
        stop_signal: args.stop_signal.clone(),
        stop_timeout: args.stop_timeout,
        restart,
    })
}

fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        _ => e.to_string(),
    }
}
