//! strata's content-addressed image store.
//!
//! One root directory holds every blob once, however many images use it,
//! and a SQLite database of images, names, layers and leases:
//!
//! ```text
//! <root>/
//! ├── VERSION                  layout version of everything below ("1")
//! ├── blobs-v1/sha256/<hex>    blob contents, written once, mode 0444
//! ├── ingest-v1/<lease-id>/    partial files of one in-flight operation
//! ├── metadata-v1.db           SQLite in WAL mode: images, names, layers, leases, build cache,
//! │                            containers, registry repositories
//! ├── snapshots-v1/            unpacked layers for containers (strata-snapshot)
//! ├── cache-mounts-v1/<id>/    contents of RUN --mount=type=cache
//! ├── runtime-v1/              OCI bundles and runc state (strata-runtime)
//! ├── containers-v1/<id>/      a container's log and files
//! ├── volumes-v1/<name>/_data  volume contents
//! └── vulndb-v1.db             OSV advisories for `strata scan` (owned by strata-scan)
//! ```
//!
//! - [`Store`]: open a root; look images up ([`Store::resolve`]) the way
//!   Docker does; read manifests, configs and blobs.
//! - Ingest: [`Lease`] + [`BlobWriter`]; a blob is visible only after its
//!   digest is verified and it is fsynced and renamed into place.
//! - [`Store::load`] / [`Store::save`]: docker-archive and OCI layout
//!   tarballs. [`Store::import`]: a rootfs tarball as a one-layer image.
//! - [`Store::tag`], [`Store::remove_image`], [`Store::prune_images`]:
//!   Docker's management rules. [`Store::gc`]: mark and sweep.
//!
//! Crash safety: metadata changes are SQLite transactions; blobs are renamed
//! into place only when complete; partial files belong to a lease whose
//! owner is recorded, and GC removes those of dead owners. After `kill -9`
//! at any point the store is consistent and GC leaves no partial files.
#![deny(missing_docs)]

mod archive;
mod blobs;
mod build_cache;
mod containers;
mod db;
mod error;
mod gc;
mod images;
mod import;
mod layer;
mod layout;
mod lease;
mod manage;
mod registry;
mod store;
mod stream;

pub use archive::{ArchiveFormat, LoadOptions, LoadedImage, SaveItem};
pub use blobs::BlobWriter;
pub use build_cache::{CachePrune, CachePruneReport, CacheRecord, FileStamp};
pub use containers::{ContainerRecord, ContainerStatus, VolumeRecord};
pub use error::{Result, StoreError};
pub use gc::GcReport;
pub use images::{ImageRecord, LayerInfo, MovedName, NameRecord, NewImage};
pub use import::ImportOptions;
pub use layer::{LayerScan, scan_layer, scan_verified_tar};
pub use layout::{LAYOUT_VERSION, Layout};
pub use lease::{Lease, process_start};
pub use manage::{DeleteRecord, PruneReport};
pub use registry::{PutRefusal, RegistryManifest, RegistryTag, referenced_blobs};
pub use store::Store;
pub use stream::ExpansionLimit;
