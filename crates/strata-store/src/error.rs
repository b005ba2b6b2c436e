//! The store's error type. Messages are lowercase and name the digest,
//! reference or path involved; the CLI adds context and picks exit codes
//! from [`ErrorCategory`].

use std::path::PathBuf;

use strata_core::{Categorized, Digest, ErrorCategory};

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No image matches what the user named.
    #[error("No such image: {0}")]
    ImageNotFound(String),
    /// No container matches what the user named.
    #[error("No such container: {0}")]
    ContainerNotFound(String),
    /// No volume has this name.
    #[error("get {0}: no such volume")]
    VolumeNotFound(String),
    /// A blob is absent.
    #[error("blob {0} not found in the store")]
    BlobNotFound(Digest),
    /// Received bytes do not hash to what was promised.
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was being read.
        what: String,
        /// The promised digest.
        expected: Digest,
        /// What the bytes hash to.
        actual: Digest,
    },
    /// A string that is not a valid reference.
    #[error("{err}")]
    Reference {
        /// What the user typed.
        input: String,
        /// Docker's complaint.
        err: strata_core::ReferenceError,
    },
    /// A short ID prefix matches more than one image.
    #[error("ambiguous image ID prefix {0:?}: more than one image matches")]
    Ambiguous(String),
    /// An archive or tarball is malformed or hostile.
    #[error("invalid archive: {0}")]
    InvalidArchive(String),
    /// A layer tar is malformed or hostile.
    #[error("invalid layer {layer}: {reason}")]
    InvalidLayer {
        /// Which layer (archive path or digest).
        layer: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A manifest or config that cannot be used.
    #[error("invalid image: {0}")]
    InvalidImage(String),
    /// An operation conflicts with the store's state (Docker's conflicts).
    #[error("{0}")]
    Conflict(String),
    /// The on-disk layout is newer than this binary understands.
    #[error(
        "store at {path} has layout version {found}; this strata understands version {supported}"
    )]
    LayoutVersion {
        /// The store root.
        path: PathBuf,
        /// The version found.
        found: String,
        /// The version supported.
        supported: u32,
    },
    /// The metadata database failed.
    #[error("metadata database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A filesystem operation failed (the message names the path).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// JSON that could not be parsed.
    #[error("invalid JSON in {what}: {err}")]
    Json {
        /// What was being parsed.
        what: String,
        /// The parser's complaint.
        err: serde_json::Error,
    },
}

impl StoreError {
    pub(crate) fn json(what: impl Into<String>, err: serde_json::Error) -> StoreError {
        StoreError::Json {
            what: what.into(),
            err,
        }
    }

    pub(crate) fn archive(msg: impl Into<String>) -> StoreError {
        StoreError::InvalidArchive(msg.into())
    }
}

impl Categorized for StoreError {
    fn category(&self) -> ErrorCategory {
        match self {
            StoreError::ImageNotFound(_)
            | StoreError::ContainerNotFound(_)
            | StoreError::VolumeNotFound(_)
            | StoreError::BlobNotFound(_) => ErrorCategory::NotFound,
            StoreError::DigestMismatch { .. } => ErrorCategory::DataLoss,
            StoreError::Ambiguous(_)
            | StoreError::InvalidArchive(_)
            | StoreError::InvalidLayer { .. }
            | StoreError::InvalidImage(_)
            | StoreError::Reference { .. }
            | StoreError::Json { .. } => ErrorCategory::InvalidArgument,
            StoreError::Conflict(_) | StoreError::LayoutVersion { .. } => {
                ErrorCategory::FailedPrecondition
            }
            StoreError::Db(_) | StoreError::Io(_) => ErrorCategory::Internal,
        }
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
