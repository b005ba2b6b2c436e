//! What can go wrong with a container, worded as Docker words it; the CLI
//! adds `Error response from daemon: ` where Docker's daemon would.

use strata_core::{Categorized, ErrorCategory};

/// A container operation's failure.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// A bad flag value or a request that cannot be met ("invalid mount
    /// config ...", "no command specified").
    #[error("{0}")]
    Invalid(String),
    /// The operation conflicts with the container's state ("You cannot
    /// remove a running container ...").
    #[error("{0}")]
    Conflict(String),
    /// The container is not running (`exec`, `kill`).
    #[error("Container {0} is not running")]
    NotRunning(String),
    /// The command cannot be executed: Docker's exit code 126 or 127.
    #[error("failed to create shim task: OCI runtime create failed: {message}: unknown")]
    CannotExecute {
        /// 126 or 127.
        code: i32,
        /// runc's message.
        message: String,
    },
    /// The runtime failed.
    #[error(transparent)]
    Runtime(#[from] strata_runtime::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] strata_store::StoreError),
    /// Snapshots failed.
    #[error(transparent)]
    Snapshot(#[from] strata_snapshot::SnapshotError),
    /// A file operation failed (the message names the path).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl ContainerError {
    /// The exit code `run`/`start` should give for this failure: 126 or
    /// 127 for a command that cannot run, else Docker's 125.
    pub fn exit_code(&self) -> u8 {
        match self {
            ContainerError::CannotExecute { code, .. } => *code as u8,
            _ => 125,
        }
    }
}

impl Categorized for ContainerError {
    fn category(&self) -> ErrorCategory {
        match self {
            ContainerError::Invalid(_) => ErrorCategory::InvalidArgument,
            ContainerError::Conflict(_)
            | ContainerError::NotRunning(_)
            | ContainerError::CannotExecute { .. } => ErrorCategory::FailedPrecondition,
            ContainerError::Runtime(e) => e.category(),
            ContainerError::Store(e) => e.category(),
            ContainerError::Snapshot(e) => e.category(),
            ContainerError::Io(_) => ErrorCategory::Internal,
        }
    }
}

/// The result of a container operation.
pub type Result<T, E = ContainerError> = std::result::Result<T, E>;
