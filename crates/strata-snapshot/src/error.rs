//! The snapshotter's error type. Messages are lowercase and name the path,
//! chain ID or key involved; callers branch on [`ErrorCategory`].

use std::io;
use std::path::{Path, PathBuf};

use strata_core::{Categorized, Digest, ErrorCategory};

/// A snapshotter failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// A filesystem operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("create", "read", …).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The system's complaint.
        source: io::Error,
    },
    /// A layer tar is malformed or hostile.
    #[error("invalid layer entry {entry:?}: {reason}")]
    InvalidEntry {
        /// The entry's name as found in the tar.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A tar stream that cannot be read at all.
    #[error("invalid layer tar for {chain}: {source}")]
    InvalidTar {
        /// The snapshot being unpacked.
        chain: Digest,
        /// The reader's complaint.
        source: io::Error,
    },
    /// A path handed to the layer writer that a layer cannot hold.
    #[error("cannot write {path:?} into a layer: {reason}")]
    InvalidPath {
        /// The path given.
        path: String,
        /// Why it is refused.
        reason: String,
    },
    /// An active snapshot key that is not a plain name.
    #[error("invalid snapshot key {0:?}: use 1 to 64 of [A-Za-z0-9_.-], not starting with a dot")]
    InvalidKey(String),
    /// An active snapshot with this key exists already.
    #[error("active snapshot {key:?} already exists at {path}")]
    ActiveExists {
        /// The key asked for.
        key: String,
        /// Where it lives.
        path: PathBuf,
    },
    /// Something that must exist does not.
    #[error("{what} not found: {path}")]
    NotFound {
        /// What was looked for ("lower dir", "active snapshot", …).
        what: &'static str,
        /// Where.
        path: PathBuf,
    },
    /// The overlay options do not fit in one page even with short names.
    #[error(
        "overlay mount over {layers} layers needs {len} bytes of options; the limit is {limit}"
    )]
    MountTooLong {
        /// How many lower layers.
        layers: usize,
        /// The length of the shortest option string.
        len: usize,
        /// The kernel's limit.
        limit: usize,
    },
    /// Two chain IDs share a short lowerdir name (80 bits); refuse rather
    /// than mount the wrong layer.
    #[error("short link {link} points to {found:?}, not to the layer {chain}")]
    ShortLinkCollision {
        /// The link.
        link: PathBuf,
        /// Where it points.
        found: PathBuf,
        /// The chain that wanted it.
        chain: Digest,
    },
    /// An upper dir uses something a layer cannot express.
    #[error("cannot turn {path} into a layer: {reason}")]
    Unsupported {
        /// The path in the upper dir.
        path: PathBuf,
        /// The feature.
        reason: String,
    },
    /// A lower dir that needs a short link but is not a committed
    /// snapshot of this directory.
    #[error(
        "lower dir {0} is not a committed snapshot here; too many layers for absolute lowerdir paths"
    )]
    NotCommitted(PathBuf),
    /// Symlinks nest too deeply to resolve.
    #[error("too many levels of symbolic links resolving {0}")]
    SymlinkLoop(String),
}

impl SnapshotError {
    /// A closure turning an I/O error into [`SnapshotError::Io`].
    pub(crate) fn io(op: &'static str, path: impl AsRef<Path>) -> impl FnOnce(io::Error) -> Self {
        let path = path.as_ref().to_path_buf();
        move |source| SnapshotError::Io { op, path, source }
    }

    /// Like [`SnapshotError::io`], for rustix's `Errno`.
    pub(crate) fn errno(
        op: &'static str,
        path: impl AsRef<Path>,
    ) -> impl FnOnce(rustix::io::Errno) -> Self {
        let path = path.as_ref().to_path_buf();
        move |e| SnapshotError::Io {
            op,
            path,
            source: e.into(),
        }
    }

    pub(crate) fn entry(entry: impl Into<String>, reason: impl Into<String>) -> Self {
        SnapshotError::InvalidEntry {
            entry: entry.into(),
            reason: reason.into(),
        }
    }

    /// The underlying OS error number, when there is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            SnapshotError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

impl Categorized for SnapshotError {
    fn category(&self) -> ErrorCategory {
        match self {
            SnapshotError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                ErrorCategory::NotFound
            }
            SnapshotError::Io { .. } => ErrorCategory::Internal,
            SnapshotError::InvalidEntry { .. }
            | SnapshotError::InvalidTar { .. }
            | SnapshotError::InvalidPath { .. }
            | SnapshotError::InvalidKey(_)
            | SnapshotError::SymlinkLoop(_) => ErrorCategory::InvalidArgument,
            SnapshotError::ActiveExists { .. } => ErrorCategory::AlreadyExists,
            SnapshotError::NotFound { .. } => ErrorCategory::NotFound,
            SnapshotError::MountTooLong { .. }
            | SnapshotError::Unsupported { .. }
            | SnapshotError::ShortLinkCollision { .. }
            | SnapshotError::NotCommitted(_) => ErrorCategory::FailedPrecondition,
        }
    }
}

/// Shorthand for snapshotter results.
pub type Result<T, E = SnapshotError> = std::result::Result<T, E>;
