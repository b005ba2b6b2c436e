//! Test fixtures for strata (dev-only).
//!
//! - [`TarBuilder`]: tar streams entry by entry, including hostile ones
//!   (`../` names, escaping links) that the `tar` crate refuses to write.
//! - [`busybox_rootfs`]: a root filesystem tar from Debian's
//!   `busybox-static` (`/usr/bin/busybox` on the test machine).
//! - [`DockerArchive`]: `docker save` archives in the pre-25 layout
//!   (`<id>/layer.tar`) and the 25+ layout (OCI `blobs/` plus `manifest.json`).
//! - [`Cli`]: runs the `strata` binary against a private store root.
//! - [`debian_minbase_tar`]: a real `debootstrap --variant=minbase` root, cached.
//! - [`DockerDaemon`]: a private `dockerd` for interop tests.
//! - [`Pty`]: a pseudo-terminal, to play a user at a terminal.
//! - [`Distribution`]: Debian's `docker-registry` on 127.0.0.1.
//! - [`StrataRegistry`]: `strata registry serve` on 127.0.0.1.
//! - [`S3Server`]: moto's S3 server on 127.0.0.1.
//! - [`HttpStub`]: a scripted HTTP server on 127.0.0.1 (token servers,
//!   registries that cut a download short).
//! - [`image_tree`]: the flattened file tree and config of a saved image,
//!   for comparing what two tools built.
#![deny(missing_docs)]

mod archive;
mod cli;
mod debian;
mod distribution;
mod docker;
mod http_stub;
mod image_tree;
mod moto;
mod pty;
mod strata_registry;
mod tarball;

pub use archive::{ArchiveImage, DockerArchive, Layout};
pub use cli::{Cli, Output, redact};
pub use debian::debian_minbase_tar;
pub use distribution::Distribution;
pub use docker::DockerDaemon;
pub use http_stub::{HttpStub, StubReply, StubRequest};
pub use image_tree::{ImageTree, TreeEntry, image_tree};
pub use moto::S3Server;
pub use pty::Pty;
pub use strata_registry::StrataRegistry;
pub use tarball::{TarBuilder, busybox_full_rootfs, busybox_rootfs, gzip};

/// Unix seconds `days` days before now: an image created then shows as
/// "`days` days ago" (for 2 to 13 days) whatever day the test runs.
pub fn days_ago(days: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    now - days * 86400 - 3600
}
