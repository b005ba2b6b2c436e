//! Deleting what is no longer needed: committed snapshots the caller does
//! not keep, partial unpacks and active snapshots of dead processes, and
//! short links left dangling.
//!
//! A committed snapshot is first renamed into `tmp/` (under this process's
//! name) and deleted there, so no reader ever finds a half-deleted snapshot
//! under its chain ID, and a crash mid-delete leaves only stale `tmp/`
//! entries that the next prune removes. Which committed snapshots are still
//! mounted by a running container is the caller's knowledge: `keep` must
//! say yes for those.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use strata_core::Digest;

use crate::error::{Result, SnapshotError};
use crate::owner::Owner;
use crate::snapshots::Snapshots;

impl Snapshots {
    /// Deletes committed snapshots for which `keep` is false, and `tmp/`
    /// and `active/` dirs whose owning process is gone (persistent active
    /// snapshots, containers' writable layers, stay); returns the bytes
    /// freed (allocated blocks, hard links counted once).
    pub fn prune(&self, keep: &dyn Fn(&Digest) -> bool) -> Result<u64> {
        let mut freed = 0;
        for (name, path) in list(&self.dir().join("committed"))? {
            let Some(chain) = name.to_str().and_then(|h| Digest::from_sha256_hex(h).ok()) else {
                tracing::warn!(path = %path.display(), "leaving unknown entry in committed/");
                continue;
            };
            if keep(&chain) {
                continue;
            }
            let doomed = self.tempdir()?.keep();
            let dest = doomed.join("snapshot");
            match std::fs::rename(&path, &dest) {
                Ok(()) => {}
                // Another process pruned it first.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(SnapshotError::io("rename", &path)(e)),
            }
            freed += remove_tree(&doomed)?;
            tracing::debug!(%chain, "pruned snapshot");
        }
        for (name, path) in list(&self.dir().join("tmp"))? {
            let live = name
                .to_str()
                .and_then(Owner::parse)
                .is_some_and(Owner::is_alive);
            if !live {
                freed += remove_tree(&path)?;
            }
        }
        for (_, path) in list(&self.dir().join("active"))? {
            let owner = std::fs::read_to_string(path.join("owner")).ok();
            if owner.as_deref() == Some(crate::snapshots::PERSISTENT) {
                continue;
            }
            let live = owner
                .as_deref()
                .and_then(Owner::parse_file)
                .is_some_and(Owner::is_alive);
            if !live {
                tracing::debug!(path = %path.display(), "removing stale active snapshot");
                freed += remove_tree(&path)?;
            }
        }
        let links = self.dir().join("l");
        for (_, path) in list(&links)? {
            // metadata() follows the link: an error means it dangles.
            if std::fs::metadata(&path).is_err() {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(SnapshotError::io("remove", &path)(e)),
                }
            }
        }
        Ok(freed)
    }
}

/// The entries of `dir` (name, path), sorted; empty if `dir` is missing.
fn list(dir: &Path) -> Result<Vec<(std::ffi::OsString, PathBuf)>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SnapshotError::io("read directory", dir)(e)),
    };
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(SnapshotError::io("read directory", dir))?;
        out.push((e.file_name(), e.path()));
    }
    out.sort();
    Ok(out)
}

/// Deletes a tree (never following symlinks) and returns the bytes its
/// blocks took. A tree already gone counts as 0.
fn remove_tree(path: &Path) -> Result<u64> {
    let size = disk_usage(path)?;
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(size),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(SnapshotError::io("remove", path)(e)),
    }
}

/// Allocated bytes under `path`, each inode once.
fn disk_usage(path: &Path) -> Result<u64> {
    let mut seen: HashSet<(u64, u64)> = HashSet::new();
    let mut total = 0;
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let m = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(SnapshotError::io("stat", &p)(e)),
        };
        if m.nlink() > 1 && !m.is_dir() && !seen.insert((m.dev(), m.ino())) {
            continue;
        }
        total += m.blocks() * 512;
        if m.is_dir() {
            let rd = std::fs::read_dir(&p).map_err(SnapshotError::io("read directory", &p))?;
            for e in rd {
                stack.push(e.map_err(SnapshotError::io("read directory", &p))?.path());
            }
        }
    }
    Ok(total)
}
