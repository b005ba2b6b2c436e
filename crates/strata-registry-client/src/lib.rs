//! An OCI distribution client over the one store: `pull` resolves a
//! reference, picks the platform from an index, downloads only the blobs
//! the store lacks (in parallel, verified as they stream in) and records
//! the image; `push` asks the registry for each blob (HEAD), uploads the
//! missing ones and puts the manifest exactly as stored, so digests are
//! kept. Blocking (reqwest), shared between threads.
//!
//! Plain HTTP for `localhost`, `127.0.0.0/8` and configured insecure
//! registries; HTTPS otherwise. Anonymous access and the bearer-token
//! challenge (anonymous tokens) are handled.
#![deny(missing_docs)]

mod client;
mod error;
mod transfer;

pub use client::{Client, ClientOptions, FetchedManifest};
pub use error::{Error, Result};
pub use transfer::{Event, PullOptions, Pulled, Pushed, pull, push};
