//! Mark-and-sweep garbage collection of blobs and partial files.
//!
//! Roots are every image's manifest and config, every digest name, every
//! layer a build cache entry names, every blob and manifest a registry
//! repository holds, and every blob protected by a live lease. Marking follows indexes to their
//! manifests and manifests to their config and layers. The sweep deletes
//! unmarked blobs, the layer rows for them, dead leases and their ingest
//! directories. It all happens inside one write transaction: an operation
//! that protects a blob (which needs the write lock) either did so before
//! GC started, and its blob is a root, or does so after GC ends, and then
//! finds the blob missing and writes it again.

use std::collections::{BTreeSet, VecDeque};

use rusqlite::TransactionBehavior;
use strata_core::{Digest, ImageIndex, ImageManifest, ManifestKind, ManifestProbe};

use crate::error::Result;
use crate::lease::owner_alive;
use crate::store::Store;

/// What a GC pass removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Each deleted blob with its size on disk.
    pub removed_blobs: Vec<(Digest, u64)>,
    /// Partial-file directories of dead operations removed.
    pub removed_ingests: usize,
    /// Dead leases removed.
    pub removed_leases: usize,
    /// Registry links dropped first (only by [`Store::registry_gc`]):
    /// `(repository, blob)` pairs no manifest of the repository names.
    pub unlinked: Vec<(String, Digest)>,
}

impl GcReport {
    /// Bytes freed by deleting blobs.
    pub fn freed_bytes(&self) -> u64 {
        self.removed_blobs.iter().map(|(_, s)| s).sum()
    }
}

impl Store {
    /// Runs one collection. `dry_run` reports without deleting.
    pub fn gc(&self, dry_run: bool) -> Result<GcReport> {
        self.collect(dry_run, None)
    }

    /// A registry's collection: drops the links of blobs that no manifest
    /// of their repository names and that were linked more than
    /// `grace_secs` ago, then collects as [`Store::gc`] does, all in one
    /// transaction. With `dry_run` the report says what would go.
    pub fn registry_gc(&self, grace_secs: i64, dry_run: bool) -> Result<GcReport> {
        self.collect(dry_run, Some(grace_secs))
    }

    fn collect(&self, dry_run: bool, registry_grace: Option<i64>) -> Result<GcReport> {
        let mut report = GcReport::default();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(grace) = registry_grace {
            report.unlinked = crate::registry::orphan_links(self, &tx, grace, dry_run)?;
        }

        let leases: Vec<(String, i64, i64)> = {
            let mut stmt = tx.prepare("SELECT id, pid, pid_start FROM leases")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut live = BTreeSet::new();
        for (id, pid, start) in leases {
            if owner_alive(pid, start) {
                live.insert(id);
            } else {
                report.removed_leases += 1;
                if !dry_run {
                    tx.execute("DELETE FROM leases WHERE id = ?1", [&id])?;
                }
            }
        }

        let mut roots: Vec<(Digest, bool)> = Vec::new();
        let strings = |sql: &str| -> Result<Vec<String>> {
            let mut stmt = tx.prepare(sql)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        for s in strings("SELECT manifest FROM images")? {
            roots.extend(s.parse().ok().map(|d| (d, true)));
        }
        for s in strings("SELECT id FROM images")? {
            roots.extend(s.parse().ok().map(|d| (d, false)));
        }
        // A container keeps its image whole, even after `rmi -f`.
        for s in strings("SELECT image_manifest FROM containers")? {
            roots.extend(s.parse().ok().map(|d| (d, true)));
        }
        for s in strings("SELECT image FROM containers")? {
            roots.extend(s.parse().ok().map(|d| (d, false)));
        }
        for s in strings("SELECT layer FROM build_cache WHERE layer IS NOT NULL")? {
            roots.extend(s.parse().ok().map(|d| (d, false)));
        }
        for s in strings("SELECT name FROM names WHERE is_digest = 1")? {
            if let Some((_, d)) = s.rsplit_once('@') {
                roots.extend(d.parse().ok().map(|d| (d, true)));
            }
        }
        for s in strings("SELECT digest FROM registry_manifests")? {
            roots.extend(s.parse().ok().map(|d| (d, true)));
        }
        {
            // In a dry run the links to drop are still in the table.
            let mut stmt = tx.prepare("SELECT repo, digest FROM registry_blobs")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (repo, d) = row?;
                let Ok(d) = d.parse::<Digest>() else { continue };
                if !report.unlinked.contains(&(repo, d.clone())) {
                    roots.push((d, false));
                }
            }
        }
        let lease_blobs: Vec<(String, String)> = {
            let mut stmt = tx.prepare("SELECT lease, digest FROM lease_blobs")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (lease, d) in lease_blobs {
            if live.contains(&lease) {
                roots.extend(d.parse().ok().map(|d| (d, false)));
            }
        }

        let marked = self.mark(roots);

        for entry in fs_err::read_dir(self.layout().blobs_dir())? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(digest) = name.to_str().and_then(|n| Digest::from_sha256_hex(n).ok()) else {
                continue;
            };
            if marked.contains(&digest) {
                continue;
            }
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if !dry_run {
                fs_err::remove_file(entry.path())?;
                tx.execute("DELETE FROM layers WHERE digest = ?1", [digest.to_string()])?;
            }
            report.removed_blobs.push((digest, size));
        }
        report.removed_blobs.sort();

        for entry in fs_err::read_dir(self.layout().ingest_root())? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if live.contains(&name) {
                continue;
            }
            report.removed_ingests += 1;
            if !dry_run {
                let path = entry.path();
                if path.is_dir() {
                    fs_err::remove_dir_all(&path)?;
                } else {
                    fs_err::remove_file(&path)?;
                }
            }
        }
        tx.commit()?;
        Ok(report)
    }

    /// Everything reachable from the roots. A root flagged `true` is a
    /// manifest or index whose references are followed.
    fn mark(&self, roots: Vec<(Digest, bool)>) -> BTreeSet<Digest> {
        let mut marked = BTreeSet::new();
        let mut queue: VecDeque<(Digest, bool)> = roots.into();
        while let Some((d, follow)) = queue.pop_front() {
            if !marked.insert(d.clone()) || !follow {
                continue;
            }
            // A manifest we cannot read or parse still keeps itself; its
            // children are unknown, so nothing more is marked for it.
            let Ok(bytes) = self.read_blob(&d) else {
                continue;
            };
            let Ok(probe) = serde_json::from_slice::<ManifestProbe>(&bytes) else {
                continue;
            };
            match probe.kind() {
                Some(ManifestKind::Manifest) => {
                    if let Ok(m) = serde_json::from_slice::<ImageManifest>(&bytes) {
                        queue.push_back((m.config.digest, false));
                        queue.extend(m.layers.into_iter().map(|l| (l.digest, false)));
                    }
                }
                Some(ManifestKind::Index) => {
                    if let Ok(i) = serde_json::from_slice::<ImageIndex>(&bytes) {
                        for m in i.manifests {
                            let follow = m.media_type.is_manifest() || m.media_type.is_index();
                            queue.push_back((m.digest, follow));
                        }
                    }
                }
                None => {}
            }
        }
        marked
    }
}
