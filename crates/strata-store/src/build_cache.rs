//! The build cache: what each build step produced, by cache key, and a
//! cache of context file hashes so unchanged files are not re-read.
//!
//! A cache entry names the layer blob its step made (or none); those blobs
//! are GC roots while the entry exists. Entries are trimmed by
//! [`Store::cache_prune`] (`strata builder prune`).

use std::collections::HashMap;

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use strata_core::Digest;

use crate::error::Result;
use crate::layer::LayerScan;
use crate::lease::Lease;
use crate::store::{Store, now_unix};

/// What one cached step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheRecord {
    /// The layer blob and its diff ID, when the step made a layer.
    pub layer: Option<(Digest, Digest)>,
    /// Size of the layer blob in bytes.
    pub size: u64,
}

/// Which cache entries `builder prune` removes.
#[derive(Debug, Clone, Copy, Default)]
pub struct CachePrune {
    /// Everything, not only entries no image uses.
    pub all: bool,
    /// Keep at most this many bytes of cache, dropping the least recently
    /// used entries first.
    pub keep_storage: Option<u64>,
}

/// What `builder prune` removed.
#[derive(Debug, Clone, Default)]
pub struct CachePruneReport {
    /// Keys of the removed entries.
    pub removed: Vec<Digest>,
    /// Bytes freed on disk by the GC that followed.
    pub reclaimed: u64,
}

/// A context file's identity on disk, to tell whether its stored hash is
/// still valid (the mtime is only used here, never in a cache key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileStamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds.
    pub mtime_ns: i64,
    /// Status change time, nanoseconds.
    pub ctime_ns: i64,
    /// Inode number.
    pub ino: u64,
}

impl Store {
    /// The entry for `key`, if its layer is still present. Marks it used.
    pub fn cache_get(&self, key: &Digest) -> Result<Option<CacheRecord>> {
        let conn = self.conn();
        let row: Option<(Option<String>, Option<String>, i64)> = conn
            .query_row(
                "SELECT layer, diff_id, size FROM build_cache WHERE key = ?1",
                [key.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((layer, diff_id, size)) = row else {
            return Ok(None);
        };
        let layer = match (layer, diff_id) {
            (Some(l), Some(d)) => match (l.parse::<Digest>(), d.parse::<Digest>()) {
                (Ok(l), Ok(d)) if self.has_blob(&l) => Some((l, d)),
                _ => return Ok(None),
            },
            _ => None,
        };
        conn.execute(
            "UPDATE build_cache SET last_used_unix = ?2 WHERE key = ?1",
            params![key.to_string(), now_unix()],
        )?;
        Ok(Some(CacheRecord {
            layer,
            size: size as u64,
        }))
    }

    /// Records what a step produced. The layer blob must be stored and
    /// protected by `lease`; from now on the entry keeps it alive.
    pub fn cache_put(
        &self,
        _lease: &Lease,
        key: &Digest,
        layer: Option<(&Digest, &LayerScan)>,
    ) -> Result<()> {
        let now = now_unix();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let size = match layer {
            Some((blob, scan)) => {
                tx.execute(
                    "INSERT OR REPLACE INTO layers (digest, diff_id, unpacked_size, tar_size) VALUES (?1, ?2, ?3, ?4)",
                    params![blob.to_string(), scan.diff_id.to_string(), scan.unpacked_size as i64, scan.tar_size as i64],
                )?;
                scan.tar_size
            }
            None => 0,
        };
        tx.execute(
            "INSERT OR REPLACE INTO build_cache (key, layer, diff_id, size, created_unix, last_used_unix)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![
                key.to_string(),
                layer.map(|(b, _)| b.to_string()),
                layer.map(|(_, s)| s.diff_id.to_string()),
                size as i64,
                now
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Number of cache entries and the bytes of their layers.
    pub fn cache_usage(&self) -> Result<(u64, u64)> {
        let conn = self.conn();
        let (n, bytes): (i64, Option<i64>) =
            conn.query_row("SELECT COUNT(*), SUM(size) FROM build_cache", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok((n as u64, bytes.unwrap_or(0) as u64))
    }

    /// Removes cache entries (see [`CachePrune`]) and collects the blobs
    /// nothing else uses.
    pub fn cache_prune(&self, opts: CachePrune) -> Result<CachePruneReport> {
        let mut removed = Vec::new();
        // Before taking the connection: this reads images through it.
        let used_by_images = self.layers_used_by_images()?;
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let entries: Vec<(String, Option<String>, i64)> = {
                let mut stmt = tx.prepare(
                    "SELECT key, layer, size FROM build_cache ORDER BY last_used_unix, key",
                )?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut total: i64 = entries.iter().map(|e| e.2).sum();
            for (key, layer, size) in entries {
                let dangling = layer.as_ref().is_none_or(|l| !used_by_images.contains(l));
                let over = opts.keep_storage.is_some_and(|k| total > k as i64);
                let drop = opts.all || over || (opts.keep_storage.is_none() && dangling);
                if drop {
                    tx.execute("DELETE FROM build_cache WHERE key = ?1", [&key])?;
                    total -= size;
                    removed.extend(key.parse().ok());
                }
            }
            tx.commit()?;
        }
        let reclaimed = self.gc(false)?.freed_bytes();
        Ok(CachePruneReport { removed, reclaimed })
    }

    fn layers_used_by_images(&self) -> Result<std::collections::HashSet<String>> {
        let mut used = std::collections::HashSet::new();
        for image in self.images()? {
            if let Ok(m) = self.manifest(&image) {
                used.extend(m.layers.iter().map(|l| l.digest.to_string()));
            }
        }
        Ok(used)
    }

    /// Stored hashes of files under `prefix` (an absolute directory path).
    pub fn file_hashes(&self, prefix: &str) -> Result<HashMap<String, (FileStamp, Digest)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT path, size, mtime_ns, ctime_ns, ino, digest FROM file_hashes WHERE path >= ?1 AND path < ?2",
        )?;
        let upper = format!("{}\u{10ffff}", prefix.trim_end_matches('/'));
        let rows = stmt.query_map(params![prefix.trim_end_matches('/'), upper], |r| {
            Ok((
                r.get::<_, String>(0)?,
                FileStamp {
                    size: r.get::<_, i64>(1)? as u64,
                    mtime_ns: r.get(2)?,
                    ctime_ns: r.get(3)?,
                    ino: r.get::<_, i64>(4)? as u64,
                },
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (path, stamp, digest) = row?;
            if let Ok(d) = digest.parse() {
                out.insert(path, (stamp, d));
            }
        }
        Ok(out)
    }

    /// Remembers file hashes for later builds.
    pub fn put_file_hashes(&self, entries: &[(String, FileStamp, Digest)]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare(
                "INSERT OR REPLACE INTO file_hashes (path, size, mtime_ns, ctime_ns, ino, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (path, s, d) in entries {
                stmt.execute(params![
                    path,
                    s.size as i64,
                    s.mtime_ns,
                    s.ctime_ns,
                    s.ino as i64,
                    d.to_string()
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
