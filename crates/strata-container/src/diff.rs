//! `docker diff`: what a container changed, read from its overlay upper dir.
//!
//! Docker 20.10 with overlay2 computes `docker diff` with its "naive" diff,
//! not from the upper dir (`OverlayChanges`): it walks the container's
//! merged tree and its parent's merged tree and compares them entry by entry
//! (`ChangesDirs`/`addChanges` in moby's `pkg/archive/changes.go`). What it
//! prints shows it: the order changes from call to call, and a file copied
//! up without a change is not listed. Only paths the upper dir holds can
//! differ, so
//! [`changes`] walks the upper dir and compares each entry with what the
//! image shows at that path, giving the same answer:
//!
//! - A path the image lacks is `A`, and so is everything below it.
//! - A path both have is `C` when `statDifferent` says so: the mode (type
//!   and permission bits), owner, group or device number differ, or, for a
//!   non-directory in the image, the size or mtime differ (mtimes match when
//!   the seconds match and the nanoseconds match or either is 0), or the
//!   `security.capability` xattrs differ. A file copied up but not changed
//!   (`chown` to the same owner, `touch -r` itself) is no change; a
//!   directory's size and mtime never count.
//! - A directory that holds a change and is not itself `A` or `C` is `C`,
//!   listed before what it holds. The root is never listed.
//! - A path the image has and the container does not is `D`, once: nothing
//!   below a deleted directory is listed. In an opaque directory (one that
//!   replaced the image's) every image entry the upper dir does not hold is
//!   deleted; an entry it does hold is compared with the image's, and so on
//!   below it, since the image's tree is still what Docker compares with.
//! - A directory that replaced a non-directory is `C` and its contents `A`;
//!   a non-directory that replaced a directory is `C` alone.
//!
//! Docker lists a directory's entries in Go map order, which changes from
//! call to call. We list them depth first: in each directory the entries
//! the container has, by name bytes, each followed by what is below it,
//! then the deleted names, by name bytes. That is one of the orders Docker
//! prints.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use rustix::io::Errno;
use strata_snapshot::{MergedEntry, MergedView, OPAQUE_XATTR};

/// The xattr holding a file's capabilities, which Docker compares too.
const CAPABILITY_XATTR: &str = "security.capability";

/// The `S_IFDIR` bit, as Docker's `statDifferent` tests it.
const S_IFDIR: u32 = 0o040000;

/// What happened to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// The image does not have it (`A`).
    Added,
    /// The image has it, with other contents or metadata, or it is a
    /// directory holding changes (`C`).
    Changed,
    /// The image has it and the container does not (`D`).
    Deleted,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeKind::Added => "A",
            ChangeKind::Changed => "C",
            ChangeKind::Deleted => "D",
        })
    }
}

/// One line of `docker diff`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// The absolute path in the container (`/etc/passwd`); a name that is
    /// not UTF-8 has its bad bytes replaced by U+FFFD.
    pub path: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.path)
    }
}

/// Changes recorded in `upper` (an overlayfs upper directory, read while
/// the overlay may be mounted), relative to the image seen through `lower`.
///
/// The upper dir is in overlayfs's encoding: a whiteout (character device
/// 0:0) deletes a name, a directory with `trusted.overlay.opaque=y`
/// replaced the image's. The rules and the order of the result are in the
/// [module docs](self). Nothing is skipped: where Docker keeps
/// `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`, `/dev`, `/proc` and
/// `/sys` out of `docker diff` with its init layer, the caller keeps them
/// out of `upper`; whatever `upper` holds is reported. Entries that vanish
/// while being read (a running container deleting them) are passed over.
///
/// # Errors
///
/// An I/O error naming the path, when `upper` or a layer cannot be read.
pub fn changes(upper: &Path, lower: &MergedView) -> io::Result<Vec<Change>> {
    let meta =
        std::fs::symlink_metadata(upper).map_err(with_path("read overlay upper dir", upper))?;
    if !meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!(
                "read overlay upper dir {}: not a directory",
                upper.display()
            ),
        ));
    }
    let root_is_dir = lower
        .stat("/")
        .map_err(io::Error::other)?
        .is_some_and(|e| e.is_dir());
    let mut walk = Walk {
        lower,
        out: Vec::new(),
    };
    walk.dir(
        upper,
        Path::new(""),
        Below {
            image_dir: root_is_dir,
            merges: root_is_dir,
        },
    )?;
    Ok(walk.out)
}

/// How the container's directory relates to the image's at the same path.
#[derive(Clone, Copy)]
struct Below {
    /// The image has a directory there: its entries can be changed or
    /// deleted.
    image_dir: bool,
    /// The container sees the image's entries there too (not opaque, no
    /// opaque or replaced directory above): only what the upper dir holds
    /// can differ, and deletions are whiteouts.
    merges: bool,
}

struct Walk<'a> {
    lower: &'a MergedView,
    out: Vec<Change>,
}

impl Walk<'_> {
    /// The changes below the upper directory `dir`, at `rel` in the tree.
    fn dir(&mut self, dir: &Path, rel: &Path, below: Below) -> io::Result<()> {
        let entries = read_upper_dir(dir)?;
        // The image's entries the container may have dropped, when the
        // container does not see them through the overlay.
        let mut image_left: Option<BTreeMap<OsString, MergedEntry>> =
            if below.image_dir && !below.merges {
                Some(
                    self.lower
                        .read_dir(rel)
                        .map_err(io::Error::other)?
                        .into_iter()
                        .collect(),
                )
            } else {
                None
            };
        let mut deleted: Vec<OsString> = Vec::new();
        for (name, meta) in entries {
            let child_rel = rel.join(&name);
            if is_whiteout(&meta) {
                if below.merges && self.image(&child_rel)?.is_some() {
                    deleted.push(name);
                }
                // Elsewhere the image's entries still listed are the
                // deletions, and a whiteout there hides nothing.
                continue;
            }
            let old = match image_left.as_mut() {
                Some(left) => left.remove(&name),
                None if below.image_dir => self.image(&child_rel)?,
                None => None,
            };
            self.entry(&dir.join(&name), &child_rel, &meta, old.as_ref(), below)?;
        }
        if let Some(left) = image_left {
            deleted.extend(left.into_keys());
        }
        deleted.sort();
        for name in deleted {
            self.push(ChangeKind::Deleted, &rel.join(name));
        }
        Ok(())
    }

    /// The changes at and below one upper entry, `old` being the image's
    /// entry at that path.
    fn entry(
        &mut self,
        path: &Path,
        rel: &Path,
        meta: &Metadata,
        old: Option<&MergedEntry>,
        parent: Below,
    ) -> io::Result<()> {
        let start = self.out.len();
        let listed = match old {
            None => {
                self.push(ChangeKind::Added, rel);
                true
            }
            Some(old) if differs(old, path, meta) => {
                self.push(ChangeKind::Changed, rel);
                true
            }
            Some(_) => false,
        };
        if !meta.is_dir() {
            return Ok(());
        }
        let image_dir = old.is_some_and(MergedEntry::is_dir);
        let merges = parent.merges && image_dir && !is_opaque(path)?;
        self.dir(path, rel, Below { image_dir, merges })?;
        if !listed && self.out.len() > start {
            self.out.insert(
                start,
                Change {
                    kind: ChangeKind::Changed,
                    path: shown(rel),
                },
            );
        }
        Ok(())
    }

    /// What the image has at `rel`.
    fn image(&self, rel: &Path) -> io::Result<Option<MergedEntry>> {
        self.lower.stat(rel).map_err(io::Error::other)
    }

    fn push(&mut self, kind: ChangeKind, rel: &Path) {
        self.out.push(Change {
            kind,
            path: shown(rel),
        });
    }
}

/// `rel` as Docker prints it: absolute.
fn shown(rel: &Path) -> String {
    format!("/{}", rel.to_string_lossy())
}

/// The entries of an upper directory with their `lstat`, by name bytes.
/// A directory or entry removed meanwhile is passed over.
fn read_upper_dir(dir: &Path) -> io::Result<Vec<(OsString, Metadata)>> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(with_path("read directory", dir)(e)),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(with_path("read directory", dir))?;
        match entry.metadata() {
            Ok(m) => out.push((entry.file_name(), m)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(with_path("stat", &entry.path())(e)),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Docker's `statDifferent`, plus its capability comparison.
fn differs(old: &MergedEntry, path: &Path, new: &Metadata) -> bool {
    let o = &old.metadata;
    if o.mode() != new.mode()
        || o.uid() != new.uid()
        || o.gid() != new.gid()
        || o.rdev() != new.rdev()
    {
        return true;
    }
    // Docker tests the S_IFDIR bit, which sockets and block devices have
    // too: their size and mtime do not count either.
    if o.mode() & S_IFDIR == 0 && (!same_mtime(o, new) || o.size() != new.size()) {
        return true;
    }
    capability(&old.real_path) != capability(path)
}

/// Equal seconds, and equal nanoseconds unless either is 0 (tar keeps no
/// sub-second times).
fn same_mtime(a: &Metadata, b: &Metadata) -> bool {
    a.mtime() == b.mtime()
        && (a.mtime_nsec() == b.mtime_nsec() || a.mtime_nsec() == 0 || b.mtime_nsec() == 0)
}

fn is_whiteout(m: &Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

/// A file's `security.capability`, empty when unset or unreadable: Docker
/// ignores errors reading it and treats a missing one as empty.
fn capability(path: &Path) -> Vec<u8> {
    let mut buf = [0u8; 64];
    match rustix::fs::lgetxattr(path, CAPABILITY_XATTR, &mut buf[..]) {
        Ok(n) => buf[..n].to_vec(),
        Err(Errno::RANGE) => {
            let Ok(size) = rustix::fs::lgetxattr_query(path, CAPABILITY_XATTR) else {
                return Vec::new();
            };
            let mut big = vec![0u8; size];
            match rustix::fs::lgetxattr(path, CAPABILITY_XATTR, &mut big[..]) {
                Ok(n) => {
                    big.truncate(n);
                    big
                }
                Err(_) => Vec::new(),
            }
        }
        Err(_) => Vec::new(),
    }
}

/// True when the upper directory `path` is opaque (`trusted.overlay.opaque`
/// is `y`).
fn is_opaque(path: &Path) -> io::Result<bool> {
    let mut buf = [0u8; 8];
    match rustix::fs::lgetxattr(path, OPAQUE_XATTR, &mut buf[..]) {
        Ok(n) => Ok(&buf[..n] == b"y"),
        // Longer than any "y": not opaque.
        Err(Errno::RANGE) => Ok(false),
        Err(Errno::NODATA | Errno::NOTSUP | Errno::NOENT) => Ok(false),
        Err(e) => Err(with_path("read xattrs of", path)(e.into())),
    }
}

/// Wraps an error so its message names the operation and the path.
fn with_path(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> io::Error {
    let path: PathBuf = path.to_path_buf();
    move |e| io::Error::new(e.kind(), format!("{op} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use rustix::fs::{AtFlags, CWD, FileType, Mode, Timespec, Timestamps, XattrFlags};

    /// 2000-01-01, the mtime of every file in `busybox:local`.
    const EPOCH: i64 = 946_684_800;

    fn set_mode(p: &Path, mode: u32) {
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
    }

    fn set_mtime(p: &Path, sec: i64, nsec: i64) {
        let t = Timespec {
            tv_sec: sec,
            tv_nsec: nsec,
        };
        let times = Timestamps {
            last_access: t,
            last_modification: t,
        };
        rustix::fs::utimensat(CWD, p, &times, AtFlags::SYMLINK_NOFOLLOW).unwrap();
    }

    fn mkdir(p: &Path, mode: u32) {
        fs::create_dir(p).unwrap();
        set_mode(p, mode);
        set_mtime(p, EPOCH, 0);
    }

    fn file(p: &Path, data: &[u8], mode: u32) {
        fs::write(p, data).unwrap();
        set_mode(p, mode);
        set_mtime(p, EPOCH, 0);
    }

    fn link(p: &Path, target: &str) {
        std::os::unix::fs::symlink(target, p).unwrap();
        set_mtime(p, EPOCH, 0);
    }

    fn whiteout(p: &Path) {
        rustix::fs::mknodat(CWD, p, FileType::CharacterDevice, Mode::empty(), 0).unwrap();
    }

    fn set_opaque(p: &Path) {
        rustix::fs::setxattr(p, OPAQUE_XATTR, b"y", XattrFlags::empty()).unwrap();
    }

    /// Removes a whiteout at `p`; true if there was one.
    fn take_whiteout(p: &Path) -> bool {
        match fs::symlink_metadata(p) {
            Ok(m) if is_whiteout(&m) => {
                fs::remove_file(p).unwrap();
                true
            }
            _ => false,
        }
    }

    /// The image `strata-diff-helper:local` the Docker outputs below came
    /// from, as three layers, and an empty upper dir. The overlay edits
    /// (`rm`, `new_dir`, …) write the upper dir as the kernel would.
    struct Fx {
        tmp: tempfile::TempDir,
        layers: Vec<PathBuf>,
        upper: PathBuf,
    }

    impl Fx {
        /// Layer 0 is the part of `busybox:local` the cases touch; layer 1
        /// is `RUN mkdir -p /data/sub/deep && echo a > /data/sub/f && echo
        /// b > /data/top && echo c > /data/sub/deep/g`; layer 2 `RUN rm
        /// /bin/cat`.
        fn image() -> Fx {
            let tmp = tempfile::tempdir().unwrap();
            let layers: Vec<PathBuf> = (0..3).map(|i| tmp.path().join(format!("l{i}"))).collect();
            for l in &layers {
                mkdir(l, 0o755);
            }
            let b = &layers[0];
            mkdir(&b.join("bin"), 0o755);
            file(&b.join("bin/busybox"), b"\x7fELF busybox", 0o755);
            for name in ["cat", "echo", "ls", "sh"] {
                link(&b.join("bin").join(name), "busybox");
            }
            mkdir(&b.join("etc"), 0o755);
            file(&b.join("etc/group"), b"root:x:0:\ndaemon:x:1:\n", 0o644);
            file(
                &b.join("etc/passwd"),
                b"root:x:0:0:root:/root:/bin/sh\n",
                0o644,
            );
            mkdir(&b.join("root"), 0o700);
            mkdir(&b.join("tmp"), 0o1777);
            mkdir(&b.join("usr"), 0o755);
            mkdir(&b.join("usr/bin"), 0o755);
            mkdir(&b.join("usr/sbin"), 0o755);
            let d = &layers[1];
            mkdir(&d.join("data"), 0o755);
            mkdir(&d.join("data/sub"), 0o755);
            mkdir(&d.join("data/sub/deep"), 0o755);
            file(&d.join("data/sub/deep/g"), b"c\n", 0o644);
            file(&d.join("data/sub/f"), b"a\n", 0o644);
            file(&d.join("data/top"), b"b\n", 0o644);
            let w = &layers[2];
            mkdir(&w.join("bin"), 0o755);
            whiteout(&w.join("bin/cat"));
            let upper = tmp.path().join("upper");
            mkdir(&upper, 0o755);
            Fx { tmp, layers, upper }
        }

        fn view(&self) -> MergedView {
            MergedView::new(self.layers.clone())
        }

        fn up(&self, rel: &str) -> PathBuf {
            self.upper.join(rel)
        }

        fn lines(&self) -> Vec<String> {
            changes(&self.upper, &self.view())
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect()
        }

        /// Whether the container sees the image's `rel` through the
        /// overlay (no opaque dir above it in the upper dir).
        fn lower_visible(&self, rel: &str) -> bool {
            let mut cur = PathBuf::new();
            for part in rel.split('/') {
                let u = self.upper.join(&cur);
                if !cur.as_os_str().is_empty() && is_opaque(&u).unwrap() {
                    return false;
                }
                cur.push(part);
            }
            self.view().stat(rel).unwrap().is_some()
        }

        /// Copies up the directories above `rel`.
        fn copy_up_parents(&self, rel: &str) {
            let parts: Vec<&str> = rel.split('/').collect();
            let mut cur = PathBuf::new();
            for part in &parts[..parts.len() - 1] {
                cur.push(part);
                let u = self.upper.join(&cur);
                if fs::symlink_metadata(&u).is_err() {
                    let m = self.view().stat(&cur).unwrap().expect("in the image");
                    fs::create_dir(&u).unwrap();
                    set_mode(&u, m.metadata.mode() & 0o7777);
                }
            }
        }

        /// Copies up `rel` keeping its mode and mtime, as overlay does.
        fn copy_up(&self, rel: &str) {
            self.copy_up_parents(rel);
            let u = self.up(rel);
            if fs::symlink_metadata(&u).is_ok() {
                return;
            }
            let e = self.view().stat(rel).unwrap().expect("in the image");
            let m = &e.metadata;
            if m.is_dir() {
                fs::create_dir(&u).unwrap();
            } else if e.is_symlink() {
                std::os::unix::fs::symlink(fs::read_link(&e.real_path).unwrap(), &u).unwrap();
            } else {
                fs::copy(&e.real_path, &u).unwrap();
            }
            if !e.is_symlink() {
                set_mode(&u, m.mode() & 0o7777);
            }
            set_mtime(&u, m.mtime(), m.mtime_nsec());
        }

        /// `rm -rf /rel`.
        fn rm(&self, rel: &str) {
            self.copy_up_parents(rel);
            let u = self.up(rel);
            match fs::symlink_metadata(&u) {
                Ok(m) if m.is_dir() => fs::remove_dir_all(&u).unwrap(),
                Ok(_) => fs::remove_file(&u).unwrap(),
                Err(_) => {}
            }
            if self.lower_visible(rel) {
                whiteout(&u);
            }
        }

        /// `mkdir -m MODE /rel`: opaque when it replaces a whiteout.
        fn new_dir(&self, rel: &str, mode: u32) {
            self.copy_up_parents(rel);
            let u = self.up(rel);
            let replaced = take_whiteout(&u);
            fs::create_dir(&u).unwrap();
            set_mode(&u, mode);
            if replaced {
                set_opaque(&u);
            }
        }

        /// `echo DATA > /rel` for a name that is not there.
        fn new_file(&self, rel: &str, data: &[u8]) {
            self.copy_up_parents(rel);
            let u = self.up(rel);
            take_whiteout(&u);
            fs::write(&u, data).unwrap();
            set_mode(&u, 0o644);
        }

        /// `ln -s TARGET /rel` for a name that is not there.
        fn new_link(&self, rel: &str, target: &str) {
            self.copy_up_parents(rel);
            let u = self.up(rel);
            take_whiteout(&u);
            std::os::unix::fs::symlink(target, &u).unwrap();
        }

        /// `echo DATA >> /rel`.
        fn append(&self, rel: &str, data: &[u8]) {
            use std::io::Write;
            self.copy_up(rel);
            let mut f = fs::OpenOptions::new()
                .append(true)
                .open(self.up(rel))
                .unwrap();
            f.write_all(data).unwrap();
        }

        /// `chmod MODE /rel`.
        fn chmod(&self, rel: &str, mode: u32) {
            self.copy_up(rel);
            set_mode(&self.up(rel), mode);
        }
    }

    /// Checks that `list` is an order `docker diff` can print: every entry
    /// comes inside its parent's run of entries, which the parent opens
    /// (as `A` or `C`), and a directory's deleted names come after the
    /// names it has.
    fn assert_docker_order(list: &[String]) {
        let parsed: Vec<(&str, &str)> = list.iter().map(|l| l.split_at(2)).collect();
        for (i, (kind, path)) in parsed.iter().enumerate() {
            let parent = Path::new(path).parent().unwrap().to_str().unwrap();
            if parent != "/" {
                let opener = parsed[..i]
                    .iter()
                    .rposition(|(_, p)| *p == parent)
                    .unwrap_or_else(|| panic!("{path} listed before its parent in {list:?}"));
                assert_ne!(parsed[opener].0, "D ", "{list:?}");
                for (_, between) in &parsed[opener + 1..i] {
                    assert!(
                        between.starts_with(&format!("{parent}/")),
                        "{path} is not in its parent's run in {list:?}"
                    );
                }
            }
            if *kind != "D " {
                let sibling_deleted_before = parsed[..i]
                    .iter()
                    .any(|(k, p)| *k == "D " && Path::new(p).parent() == Path::new(path).parent());
                assert!(
                    !sibling_deleted_before,
                    "{path} after a deletion in {list:?}"
                );
            }
        }
    }

    type Case = (&'static str, fn(&Fx), &'static [&'static str]);

    // What Docker 20.10.24 (overlay2) printed for each case, with
    // `docker run --name c strata-diff-helper:local sh -c SCRIPT; docker
    // diff c`. The image is busybox:local plus the two layers `Fx::image`
    // describes. Docker's lines come in Go map order (three calls on one
    // container gave three orders), so they are shown here through `sort`;
    // each expected list below is the same set in our order.
    //
    // brief: echo x > /tmp/new; rm /bin/ls; mkdir -p /a/b;
    //        echo y >> /etc/passwd; rm -rf /usr; mkdir /usr; touch /usr/z;
    //        ln -s /x /lnk; chmod 755 /root
    //   A /a, A /a/b, A /lnk, A /tmp/new, A /usr/z, C /bin, C /etc,
    //   C /etc/passwd, C /root, C /tmp, C /usr, D /bin/ls, D /usr/bin,
    //   D /usr/sbin
    // newfile: echo x > /tmp/new                  A /tmp/new, C /tmp
    // nested: mkdir -p /a/b/c; echo x > /a/b/c/f  A /a, A /a/b, A /a/b/c,
    //                                             A /a/b/c/f
    // delfile: rm /bin/ls                         C /bin, D /bin/ls
    // deldir: rm -rf /usr                         D /usr
    // opaque: rm -rf /usr; mkdir /usr; touch /usr/z
    //                           A /usr/z, C /usr, D /usr/bin, D /usr/sbin
    // opaque_empty: rm -rf /usr/bin; mkdir /usr/bin        (nothing)
    // opaque_mode: rm -rf /usr/bin; mkdir -m 700 /usr/bin  C /usr, C /usr/bin
    // opaque_same_child: rm -rf /usr; mkdir /usr; mkdir /usr/bin
    //                                             C /usr, D /usr/sbin
    // chmod_dir: chmod 755 /root                  C /root
    // chmod_file: chmod 600 /etc/group            C /etc, C /etc/group
    // chown_same: chown 0:0 /etc/group            (nothing)
    // touch_same: touch -r /etc/group /etc/group  (nothing)
    // modify: echo y >> /etc/passwd               C /etc, C /etc/passwd
    // symlink: ln -s /x /lnk                      A /lnk
    // symlink_retarget: rm /bin/ls; ln -s /nowhere /bin/ls
    //                                             C /bin, C /bin/ls
    // hardlink: ln /bin/busybox /bin/bb2          A /bin/bb2, C /bin
    // file2dir: rm /etc/group; mkdir /etc/group; touch /etc/group/x
    //                                A /etc/group/x, C /etc, C /etc/group
    // dir2file: rm -rf /usr; echo x > /usr        C /usr
    // recreate_file: rm /etc/group; echo x > /etc/group
    //                                             C /etc, C /etc/group
    // create_delete: touch /etc/tmpf; rm /etc/tmpf         (nothing)
    // create_delete_dir: mkdir -p /q/w; rm -rf /q          (nothing)
    // mkdir_in_new: mkdir /n; mkdir /n/m; rmdir /n/m       A /n
    // fifo: mkfifo /tmp/f                         A /tmp/f, C /tmp
    // mv_file: mv /etc/group /etc/group2    A /etc/group2, C /etc, D /etc/group
    // mv_dir: mv /usr/bin /usr/bin2         A /usr/bin2, C /usr, D /usr/bin
    // two_deletes: rm /bin/ls /bin/echo     C /bin, D /bin/echo, D /bin/ls
    // root_chmod: chmod 700 /                     (nothing)
    // nothing: true                               (nothing)
    // chmod_parent_new_child: chmod 700 /usr; touch /usr/bin/x
    //                                  A /usr/bin/x, C /usr, C /usr/bin
    // data_opaque: rm -rf /data; mkdir /data; touch /data/new
    //                         A /data/new, C /data, D /data/sub, D /data/top
    // data_deldir: rm -rf /data                   D /data
    // data_delsub: rm -rf /data/sub               C /data, D /data/sub
    // lower_whiteout: echo x > /bin/cat           A /bin/cat, C /bin
    // data_opaque_sub: rm -rf /data/sub; mkdir /data/sub; echo z > /data/sub/f
    //                 C /data, C /data/sub, C /data/sub/f, D /data/sub/deep
    // data_deep_mod: echo more >> /data/sub/deep/g
    //             C /data, C /data/sub, C /data/sub/deep, C /data/sub/deep/g
    // data_mixed: rm /data/top; echo n > /data/sub/new; rm -rf /data/sub/deep;
    //             mkdir /data/sub/deep
    //   A /data/sub/new, C /data, C /data/sub, C /data/sub/deep,
    //   D /data/sub/deep/g, D /data/top
    // data_opaque_inherit: rm -rf /data; mkdir -p /data/sub
    //   C /data, C /data/sub, D /data/sub/deep, D /data/sub/f, D /data/top
    // data_opaque_inherit2: rm -rf /data; mkdir -p /data/sub/deep;
    //                       touch /data/sub/f
    //   C /data, C /data/sub, C /data/sub/deep, C /data/sub/f,
    //   D /data/sub/deep/g, D /data/top
    // data_file2dir_nested: rm /data/top; mkdir -p /data/top/x/y
    //   A /data/top/x, A /data/top/x/y, C /data, C /data/top
    // capability: chown 0:0 /etc/group in the container, then on the host
    //   setfattr security.capability (cap_net_raw+ep) on the upper copy
    //                                             C /etc, C /etc/group
    //
    // Docker hides /etc/hosts, /etc/hostname, /etc/resolv.conf, /dev,
    // /proc, /sys and /.dockerenv through its init layer; none appear above.
    const CASES: &[Case] = &[
        (
            "brief",
            |f| {
                f.new_file("tmp/new", b"x\n");
                f.rm("bin/ls");
                f.new_dir("a", 0o755);
                f.new_dir("a/b", 0o755);
                f.append("etc/passwd", b"y\n");
                f.rm("usr");
                f.new_dir("usr", 0o755);
                f.new_file("usr/z", b"");
                f.new_link("lnk", "/x");
                f.chmod("root", 0o755);
            },
            &[
                "A /a",
                "A /a/b",
                "C /bin",
                "D /bin/ls",
                "C /etc",
                "C /etc/passwd",
                "A /lnk",
                "C /root",
                "C /tmp",
                "A /tmp/new",
                "C /usr",
                "A /usr/z",
                "D /usr/bin",
                "D /usr/sbin",
            ],
        ),
        (
            "newfile",
            |f| f.new_file("tmp/new", b"x\n"),
            &["C /tmp", "A /tmp/new"],
        ),
        (
            "nested",
            |f| {
                f.new_dir("a", 0o755);
                f.new_dir("a/b", 0o755);
                f.new_dir("a/b/c", 0o755);
                f.new_file("a/b/c/f", b"x\n");
            },
            &["A /a", "A /a/b", "A /a/b/c", "A /a/b/c/f"],
        ),
        ("delfile", |f| f.rm("bin/ls"), &["C /bin", "D /bin/ls"]),
        ("deldir", |f| f.rm("usr"), &["D /usr"]),
        (
            "opaque",
            |f| {
                f.rm("usr");
                f.new_dir("usr", 0o755);
                f.new_file("usr/z", b"");
            },
            &["C /usr", "A /usr/z", "D /usr/bin", "D /usr/sbin"],
        ),
        (
            "opaque_empty",
            |f| {
                f.rm("usr/bin");
                f.new_dir("usr/bin", 0o755);
            },
            &[],
        ),
        (
            "opaque_mode",
            |f| {
                f.rm("usr/bin");
                f.new_dir("usr/bin", 0o700);
            },
            &["C /usr", "C /usr/bin"],
        ),
        (
            "opaque_same_child",
            |f| {
                f.rm("usr");
                f.new_dir("usr", 0o755);
                f.new_dir("usr/bin", 0o755);
            },
            &["C /usr", "D /usr/sbin"],
        ),
        ("chmod_dir", |f| f.chmod("root", 0o755), &["C /root"]),
        (
            "chmod_file",
            |f| f.chmod("etc/group", 0o600),
            &["C /etc", "C /etc/group"],
        ),
        // chown to the same owner and touch -r to the same time: copied up
        // with nothing Docker compares changed.
        ("copy_up_only", |f| f.copy_up("etc/group"), &[]),
        (
            "modify",
            |f| f.append("etc/passwd", b"y\n"),
            &["C /etc", "C /etc/passwd"],
        ),
        ("symlink", |f| f.new_link("lnk", "/x"), &["A /lnk"]),
        (
            "symlink_retarget",
            |f| {
                f.rm("bin/ls");
                f.new_link("bin/ls", "/nowhere");
            },
            &["C /bin", "C /bin/ls"],
        ),
        (
            "hardlink",
            |f| {
                f.copy_up("bin/busybox");
                fs::hard_link(f.up("bin/busybox"), f.up("bin/bb2")).unwrap();
            },
            &["C /bin", "A /bin/bb2"],
        ),
        (
            "file2dir",
            |f| {
                f.rm("etc/group");
                f.new_dir("etc/group", 0o755);
                f.new_file("etc/group/x", b"");
            },
            &["C /etc", "C /etc/group", "A /etc/group/x"],
        ),
        (
            "dir2file",
            |f| {
                f.rm("usr");
                f.new_file("usr", b"x\n");
            },
            &["C /usr"],
        ),
        (
            "recreate_file",
            |f| {
                f.rm("etc/group");
                f.new_file("etc/group", b"x\n");
            },
            &["C /etc", "C /etc/group"],
        ),
        (
            "create_delete",
            |f| {
                f.new_file("etc/tmpf", b"");
                f.rm("etc/tmpf");
            },
            &[],
        ),
        (
            "create_delete_dir",
            |f| {
                f.new_dir("q", 0o755);
                f.new_dir("q/w", 0o755);
                f.rm("q");
            },
            &[],
        ),
        (
            "mkdir_in_new",
            |f| {
                f.new_dir("n", 0o755);
                f.new_dir("n/m", 0o755);
                f.rm("n/m");
            },
            &["A /n"],
        ),
        (
            "fifo",
            |f| {
                f.copy_up_parents("tmp/f");
                rustix::fs::mknodat(CWD, f.up("tmp/f"), FileType::Fifo, Mode::from(0o644), 0)
                    .unwrap();
            },
            &["C /tmp", "A /tmp/f"],
        ),
        (
            "mv_file",
            |f| {
                f.copy_up("etc/group");
                fs::rename(f.up("etc/group"), f.up("etc/group2")).unwrap();
                whiteout(&f.up("etc/group"));
            },
            &["C /etc", "A /etc/group2", "D /etc/group"],
        ),
        (
            // Without redirect_dir the rename fails with EXDEV and mv
            // copies, then deletes.
            "mv_dir",
            |f| {
                f.new_dir("usr/bin2", 0o755);
                f.rm("usr/bin");
            },
            &["C /usr", "A /usr/bin2", "D /usr/bin"],
        ),
        (
            "two_deletes",
            |f| {
                f.rm("bin/ls");
                f.rm("bin/echo");
            },
            &["C /bin", "D /bin/echo", "D /bin/ls"],
        ),
        ("root_chmod", |f| set_mode(&f.upper, 0o700), &[]),
        ("nothing", |_| {}, &[]),
        (
            "chmod_parent_new_child",
            |f| {
                f.chmod("usr", 0o700);
                f.new_file("usr/bin/x", b"");
            },
            &["C /usr", "C /usr/bin", "A /usr/bin/x"],
        ),
        (
            "data_opaque",
            |f| {
                f.rm("data");
                f.new_dir("data", 0o755);
                f.new_file("data/new", b"");
            },
            &["C /data", "A /data/new", "D /data/sub", "D /data/top"],
        ),
        ("data_deldir", |f| f.rm("data"), &["D /data"]),
        (
            "data_delsub",
            |f| f.rm("data/sub"),
            &["C /data", "D /data/sub"],
        ),
        (
            "lower_whiteout",
            |f| f.new_file("bin/cat", b"x\n"),
            &["C /bin", "A /bin/cat"],
        ),
        (
            "data_opaque_sub",
            |f| {
                f.rm("data/sub");
                f.new_dir("data/sub", 0o755);
                f.new_file("data/sub/f", b"z\n");
            },
            &[
                "C /data",
                "C /data/sub",
                "C /data/sub/f",
                "D /data/sub/deep",
            ],
        ),
        (
            "data_deep_mod",
            |f| f.append("data/sub/deep/g", b"more\n"),
            &[
                "C /data",
                "C /data/sub",
                "C /data/sub/deep",
                "C /data/sub/deep/g",
            ],
        ),
        (
            "data_mixed",
            |f| {
                f.rm("data/top");
                f.new_file("data/sub/new", b"n\n");
                f.rm("data/sub/deep");
                f.new_dir("data/sub/deep", 0o755);
            },
            &[
                "C /data",
                "C /data/sub",
                "C /data/sub/deep",
                "D /data/sub/deep/g",
                "A /data/sub/new",
                "D /data/top",
            ],
        ),
        (
            "data_opaque_inherit",
            |f| {
                f.rm("data");
                f.new_dir("data", 0o755);
                f.new_dir("data/sub", 0o755);
            },
            &[
                "C /data",
                "C /data/sub",
                "D /data/sub/deep",
                "D /data/sub/f",
                "D /data/top",
            ],
        ),
        (
            "data_opaque_inherit2",
            |f| {
                f.rm("data");
                f.new_dir("data", 0o755);
                f.new_dir("data/sub", 0o755);
                f.new_dir("data/sub/deep", 0o755);
                f.new_file("data/sub/f", b"");
            },
            &[
                "C /data",
                "C /data/sub",
                "C /data/sub/deep",
                "D /data/sub/deep/g",
                "C /data/sub/f",
                "D /data/top",
            ],
        ),
        (
            "data_file2dir_nested",
            |f| {
                f.rm("data/top");
                f.new_dir("data/top", 0o755);
                f.new_dir("data/top/x", 0o755);
                f.new_dir("data/top/x/y", 0o755);
            },
            &["C /data", "C /data/top", "A /data/top/x", "A /data/top/x/y"],
        ),
        (
            "capability",
            |f| {
                f.copy_up("etc/group");
                // VFS_CAP_REVISION_2 | effective, permitted = CAP_NET_RAW.
                let mut cap = Vec::new();
                for word in [0x0200_0001u32, 1 << 13, 0, 0, 0] {
                    cap.extend_from_slice(&word.to_le_bytes());
                }
                rustix::fs::lsetxattr(
                    f.up("etc/group"),
                    CAPABILITY_XATTR,
                    &cap,
                    XattrFlags::empty(),
                )
                .unwrap();
            },
            &["C /etc", "C /etc/group"],
        ),
    ];

    #[test]
    fn upper_dirs_give_what_docker_diff_printed() {
        let mut failures = Vec::new();
        for (name, setup, want) in CASES {
            let fx = Fx::image();
            setup(&fx);
            let got = fx.lines();
            if got != *want {
                failures.push(format!("{name}:\n  got  {got:?}\n  want {want:?}"));
            }
            assert_docker_order(&got);
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn changes_print_as_docker_diff_lines() {
        let c = Change {
            kind: ChangeKind::Changed,
            path: "/etc".into(),
        };
        assert_eq!(c.to_string(), "C /etc");
        assert_eq!(ChangeKind::Added.to_string(), "A");
        assert_eq!(ChangeKind::Deleted.to_string(), "D");
    }

    #[test]
    fn without_an_image_everything_is_added_and_whiteouts_hide_nothing() {
        let fx = Fx::image();
        mkdir(&fx.up("x"), 0o755);
        file(&fx.up("x/y"), b"", 0o644);
        whiteout(&fx.up("x/gone"));
        whiteout(&fx.up("bin"));
        let got = changes(&fx.upper, &MergedView::new(Vec::new())).unwrap();
        let got: Vec<String> = got.iter().map(ToString::to_string).collect();
        assert_eq!(got, ["A /x", "A /x/y"]);
    }

    #[test]
    fn a_whiteout_of_a_name_the_image_lacks_is_no_change() {
        let fx = Fx::image();
        whiteout(&fx.up("nope"));
        fx.copy_up_parents("etc/x");
        whiteout(&fx.up("etc/x"));
        assert_eq!(fx.lines(), Vec::<String>::new());
    }

    #[test]
    fn mtimes_match_when_either_has_no_nanoseconds() {
        let fx = Fx::image();
        let lower = fx.layers[0].join("etc/group");
        set_mtime(&lower, EPOCH, 5);
        fx.copy_up("etc/group");
        let upper = fx.up("etc/group");
        set_mtime(&upper, EPOCH, 0);
        assert_eq!(fx.lines(), Vec::<String>::new());
        set_mtime(&upper, EPOCH, 6);
        assert_eq!(fx.lines(), ["C /etc", "C /etc/group"]);
        set_mtime(&upper, EPOCH + 1, 0);
        assert_eq!(fx.lines(), ["C /etc", "C /etc/group"]);
    }

    #[test]
    fn names_that_are_not_utf8_are_shown_lossily() {
        use std::os::unix::ffi::OsStrExt;
        let fx = Fx::image();
        let name = std::ffi::OsStr::from_bytes(b"bad\xff");
        file(&fx.upper.join(name), b"", 0o644);
        assert_eq!(fx.lines(), ["A /bad\u{fffd}"]);
    }

    #[test]
    fn a_missing_upper_dir_is_an_error_naming_it() {
        let fx = Fx::image();
        let missing = fx.tmp.path().join("no-such-upper");
        let err = changes(&missing, &fx.view()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("no-such-upper"), "{err}");
        let a_file = fx.layers[0].join("etc/group");
        let err = changes(&a_file, &fx.view()).unwrap_err();
        assert!(err.to_string().contains("etc/group"), "{err}");
    }

    /// Unmounts on drop, so a failing test leaves no mount behind.
    struct Mounted(PathBuf);

    impl Drop for Mounted {
        fn drop(&mut self) {
            let _ = rustix::mount::unmount(&self.0, rustix::mount::UnmountFlags::DETACH);
        }
    }

    #[test]
    fn changes_made_through_a_real_mount_needs_root_overlay() {
        let fx = Fx::image();
        let work = fx.tmp.path().join("work");
        let merged = fx.tmp.path().join("merged");
        fs::create_dir(&work).unwrap();
        fs::create_dir(&merged).unwrap();
        let lowers: Vec<String> = fx
            .layers
            .iter()
            .rev()
            .map(|l| l.display().to_string())
            .collect();
        let options = format!(
            "lowerdir={},upperdir={},workdir={},index=off,redirect_dir=off,metacopy=off",
            lowers.join(":"),
            fx.upper.display(),
            work.display()
        );
        let data = CString::new(options).unwrap();
        rustix::mount::mount(
            "overlay",
            &merged,
            "overlay",
            rustix::mount::MountFlags::empty(),
            data.as_c_str(),
        )
        .expect("mount overlayfs (needs root)");
        let mount = Mounted(merged.clone());
        let m = |rel: &str| merged.join(rel);

        // The brief case, data_mixed, mv_file and a copy-up that changes
        // nothing Docker compares, done through the mount.
        fs::write(m("tmp/new"), b"x\n").unwrap();
        fs::remove_file(m("bin/ls")).unwrap();
        fs::create_dir_all(m("a/b")).unwrap();
        set_mode(&m("a"), 0o755);
        set_mode(&m("a/b"), 0o755);
        {
            use std::io::Write;
            let mut f = fs::OpenOptions::new()
                .append(true)
                .open(m("etc/passwd"))
                .unwrap();
            f.write_all(b"y\n").unwrap();
        }
        fs::remove_dir_all(m("usr")).unwrap();
        fs::create_dir(m("usr")).unwrap();
        set_mode(&m("usr"), 0o755);
        fs::write(m("usr/z"), b"").unwrap();
        std::os::unix::fs::symlink("/x", m("lnk")).unwrap();
        set_mode(&m("root"), 0o755);
        fs::remove_file(m("data/top")).unwrap();
        fs::write(m("data/sub/new"), b"n\n").unwrap();
        fs::remove_dir_all(m("data/sub/deep")).unwrap();
        fs::create_dir(m("data/sub/deep")).unwrap();
        set_mode(&m("data/sub/deep"), 0o755);
        fs::rename(m("etc/group"), m("etc/group2")).unwrap();
        let root = (Some(rustix::fs::Uid::ROOT), Some(rustix::fs::Gid::ROOT));
        rustix::fs::chown(m("bin/busybox"), root.0, root.1).unwrap();

        // Read once while mounted, once after.
        let live = fx.lines();
        drop(mount);
        let after = fx.lines();
        assert!(
            fs::symlink_metadata(fx.up("bin/busybox")).is_ok(),
            "busybox was copied up"
        );
        let want = [
            "A /a",
            "A /a/b",
            "C /bin",
            "D /bin/ls",
            "C /data",
            "C /data/sub",
            "C /data/sub/deep",
            "D /data/sub/deep/g",
            "A /data/sub/new",
            "D /data/top",
            "C /etc",
            "A /etc/group2",
            "C /etc/passwd",
            "D /etc/group",
            "A /lnk",
            "C /root",
            "C /tmp",
            "A /tmp/new",
            "C /usr",
            "A /usr/z",
            "D /usr/bin",
            "D /usr/sbin",
        ];
        assert_eq!(live, want);
        assert_eq!(after, want);
    }
}
