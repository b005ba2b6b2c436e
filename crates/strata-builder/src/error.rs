//! Build errors. Messages name the step (`[stage 2/5] RUN make`) and what
//! failed; the CLI prints them and exits non-zero.

use strata_store::StoreError;

/// A build failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The Dockerfile does not parse; the text is the rendered diagnostics
    /// (`Dockerfile:3:1: unknown instruction: FOO` and the offending line).
    #[error("{0}")]
    Dockerfile(String),
    /// An instruction cannot be carried out (bad arguments, missing files).
    #[error("{step}: {message}")]
    Step {
        /// The step, as progress shows it.
        step: String,
        /// What went wrong.
        message: String,
    },
    /// A `RUN` command exited non-zero.
    #[error("{step}: process \"{command}\" did not complete successfully: exit code: {code}{}", tail_text(.tail))]
    RunFailed {
        /// The step, as progress shows it.
        step: String,
        /// The command as written.
        command: String,
        /// Its exit code.
        code: i32,
        /// Its last output lines.
        tail: Vec<String>,
    },
    /// A base image that is not in the store.
    #[error("{0}")]
    BaseImage(String),
    /// `--target` or `--from` names no stage.
    #[error("{0}")]
    Stage(String),
    /// A layer blob that cannot be read.
    #[error("{0}")]
    Layer(String),
    /// The build context cannot be read.
    #[error("build context: {0}")]
    Context(String),
    /// Another stage failed, so this one did not run.
    #[error("stage {0} did not build")]
    Dependency(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The snapshotter failed.
    #[error(transparent)]
    Snapshot(#[from] strata_snapshot::Error),
    /// The runtime failed.
    #[error(transparent)]
    Runtime(#[from] strata_runtime::Error),
    /// A file system operation failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn tail_text(tail: &[String]) -> String {
    if tail.is_empty() {
        return String::new();
    }
    let mut s = String::from("\nlast output:");
    for line in tail {
        s.push_str("\n  ");
        s.push_str(line);
    }
    s
}

/// Shorthand for build results.
pub type Result<T, E = BuildError> = std::result::Result<T, E>;

/// Attaches a step name to plain messages.
pub(crate) fn step_error(step: &str, message: impl Into<String>) -> BuildError {
    BuildError::Step {
        step: step.to_owned(),
        message: message.into(),
    }
}
