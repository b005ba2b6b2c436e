//! Helpers shared by the integration tests: a snapshot dir in a temp dir,
//! a tar lister, and overlay mounts that are always unmounted.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::CString;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::mount::{MountFlags, UnmountFlags};
use strata_core::Digest;
use strata_snapshot::{MergedView, Mount, Snapshots};
use tempfile::TempDir;

/// A snapshot dir that lives as long as the value.
pub(crate) struct Fixture {
    pub(crate) tmp: TempDir,
    pub(crate) snaps: Snapshots,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let tmp = tempfile::tempdir().expect("temp dir");
        let snaps = Snapshots::open(&tmp.path().join("snapshots-v1")).expect("open snapshots");
        Fixture { tmp, snaps }
    }

    /// A scratch directory beside the snapshots.
    pub(crate) fn scratch(&self, name: &str) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::create_dir_all(&p).expect("scratch dir");
        p
    }
}

/// A made-up chain ID.
pub(crate) fn chain(name: &str) -> Digest {
    Digest::sha256(name.as_bytes())
}

/// One tar entry, as a test compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    /// `f` file, `d` dir, `l` symlink, `h` hard link, `c`/`b` device, `p` FIFO.
    pub(crate) kind: char,
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    pub(crate) mtime: u64,
    pub(crate) link: Option<String>,
    pub(crate) data: Vec<u8>,
    pub(crate) xattrs: BTreeMap<String, Vec<u8>>,
}

/// Every entry of a tar in order, by path.
pub(crate) fn list_tar(bytes: &[u8]) -> Vec<(String, Listed)> {
    let mut ar = tar::Archive::new(bytes);
    let mut out = Vec::new();
    for e in ar.entries().expect("tar") {
        let mut e = e.expect("tar entry");
        let path = String::from_utf8(e.path_bytes().into_owned()).expect("utf-8 path");
        let h = e.header().clone();
        let kind = match h.entry_type() {
            tar::EntryType::Regular => 'f',
            tar::EntryType::Directory => 'd',
            tar::EntryType::Symlink => 'l',
            tar::EntryType::Link => 'h',
            tar::EntryType::Char => 'c',
            tar::EntryType::Block => 'b',
            tar::EntryType::Fifo => 'p',
            other => panic!("unexpected entry type {other:?}"),
        };
        let link = e
            .link_name_bytes()
            .map(|l| String::from_utf8(l.into_owned()).expect("utf-8 link"));
        let mut xattrs = BTreeMap::new();
        if let Some(pax) = e.pax_extensions().expect("pax") {
            for r in pax {
                let r = r.expect("pax record");
                if let Some(name) = r.key().expect("key").strip_prefix("SCHILY.xattr.") {
                    xattrs.insert(name.to_owned(), r.value_bytes().to_vec());
                }
            }
        }
        let mut data = Vec::new();
        e.read_to_end(&mut data).expect("data");
        let listed = Listed {
            kind,
            mode: h.mode().expect("mode"),
            uid: h.uid().expect("uid"),
            gid: h.gid().expect("gid"),
            mtime: h.mtime().expect("mtime"),
            link,
            data,
            xattrs,
        };
        out.push((path, listed));
    }
    out
}

/// Paths with their kinds, for compact comparisons.
pub(crate) fn kinds(bytes: &[u8]) -> Vec<String> {
    list_tar(bytes)
        .into_iter()
        .map(|(p, l)| format!("{} {p}", l.kind))
        .collect()
}

/// An overlay or bind mount, unmounted on drop.
pub(crate) struct MountGuard {
    target: PathBuf,
}

impl Drop for MountGuard {
    fn drop(&mut self) {
        if rustix::mount::unmount(&self.target, UnmountFlags::empty()).is_err() {
            let _ = rustix::mount::unmount(&self.target, UnmountFlags::DETACH);
        }
    }
}

/// Performs `m` on `target` as a runtime would. Relative options (a set
/// `cwd`) are mounted by busybox running in that directory, because `chdir`
/// would change every test thread's directory.
pub(crate) fn mount(m: &Mount, target: &Path) -> MountGuard {
    std::fs::create_dir_all(target).expect("mount point");
    if m.kind == "bind" {
        rustix::mount::mount_bind_recursive(m.source.as_str(), target).expect("bind mount");
        return MountGuard {
            target: target.to_path_buf(),
        };
    }
    assert_eq!(m.kind, "overlay");
    match &m.cwd {
        None => {
            let data = CString::new(m.data()).expect("no NUL");
            rustix::mount::mount(
                m.source.as_str(),
                target,
                "overlay",
                MountFlags::empty(),
                data.as_c_str(),
            )
            .unwrap_or_else(|e| panic!("mount overlay {}: {e}", m.data()));
        }
        Some(cwd) => {
            let st = std::process::Command::new("/usr/bin/busybox")
                .args(["mount", "-t", "overlay", "overlay", "-o", &m.data()])
                .arg(target)
                .current_dir(cwd)
                .status()
                .expect("run busybox mount");
            assert!(st.success(), "busybox mount failed: {}", m.data());
        }
    }
    MountGuard {
        target: target.to_path_buf(),
    }
}

/// Unix seconds of a file's mtime (not following symlinks).
pub(crate) fn mtime(p: &Path) -> i64 {
    std::fs::symlink_metadata(p).expect("stat").mtime()
}

/// True for an overlay whiteout.
pub(crate) fn is_whiteout(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(p)
        .map(|m| m.file_type().is_char_device() && m.rdev() == 0)
        .unwrap_or(false)
}

/// The value of an xattr on `p` (not following symlinks).
pub(crate) fn xattr(p: &Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    let n = rustix::fs::lgetxattr(p, name, &mut buf[..]).ok()?;
    buf.truncate(n);
    Some(buf)
}

/// What a test compares per path: kind, mode, owner, link target, content.
pub(crate) type Tree = BTreeMap<String, (char, u32, u32, u32, Option<PathBuf>, Option<Vec<u8>>)>;

/// The tree under a mounted directory, as the kernel shows it.
pub(crate) fn kernel_tree(root: &Path) -> Tree {
    let mut out = Tree::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in std::fs::read_dir(root.join(&rel)).unwrap() {
            let e = e.unwrap();
            let r = rel.join(e.file_name());
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            let (kind, link, data) = if m.is_dir() {
                stack.push(r.clone());
                ('d', None, None)
            } else if m.file_type().is_symlink() {
                ('l', Some(std::fs::read_link(e.path()).unwrap()), None)
            } else {
                ('f', None, Some(std::fs::read(e.path()).unwrap()))
            };
            let key = r.to_string_lossy().into_owned();
            out.insert(key, (kind, m.mode() & 0o7777, m.uid(), m.gid(), link, data));
        }
    }
    out
}

/// The same tree read through a `MergedView`, without mounting.
pub(crate) fn view_tree(view: &MergedView) -> Tree {
    let mut out = Tree::new();
    let mut stack = vec![PathBuf::from("/")];
    while let Some(dir) = stack.pop() {
        for (name, e) in view.read_dir(&dir).unwrap() {
            let p = dir.join(&name);
            let m = &e.metadata;
            let (kind, link, data) = if e.is_dir() {
                stack.push(p.clone());
                ('d', None, None)
            } else if e.is_symlink() {
                ('l', Some(std::fs::read_link(&e.real_path).unwrap()), None)
            } else {
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut view.open(&p).unwrap(), &mut data).unwrap();
                ('f', None, Some(data))
            };
            let key = p.strip_prefix("/").unwrap().to_string_lossy().into_owned();
            out.insert(key, (kind, m.mode() & 0o7777, m.uid(), m.gid(), link, data));
        }
    }
    out
}
