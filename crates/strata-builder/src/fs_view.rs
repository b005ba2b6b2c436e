//! What an image's file system holds, read from its layer tars without
//! unpacking anything.
//!
//! Each layer gets an index of its tar headers (path, kind, mode, owner,
//! link target, and where the data starts). A [`FsView`] stacks the
//! indexes of an image's layers and answers what `COPY` and `USER` need:
//! does `/app` exist and is it a directory, what are `/etc/passwd`'s
//! contents, which files are under `/out/` (for `COPY --from`). Whiteouts
//! and opaque directories hide lower layers as overlayfs would; symlinks in
//! the middle of a path resolve inside the image, never outside it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

use strata_core::{Compression, Digest};
use strata_store::Store;

use crate::error::{BuildError, Result};

/// The kind of a file system entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
    Symlink,
    Hardlink,
    Char,
    Block,
    Fifo,
}

/// One tar entry of a layer.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) kind: Kind,
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    pub(crate) size: u64,
    pub(crate) link: Option<String>,
    pub(crate) mtime: i64,
    /// Where the entry's data starts in the uncompressed tar.
    offset: u64,
}

/// The headers of one layer.
pub(crate) struct LayerIndex {
    blob: Digest,
    compression: Compression,
    entries: HashMap<String, Entry>,
    whiteouts: HashSet<String>,
    opaque: HashSet<String>,
}

fn clean(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

fn parent(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

impl LayerIndex {
    fn build(store: &Store, blob: &Digest) -> Result<LayerIndex> {
        let mut file = store.open_blob(blob)?;
        let mut head = [0u8; 4];
        let n = file.read(&mut head)?;
        let compression = Compression::sniff(&head[..n]);
        file.seek(SeekFrom::Start(0))?;
        let mut index = LayerIndex {
            blob: blob.clone(),
            compression,
            entries: HashMap::new(),
            whiteouts: HashSet::new(),
            opaque: HashSet::new(),
        };
        match compression {
            Compression::None => index.scan(tar::Archive::new(file).entries_with_seek()?)?,
            Compression::Gzip => {
                let dec = flate2::read::MultiGzDecoder::new(io::BufReader::new(file));
                index.scan(tar::Archive::new(dec).entries()?)?
            }
            Compression::Zstd => {
                let dec = zstd::stream::read::Decoder::new(file)?;
                index.scan(tar::Archive::new(dec).entries()?)?
            }
        }
        Ok(index)
    }

    fn scan<R: Read>(&mut self, entries: tar::Entries<'_, R>) -> Result<()> {
        for e in entries {
            let e = e.map_err(|e| BuildError::Layer(format!("layer {}: {e}", self.blob)))?;
            let path = clean(&String::from_utf8_lossy(&e.path_bytes()));
            let name = path.rsplit('/').next().unwrap_or("");
            if name == ".wh..wh..opq" {
                self.opaque.insert(parent(&path).to_owned());
                continue;
            }
            if let Some(hidden) = name.strip_prefix(".wh.") {
                let dir = parent(&path);
                let victim = if dir.is_empty() {
                    hidden.to_owned()
                } else {
                    format!("{dir}/{hidden}")
                };
                self.whiteouts.insert(victim);
                continue;
            }
            let h = e.header();
            let t = h.entry_type();
            let kind = if t.is_dir() {
                Kind::Dir
            } else if t.is_symlink() {
                Kind::Symlink
            } else if t.is_hard_link() {
                Kind::Hardlink
            } else if t.is_character_special() {
                Kind::Char
            } else if t.is_block_special() {
                Kind::Block
            } else if t.is_fifo() {
                Kind::Fifo
            } else if t.is_file() || t.is_contiguous() {
                Kind::File
            } else {
                continue;
            };
            let link = e
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned());
            let entry = Entry {
                kind,
                mode: h.mode().unwrap_or(0o644) & 0o7777,
                uid: h.uid().unwrap_or(0),
                gid: h.gid().unwrap_or(0),
                size: e.size(),
                link: if kind == Kind::Hardlink {
                    link.map(|l| clean(&l))
                } else {
                    link
                },
                mtime: h.mtime().unwrap_or(0) as i64,
                offset: e.raw_file_position(),
            };
            if !path.is_empty() {
                self.entries.insert(path, entry);
            }
        }
        Ok(())
    }

    /// Whether this layer hides `path` from the layers below it.
    fn hides(&self, path: &str) -> bool {
        let mut p = path;
        loop {
            if self.whiteouts.contains(p) {
                return true;
            }
            if p.is_empty() {
                return false;
            }
            p = parent(p);
            if self.opaque.contains(p) {
                return true;
            }
        }
    }
}

/// Caches layer indexes for one build (layers are immutable).
#[derive(Default, Clone)]
pub(crate) struct IndexCache {
    inner: Arc<Mutex<HashMap<Digest, Arc<LayerIndex>>>>,
}

impl IndexCache {
    pub(crate) fn get(&self, store: &Store, blob: &Digest) -> Result<Arc<LayerIndex>> {
        if let Some(i) = self
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(blob)
        {
            return Ok(i.clone());
        }
        let index = Arc::new(LayerIndex::build(store, blob)?);
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(blob.clone(), index.clone());
        Ok(index)
    }
}

/// An image's file system as a stack of layer indexes (base first).
pub(crate) struct FsView {
    store: Store,
    layers: Vec<Arc<LayerIndex>>,
}

/// Where an entry of the view lives.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) path: String,
    pub(crate) entry: Entry,
    layer: usize,
}

const MAX_SYMLINKS: usize = 40;

impl FsView {
    pub(crate) fn new(store: &Store, cache: &IndexCache, blobs: &[Digest]) -> Result<FsView> {
        let layers = blobs
            .iter()
            .map(|b| cache.get(store, b))
            .collect::<Result<_>>()?;
        Ok(FsView {
            store: store.clone(),
            layers,
        })
    }

    /// The entry at exactly `path` (no symlink resolution), honouring
    /// whiteouts and opaque directories.
    fn lookup_exact(&self, path: &str) -> Option<Found> {
        for (i, layer) in self.layers.iter().enumerate().rev() {
            if let Some(e) = layer.entries.get(path) {
                return Some(Found {
                    path: path.to_owned(),
                    entry: e.clone(),
                    layer: i,
                });
            }
            if layer.hides(path) {
                return None;
            }
        }
        None
    }

    /// Resolves `path` inside the image, following symlinks in every
    /// component (the last one only when `follow_last`). Absolute link
    /// targets are relative to the image root; `..` stops at the root.
    pub(crate) fn resolve(&self, path: &str, follow_last: bool) -> String {
        let mut pending: Vec<String> = clean(path)
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .rev()
            .collect();
        let mut done: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                done.pop();
                continue;
            }
            let candidate = if done.is_empty() {
                part.clone()
            } else {
                format!("{}/{part}", done.join("/"))
            };
            let is_last = pending.is_empty();
            match self.lookup_exact(&candidate) {
                Some(f)
                    if f.entry.kind == Kind::Symlink
                        && (!is_last || follow_last)
                        && hops < MAX_SYMLINKS =>
                {
                    hops += 1;
                    let target = f.entry.link.unwrap_or_default();
                    if target.starts_with('/') {
                        done.clear();
                    }
                    for p in target
                        .split('/')
                        .filter(|s| !s.is_empty() && *s != ".")
                        .rev()
                    {
                        pending.push(p.to_owned());
                    }
                }
                _ => done.push(part),
            }
        }
        done.join("/")
    }

    /// The entry at `path` after resolving symlinks in its parents (and in
    /// the last component when `follow`).
    pub(crate) fn stat(&self, path: &str, follow: bool) -> Option<Found> {
        let p = self.resolve(path, follow);
        if p.is_empty() {
            return Some(Found {
                path: String::new(),
                entry: Entry {
                    kind: Kind::Dir,
                    mode: 0o755,
                    uid: 0,
                    gid: 0,
                    size: 0,
                    link: None,
                    mtime: 0,
                    offset: 0,
                },
                layer: 0,
            });
        }
        self.lookup_exact(&p)
    }

    /// The content of a regular file (following hard links).
    pub(crate) fn read(&self, found: &Found) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open(found)?.read_to_end(&mut out)?;
        Ok(out)
    }

    /// A reader of a regular file's content.
    pub(crate) fn open(&self, found: &Found) -> Result<Box<dyn Read + Send>> {
        let found = if found.entry.kind == Kind::Hardlink {
            let target = found.entry.link.clone().unwrap_or_default();
            self.lookup_exact(&target).ok_or_else(|| {
                BuildError::Layer(format!("hard link /{} to missing /{target}", found.path))
            })?
        } else {
            found.clone()
        };
        let layer = &self.layers[found.layer];
        let mut file = self.store.open_blob(&layer.blob)?.into_parts().0;
        match layer.compression {
            Compression::None => {
                file.seek(SeekFrom::Start(found.entry.offset))?;
                Ok(Box::new(file.take(found.entry.size)))
            }
            c => {
                // Compressed layers cannot seek: decompress up to the data.
                let mut dec: Box<dyn Read + Send> = match c {
                    Compression::Gzip => {
                        Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(file)))
                    }
                    _ => Box::new(zstd::stream::read::Decoder::new(file)?),
                };
                io::copy(&mut (&mut dec).take(found.entry.offset), &mut io::sink())?;
                Ok(Box::new(dec.take(found.entry.size)))
            }
        }
    }

    /// Everything under the directory `dir` (already resolved), merged
    /// across layers, sorted by path relative to `dir`.
    pub(crate) fn walk(&self, dir: &str) -> BTreeMap<String, Found> {
        let mut out: BTreeMap<String, Found> = BTreeMap::new();
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        for (i, layer) in self.layers.iter().enumerate() {
            out.retain(|rel, _| {
                let full = format!("{prefix}{rel}");
                !layer.hides(&full)
            });
            for (path, entry) in &layer.entries {
                if let Some(rel) = path.strip_prefix(&prefix)
                    && !rel.is_empty()
                {
                    if entry.kind != Kind::Dir {
                        let sub = format!("{rel}/");
                        out.retain(|r, _| !r.starts_with(&sub));
                    }
                    out.insert(
                        rel.to_owned(),
                        Found {
                            path: path.clone(),
                            entry: entry.clone(),
                            layer: i,
                        },
                    );
                }
            }
        }
        out
    }
}
