//! Long-lived containers: [`serve`] runs one from start to exit in the
//! calling process (the shim), [`exec`] starts another process in it, and
//! [`cleanup_leftovers`] tidies up after a shim that died.
//!
//! `serve` does what containerd's shim does, with runc's own verbs:
//!
//! 1. prepare the bundle and mount the root file system ([`Prepared`]);
//! 2. `runc create` with pipes as the process's standard output and error
//!    (the process inherits runc's), and `--pid-file`: the process now
//!    exists, stopped before `exec`, and a command that cannot be found
//!    fails here with Docker's 127 or 126;
//! 3. report the PID to the caller (who records it), then `runc start`;
//! 4. as the child subreaper, wait for the process itself (runc has
//!    exited; the kernel reparents its process to us) while passing its
//!    output to the caller;
//! 5. clean up ([`Prepared::cleanup`]) and return the exit status.
//!
//! The caller is expected to run `serve` in a process of its own that
//! outlives the command that started it (`strata __shim`), so that a
//! detached container keeps running, and its exit is still recorded, after
//! `strata` exits.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;

use fs_err as fs;
use rustix::process::{Pid, WaitOptions};
use serde::{Deserialize, Serialize};

use crate::bundle::Bundle;
use crate::console::{self, ConsoleSocket};
use crate::container::Prepared;
use crate::container_spec::ContainerSpec;
use crate::error::{Error, Result};
use crate::mounter::HostMounter;
use crate::profile::{HostInfo, Profile};
use crate::request::{ExitStatus, Process, Stream};
use crate::runc::{self, Runc};

/// Runs container `spec` to its end in this process: creates it, calls
/// `started` with the host PID of its process (an error there stops the
/// container before it runs), starts it, passes its output to `output`
/// as it arrives, and, once the process has exited and everything is
/// cleaned up, returns its status.
///
/// `io.stdin` becomes the process's standard input (`/dev/null` when
/// `None`). With [`ContainerSpec::tty`], the process gets a terminal of
/// its own (stdin, stdout and stderr), whose output all reaches `output`
/// as stdout; see [`ProcessIo`] for its size. A command that cannot be
/// executed is [`Error::CannotExecute`], with Docker's exit code;
/// `started` is not called then.
pub fn serve(
    state_dir: &Path,
    spec: &ContainerSpec,
    io: ProcessIo,
    started: &mut dyn FnMut(i32) -> io::Result<()>,
    output: &mut dyn FnMut(Stream, &[u8]),
) -> Result<ExitStatus> {
    spec.validate(state_dir)?;
    let host = HostInfo::detect(spec.privileged)?;
    let profile = Profile::container(spec, &host)?;
    let runc = Runc::find(&spec.runtime, Bundle::runc_root(state_dir))?;
    let mounts = spec.all_mounts();
    let req = spec.request(state_dir, &mounts);
    // The container's process is reparented to us when runc exits; we must
    // be its reaper to learn its exit status.
    rustix::process::set_child_subreaper(Some(rustix::process::getpid()))
        .map_err(io::Error::from)?;
    let mut prepared = Prepared::new(
        &req,
        &profile,
        runc,
        &HostMounter,
        Path::new(crate::HOST_RESOLV_CONF),
    )?;
    let result = run_created(&prepared, spec, io, started, output);
    let cleaned = prepared.cleanup();
    match (result, cleaned) {
        (Ok(status), Ok(())) => Ok(status),
        (Ok(_), Err(e)) => Err(e),
        (Err(e), cleaned) => {
            if let Err(c) = cleaned {
                tracing::error!(id = %spec.id, error = %c, "cleanup after a failed start failed");
            }
            Err(e)
        }
    }
}

/// How [`serve`] and [`exec_tty`] connect a process's standard streams.
#[derive(Debug, Default)]
pub struct ProcessIo {
    /// The process's standard input; `/dev/null` when `None`.
    pub stdin: Option<OwnedFd>,
    /// With a terminal: its size at start, rows and columns.
    pub console_size: Option<(u16, u16)>,
    /// With a terminal: where `ROWS COLS` lines that resize it arrive
    /// (see [`request_resize`](crate::request_resize)).
    pub resize: Option<OwnedFd>,
}

fn run_created(
    prepared: &Prepared<'_>,
    spec: &ContainerSpec,
    io: ProcessIo,
    started: &mut dyn FnMut(i32) -> io::Result<()>,
    output: &mut dyn FnMut(Stream, &[u8]),
) -> Result<ExitStatus> {
    if spec.tty {
        return run_created_tty(prepared, spec, io, started, output);
    }
    let id = spec.id.as_str();
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let stdin = match io.stdin {
        Some(fd) => Stdio::from(fd),
        None => Stdio::null(),
    };
    let pid = prepared.runc().create(
        id,
        prepared.bundle(),
        None,
        [stdin, out_w.into(), err_w.into()],
    )?;
    // Whatever runc itself wrote (warnings) precedes the process's output.
    discard_pending(&err_r);
    discard_pending(&out_r);
    report_started(id, pid, started)?;
    prepared.runc().start(id)?;
    wait_while(id, pid, || {
        runc::pump(
            std::fs::File::from(out_r),
            std::fs::File::from(err_r),
            output,
        )
    })
}

/// [`run_created`] with a terminal: runc hands over its master end, which
/// carries all of the process's input and output.
fn run_created_tty(
    prepared: &Prepared<'_>,
    spec: &ContainerSpec,
    io: ProcessIo,
    started: &mut dyn FnMut(i32) -> io::Result<()>,
    output: &mut dyn FnMut(Stream, &[u8]),
) -> Result<ExitStatus> {
    let id = spec.id.as_str();
    let socket = ConsoleSocket::new()?;
    let pid = prepared.runc().create(
        id,
        prepared.bundle(),
        Some(&socket.path()),
        [Stdio::null(), Stdio::null(), Stdio::null()],
    )?;
    let master = receive_terminal(socket, io.console_size)?;
    report_started(id, pid, started)?;
    prepared.runc().start(id)?;
    wait_while(id, pid, || {
        console::relay(&master, io.stdin, io.resize, output)
    })
}

/// The terminal runc sent to `socket`, sized `size` when given.
fn receive_terminal(socket: ConsoleSocket, size: Option<(u16, u16)>) -> Result<OwnedFd> {
    let master = socket.receive()?;
    if let Some(size) = size {
        console::set_size(master.as_fd(), size)?;
    }
    Ok(master)
}

/// Waits for process `pid` (our child by reparenting) while `pass` moves
/// its input and output on this thread; returns its status once both are
/// done. A failure of `pass` is logged: the status still counts.
fn wait_while(id: &str, pid: i32, pass: impl FnOnce() -> io::Result<()>) -> Result<ExitStatus> {
    std::thread::scope(|scope| {
        let waiter = scope.spawn(move || wait_for(pid));
        let passed = pass();
        let status = waiter
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the waiting thread panicked")))?;
        if let Err(e) = passed {
            tracing::warn!(id, error = %e, "passing the process's input and output failed");
        }
        Ok(status)
    })
}

fn report_started(
    id: &str,
    pid: i32,
    started: &mut dyn FnMut(i32) -> io::Result<()>,
) -> Result<()> {
    if let Err(e) = started(pid) {
        return Err(Error::Shim {
            program: std::env::current_exe().unwrap_or_default(),
            reason: format!("recording the start of container {id} failed: {e}"),
        });
    }
    Ok(())
}

/// Waits for process `pid` (our child by reparenting) to end.
fn wait_for(pid: i32) -> io::Result<ExitStatus> {
    let pid = Pid::from_raw(pid).ok_or_else(|| io::Error::other("no pid"))?;
    loop {
        match rustix::process::waitpid(Some(pid), WaitOptions::empty()) {
            Ok(Some((_, status))) => {
                if let Some(code) = status.exit_status() {
                    return Ok(ExitStatus::Exited(code));
                }
                if let Some(signal) = status.terminating_signal() {
                    return Ok(ExitStatus::Signaled(signal));
                }
            }
            Ok(None) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

/// Reads and drops what is already in pipe `fd`, without blocking.
fn discard_pending(fd: &OwnedFd) {
    if rustix::fs::fcntl_setfl(fd, rustix::fs::OFlags::NONBLOCK).is_err() {
        return;
    }
    let mut buf = [0u8; 4096];
    while matches!(rustix::io::read(fd, &mut buf), Ok(n) if n > 0) {}
    let _ = rustix::fs::fcntl_setfl(fd, rustix::fs::OFlags::empty());
}

/// A process to start in a running container (`docker exec`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecSpec {
    /// The process: args, env (the container's, with the exec's `-e`
    /// applied), cwd and user.
    pub process: Process,
    /// `-t`: give it a terminal (runc uses its own standard streams, which
    /// must then be a terminal).
    pub tty: bool,
    /// `no_new_privileges`, as the container has it.
    pub no_new_privileges: bool,
    /// Capabilities, as the container has them: `CAP_*` names.
    pub capabilities: Vec<String>,
}

/// Runs `exec` in running container `id` to completion, with this
/// process's standard streams, and returns its status; Docker's 126 or
/// 127 when the command cannot be executed.
pub fn exec(state_dir: &Path, runtime: &str, id: &str, exec: &ExecSpec) -> Result<ExitStatus> {
    let (runc, dir, process_file) = prepare_exec(state_dir, runtime, id, exec)?;
    runc.exec(id, &process_file, &dir.path().join("runc.log"), exec.tty)
}

/// Starts `exec` in running container `id` without waiting for it
/// (`docker exec -d`): no standard streams, no terminal.
pub fn exec_detached(state_dir: &Path, runtime: &str, id: &str, exec: &ExecSpec) -> Result<()> {
    let mut exec = exec.clone();
    exec.tty = false;
    let (runc, dir, process_file) = prepare_exec(state_dir, runtime, id, &exec)?;
    runc.exec_detached(id, &process_file, &dir.path().join("runc.log"))
}

/// Runs `exec` (which must ask for a terminal) in running container `id`
/// to completion with a terminal of its own, the way [`serve`] runs a
/// container with one: what it writes reaches `output` as stdout, `io`
/// gives its input, size and resizes. This works whether or not this
/// process has a terminal itself (`docker exec -t` in a script).
pub fn exec_tty(
    state_dir: &Path,
    runtime: &str,
    id: &str,
    exec: &ExecSpec,
    io: ProcessIo,
    output: &mut dyn FnMut(Stream, &[u8]),
) -> Result<ExitStatus> {
    let (runc, dir, process_file) = prepare_exec(state_dir, runtime, id, exec)?;
    // runc leaves the process to us when it exits.
    rustix::process::set_child_subreaper(Some(rustix::process::getpid()))
        .map_err(io::Error::from)?;
    let socket = ConsoleSocket::new()?;
    let pid = runc.exec_detached_tty(
        id,
        &process_file,
        &dir.path().join("runc.log"),
        &socket.path(),
        &dir.path().join("pid"),
    )?;
    let master = receive_terminal(socket, io.console_size)?;
    wait_while(id, pid, || {
        console::relay(&master, io.stdin, io.resize, output)
    })
}

/// The runtime of running container `id`, a temporary directory for one
/// exec, and `exec`'s process written there for runc.
fn prepare_exec(
    state_dir: &Path,
    runtime: &str,
    id: &str,
    exec: &ExecSpec,
) -> Result<(Runc, tempfile::TempDir, std::path::PathBuf)> {
    let runc = Runc::find(runtime, Bundle::runc_root(state_dir))?;
    if !runc.has_state(id) {
        return Err(Error::NotRunning { id: id.to_owned() });
    }
    let dir = tempfile::Builder::new()
        .prefix("exec-")
        .tempdir_in(state_dir)?;
    let process_file = write_exec_process(id, exec, dir.path())?;
    Ok((runc, dir, process_file))
}

/// Writes `exec`'s process as runc takes it to `dir/process.json`.
fn write_exec_process(id: &str, exec: &ExecSpec, dir: &Path) -> Result<std::path::PathBuf> {
    let process = crate::spec::exec_process(exec).map_err(|source| Error::Spec {
        id: id.to_owned(),
        source,
    })?;
    let json = serde_json::to_vec(&process).map_err(|e| Error::Spec {
        id: id.to_owned(),
        source: e.into(),
    })?;
    let process_file = dir.join("process.json");
    fs::write(&process_file, json)?;
    Ok(process_file)
}

/// Removes what a container's shim leaves when it is killed: runc's
/// state (killing the process if it still runs), the cgroup, the mounts
/// and the bundle. A container that left nothing is fine.
pub fn cleanup_leftovers(state_dir: &Path, runtime: &str, id: &str) -> Result<()> {
    let runc = Runc::find(runtime, Bundle::runc_root(state_dir))?;
    crate::container::remove_leftovers(&Bundle::new(state_dir, id), &runc, &HostMounter, id)
}

/// Whether runc still has container `id` with a live process.
pub fn is_running(state_dir: &Path, runtime: &str, id: &str) -> bool {
    match Runc::find(runtime, Bundle::runc_root(state_dir)) {
        Ok(runc) => runc
            .state(id)
            .is_some_and(|s| s == "running" || s == "created"),
        Err(_) => false,
    }
}
