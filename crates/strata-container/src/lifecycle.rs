//! A container's life after `create`: `start` (through a shim process that
//! outlives `strata`), `kill`, `stop`, `wait`, `rm`, and the truth about
//! containers whose shim died ([`refresh`]).
//!
//! The shim is `strata __shim` (the CLI provides the command): it runs
//! [`strata_runtime::serve`] and reports on its standard output, as one JSON line, that the container
//! started (with its PID) or why it could not. It records every state
//! change in the store itself, so a `strata` that exits or crashes loses
//! nothing, and writes the exit code to `<container dir>/exit` before
//! recording it, so a shim killed in between still leaves the truth.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use fs_err as fs;
use serde::{Deserialize, Serialize};
use strata_runtime::{ContainerSpec, ExitStatus, Mount, Network, Process, Resources, Stream};
use strata_snapshot::Snapshots;
use strata_store::{ContainerRecord, ContainerStatus, Store};

use crate::create::now_ns;
use crate::error::{ContainerError, Result};
use crate::logs::LogWriter;
use crate::model::Definition;
use crate::rootfs::{self, ImageParts};

/// Docker's default `PATH`.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The exit code recorded for a container whose shim died before it
/// could record one (containerd reports the same).
const UNKNOWN_EXIT: i32 = 255;

/// Where `--init` comes from: Debian's `tini` package.
const INIT_CANDIDATES: [&str; 2] = ["/usr/bin/tini-static", "/usr/bin/tini"];

/// What the shim reports once, on its ready pipe.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ready {
    /// The container's process runs with this host PID.
    Started {
        /// Host PID.
        pid: i32,
    },
    /// It could not start.
    Failed {
        /// Why, as Docker words it.
        message: String,
        /// The exit code `run`/`start` gives: 125, or 126/127.
        code: u8,
    },
}

/// How to run the shim: `program args... ID [--attach] [--stdin] [--console-size R,C]`. The
/// shim reports on its standard output: first a [`Ready`] line, then
/// (attached) the container's output, its errors on standard error.
#[derive(Clone, Debug)]
pub struct ShimCommand {
    /// The `strata` binary.
    pub program: PathBuf,
    /// Arguments before the container ID (`--root DIR __shim`).
    pub args: Vec<String>,
}

/// A started container.
pub struct Started {
    /// The container process's host PID.
    pub pid: i32,
    /// The shim, a child of this process: attached, it exits with the
    /// container's exit code once its output has been passed on.
    pub shim: Child,
    /// Attached: the container's output, after the ready line.
    pub stdout: Option<BufReader<ChildStdout>>,
}

/// Container directory: logs, init layer, exit file.
pub fn container_dir(store: &Store, id: &str) -> PathBuf {
    store.layout().containers_dir().join(id)
}

/// The json-file log.
pub fn log_path(store: &Store, id: &str) -> PathBuf {
    container_dir(store, id).join(format!("{id}-json.log"))
}

fn exit_file(store: &Store, id: &str) -> PathBuf {
    container_dir(store, id).join("exit")
}

/// The exit code container `id`'s shim last wrote, if any: with a restart
/// policy, an attached `run` takes its code from here once the shim lets
/// go of its output, since the shim itself lives on.
pub fn last_exit_code(store: &Store, id: &str) -> Option<i32> {
    fs::read_to_string(exit_file(store, id))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// A lock held while a container is being started, stopped or removed,
/// so two `strata` processes never do both at once.
pub struct OpLock {
    _file: std::fs::File,
}

/// Takes container `id`'s operation lock, waiting for another holder.
pub fn lock(store: &Store, id: &str) -> Result<OpLock> {
    let dir = container_dir(store, id);
    fs::create_dir_all(&dir)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("lock"))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
        .map_err(std::io::Error::from)?;
    Ok(OpLock { _file: file })
}

/// How a started container is connected to the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attach {
    /// The container's output comes back through [`Started::stdout`] and
    /// the shim's standard error.
    pub output: bool,
    /// The process reads this process's standard input.
    pub stdin: bool,
    /// For a container with a terminal: its size at start (rows,
    /// columns); [`resize`] changes it later.
    pub console_size: Option<(u16, u16)>,
}

/// Starts container `rec` through `shim`, connected as `attach` says.
/// Returns once the container runs.
pub fn start(
    store: &Store,
    rec: &ContainerRecord,
    shim: &ShimCommand,
    attach: Attach,
) -> Result<Started> {
    let _lock = lock(store, &rec.id)?;
    let rec = refresh(store, store.container_find(&rec.id)?)?;
    if rec.is_up() {
        return Err(ContainerError::Conflict(format!(
            "container {} is already running",
            rec.id
        )));
    }
    let _ = fs::remove_file(stop_mark(store, &rec.id));
    let _ = fs::remove_file(exit_file(store, &rec.id));
    let mut cmd = Command::new(&shim.program);
    cmd.args(&shim.args).arg(&rec.id);
    if attach.output {
        cmd.arg("--attach");
    }
    if attach.stdin {
        cmd.arg("--stdin");
    }
    if let Some((rows, cols)) = attach.console_size {
        cmd.arg("--console-size").arg(format!("{rows},{cols}"));
    }
    cmd.stdin(if attach.stdin {
        Stdio::inherit()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(if attach.output {
        Stdio::inherit()
    } else {
        Stdio::null()
    });
    let mut child = cmd
        .spawn()
        .map_err(|e| std::io::Error::other(format!("starting {}: {e}", shim.program.display())))?;
    let mut out = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut line = String::new();
    out.read_line(&mut line)?;
    match serde_json::from_str::<Ready>(&line) {
        Ok(Ready::Started { pid }) => Ok(Started {
            pid,
            shim: child,
            stdout: attach.output.then_some(out),
        }),
        Ok(Ready::Failed { message, code }) => {
            let _ = child.wait();
            Err(match code {
                126 | 127 => ContainerError::CannotExecute {
                    code: code.into(),
                    message,
                },
                _ => ContainerError::Invalid(message),
            })
        }
        Err(_) => {
            let status = child.wait()?;
            Err(ContainerError::Invalid(format!(
                "the container's shim failed ({status}) before starting it"
            )))
        }
    }
}

/// Resizes the terminal of the running container whose [`resize_fifo`]
/// is `fifo` (its shim applies it); a container without a terminal, or
/// not running, ignores it.
pub fn resize(fifo: &std::path::Path, size: (u16, u16)) -> Result<()> {
    Ok(strata_runtime::request_resize(fifo, size)?)
}

/// Where container `id`'s shim reads requests to resize its terminal.
pub fn resize_fifo(store: &Store, id: &str) -> PathBuf {
    container_dir(store, id).join("resize")
}

/// A fresh named pipe for [`resize`] requests, open for reading (and
/// writing, so that it never reports an end when a writer goes away).
fn open_resize_fifo(store: &Store, id: &str) -> Result<std::os::fd::OwnedFd> {
    let path = resize_fifo(store, id);
    let _ = fs::remove_file(&path);
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .map_err(std::io::Error::from)?;
    Ok(rustix::fs::open(
        &path,
        rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(std::io::Error::from)?)
}

/// The first pause before a restart; it doubles each time up to
/// [`RESTART_BACKOFF_MAX`], and starts over after a run of 10 s (Docker's
/// rule).
const RESTART_BACKOFF_MIN: Duration = Duration::from_millis(100);
const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Whether `policy` restarts a container that exited with `code` after
/// `restarts` restarts.
fn should_restart(policy: &crate::model::RestartPolicy, code: u8, restarts: u32) -> bool {
    match policy.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => {
            code != 0
                && (policy.maximum_retry_count <= 0
                    || i64::from(restarts) < policy.maximum_retry_count)
        }
        _ => false,
    }
}

/// Records container `id` as restarting, waits `pause` (giving up when a
/// user stops it meanwhile, which then records it exited), and counts
/// the restart.
fn restart_after(store: &Store, id: &str, pause: Duration) -> Result<()> {
    let me = std::process::id();
    let my_start = strata_store::process_start(me).unwrap_or(0) as u64;
    store.container_update(id, |r| {
        r.status = ContainerStatus::Restarting;
        r.shim = Some((me, my_start));
    })?;
    let until = Instant::now() + pause;
    while Instant::now() < until {
        if stopped_by_user(store, id) {
            store.container_update(id, |r| {
                r.status = ContainerStatus::Exited;
                r.shim = None;
            })?;
            return Err(ContainerError::NotRunning(id.to_owned()));
        }
        std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
    }
    store.container_update(id, |r| r.restart_count += 1)?;
    Ok(())
}

/// Points our standard output and error at `/dev/null`, so an attached
/// reader sees their end.
fn detach_streams() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = rustix::stdio::dup2_stdout(&null);
        let _ = rustix::stdio::dup2_stderr(&null);
    }
}

fn stop_mark(store: &Store, id: &str) -> PathBuf {
    container_dir(store, id).join("stopped")
}

/// Whether a user stopped or killed container `id` since it was started
/// (then its restart policy no longer applies, as with Docker).
fn stopped_by_user(store: &Store, id: &str) -> bool {
    stop_mark(store, id).exists()
}

fn mark_stopped_by_user(store: &Store, id: &str) -> Result<()> {
    fs::write(stop_mark(store, id), b"")?;
    Ok(())
}

/// The shim's body: runs container `id` to its end, reporting on
/// standard output; returns the exit code the shim should exit with.
pub fn shim_main(store: &Store, id: &str, attach: Attach) -> u8 {
    let _ = rustix::process::setsid();
    let mut reported = false;
    let mut report = |r: Ready| {
        if !reported {
            reported = true;
            let mut line = serde_json::to_vec(&r).expect("ready serializes");
            line.push(b'\n');
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&line).and_then(|()| out.flush());
        }
    };
    let policy = store
        .container_find(id)
        .ok()
        .and_then(|r| Definition::from_json(&r.spec).ok())
        .map(|d| d.host_config.restart_policy)
        .unwrap_or_default();
    let mut attach = attach;
    let mut backoff = RESTART_BACKOFF_MIN;
    let code = loop {
        let began = Instant::now();
        let code = match shim_run(store, id, attach, &mut report) {
            Ok(status) => status.code().unwrap_or(UNKNOWN_EXIT).clamp(0, 255) as u8,
            Err(e) => {
                let code = e.exit_code();
                let message = match &e {
                    ContainerError::CannotExecute { message, .. } => message.clone(),
                    e => e.to_string(),
                };
                tracing::debug!(id, error = %message, "container failed to start");
                let _ = store.container_update(id, |r| {
                    r.status = ContainerStatus::Exited;
                    r.error = Some(message.clone());
                    r.exit_code = Some(i32::from(code));
                    r.pid = None;
                    r.shim = None;
                });
                report(Ready::Failed { message, code });
                break code;
            }
        };
        let restarts = store.container_find(id).map_or(0, |r| r.restart_count);
        if !should_restart(&policy, code, restarts) || stopped_by_user(store, id) {
            break code;
        }
        if began.elapsed() >= Duration::from_secs(10) {
            backoff = RESTART_BACKOFF_MIN;
        }
        if attach.output || attach.stdin {
            // As Docker's CLI: an attached `run` ends with the first exit
            // (its reader sees the end of our output); restarts go on
            // detached.
            detach_streams();
            attach = Attach::default();
        }
        if restart_after(store, id, backoff).is_err() {
            break code;
        }
        backoff = (backoff * 2).min(RESTART_BACKOFF_MAX);
    };
    if let Ok(rec) = store.container_find(id)
        && let Ok(def) = Definition::from_json(&rec.spec)
        && def.host_config.auto_remove
        && let Err(e) = remove_files(store, &rec, &def, true)
    {
        tracing::warn!(id, error = %e, "--rm failed");
    }
    code
}

fn shim_run(
    store: &Store,
    id: &str,
    attach: Attach,
    report: &mut dyn FnMut(Ready),
) -> Result<ExitStatus> {
    let rec = store.container_find(id)?;
    let def = Definition::from_json(&rec.spec)?;
    let spec = runtime_spec(store, &rec, &def)?;
    let mut log = LogWriter::open(&log_path(store, id))?;
    let me = std::process::id();
    let my_start = strata_store::process_start(me).unwrap_or(0) as u64;
    let io = strata_runtime::ProcessIo {
        stdin: match attach.stdin {
            true => Some(std::io::stdin().as_fd().try_clone_to_owned()?),
            false => None,
        },
        console_size: attach.console_size,
        resize: match def.config.tty {
            true => Some(open_resize_fifo(store, id)?),
            false => None,
        },
    };
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let status = strata_runtime::serve(
        &store.layout().runtime_dir(),
        &spec,
        io,
        &mut |pid| {
            store
                .container_update(id, |r| {
                    r.status = ContainerStatus::Running;
                    r.pid = Some(pid as u32);
                    r.shim = Some((me, my_start));
                    r.started_ns = Some(now_ns());
                    r.exit_code = Some(0);
                    r.error = None;
                })
                .map_err(std::io::Error::other)?;
            report(Ready::Started { pid });
            Ok(())
        },
        &mut |stream, data| {
            log.write(stream, data);
            if attach.output {
                let _ = match stream {
                    Stream::Stdout => out.write_all(data).and_then(|()| out.flush()),
                    Stream::Stderr => err.write_all(data),
                };
            }
        },
    )
    .map_err(|e| match e {
        strata_runtime::Error::CannotExecute { code, message, .. } => {
            ContainerError::CannotExecute { code, message }
        }
        e => e.into(),
    })?;
    let code = status.code().unwrap_or(UNKNOWN_EXIT);
    let _ = fs::write(exit_file(store, id), code.to_string());
    store.container_update(id, |r| {
        r.status = ContainerStatus::Exited;
        r.exit_code = Some(code);
        r.finished_ns = Some(now_ns());
        r.pid = None;
        r.shim = None;
    })?;
    Ok(status)
}

/// Finds the `--init` binary on this host.
fn init_binary() -> Result<PathBuf> {
    INIT_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            ContainerError::Invalid(
                "--init needs tini: install Debian's tini package (/usr/bin/tini-static)".into(),
            )
        })
}

/// The runtime's view of container `rec`: its root, mounts, process and
/// limits, resolved now (the user is looked up in the image as it is).
pub fn runtime_spec(
    store: &Store,
    rec: &ContainerRecord,
    def: &Definition,
) -> Result<ContainerSpec> {
    let parts = ImageParts::read(store, &rec.image, &rec.image_manifest)?;
    let snapshots = Snapshots::open(&store.layout().snapshots_dir())?;
    let lowers = rootfs::image_lowers(store, &snapshots, &parts)?;
    let active = rootfs::reopen_layers(store, &snapshots, &rec.id, &lowers)?;
    let mut view_layers = lowers.clone();
    view_layers.push(active.upper.clone());
    let view = strata_snapshot::MergedView::new(view_layers);
    let read = |path: &str| -> Option<String> {
        let mut f = view.open(path).ok()?;
        let mut s = String::new();
        std::io::Read::read_to_string(&mut f, &mut s).ok()?;
        Some(s)
    };
    let c = &def.config;
    let ids = crate::user::resolve(&c.user, &read)?;
    let env = process_env(def, &ids.home);
    let mut mounts = Vec::new();
    for m in &def.mounts {
        let mut options: Vec<String> = Vec::new();
        match m.kind.as_str() {
            "tmpfs" => {
                options.extend(["nosuid", "nodev", "noexec"].map(String::from));
                options.extend(
                    m.mode
                        .split(',')
                        .filter(|o| !o.is_empty())
                        .map(String::from),
                );
                mounts.push(Mount {
                    destination: m.destination.clone(),
                    kind: "tmpfs".into(),
                    source: "tmpfs".into(),
                    options,
                });
                continue;
            }
            _ => {
                options.push("rbind".into());
                if !m.rw {
                    options.push("ro".into());
                }
                if !m.propagation.is_empty() {
                    options.push(m.propagation.clone());
                }
            }
        }
        mounts.push(Mount {
            destination: m.destination.clone(),
            kind: "bind".into(),
            source: m.source.clone(),
            options,
        });
    }
    let h = &def.host_config;
    Ok(ContainerSpec {
        id: rec.id.clone(),
        rootfs: vec![Mount {
            destination: "/".into(),
            kind: active.mount.kind.clone(),
            source: active.mount.source.clone(),
            options: active.mount.absolute_options(),
        }],
        mounts,
        process: Process {
            args: def.args(),
            env,
            cwd: if c.working_dir.is_empty() {
                "/".into()
            } else {
                c.working_dir.clone()
            },
            uid: ids.uid,
            gid: ids.gid,
            additional_gids: ids.additional_gids,
        },
        tty: c.tty,
        stdin_open: c.open_stdin,
        network: if h.network_mode == "none" {
            Network::None
        } else {
            Network::Host
        },
        hostname: c.hostname.clone(),
        readonly_rootfs: h.readonly_rootfs,
        runtime: h.runtime.clone(),
        resources: Resources {
            memory: (h.memory > 0).then_some(h.memory),
            memory_swap: (h.memory_swap != 0).then_some(h.memory_swap),
            cpus: (h.nano_cpus > 0).then(|| h.nano_cpus as f64 / 1e9),
            pids_limit: h.pids_limit,
        },
        cap_add: h.cap_add.clone().unwrap_or_default(),
        cap_drop: h.cap_drop.clone().unwrap_or_default(),
        privileged: h.privileged,
        no_new_privileges: def.no_new_privileges,
        init: match h.init {
            Some(true) => Some(init_binary()?),
            _ => None,
        },
        log_path: log_path(store, &rec.id),
    })
}

/// The process's environment as Docker makes it: a default `PATH`,
/// `HOSTNAME`, `TERM` with a terminal, then the container's `Env` (which
/// replaces those in place), and `HOME` from passwd when absent.
pub fn process_env(def: &Definition, home: &str) -> Vec<String> {
    let mut env = vec![
        format!("PATH={DEFAULT_PATH}"),
        format!("HOSTNAME={}", def.config.hostname),
    ];
    if def.config.tty {
        env.push("TERM=xterm".into());
    }
    crate::model::merge_env(&mut env, &def.config.env);
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={home}"));
    }
    env
}

/// Tells the truth about `rec`: a container recorded as running whose
/// shim is gone is either still running (orphaned; left as it is) or has
/// exited, and then it is recorded so, with the code its shim wrote or
/// 255, and its leftovers are cleaned up.
pub fn refresh(store: &Store, rec: ContainerRecord) -> Result<ContainerRecord> {
    if !rec.is_up() || rec.shim_alive() {
        return Ok(rec);
    }
    let def = Definition::from_json(&rec.spec)?;
    let state_dir = store.layout().runtime_dir();
    let runtime = &def.host_config.runtime;
    if strata_runtime::is_running(&state_dir, runtime, &rec.id) {
        return Ok(rec);
    }
    if let Err(e) = strata_runtime::cleanup_leftovers(&state_dir, runtime, &rec.id) {
        tracing::warn!(id = %rec.id, error = %e, "cleaning up after a dead shim failed");
    }
    let code = last_exit_code(store, &rec.id).unwrap_or(UNKNOWN_EXIT);
    let rec = store.container_update(&rec.id, |r| {
        if r.is_up() && !r.shim_alive() {
            r.status = ContainerStatus::Exited;
            r.exit_code = Some(code);
            r.finished_ns = Some(now_ns());
            r.pid = None;
            r.shim = None;
        }
    })?;
    if def.host_config.auto_remove {
        remove_files(store, &rec, &def, true)?;
    }
    Ok(rec)
}

/// Sends `signal` to the container's process (Docker's `kill`).
pub fn kill(store: &Store, rec: &ContainerRecord, signal: i32) -> Result<()> {
    let rec = refresh(store, rec.clone())?;
    let pid = match (rec.status, rec.pid) {
        (ContainerStatus::Running, Some(pid)) => pid,
        (ContainerStatus::Restarting, _) => {
            return Err(ContainerError::Conflict(format!(
                "Container {} is restarting, wait until the container is running",
                rec.id
            )));
        }
        _ => return Err(ContainerError::NotRunning(rec.id.clone())),
    };
    // Killed by a user: no restart policy brings it back.
    mark_stopped_by_user(store, &rec.id)?;
    let pid = rustix::process::Pid::from_raw(pid as i32)
        .ok_or_else(|| ContainerError::NotRunning(rec.id.clone()))?;
    let sig = rustix::process::Signal::from_named_raw(signal)
        .ok_or_else(|| ContainerError::Invalid(format!("Invalid signal: {signal}")))?;
    match rustix::process::kill_process(pid, sig) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::SRCH) => Err(ContainerError::NotRunning(rec.id.clone())),
        Err(e) => Err(std::io::Error::from(e).into()),
    }
}

/// Waits until container `rec` is no longer running, or `timeout`
/// passes; returns the record as it then is.
pub fn wait_stopped(
    store: &Store,
    rec: &ContainerRecord,
    timeout: Option<Duration>,
) -> Result<ContainerRecord> {
    let start = Instant::now();
    let mut rec = refresh(store, rec.clone())?;
    while rec.is_up() {
        if let Some((pid, _)) = rec.shim {
            let left = timeout.map(|t| t.saturating_sub(start.elapsed()));
            if left == Some(Duration::ZERO) {
                break;
            }
            wait_pid_exit(pid, left.unwrap_or(Duration::from_millis(500)));
        } else {
            std::thread::sleep(Duration::from_millis(20));
        }
        rec = refresh(store, store.container_find(&rec.id)?)?;
        if timeout.is_some_and(|t| start.elapsed() >= t) {
            break;
        }
    }
    Ok(rec)
}

/// Waits up to `timeout` for process `pid` to exit (through a pidfd).
fn wait_pid_exit(pid: u32, timeout: Duration) {
    let Some(pid) = rustix::process::Pid::from_raw(pid as i32) else {
        return;
    };
    let Ok(fd) = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) else {
        return; // already gone
    };
    let mut fds = [rustix::event::PollFd::new(
        &fd,
        rustix::event::PollFlags::IN,
    )];
    let ts = rustix::event::Timespec {
        tv_sec: timeout.as_secs() as i64,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    let _ = rustix::event::poll(&mut fds, Some(&ts));
}

/// Docker's `stop`: `signal` (else the container's stop signal), then
/// `SIGKILL` after `timeout` (else the container's, else 10 s).
pub fn stop(
    store: &Store,
    rec: &ContainerRecord,
    signal: Option<i32>,
    timeout: Option<i64>,
) -> Result<ContainerRecord> {
    let _lock = lock(store, &rec.id)?;
    let rec = refresh(store, store.container_find(&rec.id)?)?;
    if !rec.is_up() {
        return Ok(rec);
    }
    mark_stopped_by_user(store, &rec.id)?;
    if rec.status == ContainerStatus::Restarting {
        // Its shim sees the mark and gives up restarting.
        return wait_stopped(store, &rec, None);
    }
    let def = Definition::from_json(&rec.spec)?;
    let timeout = timeout.or(def.config.stop_timeout).unwrap_or(10);
    let signal =
        signal.unwrap_or_else(|| crate::parse::parse_signal(def.stop_signal()).unwrap_or(15));
    match kill(store, &rec, signal) {
        Ok(()) | Err(ContainerError::NotRunning(_)) => {}
        Err(e) => return Err(e),
    }
    let waited = if timeout < 0 {
        wait_stopped(store, &rec, None)?
    } else {
        wait_stopped(store, &rec, Some(Duration::from_secs(timeout as u64)))?
    };
    if !waited.is_up() {
        return Ok(waited);
    }
    match kill(store, &waited, 9) {
        Ok(()) | Err(ContainerError::NotRunning(_)) => {}
        Err(e) => return Err(e),
    }
    wait_stopped(store, &waited, None)
}

/// Docker's `rm`: refuses a running container unless `force` (then kills
/// it), removes its writable layer, init layer, logs and record, and with
/// `volumes` its anonymous volumes.
pub fn remove(store: &Store, rec: &ContainerRecord, force: bool, volumes: bool) -> Result<()> {
    let _lock = lock(store, &rec.id)?;
    let mut rec = refresh(store, store.container_find(&rec.id)?)?;
    if rec.is_up() {
        if !force {
            return Err(ContainerError::Conflict(format!(
                "You cannot remove a running container {}. Stop the container before attempting removal or force remove",
                rec.id
            )));
        }
        mark_stopped_by_user(store, &rec.id)?;
        match kill(store, &rec, 9) {
            Ok(()) | Err(ContainerError::NotRunning(_) | ContainerError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        rec = wait_stopped(store, &rec, None)?;
    }
    let def = Definition::from_json(&rec.spec)?;
    remove_files(store, &rec, &def, volumes)
}

/// Removes everything of a stopped container, record last, so that a
/// removal cut short can be run again.
fn remove_files(
    store: &Store,
    rec: &ContainerRecord,
    def: &Definition,
    volumes: bool,
) -> Result<()> {
    let _ = store.container_update(&rec.id, |r| r.status = ContainerStatus::Dead);
    let snapshots = Snapshots::open(&store.layout().snapshots_dir())?;
    rootfs::remove_layer(&snapshots, &rec.id)?;
    let dir = container_dir(store, &rec.id);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(std::io::Error::other(format!("removing {}: {e}", dir.display())).into());
        }
    }
    store.container_delete(&rec.id)?;
    if volumes {
        for name in &def.anonymous_volumes {
            if store.volume_users(name)?.is_empty() {
                crate::volumes::remove_volume_files(store, name)?;
            }
        }
    }
    Ok(())
}

/// `diff`: what container `rec` changed, against its image (with its
/// init layer, so mount points it made never show).
pub fn changes(store: &Store, rec: &ContainerRecord) -> Result<Vec<crate::diff::Change>> {
    let parts = ImageParts::read(store, &rec.image, &rec.image_manifest)?;
    let snapshots = Snapshots::open(&store.layout().snapshots_dir())?;
    let mut lowers = rootfs::image_lowers(store, &snapshots, &parts)?;
    lowers.push(rootfs::init_dir(store, &rec.id));
    let upper = rootfs::upper_dir(store, &rec.id)?;
    Ok(crate::diff::changes(
        &upper,
        &strata_snapshot::MergedView::new(lowers),
    )?)
}
