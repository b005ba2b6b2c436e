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
    memo: Mutex<HashMap<String, Digest>>,
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
            memo: Mutex::new(HashMap::new()),
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

    /// Walks one directory. Entries are stat'ed relative to the open
    /// directory (`fstatat`), so the kernel does not re-walk the whole path
    /// for each of tens of thousands of files.
    fn walk(&self, dir: &Path, rel: &str, out: &mut Vec<CtxEntry>) -> std::io::Result<()> {
        use rustix::fs::{AtFlags, Mode, OFlags};
        let fd = rustix::fs::open(
            dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut names: Vec<std::ffi::CString> = Vec::new();
        for e in rustix::fs::Dir::read_from(&fd)? {
            let e = e?;
            let n = e.file_name();
            if n.to_bytes() != b"." && n.to_bytes() != b".." {
                names.push(n.to_owned());
            }
        }
        names.sort();
        for cname in names {
            let name = String::from_utf8_lossy(cname.to_bytes()).into_owned();
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let st = rustix::fs::statat(&fd, cname.as_c_str(), AtFlags::SYMLINK_NOFOLLOW)?;
            let kind = rustix::fs::FileType::from_raw_mode(st.st_mode);
            let excluded = self.ignore.excludes(&child_rel);
            match kind {
                rustix::fs::FileType::Directory => {
                    if excluded && self.ignore.can_skip_dir(&child_rel) {
                        continue;
                    }
                    let at = out.len();
                    self.walk(&dir.join(&name), &child_rel, out)?;
                    // An excluded directory still appears when something
                    // under it was re-included by an exception.
                    if !excluded || out.len() > at {
                        out.insert(at, entry(child_rel, &st, CtxKind::Dir, None));
                    }
                }
                _ if excluded => {}
                rustix::fs::FileType::Symlink => {
                    let target = rustix::fs::readlinkat(&fd, cname.as_c_str(), Vec::new())?;
                    let target = String::from_utf8_lossy(target.to_bytes()).into_owned();
                    out.push(entry(child_rel, &st, CtxKind::Symlink, Some(target)));
                }
                rustix::fs::FileType::RegularFile => {
                    out.push(entry(child_rel, &st, CtxKind::File, None))
                }
                // Sockets, fifos and devices are not sent to the builder.
                _ => {}
            }
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

    /// What identifies an entry in a cache key: kind, mode, link target
    /// and content (a source that is itself a symlink is followed, as COPY
    /// follows it). Never its times.
    pub(crate) fn token(&self, e: &CtxEntry, root: bool) -> Result<String> {
        let content = match e.kind {
            CtxKind::File => self.digest(e)?.to_string(),
            CtxKind::Symlink if root => hash_file(&self.path_of(e))?.to_string(),
            _ => String::new(),
        };
        Ok(format!(
            "{:?}:{:o}:{}:{content}",
            e.kind,
            e.mode,
            e.link.as_deref().unwrap_or("")
        ))
    }

    /// The sha256 of a file's content, from the stamp cache when valid.
    pub(crate) fn digest(&self, e: &CtxEntry) -> Result<Digest> {
        if let Some(d) = self
            .memo
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&e.rel)
        {
            return Ok(d.clone());
        }
        let d = self.digest_uncached(e)?;
        self.memo
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(e.rel.clone(), d.clone());
        Ok(d)
    }

    fn digest_uncached(&self, e: &CtxEntry) -> Result<Digest> {
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

/// The sha256 of a file's content (following symlinks).
fn hash_file(path: &Path) -> Result<Digest> {
    let mut f = fs_err::File::open(path).map_err(|err| BuildError::Context(err.to_string()))?;
    let mut h = Sha256Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finish())
}

fn entry(rel: String, st: &rustix::fs::Stat, kind: CtxKind, link: Option<String>) -> CtxEntry {
    let size = st.st_size as u64;
    CtxEntry {
        rel,
        kind,
        mode: st.st_mode & 0o7777,
        size: if kind == CtxKind::File { size } else { 0 },
        mtime: st.st_mtime,
        link,
        inode: (st.st_dev, st.st_ino),
        nlink: st.st_nlink,
        stamp: FileStamp {
            size,
            mtime_ns: st.st_mtime * 1_000_000_000 + st.st_mtime_nsec as i64,
            ctime_ns: st.st_ctime * 1_000_000_000 + st.st_ctime_nsec as i64,
            ino: st.st_ino,
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
