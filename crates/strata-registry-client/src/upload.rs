//! Blob uploads: a session opened with `POST` (or a cross-repository
//! mount), then the bytes in one `PUT ?digest=`.

use std::io::Read;
use std::sync::Mutex;

use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE};
use strata_core::{Digest, Reference};

use crate::client::{Client, registry_error, repo_scope};
use crate::error::{Error, Result};

/// How a blob goes up.
#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    /// Another repository (path) of the same registry to mount the blob
    /// from, when the registry agrees.
    pub mount_from: Option<String>,
    /// `PATCH` chunks of this many bytes, then an empty `PUT` (None: the
    /// whole blob in the `PUT`).
    pub chunk_size: Option<u64>,
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uploaded {
    /// The registry mounted the blob from this repository.
    Mounted(String),
    /// The bytes went up.
    Sent,
}

impl Client {
    /// Uploads blob `digest` of `size` bytes from `body`. `POST` opens
    /// the session; with [`UploadOptions::mount_from`] it asks to mount
    /// the blob instead (201: done; 202: the registry opened a plain
    /// session, which is used). Then the bytes go in one `PUT ?digest=`,
    /// or with [`UploadOptions::chunk_size`] in `PATCH` chunks and an
    /// empty closing `PUT ?digest=`. A registry answering a chunk with 416
    /// fails the upload.
    pub fn upload_blob(
        &self,
        name: &Reference,
        digest: &Digest,
        size: u64,
        body: impl Read + Send + 'static,
        opts: &UploadOptions,
    ) -> Result<Uploaded> {
        let (domain, repo) = (name.domain(), name.path());
        let base = self.base_url(domain);
        let mut scopes = vec![repo_scope(repo, "pull,push")];
        let mut start = format!("{base}/v2/{repo}/blobs/uploads/");
        if let Some(from) = &opts.mount_from {
            scopes.push(repo_scope(from, "pull"));
            start.push_str(&format!("?mount={digest}&from={from}"));
        }
        let resp = self.send(domain, &scopes, &|h| h.post(&start))?;
        match (resp.status(), &opts.mount_from) {
            (StatusCode::CREATED, Some(from)) => return Ok(Uploaded::Mounted(from.clone())),
            (StatusCode::ACCEPTED, _) => {}
            _ => {
                return Err(registry_error(
                    resp,
                    &format!("starting the upload of {digest}"),
                ));
            }
        }
        let mut location = location(&resp, &base)?;
        let body = match opts.chunk_size {
            Some(chunk) => {
                location = self.send_chunks(name, &scopes, &location, digest, body, chunk)?;
                None
            }
            None => Some(body),
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={digest}");
        let body = Mutex::new(body);
        let resp = self.send(domain, &scopes, &|h| {
            let req = h.put(&url).header(CONTENT_TYPE, "application/octet-stream");
            match body.lock().expect("body").take() {
                Some(b) => req.body(reqwest::blocking::Body::sized(b, size)),
                None => req.header(CONTENT_LENGTH, 0),
            }
        })?;
        if resp.status() != StatusCode::CREATED {
            return Err(registry_error(resp, &format!("uploading {digest}")));
        }
        Ok(Uploaded::Sent)
    }
}

impl Client {
    /// Sends `body` to upload session `location` in `PATCH`es of `chunk`
    /// bytes, each with its `Content-Range`, following the `Location` each
    /// answer gives; returns the last one, where the closing `PUT` goes.
    fn send_chunks(
        &self,
        name: &Reference,
        scopes: &[String],
        location: &str,
        digest: &Digest,
        mut body: impl Read,
        chunk: u64,
    ) -> Result<String> {
        let domain = name.domain();
        let base = self.base_url(domain);
        let mut location = location.to_owned();
        let mut start = 0u64;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            (&mut body).take(chunk.max(1)).read_to_end(&mut buf)?;
            if buf.is_empty() {
                return Ok(location);
            }
            let end = start + buf.len() as u64 - 1;
            tracing::debug!(%digest, start, end, "upload chunk");
            let resp = self.send(domain, scopes, &|h| {
                h.patch(&location)
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .header(CONTENT_RANGE, format!("{start}-{end}"))
                    .header(CONTENT_LENGTH, buf.len())
                    .body(buf.clone())
            })?;
            match resp.status() {
                StatusCode::ACCEPTED => {}
                StatusCode::RANGE_NOT_SATISFIABLE => {
                    return Err(Error::Registry(format!(
                        "uploading {digest}: the registry refused bytes {start}-{end} \
                         (416 Range Not Satisfiable); it may not take chunked uploads"
                    )));
                }
                _ => return Err(registry_error(resp, &format!("uploading {digest}"))),
            }
            // The registry says how much it has: `0-END`.
            if let Some(range) = resp.headers().get(RANGE).and_then(|v| v.to_str().ok())
                && range.rsplit('-').next() != Some(end.to_string().as_str())
            {
                return Err(Error::Registry(format!(
                    "uploading {digest}: sent bytes up to {end}, the registry has {range}"
                )));
            }
            location = self::location(&resp, &base)?;
            start = end + 1;
        }
    }
}

/// The absolute URL in `resp`'s `Location`.
fn location(resp: &Response, base: &str) -> Result<String> {
    let location = resp
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::Registry("an upload without a Location".into()))?;
    Ok(if location.starts_with('/') {
        format!("{base}{location}")
    } else {
        location.to_owned()
    })
}
