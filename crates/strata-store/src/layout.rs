//! Where things live under a store root, and the layout version check.
//!
//! ```text
//! <root>/
//! ├── VERSION                  layout version of everything below ("1")
//! ├── blobs-v1/sha256/<hex>    blob contents, written once, mode 0444
//! ├── ingest-v1/<lease-id>/    partial files of one in-flight operation
//! ├── metadata-v1.db           SQLite in WAL mode: images, names, layers, leases, build cache
//! ├── snapshots-v1/            unpacked layers for containers (strata-snapshot's layout)
//! ├── cache-mounts-v1/<id>/    contents of RUN --mount=type=cache, kept between builds
//! ├── runtime-v1/              OCI bundles and runc state (strata-runtime's layout)
//! ├── containers-v1/<id>/      a container's json-file log and files
//! └── volumes-v1/<name>/_data  volume contents
//! ```
//!
//! A change to this tree or to the meaning of a file bumps the version and
//! comes with a migration. The database schema has its own version in
//! `PRAGMA user_version` (see `db.rs`).

use std::io::Write;
use std::path::{Path, PathBuf};

use strata_core::Digest;

use crate::error::{Result, StoreError};

/// The layout version this code reads and writes.
pub const LAYOUT_VERSION: u32 = 1;

/// Paths inside one store root.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    pub(crate) fn new(root: &Path) -> Layout {
        Layout {
            root: root.to_path_buf(),
        }
    }

    /// The store root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of sha256 blobs.
    pub fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs-v1").join("sha256")
    }

    /// Where a blob lives (whether or not it exists).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs-v1")
            .join(digest.algorithm().as_str())
            .join(digest.hex())
    }

    /// The parent of all in-flight ingest directories.
    pub fn ingest_root(&self) -> PathBuf {
        self.root.join("ingest-v1")
    }

    /// Unpacked layers (owned by strata-snapshot).
    pub fn snapshots_dir(&self) -> PathBuf {
        self.root.join("snapshots-v1")
    }

    /// Persistent directories of `RUN --mount=type=cache`.
    pub fn cache_mounts_dir(&self) -> PathBuf {
        self.root.join("cache-mounts-v1")
    }

    /// Container bundles and runtime state (owned by strata-runtime).
    pub fn runtime_dir(&self) -> PathBuf {
        self.root.join("runtime-v1")
    }

    /// Per-container files (logs).
    pub fn containers_dir(&self) -> PathBuf {
        self.root.join("containers-v1")
    }

    /// Volume data: `<name>/_data`.
    pub fn volumes_dir(&self) -> PathBuf {
        self.root.join("volumes-v1")
    }

    /// The metadata database.
    pub fn db_path(&self) -> PathBuf {
        self.root.join("metadata-v1.db")
    }

    /// Creates the tree if needed and checks its version. Safe to run from
    /// several processes at once: every step is idempotent or atomic.
    pub(crate) fn init(&self) -> Result<()> {
        fs_err::create_dir_all(&self.root)?;
        let version_file = self.root.join("VERSION");
        match fs_err::read_to_string(&version_file) {
            Ok(v) => {
                if v.trim() != LAYOUT_VERSION.to_string() {
                    return Err(StoreError::LayoutVersion {
                        path: self.root.clone(),
                        found: v.trim().to_owned(),
                        supported: LAYOUT_VERSION,
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write_atomic(&version_file, format!("{LAYOUT_VERSION}\n").as_bytes())?;
            }
            Err(e) => return Err(e.into()),
        }
        fs_err::create_dir_all(self.blobs_dir())?;
        fs_err::create_dir_all(self.ingest_root())?;
        Ok(())
    }
}

/// Writes a small file so that readers see either the old or the new
/// content: temp file in the same directory, fsync, rename, fsync the dir.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().expect("a file path has a parent");
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// fsyncs a directory so a rename in it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    fs_err::File::open(dir)?.sync_all()?;
    Ok(())
}
