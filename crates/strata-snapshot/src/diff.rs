//! The diff of an overlay upper dir, written as an OCI layer tar.
//!
//! The upper dir of a finished RUN step holds exactly what changed: new and
//! copied-up files, char 0:0 devices where something was deleted, and
//! `trusted.overlay.opaque=y` on directories that were removed and made
//! again. So the diff is a walk of the upper dir, no comparison with the
//! lower layers needed:
//!
//! - pre-order, each directory's names sorted by bytes, so parents come
//!   before children and the same tree gives the same tar;
//! - a char 0:0 device becomes `.wh.<name>`; an opaque directory is written
//!   and immediately followed by `<dir>/.wh..wh..opq` (before its
//!   children, as Docker writes it, so no applier drops the new children);
//! - regular files with several links inside the upper become one file and
//!   hard link entries to it (first path in walk order);
//! - xattrs are copied except overlay's own (`trusted.overlay.*`,
//!   `user.overlay.*`) and `security.selinux` (a host label);
//!   `security.capability` is kept;
//! - sockets are skipped, as Docker skips them; symlinks are never followed.
//!
//! An upper dir written with `redirect_dir` or `metacopy` enabled cannot be
//! expressed as a layer; it is refused (our mounts turn both off).

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self, AtFlags, Dir, FileType, Mode, OFlags, ResolveFlags};

use crate::error::{Result, SnapshotError};
use crate::path::RelPath;
use crate::tar_header::{DeviceKind, Meta, TarOptions};
use crate::tar_writer::LayerWriter;
use crate::xattr::{self, Target, is_overlay_private};

/// What [`diff_upper`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffStats {
    /// Tar entries, PAX headers not counted.
    pub entries: u64,
    /// Regular files (hard links not counted).
    pub files: u64,
    /// Directories.
    pub dirs: u64,
    /// Whiteouts (deleted paths).
    pub whiteouts: u64,
    /// Opaque directory markers.
    pub opaque_dirs: u64,
    /// Hard link entries.
    pub hardlinks: u64,
    /// Docker's size of the unpacked layer: file sizes (hard links once)
    /// plus symlink target lengths.
    pub unpacked_size: u64,
    /// Length of the tar stream.
    pub tar_size: u64,
}

/// One name found in a directory, stat'ed while the directory was open.
struct Node {
    rel: RelPath,
    tar: String,
    stat: fs::Stat,
    /// Symlink target, read while the parent was open.
    link: Option<String>,
    /// Xattrs of nodes that cannot be opened (symlinks, devices, FIFOs).
    xattrs: Option<Meta>,
}

/// Writes the contents of the overlay upper dir `upper` to `out` as an OCI
/// layer tar.
pub fn diff_upper(upper: &Path, out: impl Write, opts: &TarOptions) -> Result<DiffStats> {
    let root =
        fs::open(upper, dir_flags(), Mode::empty()).map_err(SnapshotError::errno("open", upper))?;
    let mut w = LayerWriter::new(out, *opts);
    let mut stats = DiffStats::default();
    let mut links: HashMap<(u64, u64), String> = HashMap::new();
    let mut stack = children(upper, &root, &RelPath::default(), "")?;
    while let Some(node) = stack.pop() {
        let shown = upper.join(node.rel.to_path());
        let st = &node.stat;
        let mut meta = node.xattrs.clone().unwrap_or_default();
        meta.mode = st.st_mode & 0o7777;
        meta.uid = st.st_uid;
        meta.gid = st.st_gid;
        meta.mtime = st.st_mtime;
        let ft = FileType::from_raw_mode(st.st_mode);
        if ft != FileType::Directory && st.st_nlink > 1 && !is_whiteout(st) {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = links.get(&key) {
                w.hardlink(&node.tar, first)?;
                stats.hardlinks += 1;
                stats.entries += 1;
                continue;
            }
        }
        match ft {
            FileType::Directory => {
                let fd = open_beneath(&root, &node.rel, dir_flags(), &shown)?;
                meta.xattrs = read_xattrs(Target::Fd(fd.as_fd()), &shown)?;
                let opaque = xattr::is_opaque(Target::Fd(fd.as_fd()))
                    .map_err(SnapshotError::io("read xattrs of", &shown))?;
                w.dir(&node.tar, &meta)?;
                stats.dirs += 1;
                if opaque {
                    w.opaque(&node.tar)?;
                    stats.opaque_dirs += 1;
                    stats.entries += 1;
                }
                let mut kids = children(upper, &fd, &node.rel, &node.tar)?;
                stack.append(&mut kids);
            }
            FileType::RegularFile => {
                let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                let fd = open_beneath(&root, &node.rel, flags, &shown)?;
                meta.xattrs = read_xattrs(Target::Fd(fd.as_fd()), &shown)?;
                let mut file = std::fs::File::from(fd);
                let size = st.st_size as u64;
                w.file(&node.tar, &meta, size, &mut file)?;
                stats.files += 1;
                stats.unpacked_size += size;
            }
            FileType::Symlink => {
                let target = node.link.as_deref().unwrap_or_default();
                w.symlink(&node.tar, target, &meta)?;
                stats.unpacked_size += target.len() as u64;
            }
            FileType::CharacterDevice if is_whiteout(st) => {
                w.whiteout(&node.tar)?;
                stats.whiteouts += 1;
            }
            FileType::CharacterDevice | FileType::BlockDevice => {
                let kind = if ft == FileType::BlockDevice {
                    DeviceKind::Block
                } else {
                    DeviceKind::Char
                };
                w.device(
                    &node.tar,
                    kind,
                    fs::major(st.st_rdev),
                    fs::minor(st.st_rdev),
                    &meta,
                )?;
            }
            FileType::Fifo => w.fifo(&node.tar, &meta)?,
            _ => {
                tracing::debug!(path = %shown.display(), "skipping socket in upper dir");
                continue;
            }
        }
        stats.entries += 1;
        if ft != FileType::Directory && st.st_nlink > 1 && !is_whiteout(st) {
            links.insert((st.st_dev, st.st_ino), node.tar);
        }
    }
    stats.tar_size = w.bytes_written() + 1024;
    w.finish()?;
    Ok(stats)
}

/// The entries of the open directory `dir`, sorted in reverse so popping
/// yields them in byte order.
fn children(upper: &Path, dir: &OwnedFd, rel: &RelPath, tar_dir: &str) -> Result<Vec<Node>> {
    let shown = upper.join(rel.to_path());
    let mut names: Vec<OsString> = Vec::new();
    for e in Dir::read_from(dir).map_err(SnapshotError::errno("read directory", &shown))? {
        let e = e.map_err(SnapshotError::errno("read directory", &shown))?;
        let name = e.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(std::ffi::OsStr::from_bytes(name).to_os_string());
        }
    }
    names.sort_unstable_by(|a, b| b.as_bytes().cmp(a.as_bytes()));
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let child = rel.join(&name);
        let path = upper.join(child.to_path());
        let Some(utf8) = name.to_str() else {
            return Err(SnapshotError::Unsupported {
                path,
                reason: "file name is not UTF-8".into(),
            });
        };
        let tar = if tar_dir.is_empty() {
            utf8.to_owned()
        } else {
            format!("{tar_dir}/{utf8}")
        };
        let stat = fs::statat(dir, &name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(SnapshotError::errno("stat", &path))?;
        let ft = FileType::from_raw_mode(stat.st_mode);
        let link = if ft == FileType::Symlink {
            let t = fs::readlinkat(dir, &name, Vec::new())
                .map_err(SnapshotError::errno("read link", &path))?;
            let t = t.into_string().map_err(|_| SnapshotError::Unsupported {
                path: path.clone(),
                reason: "symlink target is not UTF-8".into(),
            })?;
            Some(t)
        } else {
            None
        };
        let unopenable = matches!(
            ft,
            FileType::Symlink | FileType::CharacterDevice | FileType::BlockDevice | FileType::Fifo
        );
        let xattrs = if unopenable && !is_whiteout(&stat) {
            let proc = xattr::proc_path(dir.as_fd(), &name);
            Some(Meta {
                xattrs: read_xattrs(Target::Path(&proc), &path)?,
                ..Meta::default()
            })
        } else {
            None
        };
        out.push(Node {
            rel: child,
            tar,
            stat,
            link,
            xattrs,
        });
    }
    Ok(out)
}

/// Xattrs worth keeping in a layer; refuses overlay state a layer cannot
/// express.
fn read_xattrs(t: Target<'_>, shown: &Path) -> Result<std::collections::BTreeMap<String, Vec<u8>>> {
    let mut all = xattr::read_all(t).map_err(SnapshotError::io("read xattrs of", shown))?;
    for (key, what) in [
        ("redirect", "a renamed directory (redirect_dir)"),
        ("metacopy", "a metadata-only copy-up (metacopy)"),
    ] {
        if all.contains_key(&format!("trusted.overlay.{key}")) {
            return Err(SnapshotError::Unsupported {
                path: shown.to_path_buf(),
                reason: format!("{what}; mount with {key}=off"),
            });
        }
    }
    all.retain(|k, _| !is_overlay_private(k) && k != "security.selinux");
    Ok(all)
}

fn is_whiteout(st: &fs::Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice && st.st_rdev == 0
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// Opens `rel` under `root` without following any symlink.
fn open_beneath(root: &OwnedFd, rel: &RelPath, flags: OFlags, shown: &PathBuf) -> Result<OwnedFd> {
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    fs::openat2(root, rel.to_path(), flags, Mode::empty(), resolve)
        .map_err(SnapshotError::errno("open", shown))
}
