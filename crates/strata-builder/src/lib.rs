//! Builds images from Dockerfiles.
//!
//! [`build`] parses the Dockerfile (`strata-dockerfile`), plans the stages
//! the target needs, builds independent stages in parallel, and records the
//! result in the store with its tags. Steps follow BuildKit's semantics and
//! cache rules (see `cache.rs`): a rebuild with nothing changed hits the
//! cache at every step and gives the same image ID.
//!
//! Reproducible by default: file times in new layers are clamped to the
//! source date epoch (0 unless given), `created` fields are that epoch, tar
//! entries are sorted and their headers normalized, and layers are stored
//! uncompressed (their digest is their diff ID), so the same Dockerfile,
//! context and base give the same image ID on any machine.
//!
//! Layers stay packed. `COPY` writes its layer straight from the sources,
//! reading the parent image through tar header indexes (`fs_view.rs`);
//! only `RUN` unpacks layers, once, into snapshots shared across builds.
//!
//! The builder does no network I/O: base images come through
//! [`BaseImages`], `ADD` URLs through [`Fetcher`]. It never prints:
//! progress goes to a [`Progress`].
#![deny(missing_docs)]

mod add;
mod build;
mod cache;
mod context;
mod copy;
mod error;
mod fs_view;
mod layer_out;
mod plan;
mod progress;
mod run;
mod stage;
mod state;
mod step_copy;
mod step_run;
mod user;

pub use add::is_tar_header;
pub use build::{
    BaseImages, BuildRequest, BuildResult, Fetched, Fetcher, NetworkMode, NoFetch, StoreImages,
    build,
};
pub use error::{BuildError, Result};
pub use progress::{Event, Progress, Silent, StepId, Stream};

use strata_store::{CachePrune, CachePruneReport, Store};

/// `builder prune`: drops build cache entries (see [`CachePrune`]) and the
/// unpacked snapshots no image needs (an image's own layers stay unpacked,
/// as Docker keeps image layers through `builder prune`); with `all`, also
/// every `RUN --mount=type=cache` directory.
pub fn prune(store: &Store, opts: CachePrune) -> Result<CachePruneReport> {
    let mut report = store.cache_prune(opts)?;
    let snapshots = strata_snapshot::Snapshots::open(&store.layout().snapshots_dir())?;
    let mut keep = std::collections::HashSet::new();
    // Containers keep their image's snapshots (their overlay's lower
    // layers), even when the image itself was force-removed.
    let images = store.images()?.into_iter().map(|i| i.id);
    let used = store.containers()?.into_iter().map(|c| c.image);
    for image in images.chain(used) {
        let config = store
            .read_blob(&image)
            .ok()
            .and_then(|b| strata_core::Raw::<strata_core::ImageConfig>::parse(b).ok());
        if let Some(c) = config {
            keep.extend(strata_core::chain_ids(&c.rootfs.diff_ids));
        }
    }
    report.reclaimed += snapshots.prune(&|chain| keep.contains(chain))?;
    if opts.all {
        let dir = store.layout().cache_mounts_dir();
        if dir.exists() {
            report.reclaimed += dir_size(&dir);
            fs_err::remove_dir_all(&dir)?;
        }
    }
    Ok(report)
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
