//! `stop`, `kill`, `restart`, `rm`, `wait`, `logs`, `exec`, `cp`, `container
//! prune` and the hidden `__shim`: Docker's container verbs over
//! `strata_container::lifecycle`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use strata_container::cp::{self, CopyDest, CopyOptions, CopySrc, CpError};
use strata_container::lifecycle;
use strata_container::logs::{self, ReadOptions};
use strata_container::{ContainerError, parse};
use strata_runtime::ProcessIo;
use strata_store::Store;

use crate::cli::{
    ContainersArgs, CpArgs, DiffArgs, ExecArgs, ForceArgs, KillArgs, LogsArgs, RmArgs, ShimArgs,
    StopArgs,
};
use crate::commands::run::{find, shim_command};
use crate::commands::terminal;

/// Runs `op` for each named container, printing the name on success and
/// Docker's message on failure; exit 1 if any failed.
pub(crate) fn each(
    names: &[String],
    mut op: impl FnMut(&str) -> Result<(), ContainerError>,
) -> Result<ExitCode> {
    let mut failed = false;
    for name in names {
        match op(name) {
            Ok(()) => writeln!(std::io::stdout(), "{name}")?,
            Err(e) => {
                writeln!(std::io::stderr(), "Error response from daemon: {e}")?;
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn stop(store: &Store, args: StopArgs) -> Result<ExitCode> {
    let signal = match args.signal.as_deref().map(parse::parse_signal).transpose() {
        Ok(s) => s,
        Err(e) => {
            writeln!(std::io::stderr(), "Error response from daemon: {e}")?;
            return Ok(ExitCode::from(1));
        }
    };
    each(&args.containers, |name| {
        let rec = find(store, name)?;
        lifecycle::stop(store, &rec, signal, args.timeout).map(drop)
    })
}

pub(crate) fn restart(store: &Store, root: &Path, args: StopArgs) -> Result<ExitCode> {
    let shim = shim_command(root)?;
    each(&args.containers, |name| {
        let rec = find(store, name)?;
        let rec = lifecycle::stop(store, &rec, None, args.timeout)?;
        lifecycle::start(store, &rec, &shim, lifecycle::Attach::default()).map(drop)
    })
}

pub(crate) fn kill(store: &Store, args: KillArgs) -> Result<ExitCode> {
    let signal = match parse::parse_signal(&args.signal) {
        Ok(s) => s,
        Err(e) => {
            writeln!(std::io::stderr(), "Error response from daemon: {e}")?;
            return Ok(ExitCode::from(1));
        }
    };
    each(&args.containers, |name| {
        let rec = find(store, name)?;
        lifecycle::kill(store, &rec, signal).map_err(|e| match e {
            ContainerError::NotRunning(id) => ContainerError::Conflict(format!(
                "cannot kill container: {name}: container {id} is not running"
            )),
            e => e,
        })
    })
}

pub(crate) fn rm(store: &Store, args: RmArgs) -> Result<ExitCode> {
    each(&args.containers, |name| {
        let rec = find(store, name)?;
        lifecycle::remove(store, &rec, args.force, args.volumes)
    })
}

pub(crate) fn wait(store: &Store, args: ContainersArgs) -> Result<ExitCode> {
    let mut failed = false;
    for name in &args.containers {
        let result = find(store, name).and_then(|rec| lifecycle::wait_stopped(store, &rec, None));
        match result {
            Ok(rec) => writeln!(std::io::stdout(), "{}", rec.exit_code.unwrap_or(0))?,
            Err(e) => {
                writeln!(std::io::stderr(), "Error response from daemon: {e}")?;
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn prune(store: &Store, args: ForceArgs) -> Result<ExitCode> {
    if !args.force
        && !crate::commands::confirm(
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ",
        )?
    {
        return Ok(ExitCode::SUCCESS);
    }
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    let filters = match args
        .filter
        .iter()
        .map(|f| PruneFilter::parse(f, now_ns))
        .collect::<Result<Vec<_>, String>>()
    {
        Ok(f) => f,
        Err(e) => {
            writeln!(std::io::stderr(), "Error response from daemon: {e}")?;
            return Ok(ExitCode::from(1));
        }
    };
    let mut removed = Vec::new();
    let mut freed = 0u64;
    for rec in store.containers()? {
        let rec = lifecycle::refresh(store, rec.clone()).unwrap_or(rec);
        if rec.is_up() {
            continue;
        }
        let labels = strata_container::Definition::from_json(&rec.spec)
            .map(|d| d.config.labels)
            .unwrap_or_default();
        if !filters.iter().all(|f| f.keeps_out(rec.created_ns, &labels)) {
            continue;
        }
        if let Ok(upper) = strata_container::rootfs::upper_dir(store, &rec.id) {
            freed += strata_container::volumes::dir_size(&upper);
        }
        lifecycle::remove(store, &rec, false, false)?;
        removed.push(rec.id);
    }
    let mut out = std::io::stdout().lock();
    if !removed.is_empty() {
        writeln!(out, "Deleted Containers:")?;
        for id in &removed {
            writeln!(out, "{id}")?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Total reclaimed space: {}",
        crate::output::size3(freed)
    )?;
    Ok(ExitCode::SUCCESS)
}

/// One `container prune --filter`: `until=` (created before a time or
/// a duration ago), `label=K[=V]` (has it), `label!=K[=V]` (has not).
enum PruneFilter {
    Until(i64),
    Label(String, Option<String>, bool),
}

impl PruneFilter {
    fn parse(filter: &str, now_ns: i64) -> Result<PruneFilter, String> {
        let (key, value) = filter
            .split_once('=')
            .ok_or_else(|| format!("bad format of filter (expected name=value): {filter}"))?;
        let label = |want: bool| {
            let (k, v) = match value.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (value.to_owned(), None),
            };
            PruneFilter::Label(k, v, want)
        };
        match key {
            "until" => parse_until(value, now_ns).map(PruneFilter::Until),
            "label" => Ok(label(true)),
            "label!" => Ok(label(false)),
            _ => Err(format!("invalid filter '{key}'")),
        }
    }

    /// Whether a container created at `created_ns` with `labels` passes.
    fn keeps_out(&self, created_ns: i64, labels: &BTreeMap<String, String>) -> bool {
        match self {
            PruneFilter::Until(t) => created_ns < *t,
            PruneFilter::Label(k, v, want) => {
                let has = match v {
                    Some(v) => labels.get(k) == Some(v),
                    None => labels.contains_key(k),
                };
                has == *want
            }
        }
    }
}

/// Docker's `until=` value as nanoseconds since the epoch: a Go duration
/// before now (`24h`), Unix seconds (`1700000000.5`), or an RFC 3339 time
/// or date (`2024-01-02`, `2024-01-02T15:04:05`, taken as UTC).
fn parse_until(value: &str, now_ns: i64) -> Result<i64, String> {
    if let Ok(ago) = strata_core::parse_go_duration(value) {
        return Ok(now_ns - ago);
    }
    if let Ok(secs) = value.parse::<f64>() {
        return Ok((secs * 1e9) as i64);
    }
    let candidates = [
        value.to_owned(),
        format!("{value}Z"),
        format!("{value}T00:00:00Z"),
    ];
    candidates
        .iter()
        .find_map(|c| c.parse::<strata_core::Timestamp>().ok())
        .map(|t| t.unix_nanos() as i64)
        .ok_or_else(|| format!("failed to parse value as time or duration: \"{value}\""))
}

pub(crate) fn logs(store: &Store, args: LogsArgs) -> Result<ExitCode> {
    let rec = match find(store, &args.container) {
        Ok(r) => r,
        Err(e) => {
            writeln!(std::io::stderr(), "Error response from daemon: {e}")?;
            return Ok(ExitCode::from(1));
        }
    };
    let tail = match args.tail.as_str() {
        "all" | "" => None,
        n => match n.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n as usize),
            _ => None,
        },
    };
    let opts = ReadOptions {
        tail,
        follow: args.follow,
    };
    let id = rec.id.clone();
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    let result = logs::read(
        &lifecycle::log_path(store, &rec.id),
        opts,
        &mut || {
            store
                .container_find(&id)
                .ok()
                .and_then(|r| lifecycle::refresh(store, r).ok())
                .is_some_and(|r| r.is_up())
        },
        &mut |entry| {
            let mut text = String::new();
            if args.timestamps {
                text.push_str(&entry.time);
                text.push(' ');
            }
            text.push_str(&entry.log);
            match entry.stream.as_str() {
                "stderr" => stderr.write_all(text.as_bytes()),
                _ => stdout
                    .write_all(text.as_bytes())
                    .and_then(|()| stdout.flush()),
            }
        },
    );
    if let Err(e) = result {
        writeln!(std::io::stderr(), "Error: {e}")?;
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn exec(store: &Store, args: ExecArgs) -> Result<ExitCode> {
    let lookup = |name: &str| std::env::var(name).ok();
    let mut env = Vec::new();
    for file in &args.env_file {
        let text = std::fs::read_to_string(file)?;
        match parse::parse_env_file(&text, &lookup) {
            Ok(e) => env.extend(e),
            Err(e) => {
                writeln!(std::io::stderr(), "strata: {e}")?;
                return Ok(ExitCode::from(125));
            }
        }
    }
    env.extend(args.env.iter().filter_map(|e| parse::parse_env(e, &lookup)));
    if args.tty && args.interactive && !terminal::is_terminal(std::io::stdin()) {
        writeln!(std::io::stderr(), "the input device is not a TTY")?;
        return Ok(ExitCode::from(1));
    }
    let rec = match find(store, &args.container) {
        Ok(r) => r,
        Err(e) => {
            writeln!(std::io::stderr(), "Error response from daemon: {e}")?;
            return Ok(ExitCode::from(1));
        }
    };
    let opts = strata_container::exec::ExecOptions {
        command: args.command.clone(),
        env,
        user: args.user.clone(),
        workdir: args.workdir.clone(),
        tty: args.tty,
        interactive: args.interactive,
        detach: args.detach,
        privileged: args.privileged,
    };
    let (io, raw) = match args.tty {
        true => exec_terminal(args.interactive)?,
        false => (ProcessIo::default(), None),
    };
    let mut stdout = std::io::stdout();
    let done = strata_container::exec::exec(store, &rec, &opts, io, &mut |_, data| {
        let _ = stdout.write_all(data).and_then(|()| stdout.flush());
    });
    drop(raw);
    match done {
        Ok(code) => Ok(ExitCode::from(code.clamp(0, 255) as u8)),
        // Docker's code for an exec that cannot start is 126. In the
        // foreground without a terminal runc has printed why on standard
        // error (the process's).
        Err(ContainerError::CannotExecute { message, .. }) => {
            if args.tty || args.detach {
                writeln!(
                    std::io::stderr(),
                    "OCI runtime exec failed: {message}: unknown"
                )?;
            }
            Ok(ExitCode::from(126))
        }
        Err(e) => {
            writeln!(std::io::stderr(), "Error response from daemon: {e}")?;
            Ok(ExitCode::from(match e {
                ContainerError::NotRunning(_) => 1,
                _ => 126,
            }))
        }
    }
}

/// What `exec -t` gives the process's terminal, as Docker's CLI: our
/// input (raw, with `-i` on a terminal), our terminal's size, and its
/// changes (SIGWINCH, read here through a signalfd, becomes a resize
/// line on a pipe). The signalfd's thread lives as long as the process.
fn exec_terminal(interactive: bool) -> Result<(ProcessIo, Option<terminal::TerminalMode>)> {
    let mut set = nix::sys::signal::SigSet::empty();
    set.add(nix::sys::signal::Signal::SIGWINCH);
    set.thread_block()?;
    let sfd = nix::sys::signalfd::SignalFd::new(&set)?;
    let (resize_r, resize_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    std::thread::spawn(move || {
        while let Ok(Some(_)) = sfd.read_signal() {
            if let Some((rows, cols)) = terminal::size() {
                let line = format!("{rows} {cols}\n");
                if rustix::io::write(&resize_w, line.as_bytes()).is_err() {
                    return;
                }
            }
        }
    });
    let stdin = match interactive {
        true => Some(std::os::fd::AsFd::as_fd(&std::io::stdin()).try_clone_to_owned()?),
        false => None,
    };
    let io = ProcessIo {
        stdin,
        console_size: terminal::size(),
        resize: Some(resize_r),
    };
    let raw = interactive.then(terminal::TerminalMode::raw).flatten();
    Ok((io, raw))
}

pub(crate) fn shim(store: &Store, args: ShimArgs) -> Result<ExitCode> {
    let attach = lifecycle::Attach {
        output: args.attach,
        stdin: args.stdin,
        console_size: args
            .console_size
            .as_deref()
            .and_then(strata_runtime::parse_size),
    };
    Ok(ExitCode::from(lifecycle::shim_main(
        store, &args.id, attach,
    )))
}

pub(crate) fn diff(store: &Store, args: DiffArgs) -> Result<ExitCode> {
    let rec = match find(store, &args.container) {
        Ok(r) => r,
        Err(e) => {
            writeln!(std::io::stderr(), "Error response from daemon: {e}")?;
            return Ok(ExitCode::from(1));
        }
    };
    let changes = strata_container::lifecycle::changes(store, &rec)?;
    let mut out = std::io::stdout().lock();
    for c in changes {
        writeln!(out, "{c}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `docker cp`: between a container's file system and the host or a tar
/// stream, in either direction, running or stopped.
pub(crate) fn cp(store: &Store, args: CpArgs) -> Result<ExitCode> {
    let fail = |message: &str| -> Result<ExitCode> {
        writeln!(std::io::stderr(), "{message}")?;
        Ok(ExitCode::from(1))
    };
    if args.source.is_empty() {
        return fail("source can not be empty");
    }
    if args.destination.is_empty() {
        return fail("destination can not be empty");
    }
    let (from, to) = match (split_cp_arg(&args.source), split_cp_arg(&args.destination)) {
        ((Some(_), _), (Some(_), _)) => {
            return fail("copying between containers is not supported");
        }
        ((None, _), (None, _)) => return fail("must specify at least one container source"),
        (from, to) => (from, to),
    };
    let name = from.0.or(to.0).expect("one side is a container");
    let rec = match find(store, name) {
        Ok(r) => r,
        Err(e) => return fail(&format!("Error response from daemon: {e}")),
    };
    let view = match strata_container::host_view::root_view(store, &rec) {
        Ok(v) => v,
        Err(e) => return fail(&format!("Error response from daemon: {e}")),
    };
    let root = view.path();
    let done = match from {
        (Some(_), path) => {
            let path = if path.is_empty() { "/" } else { path };
            if to.1 == "-" {
                let mut out = std::io::stdout().lock();
                cp::copy_from_container(root, path, CopyDest::Stream(&mut out), args.follow_link)
                    .and_then(|()| {
                        out.flush().map_err(|e| CpError::Io {
                            op: "write",
                            path: "-".into(),
                            source: e,
                        })
                    })
            } else {
                cp::copy_from_container(
                    root,
                    path,
                    CopyDest::Host(Path::new(to.1)),
                    args.follow_link,
                )
            }
        }
        (None, path) => {
            let dest = if to.1.is_empty() { "/" } else { to.1 };
            let opts = CopyOptions {
                follow_link: args.follow_link,
                archive: args.archive,
            };
            if path == "-" {
                let mut input = std::io::stdin().lock();
                cp::copy_to_container(root, CopySrc::Stream(&mut input), dest, &opts)
            } else {
                cp::copy_to_container(root, CopySrc::Host(Path::new(path)), dest, &opts)
            }
        }
    };
    match done {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => fail(&e.docker_message(name)),
    }
}

/// Docker's reading of a `cp` argument: `CONTAINER:PATH`, or a local
/// path (absolute, without a colon, or starting with `.` before it).
fn split_cp_arg(arg: &str) -> (Option<&str>, &str) {
    if arg.starts_with('/') {
        return (None, arg);
    }
    match arg.split_once(':') {
        Some((ctr, path)) if !ctr.starts_with('.') => (Some(ctr), path),
        _ => (None, arg),
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_until, split_cp_arg};

    #[test]
    fn prune_until_reads_durations_unix_times_and_dates() {
        let now = 1_700_000_000_000_000_000;
        assert_eq!(parse_until("1h", now), Ok(now - 3_600_000_000_000));
        assert_eq!(
            parse_until("1600000000.5", now),
            Ok(1_600_000_000_500_000_000)
        );
        assert_eq!(
            parse_until("2023-11-14T22:13:20Z", now),
            Ok(1_700_000_000_000_000_000)
        );
        assert_eq!(
            parse_until("2023-11-14T22:13:20", now),
            Ok(1_700_000_000_000_000_000)
        );
        assert_eq!(
            parse_until("2023-11-14", now),
            Ok(1_699_920_000_000_000_000)
        );
        assert!(parse_until("soon", now).is_err());
    }

    #[test]
    fn cp_arguments_split_as_dockers() {
        assert_eq!(split_cp_arg("web:/etc/hosts"), (Some("web"), "/etc/hosts"));
        assert_eq!(split_cp_arg("web:"), (Some("web"), ""));
        assert_eq!(split_cp_arg("/tmp/a:b"), (None, "/tmp/a:b"));
        assert_eq!(split_cp_arg("./a:b"), (None, "./a:b"));
        assert_eq!(split_cp_arg("file.txt"), (None, "file.txt"));
        assert_eq!(split_cp_arg("-"), (None, "-"));
    }
}
