//! Unpacked layers as overlayfs snapshots, deterministic layer tars, and the
//! diff of an overlay upper directory into an OCI layer. This crate never
//! mounts anything: [`Snapshots::prepare`] returns a [`Mount`] for the
//! runtime to perform.
//!
//! - [`Snapshots`]: committed snapshots by chain ID, active (writable)
//!   snapshots by key, atomic unpack, commit, prune.
//! - [`LayerWriter`]: a deterministic OCI layer tar writer (PAX for long
//!   names, big ids and xattrs; mtimes clamped to an epoch).
//! - [`diff_upper`]: an overlay upper dir to an OCI layer (whiteouts, opaque
//!   dirs, hard links).
//! - [`MergedView`]: reads a stack of snapshot dirs as overlayfs would show
//!   them, without mounting; resolves symlinks inside the root.
//!
//! A RUN step, as the builder drives it (the runtime mounts; we never do):
//!
//! ```no_run
//! # fn main() -> strata_snapshot::Result<()> {
//! # let (base_chain, new_chain): (strata_core::Digest, strata_core::Digest) = todo!();
//! # let layer_tar: &[u8] = &[];
//! use strata_snapshot::{Snapshots, TarOptions, diff_upper};
//! let snaps = Snapshots::open("/var/lib/strata/snapshots-v1".as_ref())?;
//! let base = snaps.unpack(&base_chain, layer_tar)?;
//! let active = snaps.prepare("build-step-3", &[base])?;
//! // ... the runtime mounts active.mount, runs the step, unmounts ...
//! let mut layer = Vec::new();
//! diff_upper(&active.upper, &mut layer, &TarOptions { epoch: 0 })?;
//! snaps.commit(active, &new_chain)?;
//! # Ok(()) }
//! ```
//!
//! Layers written by hand (COPY, ADD) use the same writer:
//!
//! ```
//! use strata_snapshot::{LayerWriter, Meta, TarOptions};
//! let exe = Meta { mode: 0o755, mtime: 1_700_000_000, ..Meta::default() };
//! let mut w = LayerWriter::new(Vec::new(), TarOptions { epoch: 1_000 });
//! w.dir("app", &exe).unwrap();
//! w.file("app/run.sh", &exe, 3, &mut &b"ok\n"[..]).unwrap();
//! w.whiteout("app/old.sh").unwrap();
//! let tar = w.finish().unwrap();
//! // Three headers, one data block, two zero blocks at the end.
//! assert_eq!(tar.len(), 4 * 512 + 1024);
//! ```
//!
//! # On-disk layout (version 1)
//!
//! The caller picks `<dir>`; the store passes `<store root>/snapshots-v1`,
//! so the version is in the directory name and a new layout gets a new one.
//!
//! ```text
//! <dir>/
//! ├── committed/<chain-id hex>/   one unpacked layer in overlay form: whiteouts
//! │                               are char 0:0 devices, opaque dirs carry the
//! │                               xattr trusted.overlay.opaque=y. Never changes.
//! ├── active/<key>/               a writable snapshot (a container, a RUN step)
//! │   ├── owner                   "<pid> <start time>" of the process that made it
//! │   ├── upper/                  overlay upperdir; becomes committed/<hex> on commit
//! │   └── work/                   overlay workdir
//! ├── l/<first 20 hex of chain>   symlink -> ../committed/<hex>, short lowerdir
//! │                               names for stacks too deep for absolute paths
//! └── tmp/<pid>.<start>.<random>/ partial unpacks and dirs being deleted; the
//!                                 owner prefix lets prune tell live from stale
//! ```
//!
//! Several processes may share one `<dir>`. Everything appears by an atomic
//! `renameat2(RENAME_NOREPLACE)` out of `tmp/`; whoever renames second sees
//! `EEXIST`, discards its copy and uses the winner's. Deletion renames into
//! `tmp/` first, so a half-deleted snapshot is never visible under its name.
//! Nothing is fsynced: a crash of the process loses nothing that was
//! renamed into place, a power loss may.
//!
//! # Overlay options and `lowerdir` length
//!
//! `mount(2)` takes at most one page (4096 bytes) of options. When the
//! absolute paths fit, [`Mount::options`] holds absolute paths and
//! [`Mount::cwd`] is `None`. Otherwise every path is made relative to
//! `<dir>` (`lowerdir=l/<20 hex>:…`, `upperdir=active/<key>/upper`) and
//! `cwd` is `Some(<dir>)`: the runtime must `chdir` there (or use
//! `fsconfig` with a directory fd) before mounting. That fits about 170
//! layers, more than Docker's limit of 128; beyond it
//! [`SnapshotError::MountTooLong`] names the count.
#![deny(missing_docs)]

mod diff;
mod error;
mod merged;
mod mount;
mod owner;
mod path;
mod prune;
mod snapshots;
mod tar_header;
mod tar_writer;
mod unpack;
mod xattr;

pub use diff::{DiffStats, diff_upper};
/// The crate's error type under its short name.
pub use error::SnapshotError as Error;
pub use error::{Result, SnapshotError};
pub use merged::{MergedEntry, MergedView};
pub use mount::{Active, Mount};
pub use snapshots::Snapshots;
pub use tar_header::{DeviceKind, Meta, TarOptions};
pub use tar_writer::LayerWriter;

/// The xattr overlayfs uses to mark an opaque directory.
pub const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// The prefix OCI layers use for a deleted path (`.wh.<name>`).
pub const WHITEOUT_PREFIX: &str = ".wh.";

/// The name OCI layers use to mark a directory opaque.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";
