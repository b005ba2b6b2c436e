//! What can go wrong talking to a registry.

use strata_core::{Categorized, ErrorCategory};

/// A registry client error, worded for the user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The registry has no such repository, tag, manifest or blob.
    #[error("{0}")]
    NotFound(String),
    /// The registry wants credentials we do not have, or refused ours.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The registry answered with an error.
    #[error("{0}")]
    Registry(String),
    /// What the registry sent is wrong (digest mismatch, bad JSON, ...).
    #[error("{0}")]
    Invalid(String),
    /// The registry could not be reached.
    #[error("{0}")]
    Http(String),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] strata_store::StoreError),
    /// A local I/O error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Error {
    pub(crate) fn from_reqwest(e: reqwest::Error) -> Error {
        // reqwest's Display hides the cause ("error sending request").
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(&format!(": {s}"));
            source = s.source();
        }
        // Say it as Docker does, and where the registry's CA goes.
        if text.contains("UnknownIssuer") {
            let host = e.url().and_then(|u| {
                Some(match u.port() {
                    Some(p) => format!("{}:{p}", u.host_str()?),
                    None => u.host_str()?.to_owned(),
                })
            });
            text.push_str(&format!(
                " (x509: certificate signed by unknown authority; trust its CA by putting it in {}/{}/ca.crt)",
                crate::endpoint::DOCKER_CERTS_D,
                host.as_deref().unwrap_or("<host:port>")
            ));
        }
        Error::Http(text)
    }
}

impl Categorized for Error {
    fn category(&self) -> ErrorCategory {
        match self {
            Error::NotFound(_) => ErrorCategory::NotFound,
            Error::Unauthorized(_) => ErrorCategory::Unauthorized,
            Error::Invalid(_) => ErrorCategory::InvalidArgument,
            Error::Store(e) => e.category(),
            Error::Http(_) => ErrorCategory::Unavailable,
            _ => ErrorCategory::Internal,
        }
    }
}

/// A registry client result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
