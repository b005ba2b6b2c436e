//! The build context: the files a build may COPY, after `.dockerignore`.
//!
//! The directory is walked once per build (sorted, so everything derived
//! from it is deterministic). File contents are hashed only when a COPY
//! selects them, and hashes are remembered in the store by (size, mtime,
//! ctime, inode) so a warm build does not re-read unchanged files. The mtime
//! decides only whether a stored hash is still valid; it never enters a
//! cache key.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use strata_core::{Digest, Sha256Hasher};
use strata_dockerfile::dockerignore::DockerIgnore;
use strata_store::{FileStamp, Store};

use crate::error::{BuildError, Result};

/// What a context path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CtxKind {
    File,
    Dir,
    Symlink,
}

/// One file, directory or symlink of the context.
#[derive(Debug, Clone)]
pub(crate) struct CtxEntry {
    /// Path relative to the context root, `/`-separated.
    pub(crate) rel: String,
    pub(crate) kind: CtxKind,
    pub(crate) mode: u32,
    pub(crate) size: u64,
    pub(crate) mtime: i64,
    pub(crate) link: Option<String>,
    /// (device, inode): hard links share it.
    pub(crate) inode: (u64, u64),
    nlink: u64,
    stamp: FileStamp,
}

impl CtxEntry {
    /// Whether another path may be a hard link to this file.
    pub(crate) fn may_be_linked(&self) -> bool {
        self.kind == CtxKind::File && self.nlink > 1
    }
}

/// A build context directory.
pub(crate) struct Context {
    root: PathBuf,
    ignore: DockerIgnore,
    entries: OnceLock<std::result::Result<Vec<CtxEntry>, String>>,
    store: Store,
    known: OnceLock<HashMap<String, (FileStamp, Digest)>>,
    fresh: Mutex<Vec<(String, FileStamp, Digest)>>,
}

fn has_wildcard(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

impl Context {
    pub(crate) fn new(store: &Store, root: &Path, ignore: DockerIgnore) -> Result<Context> {
        let root = fs_err::canonicalize(root).map_err(|e| BuildError::Context(e.to_string()))?;
        Ok(Context {
            root,
            ignore,
            entries: OnceLock::new(),
            store: store.clone(),
            known: OnceLock::new(),
            fresh: Mutex::new(Vec::new()),
        })
    }

    /// The context directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Every entry that survives `.dockerignore`, sorted as a depth-first
    /// walk with each directory's children in byte order.
    pub(crate) fn entries(&self) -> Result<&[CtxEntry]> {
        let res = self.entries.get_or_init(|| {
            let mut out = Vec::new();
            self.walk(&self.root, "", &mut out)
                .map_err(|e| e.to_string())?;
            Ok(out)
        });
        res.as_deref().map_err(|e| BuildError::Context(e.clone()))
    }

    fn walk(&self, dir: &Path, rel: &str, out: &mut Vec<CtxEntry>) -> std::io::Result<()> {
        let mut names: Vec<_> = fs_err::read_dir(dir)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<std::io::Result<_>>()?;
        names.sort();
        for name in names {
            let name = name.to_string_lossy().into_owned();
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let path = dir.join(&name);
            let meta = fs_err::symlink_metadata(&path)?;
            let ft = meta.file_type();
            let excluded = self.ignore.excludes(&child_rel);
            if ft.is_dir() {
                if excluded && self.ignore.can_skip_dir(&child_rel) {
                    continue;
                }
                let at = out.len();
                self.walk(&path, &child_rel, out)?;
                // An excluded directory still appears when something under
                // it was re-included by an exception.
                if !excluded || out.len() > at {
                    out.insert(at, entry(child_rel, &meta, CtxKind::Dir, None));
                }
                continue;
            }
            if excluded {
                continue;
            }
            if ft.is_symlink() {
                let target = fs_err::read_link(&path)?.to_string_lossy().into_owned();
                out.push(entry(child_rel, &meta, CtxKind::Symlink, Some(target)));
            } else if ft.is_file() {
                out.push(entry(child_rel, &meta, CtxKind::File, None));
            }
            // Sockets, fifos and devices are not sent to the builder.
        }
        Ok(())
    }

    /// The entries a COPY source selects, one group per matched root: an
    /// exact path (a directory brings its whole subtree) or a wildcard
    /// pattern matched against each path (Go's `filepath.Match`). Each
    /// group starts with its root; every entry comes with the path the
    /// destination keeps (the root's name, or with `parents` its whole
    /// context path, then the path below the root).
    pub(crate) fn select(
        &self,
        source: &str,
        parents: bool,
    ) -> Result<Vec<Vec<(String, &CtxEntry)>>> {
        let entries = self.entries()?;
        let src = clean_rel(source);
        if src.is_empty() {
            return Ok(vec![entries.iter().map(|e| (e.rel.clone(), e)).collect()]);
        }
        let roots: Vec<&CtxEntry> = if has_wildcard(&src) {
            entries
                .iter()
                .filter(|e| strata_core::reference::path_match(&src, &e.rel))
                .collect()
        } else {
            entries.iter().filter(|e| e.rel == src).collect()
        };
        let mut groups = Vec::new();
        for root in roots {
            let base = if parents {
                root.rel.clone()
            } else {
                root.rel
                    .rsplit_once('/')
                    .map_or(root.rel.as_str(), |(_, n)| n)
                    .to_owned()
            };
            let mut group = vec![(base.clone(), root)];
            if root.kind == CtxKind::Dir {
                let prefix = format!("{}/", root.rel);
                for e in entries.iter().filter(|e| e.rel.starts_with(&prefix)) {
                    group.push((format!("{base}/{}", &e.rel[prefix.len()..]), e));
                }
            }
            groups.push(group);
        }
        Ok(groups)
    }

    /// The path of an entry on disk.
    pub(crate) fn path_of(&self, e: &CtxEntry) -> PathBuf {
        self.root.join(&e.rel)
    }

    /// The sha256 of a file's content, from the stamp cache when valid.
    pub(crate) fn digest(&self, e: &CtxEntry) -> Result<Digest> {
        let path = self.path_of(e);
        let key = path.to_string_lossy().into_owned();
        let known = self.known.get_or_init(|| {
            self.store
                .file_hashes(&self.root.to_string_lossy())
                .unwrap_or_default()
        });
        if let Some((stamp, d)) = known.get(&key)
            && *stamp == e.stamp
        {
            return Ok(d.clone());
        }
        let mut f =
            fs_err::File::open(&path).map_err(|err| BuildError::Context(err.to_string()))?;
        let mut h = Sha256Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        let d = h.finish();
        self.fresh
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((key, e.stamp, d.clone()));
        Ok(d)
    }

    /// Saves newly computed hashes for the next build.
    pub(crate) fn save_hashes(&self) -> Result<()> {
        let fresh = std::mem::take(&mut *self.fresh.lock().unwrap_or_else(|p| p.into_inner()));
        self.store.put_file_hashes(&fresh)?;
        Ok(())
    }
}

fn entry(rel: String, meta: &std::fs::Metadata, kind: CtxKind, link: Option<String>) -> CtxEntry {
    CtxEntry {
        rel,
        kind,
        mode: meta.permissions().mode() & 0o7777,
        size: if kind == CtxKind::File { meta.len() } else { 0 },
        mtime: meta.mtime(),
        link,
        inode: (meta.dev(), meta.ino()),
        nlink: meta.nlink(),
        stamp: FileStamp {
            size: meta.len(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
            ino: meta.ino(),
        },
    }
}

/// A context path cleaned the way Docker does: relative, no `.` or `..`
/// above the root.
pub(crate) fn clean_rel(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out.join("/")
}
