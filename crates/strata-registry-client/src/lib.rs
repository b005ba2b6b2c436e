//! An OCI distribution client over the one store: `pull` resolves a
//! reference, picks the platform from an index, downloads only the blobs
//! the store lacks (in parallel, verified as they stream in, resumed with
//! `Range` when cut short) and records the image; `push` asks the
//! registry for each blob (HEAD), mounts it from another repository of
//! the registry or uploads it (whole or in chunks), and puts the manifest
//! exactly as stored, so digests are kept; `copy` moves an image between
//! registries, OCI layouts, docker archives and the store as skopeo does.
//! Blocking (reqwest), shared between threads.
//!
//! Plain HTTP for `localhost`, `127.0.0.0/8` and insecure registries;
//! HTTPS otherwise, with the system roots plus the registry's CA files
//! from `certs.d`. Anonymous access, Basic and the bearer-token
//! challenge (tokens cached per scope set until they expire), with
//! credentials from Docker's `config.json` and credential helpers
//! ([`DockerConfig`]).
#![deny(missing_docs)]

mod auth;
mod client;
mod copy;
mod endpoint;
mod error;
mod pull;
mod push;
mod token_cache;
mod transfer;
mod upload;

pub use auth::{Credentials, DOCKER_HUB_KEY, DockerConfig, server_key};
pub use client::{Client, ClientOptions, FetchedManifest};
pub use copy::{Copied, CopyEvent, CopyOptions, Location, copy};
pub use endpoint::{
    DOCKER_CERTS_D, DOCKER_DAEMON_JSON, STRATA_CERTS_D, docker_insecure_registries,
};
pub use error::{Error, Result};
pub use pull::{PullOptions, Pulled, pull};
pub use push::{PushOptions, Pushed, push};
pub use transfer::Event;
pub use upload::{UploadOptions, Uploaded};
