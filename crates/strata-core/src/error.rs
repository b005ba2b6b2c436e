//! A shared error vocabulary, so callers can branch on what went wrong
//! without downcasting (the CLI picks messages and exit codes from it; the
//! registry maps it to HTTP statuses).

/// What kind of failure an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCategory {
    /// The named thing does not exist.
    NotFound,
    /// It exists already and may not be replaced.
    AlreadyExists,
    /// The input is malformed.
    InvalidArgument,
    /// The request is valid but the current state forbids it (conflicts).
    FailedPrecondition,
    /// A resource is exhausted or busy; retrying later may work.
    Unavailable,
    /// Credentials are missing or wrong.
    Unauthorized,
    /// Data on disk or from a peer is corrupt.
    DataLoss,
    /// Anything else (I/O failures).
    Internal,
}

/// Implemented by every library error type.
pub trait Categorized {
    /// The category of this error.
    fn category(&self) -> ErrorCategory;
}
