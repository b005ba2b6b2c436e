//! Layer efficiency, the way dive measures it.
//!
//! Every layer's tar is read once (headers only; contents are skipped) and
//! replayed onto a tree of paths with overlay rules: a later entry replaces
//! an earlier one at the same path (a non-directory also hides everything
//! under a directory it replaces), `.wh.NAME` deletes `NAME` and what is
//! under it, `.wh..wh..opq` empties a directory of what lower layers put
//! there. A file copy that ends up hidden still ships in the image: its
//! bytes are *wasted*. Efficiency is the bytes of visible files over the
//! bytes of all file copies in all layers; the user's share counts only
//! copies added by layers after the first (the base).

use std::collections::BTreeMap;
use std::io::Read;

use serde::Serialize;
use strata_core::Digest;
use strata_store::{ImageRecord, Store};

/// One layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerReport {
    /// Index, base first.
    pub index: usize,
    /// The layer blob.
    pub digest: Digest,
    /// Bytes of the regular files it adds.
    pub size: u64,
    /// Entries in its tar.
    pub entries: u64,
    /// The history entry that made it (`created_by`), if recorded.
    pub command: String,
}

/// A path whose copies waste space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathWaste {
    /// The path, without a leading `/`.
    pub path: String,
    /// How many layers carry a copy of it (or delete it).
    pub count: u32,
    /// Bytes of its hidden copies.
    pub wasted: u64,
}

/// What [`analyze`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// The layers, base first.
    pub layers: Vec<LayerReport>,
    /// Bytes of all file copies in all layers.
    pub total_bytes: u64,
    /// Bytes of copies hidden by a later layer.
    pub wasted_bytes: u64,
    /// Bytes of copies added by layers after the first.
    pub user_bytes: u64,
    /// Wasted bytes among those.
    pub user_wasted_bytes: u64,
    /// Visible bytes over all bytes (1 for an empty image).
    pub efficiency: f64,
    /// `user_wasted_bytes / user_bytes` (0 without user layers).
    pub user_wasted_ratio: f64,
    /// Paths wasting the most, largest first.
    pub wasted_paths: Vec<PathWaste>,
    /// The largest visible files, largest first.
    pub largest: Vec<(String, u64)>,
    /// Entries that could not be read (reported, not fatal).
    pub warnings: Vec<String>,
}

/// Why an image could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The store.
    #[error(transparent)]
    Store(#[from] strata_store::StoreError),
    /// A layer is not a readable tar stream.
    #[error("reading layer {layer}: {err}")]
    Layer {
        /// The layer blob.
        layer: Digest,
        /// What went wrong.
        err: std::io::Error,
    },
}

/// A file copy in the tree: which layer put it there and its size.
#[derive(Debug, Clone, Copy)]
struct Copy {
    layer: usize,
    size: u64,
    dir: bool,
}

#[derive(Default)]
struct Replay {
    tree: BTreeMap<String, Copy>,
    wasted: BTreeMap<String, (u32, u64)>,
    wasted_bytes: u64,
    user_wasted_bytes: u64,
}

impl Replay {
    fn hide(&mut self, path: &str, c: Copy) {
        if c.dir {
            return;
        }
        let e = self.wasted.entry(path.to_owned()).or_default();
        e.1 += c.size;
        self.wasted_bytes += c.size;
        if c.layer > 0 {
            self.user_wasted_bytes += c.size;
        }
    }

    /// Removes `path` and everything under it (only copies from layers
    /// below `layer`).
    fn remove_tree(&mut self, path: &str, layer: usize, include_self: bool) {
        let prefix = format!("{path}/");
        let under: Vec<String> = self
            .tree
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(_, c)| c.layer < layer)
            .map(|(k, _)| k.clone())
            .collect();
        for k in under {
            if let Some(c) = self.tree.remove(&k) {
                self.hide(&k, c);
            }
        }
        if include_self
            && let Some(c) = self.tree.get(path).copied()
            && c.layer < layer
        {
            self.tree.remove(path);
            self.hide(path, c);
        }
    }

    fn count(&mut self, path: &str) {
        self.wasted.entry(path.to_owned()).or_default().0 += 1;
    }
}

pub(crate) fn normalize(p: &str) -> String {
    let p = p.trim_start_matches("./").trim_start_matches('/');
    p.trim_end_matches('/').to_owned()
}

/// Analyses `image`; `top` bounds the wasted-path and largest-file lists.
pub fn analyze(store: &Store, image: &ImageRecord, top: usize) -> Result<Analysis, AnalyzeError> {
    let manifest = store.manifest(image)?;
    let config = store.config(image)?;
    let commands: Vec<String> = config
        .history
        .clone()
        .unwrap_or_default()
        .iter()
        .filter(|h| h.has_layer())
        .map(|h| h.created_by.clone().unwrap_or_default())
        .collect();
    let mut replay = Replay::default();
    let mut layers = Vec::new();
    let mut warnings = Vec::new();
    let mut total = 0u64;
    let mut user = 0u64;
    for (index, desc) in manifest.layers.iter().enumerate() {
        let err = |err| AnalyzeError::Layer {
            layer: desc.digest.clone(),
            err,
        };
        // Read the layer's headers first: its whiteouts apply to lower
        // layers whatever their place in the tar.
        let mut adds: Vec<(String, Copy)> = Vec::new();
        let mut deletes: Vec<String> = Vec::new();
        let mut opaque: Vec<String> = Vec::new();
        let mut entries = 0u64;
        let mut size = 0u64;
        let mut archive = tar::Archive::new(store.open_layer(&desc.digest)?);
        for entry in archive.entries().map_err(err)? {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    warnings.push(format!("layer {}: {e}", desc.digest.short()));
                    break;
                }
            };
            entries += 1;
            let path = match entry.path() {
                Ok(p) => normalize(&p.to_string_lossy()),
                Err(e) => {
                    warnings.push(format!("layer {}: {e}", desc.digest.short()));
                    continue;
                }
            };
            if path.is_empty() {
                continue;
            }
            let (dir, name) = match path.rsplit_once('/') {
                Some((d, n)) => (d.to_owned(), n.to_owned()),
                None => (String::new(), path.clone()),
            };
            if name == ".wh..wh..opq" {
                opaque.push(dir);
                continue;
            }
            if let Some(hidden) = name.strip_prefix(".wh.") {
                deletes.push(if dir.is_empty() {
                    hidden.to_owned()
                } else {
                    format!("{dir}/{hidden}")
                });
                continue;
            }
            let kind = entry.header().entry_type();
            let is_dir = kind.is_dir();
            let bytes = if kind.is_file() {
                entry.header().size().unwrap_or(0)
            } else {
                0
            };
            size += bytes;
            adds.push((
                path,
                Copy {
                    layer: index,
                    size: bytes,
                    dir: is_dir,
                },
            ));
        }
        // Drain what is left so a truncated stream shows up as a warning.
        let _ = archive.into_inner().read_to_end(&mut Vec::new());
        for d in &opaque {
            replay.remove_tree(d, index, false);
        }
        for d in &deletes {
            replay.count(d);
            replay.remove_tree(d, index, true);
        }
        for (path, c) in adds {
            if let Some(old) = replay.tree.get(&path).copied() {
                if !c.dir || !old.dir {
                    replay.tree.remove(&path);
                    replay.hide(&path, old);
                }
                if !c.dir && old.dir {
                    replay.remove_tree(&path, index, false);
                }
            }
            if !c.dir {
                replay.count(&path);
            }
            replay.tree.insert(path, c);
        }
        total += size;
        if index > 0 {
            user += size;
        }
        layers.push(LayerReport {
            index,
            digest: desc.digest.clone(),
            size,
            entries,
            command: commands.get(index).cloned().unwrap_or_default(),
        });
    }
    let mut wasted_paths: Vec<PathWaste> = replay
        .wasted
        .iter()
        .filter(|(_, (_, w))| *w > 0)
        .map(|(p, (count, wasted))| PathWaste {
            path: p.clone(),
            count: *count,
            wasted: *wasted,
        })
        .collect();
    wasted_paths.sort_by(|a, b| b.wasted.cmp(&a.wasted).then(a.path.cmp(&b.path)));
    wasted_paths.truncate(top);
    let mut largest: Vec<(String, u64)> = replay
        .tree
        .iter()
        .filter(|(_, c)| !c.dir && c.size > 0)
        .map(|(p, c)| (p.clone(), c.size))
        .collect();
    largest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    largest.truncate(top);
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(Analysis {
        layers,
        total_bytes: total,
        wasted_bytes: replay.wasted_bytes,
        user_bytes: user,
        user_wasted_bytes: replay.user_wasted_bytes,
        efficiency: if total == 0 {
            1.0
        } else {
            ratio(total - replay.wasted_bytes, total)
        },
        user_wasted_ratio: ratio(replay.user_wasted_bytes, user),
        wasted_paths,
        largest,
        warnings,
    })
}
