//! Errors in the shape the distribution spec gives them: an HTTP status and
//! `{"errors":[{"code","message","detail"}]}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error code of the distribution spec (plus Docker's `UNAUTHORIZED`
/// and `DENIED` semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Blob unknown to registry.
    BlobUnknown,
    /// Blob upload invalid.
    BlobUploadInvalid,
    /// Blob upload unknown to registry.
    BlobUploadUnknown,
    /// Provided digest did not match uploaded content.
    DigestInvalid,
    /// Manifest references a manifest or blob unknown to registry.
    ManifestBlobUnknown,
    /// Manifest invalid.
    ManifestInvalid,
    /// Manifest unknown to registry.
    ManifestUnknown,
    /// Invalid repository name.
    NameInvalid,
    /// Repository name not known to registry.
    NameUnknown,
    /// Provided length did not match content length.
    SizeInvalid,
    /// Authentication required.
    Unauthorized,
    /// Requested access to the resource is denied.
    Denied,
    /// The operation is unsupported.
    Unsupported,
    /// Too many requests.
    TooManyRequests,
}

impl Code {
    /// The code as the spec spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BlobUnknown => "BLOB_UNKNOWN",
            Code::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            Code::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            Code::DigestInvalid => "DIGEST_INVALID",
            Code::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            Code::ManifestInvalid => "MANIFEST_INVALID",
            Code::ManifestUnknown => "MANIFEST_UNKNOWN",
            Code::NameInvalid => "NAME_INVALID",
            Code::NameUnknown => "NAME_UNKNOWN",
            Code::SizeInvalid => "SIZE_INVALID",
            Code::Unauthorized => "UNAUTHORIZED",
            Code::Denied => "DENIED",
            Code::Unsupported => "UNSUPPORTED",
            Code::TooManyRequests => "TOOMANYREQUESTS",
        }
    }

    fn default_status(self) -> StatusCode {
        match self {
            Code::BlobUnknown
            | Code::BlobUploadUnknown
            | Code::ManifestUnknown
            | Code::NameUnknown => StatusCode::NOT_FOUND,
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Denied => StatusCode::FORBIDDEN,
            Code::Unsupported => StatusCode::METHOD_NOT_ALLOWED,
            Code::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// A refused request.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The spec's code.
    pub code: Code,
    /// A message for people.
    pub message: String,
    /// Extra headers (`WWW-Authenticate`, `Range`).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// An error with the code's usual status.
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            status: code.default_status(),
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// The same error with another status.
    pub fn status(mut self, status: StatusCode) -> ApiError {
        self.status = status;
        self
    }

    /// The same error with one more header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> ApiError {
        self.headers.push((name, value.into()));
        self
    }

    /// A failure of ours (storage, I/O): 500, logged.
    pub fn internal(err: impl std::fmt::Display) -> ApiError {
        tracing::error!("internal error: {err}");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: Code::Unsupported,
            message: format!("internal error: {err}"),
            headers: Vec::new(),
        }
    }
}

impl From<strata_store::StoreError> for ApiError {
    fn from(e: strata_store::StoreError) -> ApiError {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "errors": [{ "code": self.code.as_str(), "message": self.message, "detail": null }]
        });
        let mut resp = (self.status, body.to_string()).into_response();
        let h = resp.headers_mut();
        h.insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        );
        for (name, value) in self.headers {
            if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
        resp
    }
}

/// Handler results.
pub type ApiResult<T> = std::result::Result<T, ApiError>;
