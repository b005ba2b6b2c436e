//! A read-only merged view of a stack of snapshot dirs, as overlayfs would
//! show them, without mounting anything.
//!
//! The rules are overlayfs's: the topmost layer holding a name decides what
//! it is; a whiteout (char device 0:0) hides the name in every layer below;
//! a directory merges with directories below it until one is opaque
//! (`trusted.overlay.opaque=y`) or a layer holds a non-directory there.
//! Paths are looked up as inside a chroot: `..` at the root stays at the
//! root. [`MergedView::stat`] does not follow a final symlink;
//! [`MergedView::resolve`] follows every symlink inside the root, as
//! Docker's `FollowSymlinkInScope` does (absolute targets resolve under the
//! root, `..` cannot escape).

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Result, SnapshotError};
use crate::path::RelPath;
use crate::xattr::{self, Target};

/// Linux's limit on symlinks followed in one lookup.
const MAX_SYMLINKS: u32 = 40;

/// A stack of snapshot dirs read as one tree.
#[derive(Debug, Clone)]
pub struct MergedView {
    /// Base first.
    layers: Vec<PathBuf>,
}

/// What a path is in the merged view.
#[derive(Debug, Clone)]
pub struct MergedEntry {
    /// The file on disk that provides it (in its topmost layer).
    pub real_path: PathBuf,
    /// Index of that layer (0 is the base).
    pub layer: usize,
    /// Its `lstat` metadata.
    pub metadata: Metadata,
}

impl MergedEntry {
    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.metadata.is_dir()
    }

    /// True for a symlink.
    pub fn is_symlink(&self) -> bool {
        self.metadata.file_type().is_symlink()
    }
}

/// A found path and, for a directory, the layers merged into it (top first).
struct Found {
    entry: MergedEntry,
    dir_layers: Vec<usize>,
}

fn is_whiteout(m: &Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

fn is_opaque(path: &Path) -> Result<bool> {
    xattr::is_opaque(Target::Path(path)).map_err(SnapshotError::io("read xattrs of", path))
}

fn lstat(path: &Path) -> Result<Option<Metadata>> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(20) => Ok(None),
        Err(e) => Err(SnapshotError::io("stat", path)(e)),
    }
}

impl MergedView {
    /// A view over `layers`, base first (the order of `rootfs.diff_ids`).
    pub fn new(layers: impl Into<Vec<PathBuf>>) -> MergedView {
        MergedView {
            layers: layers.into(),
        }
    }

    /// The layers, base first.
    pub fn layers(&self) -> &[PathBuf] {
        &self.layers
    }

    /// What `path` is, without following a final symlink; `None` if it does
    /// not exist (or a parent is not a directory).
    pub fn stat(&self, path: impl AsRef<Path>) -> Result<Option<MergedEntry>> {
        let rel = RelPath::in_root(path.as_ref().as_os_str().as_bytes());
        Ok(self.lookup(&rel)?.map(|f| f.entry))
    }

    /// The merged contents of the directory `path`, sorted by name bytes.
    /// Symlinks in `path` itself are not followed (use [`MergedView::resolve`]).
    pub fn read_dir(&self, path: impl AsRef<Path>) -> Result<Vec<(OsString, MergedEntry)>> {
        let shown = path.as_ref().to_path_buf();
        let rel = RelPath::in_root(shown.as_os_str().as_bytes());
        let found = self.lookup(&rel)?.ok_or(SnapshotError::NotFound {
            what: "directory",
            path: shown.clone(),
        })?;
        if !found.entry.is_dir() {
            return Err(SnapshotError::Io {
                op: "read directory",
                path: shown,
                source: io::Error::from_raw_os_error(20),
            });
        }
        let mut seen: BTreeMap<OsString, Option<MergedEntry>> = BTreeMap::new();
        for &l in &found.dir_layers {
            let dir = self.layers[l].join(rel.to_path());
            let entries =
                std::fs::read_dir(&dir).map_err(SnapshotError::io("read directory", &dir))?;
            for e in entries {
                let e = e.map_err(SnapshotError::io("read directory", &dir))?;
                let name = e.file_name();
                if seen.contains_key(&name) {
                    continue;
                }
                let real = e.path();
                let Some(m) = lstat(&real)? else { continue };
                let entry = (!is_whiteout(&m)).then_some(MergedEntry {
                    real_path: real,
                    layer: l,
                    metadata: m,
                });
                seen.insert(name, entry);
            }
        }
        Ok(seen
            .into_iter()
            .filter_map(|(n, e)| Some((n, e?)))
            .collect())
    }

    /// Opens the file at `path` for reading, following symlinks inside the
    /// root as a process chrooted into the view would.
    pub fn open(&self, path: impl AsRef<Path>) -> Result<File> {
        let resolved = self.resolve(path.as_ref())?;
        let entry = self.stat(&resolved)?.ok_or(SnapshotError::NotFound {
            what: "file",
            path: resolved.clone(),
        })?;
        if entry.is_dir() {
            return Err(SnapshotError::Io {
                op: "open",
                path: resolved,
                source: io::Error::from_raw_os_error(21),
            });
        }
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&entry.real_path)
            .map_err(SnapshotError::io("open", &entry.real_path))
    }

    /// `path` with every symlink resolved inside the root, as an absolute
    /// path in the view (`/usr/lib/x`). Components that do not exist are
    /// kept as given, like Docker's `FollowSymlinkInScope`.
    pub fn resolve(&self, path: impl AsRef<Path>) -> Result<PathBuf> {
        let input = path.as_ref();
        let mut pending: VecDeque<Vec<u8>> = split(input.as_os_str().as_bytes());
        let mut out = RelPath::default();
        let mut hops = 0;
        while let Some(part) = pending.pop_front() {
            if matches!(part.as_slice(), b"" | b"." | b"..") {
                out.push_component(&part);
                continue;
            }
            let candidate = out.join(std::ffi::OsStr::from_bytes(&part));
            match self.lookup(&candidate)? {
                Some(f) if f.entry.is_symlink() => {
                    hops += 1;
                    if hops > MAX_SYMLINKS {
                        return Err(SnapshotError::SymlinkLoop(input.display().to_string()));
                    }
                    let target = std::fs::read_link(&f.entry.real_path)
                        .map_err(SnapshotError::io("read link", &f.entry.real_path))?;
                    let target = target.as_os_str().as_bytes();
                    if target.first() == Some(&b'/') {
                        out = RelPath::default();
                    }
                    for t in split(target).into_iter().rev() {
                        pending.push_front(t);
                    }
                }
                _ => out = candidate,
            }
        }
        Ok(out.to_abs())
    }

    /// Finds `rel` layer by layer, top first.
    fn lookup(&self, rel: &RelPath) -> Result<Option<Found>> {
        let Some(top) = self.layers.len().checked_sub(1) else {
            return Ok(None);
        };
        // Every layer's root takes part, as in the kernel, which does not
        // look at opaque xattrs on layer roots.
        let active: Vec<usize> = (0..=top).rev().collect();
        let root_meta = lstat(&self.layers[top])?.ok_or(SnapshotError::NotFound {
            what: "layer directory",
            path: self.layers[top].clone(),
        })?;
        let mut found = Found {
            entry: MergedEntry {
                real_path: self.layers[top].clone(),
                layer: top,
                metadata: root_meta,
            },
            dir_layers: active,
        };
        let mut cur = RelPath::default();
        for name in &rel.0 {
            if !found.entry.is_dir() {
                return Ok(None);
            }
            cur = cur.join(name);
            let mut next: Option<MergedEntry> = None;
            let mut dir_layers = Vec::new();
            for &l in &found.dir_layers {
                let p = self.layers[l].join(cur.to_path());
                let Some(m) = lstat(&p)? else { continue };
                if next.is_none() && is_whiteout(&m) {
                    return Ok(None);
                }
                if !m.is_dir() {
                    // A non-directory on top is the entry; below a directory
                    // it ends the merge, like an opaque directory would.
                    if next.is_none() {
                        next = Some(MergedEntry {
                            real_path: p,
                            layer: l,
                            metadata: m,
                        });
                    }
                    break;
                }
                let opaque = is_opaque(&p)?;
                if next.is_none() {
                    next = Some(MergedEntry {
                        real_path: p,
                        layer: l,
                        metadata: m,
                    });
                }
                dir_layers.push(l);
                if opaque {
                    break;
                }
            }
            let Some(entry) = next else { return Ok(None) };
            found = Found { entry, dir_layers };
        }
        Ok(Some(found))
    }
}

fn split(raw: &[u8]) -> VecDeque<Vec<u8>> {
    raw.split(|&b| b == b'/').map(<[u8]>::to_vec).collect()
}
