//! The runtime's error type. Messages are lowercase and name the container,
//! path or command involved; the CLI maps them to exit codes through
//! [`ErrorCategory`].
//!
//! A process that runs and fails is not an error: [`run`](crate::run),
//! [`exec`](crate::exec) and [`serve`](crate::serve) return its
//! [`ExitStatus`](crate::ExitStatus). Errors are about the machinery: a
//! missing runtime, a mount that fails, a bundle that cannot be written or
//! cleaned up, a container that is not running.

use std::io;
use std::path::PathBuf;

use strata_core::{Categorized, ErrorCategory};

/// A runtime failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request cannot be run as given.
    #[error("invalid run request for container {id}: {reason}")]
    InvalidRequest {
        /// The container ID (as given).
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// The OCI runtime binary is not installed.
    #[error(
        "container runtime {binary:?} not found (looked in PATH, /usr/local/sbin, /usr/sbin and /sbin)"
    )]
    RuntimeNotFound {
        /// The binary as named in the request.
        binary: String,
    },
    /// The runtime binary exists but cannot be started.
    #[error("cannot start {binary}: {source}")]
    Spawn {
        /// The resolved binary.
        binary: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// runc could not start the process (a mount or the working directory
    /// failed; a command that cannot be executed is an exit status
    /// instead). runc's message also went to the output's standard error.
    #[error("container {id} did not start: {message}")]
    Start {
        /// The container ID.
        id: String,
        /// runc's error message.
        message: String,
    },
    /// A runtime command (other than the container's own run) failed.
    #[error("{command} failed: {message}")]
    Command {
        /// The command line, e.g. `runc delete --force build-1`.
        command: String,
        /// Its exit status and standard error.
        message: String,
    },
    /// A root file system mount failed.
    #[error("cannot mount {kind} {source_path} at {}: {source}", target.display())]
    Mount {
        /// The file system type.
        kind: String,
        /// The mount's source.
        source_path: String,
        /// Where on the host.
        target: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A mount could not be removed, even lazily; the bundle is left in
    /// place so that nothing below the mount is deleted.
    #[error("cannot unmount {}: {source}", target.display())]
    Unmount {
        /// Where on the host.
        target: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A mount destination cannot be made inside the root file system.
    #[error("cannot create mount point {destination} in {}: {source}", rootfs.display())]
    MountPoint {
        /// The destination inside the container.
        destination: String,
        /// The root file system on the host.
        rootfs: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The runtime spec could not be built.
    #[error("cannot build config.json for container {id}: {source}")]
    Spec {
        /// The container ID.
        id: String,
        /// Why.
        source: oci_spec::OciSpecError,
    },
    /// The command cannot be executed in the container: not found (exit
    /// code 127) or not executable (126), as Docker reports them.
    #[error("{message}")]
    CannotExecute {
        /// The container ID.
        id: String,
        /// Docker's exit code: 127 or 126.
        code: i32,
        /// runc's message, e.g. `exec: "nosuch": executable file not
        /// found in $PATH`.
        message: String,
    },
    /// The container has no running process (it never started, it
    /// exited, or its runtime state is gone).
    #[error("container {id} is not running")]
    NotRunning {
        /// The container ID.
        id: String,
    },
    /// A process could not be started inside a running container (other
    /// than a command that cannot be executed, which is an exit status).
    #[error("cannot exec in container {id}: {message}")]
    Exec {
        /// The container ID.
        id: String,
        /// runc's error message.
        message: String,
    },
    /// A container's state files under the state directory are missing,
    /// unreadable, or from an unknown layout version.
    #[error("bad state for container {id} in {}: {reason}", dir.display())]
    State {
        /// The container ID.
        id: String,
        /// Its state directory.
        dir: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A shim could not be started, or it did not detach.
    #[error("cannot start shim {}: {reason}", program.display())]
    Shim {
        /// The program that was to become the shim.
        program: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A file system operation failed (the message names the path).
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl Error {
    pub(crate) fn invalid(id: &str, reason: impl Into<String>) -> Error {
        Error::InvalidRequest {
            id: id.to_owned(),
            reason: reason.into(),
        }
    }
}

impl Categorized for Error {
    fn category(&self) -> ErrorCategory {
        match self {
            Error::InvalidRequest { .. } => ErrorCategory::InvalidArgument,
            Error::RuntimeNotFound { .. }
            | Error::Start { .. }
            | Error::NotRunning { .. }
            | Error::CannotExecute { .. }
            | Error::Exec { .. } => ErrorCategory::FailedPrecondition,
            Error::State { .. } => ErrorCategory::NotFound,
            Error::Spawn { .. }
            | Error::Command { .. }
            | Error::Mount { .. }
            | Error::Unmount { .. }
            | Error::MountPoint { .. }
            | Error::Spec { .. }
            | Error::Shim { .. }
            | Error::Io(_) => ErrorCategory::Internal,
        }
    }
}

/// Shorthand for runtime results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_and_name_what_failed() {
        let cases = [
            (
                Error::RuntimeNotFound {
                    binary: "crun-nope".into(),
                },
                "container runtime \"crun-nope\" not found",
            ),
            (
                Error::invalid("b1", "rootfs is empty"),
                "invalid run request for container b1: rootfs is empty",
            ),
            (
                Error::Mount {
                    kind: "overlay".into(),
                    source_path: "overlay".into(),
                    target: "/s/bundles/b1/rootfs".into(),
                    source: io::Error::from_raw_os_error(22),
                },
                "cannot mount overlay overlay at /s/bundles/b1/rootfs: ",
            ),
        ];
        for (err, prefix) in cases {
            let msg = err.to_string();
            assert!(
                msg.starts_with(prefix),
                "{msg:?} should start with {prefix:?}"
            );
            assert!(msg.chars().next().unwrap().is_lowercase(), "{msg}");
        }
        assert_eq!(
            Error::invalid("x", "y").category(),
            ErrorCategory::InvalidArgument
        );
    }
}
