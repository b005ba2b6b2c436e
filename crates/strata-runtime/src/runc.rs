//! Driving the OCI runtime binary (runc's command line: `--root`, `run`,
//! `delete`), streaming the process's output, and reading runc's verdict.
//!
//! `runc run` in the foreground hands its own standard output and error to
//! the container process, so two pipes carry the process's output; runc's
//! own error (if it could not start the process) also arrives on standard
//! error, and in the JSON log, where we read it: a command that cannot be
//! executed gets Docker's exit code 127 or 126, any other failure to start
//! (a mount, the working directory) is an [`Error::Start`].

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use serde::Deserialize;

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::request::{ExitStatus, Stream};

/// Directories searched after `PATH`: runc lives in `sbin`, which a
/// non-login `PATH` may lack.
const SBIN: [&str; 3] = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/// Docker's exit code for a command that is not found.
const NOT_FOUND: i32 = 127;
/// Docker's exit code for a command that cannot be executed.
const NOT_EXECUTABLE: i32 = 126;

/// One runtime binary with one state root.
#[derive(Clone, Debug)]
pub(crate) struct Runc {
    binary: PathBuf,
    root: PathBuf,
}

impl Runc {
    /// Finds `binary` (a name or a path) and uses `root` for its state.
    pub(crate) fn find(binary: &str, root: PathBuf) -> Result<Runc> {
        let not_found = || Error::RuntimeNotFound {
            binary: binary.to_owned(),
        };
        if binary.is_empty() {
            return Err(not_found());
        }
        let resolved = if binary.contains('/') {
            Some(PathBuf::from(binary)).filter(|p| is_executable(p))
        } else {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .chain(SBIN.iter().map(PathBuf::from))
                .map(|dir| dir.join(binary))
                .find(|p| is_executable(p))
        };
        Ok(Runc {
            binary: resolved.ok_or_else(not_found)?,
            root,
        })
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        // runc needs nothing from our environment, and variables such as
        // `_LIBCONTAINER_*` or `XDG_RUNTIME_DIR` would change what it does.
        cmd.env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd.arg("--root").arg(&self.root);
        cmd
    }

    /// `runc run`: runs container `id` from `bundle` to completion,
    /// passing output chunks to `output` as they arrive.
    pub(crate) fn run(
        &self,
        id: &str,
        bundle: &Bundle,
        output: &mut dyn FnMut(Stream, &[u8]),
    ) -> Result<ExitStatus> {
        let mut cmd = self.command();
        cmd.arg("--log")
            .arg(bundle.log())
            .arg("--log-format")
            .arg("json")
            .arg("run")
            .arg("--bundle")
            .arg(bundle.dir())
            .arg(id)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|source| Error::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let pumped = pump(stdout, stderr, output);
        let status = child.wait().map_err(|source| Error::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        pumped?;
        let status = match (
            status.code(),
            std::os::unix::process::ExitStatusExt::signal(&status),
        ) {
            (Some(code), _) => ExitStatus::from_runc_code(code),
            (None, Some(signal)) => {
                tracing::warn!(id, signal, "the runtime itself was killed");
                ExitStatus::Signaled(signal)
            }
            (None, None) => ExitStatus::Exited(-1),
        };
        // runc exits 1 both when the process does and when it cannot start
        // the process; only the latter logs an error.
        let errors = log_errors(&bundle.log());
        match (status, errors.last()) {
            (ExitStatus::Exited(1), Some(msg)) => match exec_failure_code(msg) {
                Some(code) => Ok(ExitStatus::Exited(code)),
                None => Err(Error::Start {
                    id: id.to_owned(),
                    message: msg.clone(),
                }),
            },
            _ => Ok(status),
        }
    }

    /// `runc create`: creates container `id` from `bundle` with the given
    /// standard streams (the process inherits them; with a terminal runc
    /// sends its master end to `console_socket` instead), and returns the host
    /// PID of its process, which waits for [`Runc::start`].
    pub(crate) fn create(
        &self,
        id: &str,
        bundle: &Bundle,
        console_socket: Option<&Path>,
        [stdin, stdout, stderr]: [Stdio; 3],
    ) -> Result<i32> {
        let mut cmd = self.command();
        cmd.arg("--log")
            .arg(bundle.log())
            .arg("--log-format")
            .arg("json")
            .arg("create")
            .arg("--bundle")
            .arg(bundle.dir())
            .arg("--pid-file")
            .arg(bundle.pid_file());
        if let Some(socket) = console_socket {
            cmd.arg("--console-socket").arg(socket);
        }
        cmd.arg(id).stdin(stdin).stdout(stdout).stderr(stderr);
        let status = cmd.status().map_err(|source| Error::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        // `cmd` still holds the pipes' write ends: close them now so the
        // reader sees the end of output when the process exits.
        drop(cmd);
        if !status.success() {
            let message = log_errors(&bundle.log())
                .pop()
                .unwrap_or_else(|| format!("runc create failed: {status}"));
            return Err(match exec_failure_code(&message) {
                Some(code) => Error::CannotExecute {
                    id: id.to_owned(),
                    code,
                    message,
                },
                None => Error::Start {
                    id: id.to_owned(),
                    message,
                },
            });
        }
        let text = std::fs::read_to_string(bundle.pid_file())?;
        text.trim().parse().map_err(|_| Error::Start {
            id: id.to_owned(),
            message: format!("runc wrote a bad pid file: {text:?}"),
        })
    }

    /// `runc start`: lets created container `id` run its command.
    pub(crate) fn start(&self, id: &str) -> Result<()> {
        self.simple(&["start", id], id)
    }

    /// `runc state`: the container's status (`created`, `running`,
    /// `stopped`), or `None` when runc does not know it.
    pub(crate) fn state(&self, id: &str) -> Option<String> {
        #[derive(Deserialize)]
        struct State {
            status: String,
        }
        if !self.has_state(id) {
            return None;
        }
        let out = self
            .command()
            .args(["state", id])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let state: State = serde_json::from_slice(&out.stdout).ok()?;
        Some(state.status)
    }

    /// `runc exec --process FILE id` in the foreground with this process's
    /// standard streams; runc forwards signals to the process.
    pub(crate) fn exec(
        &self,
        id: &str,
        process: &Path,
        log: &Path,
        tty: bool,
    ) -> Result<ExitStatus> {
        let mut cmd = self.exec_command(process, log);
        if tty {
            cmd.arg("--tty");
        }
        cmd.arg(id);
        let status = cmd.status().map_err(|source| Error::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        let status = match status.code() {
            Some(code) => ExitStatus::from_runc_code(code),
            None => ExitStatus::Signaled(
                std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(9),
            ),
        };
        exec_outcome(id, status, log)
    }

    /// `runc exec --detach --tty`: starts the process of `process` (which
    /// asks for a terminal) in container `id`, sends the terminal's master
    /// end to `console_socket`, and returns the process's host PID.
    pub(crate) fn exec_detached_tty(
        &self,
        id: &str,
        process: &Path,
        log: &Path,
        console_socket: &Path,
        pid_file: &Path,
    ) -> Result<i32> {
        let mut cmd = self.exec_command(process, log);
        cmd.args(["--detach", "--tty", "--console-socket"])
            .arg(console_socket)
            .arg("--pid-file")
            .arg(pid_file);
        self.run_detached_exec(cmd, id, log)?;
        let text = std::fs::read_to_string(pid_file)?;
        text.trim().parse().map_err(|_| Error::Exec {
            id: id.to_owned(),
            message: format!("runc wrote a bad pid file: {text:?}"),
        })
    }

    /// `runc exec --detach`: starts the process of `process` in container
    /// `id` with no standard streams and returns once it runs.
    pub(crate) fn exec_detached(&self, id: &str, process: &Path, log: &Path) -> Result<()> {
        let mut cmd = self.exec_command(process, log);
        cmd.arg("--detach");
        self.run_detached_exec(cmd, id, log)
    }

    /// Runs a `runc exec --detach ...` command line for container `id`
    /// without standard streams; runc's failure is the logged reason.
    fn run_detached_exec(&self, mut cmd: Command, id: &str, log: &Path) -> Result<()> {
        cmd.arg(id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let status = cmd.status().map_err(|source| Error::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        let code = status.code().unwrap_or(255);
        exec_outcome(id, ExitStatus::Exited(code), log)?;
        if code != 0 {
            return Err(Error::Exec {
                id: id.to_owned(),
                message: format!("runc exec failed: {status}"),
            });
        }
        Ok(())
    }

    fn exec_command(&self, process: &Path, log: &Path) -> Command {
        let mut cmd = self.command();
        cmd.arg("--log")
            .arg(log)
            .arg("--log-format")
            .arg("json")
            .arg("exec")
            .arg("--process")
            .arg(process);
        cmd
    }

    /// Runs `runc ARGS` and turns a failure into [`Error::Command`].
    fn simple(&self, args: &[&str], id: &str) -> Result<()> {
        let out = self
            .command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| Error::Spawn {
                binary: self.binary.clone(),
                source,
            })?;
        if out.status.success() {
            return Ok(());
        }
        Err(Error::Command {
            command: format!("{} {}", self.binary.display(), args.join(" ")),
            message: format!(
                "{}: {} (container {id})",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })
    }

    /// Whether runc keeps state for container `id`.
    pub(crate) fn has_state(&self, id: &str) -> bool {
        self.root.join(id).exists()
    }

    /// `runc delete --force`: kills container `id` if it still runs and
    /// forgets it.
    pub(crate) fn delete(&self, id: &str) -> Result<()> {
        let mut cmd = self.command();
        cmd.args(["delete", "--force", id]).stdin(Stdio::null());
        let out = cmd.output().map_err(|source| Error::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        if out.status.success() || !self.has_state(id) {
            return Ok(());
        }
        Err(Error::Command {
            command: format!(
                "{} --root {} delete --force {id}",
                self.binary.display(),
                self.root.display()
            ),
            message: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })
    }
}

fn is_executable(path: &Path) -> bool {
    rustix::fs::access(path, rustix::fs::Access::EXEC_OK).is_ok() && path.is_file()
}

/// Forwards chunks from both pipes to `output` on this thread (the
/// callback need not be `Send`), until both are closed.
pub(crate) fn pump(
    stdout: impl Read + Send,
    stderr: impl Read + Send,
    output: &mut dyn FnMut(Stream, &[u8]),
) -> io::Result<()> {
    let (tx, rx) = mpsc::sync_channel::<(Stream, Vec<u8>)>(64);
    std::thread::scope(|scope| {
        let readers = [
            scope.spawn({
                let tx = tx.clone();
                move || forward(stdout, Stream::Stdout, tx)
            }),
            scope.spawn(move || forward(stderr, Stream::Stderr, tx)),
        ];
        for (stream, chunk) in rx {
            output(stream, &chunk);
        }
        readers.into_iter().try_for_each(|r| {
            r.join()
                .unwrap_or_else(|_| Err(io::Error::other("output reader panicked")))
        })
    })
}

fn forward(
    mut pipe: impl Read,
    stream: Stream,
    tx: mpsc::SyncSender<(Stream, Vec<u8>)>,
) -> io::Result<()> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                if tx.send((stream, buf[..n].to_vec())).is_err() {
                    return Ok(()); // the receiver is gone (its callback panicked)
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[derive(Deserialize)]
struct LogLine {
    level: String,
    msg: String,
}

/// An exec's status, or why it failed when runc logged an error: Docker's
/// 126 or 127 when the command could not be executed.
fn exec_outcome(id: &str, status: ExitStatus, log: &Path) -> Result<ExitStatus> {
    match (status, log_errors(log).pop()) {
        (ExitStatus::Exited(c), Some(message)) if c != 0 => {
            Err(match exec_failure_code(&message) {
                Some(code) => Error::CannotExecute {
                    id: id.to_owned(),
                    code,
                    message,
                },
                None => Error::Exec {
                    id: id.to_owned(),
                    message,
                },
            })
        }
        _ => Ok(status),
    }
}

/// The error messages in runc's JSON log; warnings go to tracing.
fn log_errors(log: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(log) else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    for line in text.lines() {
        match serde_json::from_str::<LogLine>(line) {
            Ok(l) if l.level == "error" || l.level == "fatal" => errors.push(l.msg),
            Ok(l) if l.level == "warning" => {
                tracing::warn!(log = %log.display(), "runc: {}", l.msg)
            }
            Ok(l) => tracing::debug!(log = %log.display(), "runc: {}", l.msg),
            Err(_) => tracing::debug!(log = %log.display(), "runc: {line}"),
        }
    }
    errors
}

/// Docker's exit code for runc's failure to execute the command: 127 when
/// it does not exist, 126 when it cannot be executed; `None` for other
/// failures (a bad mount, a bad working directory), which keep runc's code.
fn exec_failure_code(msg: &str) -> Option<i32> {
    let (_, exec) = msg.split_once("unable to start container process: exec")?;
    if exec.contains("executable file not found") || exec.contains("no such file or directory") {
        Some(NOT_FOUND)
    } else if exec.contains("permission denied") || exec.contains("exec format error") {
        Some(NOT_EXECUTABLE)
    } else {
        None
    }
}

/// Removes container `id`'s cgroup in every hierarchy if runc left it
/// (it does not when it is killed). Failures are logged: an empty cgroup
/// directory costs nothing, and a busy one cannot be removed anyway.
pub(crate) fn remove_cgroups(id: &str) {
    let base = Path::new("/sys/fs/cgroup");
    let rel = Path::new(crate::defaults::CGROUP_PARENT).join(id);
    let mut candidates = vec![base.join(&rel)];
    if let Ok(entries) = std::fs::read_dir(base) {
        candidates.extend(entries.flatten().map(|e| e.path().join(&rel)));
    }
    for dir in candidates {
        match std::fs::remove_dir(&dir) {
            Ok(()) => tracing::debug!(dir = %dir.display(), "removed a leftover cgroup"),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) => {}
            Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "cannot remove cgroup"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_failures_get_dockers_codes() {
        let table = [
            (
                r#"runc run failed: unable to start container process: exec: "nosuch": executable file not found in $PATH"#,
                Some(127),
            ),
            (
                r#"runc run failed: unable to start container process: exec: "/nosuch": stat /nosuch: no such file or directory"#,
                Some(127),
            ),
            (
                r#"runc run failed: unable to start container process: exec: "/etc/passwd": permission denied"#,
                Some(126),
            ),
            (
                r#"runc run failed: unable to start container process: error during container init: error mounting "/x" to rootfs at "/y": no such file or directory"#,
                None,
            ),
            ("something else", None),
        ];
        for (msg, code) in table {
            assert_eq!(exec_failure_code(msg), code, "{msg}");
        }
    }

    #[test]
    fn a_missing_runtime_is_named() {
        let err = Runc::find("strata-no-such-runtime", "/tmp/x".into()).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"strata-no-such-runtime\" not found"),
            "{err}"
        );
        assert!(Runc::find("/nonexistent/runc", "/tmp/x".into()).is_err());
        assert!(Runc::find("", "/tmp/x".into()).is_err());
        assert!(Runc::find("sh", "/tmp/x".into()).is_ok());
    }

    #[test]
    fn pump_delivers_both_streams_in_order() {
        let mut got: Vec<(Stream, Vec<u8>)> = Vec::new();
        pump(&b"out"[..], &b"err"[..], &mut |s, d| {
            got.push((s, d.to_vec()))
        })
        .unwrap();
        got.sort();
        assert_eq!(
            got,
            [
                (Stream::Stdout, b"out".to_vec()),
                (Stream::Stderr, b"err".to_vec())
            ]
        );
    }

    #[test]
    fn log_errors_reads_json_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("runc.log");
        std::fs::write(
            &log,
            "{\"level\":\"warning\",\"msg\":\"w\",\"time\":\"t\"}\nnot json\n{\"level\":\"error\",\"msg\":\"boom\",\"time\":\"t\"}\n",
        )
        .unwrap();
        assert_eq!(log_errors(&log), ["boom"]);
        assert!(log_errors(&tmp.path().join("absent")).is_empty());
    }
}
