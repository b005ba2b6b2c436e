//! An OCI distribution client over the one store: `pull` resolves a
//! reference, picks the platform from an index, downloads only the blobs
//! the store lacks (in parallel, verified as they stream in) and records
//! the image; `push` asks the registry for each blob (HEAD), uploads the
//! missing ones and puts the manifest exactly as stored, so digests are
//! kept. Blocking (reqwest), shared between threads.
//!
//! Plain HTTP for `localhost`, `127.0.0.0/8` and configured insecure
//! registries; HTTPS otherwise. Anonymous access, Basic and the
//! bearer-token challenge, with credentials from Docker's `config.json`
//! and credential helpers ([`DockerConfig`]).
#![deny(missing_docs)]

mod auth;
mod client;
mod error;
mod transfer;

pub use auth::{Credentials, DOCKER_HUB_KEY, DockerConfig, server_key};
pub use client::{Client, ClientOptions, FetchedManifest};
pub use error::{Error, Result};
pub use transfer::{Event, PullOptions, Pulled, Pushed, pull, push};
