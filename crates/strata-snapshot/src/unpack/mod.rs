//! Unpacking an uncompressed OCI layer tar into a directory in overlay form.
//!
//! One streaming pass, entry by entry: OCI whiteouts (`.wh.<name>`) become
//! char 0:0 devices, `.wh..wh..opq` sets `trusted.overlay.opaque=y` on its
//! directory, other `.wh..wh.*` names (aufs bookkeeping) are skipped.
//! Everything else is created as the tar says, with owner, mode (setuid,
//! setgid, sticky included), xattrs from PAX `SCHILY.xattr.*` and mtime.
//! Directory modes and mtimes are set at the end, after their children.
//!
//! Refused: names whose `..` leaves the root, symlinks whose target leaves
//! it (judged from the link's directory, Docker's rule), hard links to
//! outside, and entries whose parent is a symlink (see `fsops`). A hard
//! link whose target is not in this layer is looked up in the lower layers
//! and the target copied here first (`lower.rs`).

mod entry;
mod fsops;
mod lower;
mod reader;

use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self, AtFlags, FileType, Mode, OFlags};
use strata_core::Digest;

use crate::error::{Result, SnapshotError};
use crate::merged::MergedView;
use crate::path::{RelPath, bytes, is_plain_name, symlink_escapes};
use crate::xattr::{self, Target};
use entry::{Item, Kind};
use fsops::{InRoot, kind, lchown};
use reader::TarReader;

/// Unpacks `layer` into the empty directory `root`. `lowers` are the
/// committed dirs below this layer (base first), used only for hard links
/// whose target lives in a lower layer.
pub(crate) fn unpack_into(
    root: &Path,
    lowers: &[PathBuf],
    layer: impl Read,
    chain: &Digest,
) -> Result<()> {
    let mut u = Unpacker {
        root: InRoot::open(root)?,
        lowers: MergedView::new(lowers.to_vec()),
        dirs: Vec::new(),
    };
    // The root of a snapshot is 0755 unless the layer says otherwise.
    fs::fchmod(u.root.fd(), Mode::from_raw_mode(0o755))
        .map_err(SnapshotError::errno("chmod", root))?;
    let mut reader = TarReader::new(layer);
    let invalid = |source| SnapshotError::InvalidTar {
        chain: chain.clone(),
        source,
    };
    while let Some(raw) = reader.next().map_err(invalid)? {
        let item = Item::parse(raw)?;
        u.apply(item, &mut reader.data())?;
    }
    u.finish_dirs()
}

struct Unpacker {
    root: InRoot,
    lowers: MergedView,
    /// Directories whose mode and mtime are set once everything is written.
    dirs: Vec<(RelPath, Item)>,
}

impl Unpacker {
    fn apply(&mut self, item: Item, data: &mut dyn Read) -> Result<()> {
        let rel = item.rel.clone();
        let Some(name) = rel.file_name().map(ToOwned::to_owned) else {
            // The root itself: only a directory entry makes sense.
            if !matches!(item.kind, Kind::Dir) {
                return Err(SnapshotError::entry(
                    &item.name,
                    "the layer root must be a directory",
                ));
            }
            self.set_owner_xattrs(Target::Fd(self.root.fd()), &item, &rel)?;
            self.dirs.push((rel, item));
            return Ok(());
        };
        let parent = rel.parent();
        let name_bytes = bytes(&name);
        if name_bytes == crate::OPAQUE_MARKER.as_bytes() {
            let fd = self.root.dir(&parent)?;
            return xattr::set(Target::Fd(fd), crate::OPAQUE_XATTR, b"y").map_err(
                SnapshotError::io("set opaque xattr on", self.root.show(&parent)),
            );
        }
        if name_bytes.starts_with(b".wh..wh.") {
            tracing::debug!(entry = %item.name, "skipping whiteout metadata entry");
            return Ok(());
        }
        if let Some(victim) = name_bytes.strip_prefix(crate::WHITEOUT_PREFIX.as_bytes()) {
            if !is_plain_name(victim) {
                return Err(SnapshotError::entry(
                    &item.name,
                    "whiteout of an invalid name",
                ));
            }
            let victim = OsStr::from_bytes(victim);
            return self.whiteout(&parent, victim, &item);
        }
        let shown = self.root.show(&rel);
        match &item.kind {
            Kind::Dir => {
                let kept = self.root.clear(&parent, &name, true)?;
                let pfd = self.root.dir(&parent)?;
                if !kept {
                    fs::mkdirat(pfd, &name, Mode::from_raw_mode(0o700))
                        .map_err(SnapshotError::errno("create directory", &shown))?;
                }
                let fd = fs::openat(
                    pfd,
                    &name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(SnapshotError::errno("open", &shown))?;
                self.set_owner_xattrs(Target::Fd(fd.as_fd()), &item, &rel)?;
                self.dirs.push((rel, item));
            }
            Kind::File => {
                self.root.clear(&parent, &name, false)?;
                let pfd = self.root.dir(&parent)?;
                let fd = fs::openat(
                    pfd,
                    &name,
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
                .map_err(SnapshotError::errno("create", &shown))?;
                let mut file = std::fs::File::from(fd);
                std::io::copy(data, &mut file).map_err(SnapshotError::io("write", &shown))?;
                self.set_owner_xattrs(Target::Fd(file.as_fd()), &item, &rel)?;
                fs::fchmod(&file, Mode::from_raw_mode(item.mode))
                    .map_err(SnapshotError::errno("chmod", &shown))?;
                fs::futimens(&file, &fsops::times(item.mtime.0, item.mtime.1))
                    .map_err(SnapshotError::errno("set times of", &shown))?;
            }
            Kind::Symlink(target) => {
                if symlink_escapes(&rel, target) {
                    return Err(SnapshotError::entry(
                        &item.name,
                        "symlink target leaves the root",
                    ));
                }
                self.root.clear(&parent, &name, false)?;
                let pfd = self.root.dir(&parent)?;
                fs::symlinkat(OsStr::from_bytes(target), pfd, &name)
                    .map_err(SnapshotError::errno("create symlink", &shown))?;
                self.finish_node(&parent, &name, &item, false)?;
            }
            Kind::HardLink(target) => self.hardlink(&parent, &name, target, &item)?,
            Kind::Char(_, _) | Kind::Block(_, _) | Kind::Fifo => {
                let (ft, dev) = match item.kind {
                    Kind::Char(ma, mi) => (FileType::CharacterDevice, fs::makedev(ma, mi)),
                    Kind::Block(ma, mi) => (FileType::BlockDevice, fs::makedev(ma, mi)),
                    _ => (FileType::Fifo, 0),
                };
                self.root.clear(&parent, &name, false)?;
                let pfd = self.root.dir(&parent)?;
                fs::mknodat(pfd, &name, ft, Mode::from_raw_mode(0o600), dev)
                    .map_err(SnapshotError::errno("create node", &shown))?;
                self.finish_node(&parent, &name, &item, true)?;
            }
        }
        Ok(())
    }

    /// Owner, xattrs, then (unless a symlink) mode, then times, for a node
    /// that cannot be opened (symlink, device, FIFO, hard link).
    fn finish_node(
        &mut self,
        parent: &RelPath,
        name: &OsStr,
        item: &Item,
        chmod: bool,
    ) -> Result<()> {
        let shown = self.root.show(&parent.join(name));
        let pfd = self.root.dir(parent)?;
        lchown(pfd, name, item.uid, item.gid).map_err(SnapshotError::errno("chown", &shown))?;
        let proc = xattr::proc_path(pfd, name);
        for (k, v) in &item.xattrs {
            xattr::set(Target::Path(&proc), k, v)
                .map_err(SnapshotError::io("set xattrs of", &shown))?;
        }
        if chmod {
            fs::chmodat(pfd, name, Mode::from_raw_mode(item.mode), AtFlags::empty())
                .map_err(SnapshotError::errno("chmod", &shown))?;
        }
        fs::utimensat(
            pfd,
            name,
            &fsops::times(item.mtime.0, item.mtime.1),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(SnapshotError::errno("set times of", &shown))
    }

    /// Owner first (chown clears setuid bits and file capabilities), then
    /// xattrs.
    fn set_owner_xattrs(&self, t: Target<'_>, item: &Item, rel: &RelPath) -> Result<()> {
        let shown = self.root.show(rel);
        if let Target::Fd(fd) = t {
            fs::fchown(
                fd,
                Some(fs::Uid::from_raw(item.uid)),
                Some(fs::Gid::from_raw(item.gid)),
            )
            .map_err(SnapshotError::errno("chown", &shown))?;
        }
        for (k, v) in &item.xattrs {
            xattr::set(t, k, v).map_err(SnapshotError::io("set xattrs of", &shown))?;
        }
        Ok(())
    }

    fn whiteout(&mut self, parent: &RelPath, victim: &OsStr, item: &Item) -> Result<()> {
        self.root.clear(parent, victim, false)?;
        let shown = self.root.show(&parent.join(victim));
        let pfd = self.root.dir(parent)?;
        fs::mknodat(
            pfd,
            victim,
            FileType::CharacterDevice,
            Mode::empty(),
            fs::makedev(0, 0),
        )
        .map_err(SnapshotError::errno("create whiteout", &shown))?;
        lchown(pfd, victim, item.uid, item.gid).map_err(SnapshotError::errno("chown", &shown))
    }

    fn hardlink(
        &mut self,
        parent: &RelPath,
        name: &OsStr,
        target: &RelPath,
        item: &Item,
    ) -> Result<()> {
        let Some(tname) = target.file_name() else {
            return Err(SnapshotError::entry(&item.name, "hard link to the root"));
        };
        let tparent = target.parent();
        let present = match self.root.existing_dir(&tparent)? {
            None => false,
            Some(tfd) => match fs::statat(&tfd, tname, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) if kind(&st) == FileType::Directory => {
                    return Err(SnapshotError::entry(&item.name, "hard link to a directory"));
                }
                Ok(_) => true,
                Err(_) => false,
            },
        };
        if !present {
            lower::copy_up(&self.root, &self.lowers, target, &item.name)?;
        }
        // Linking a path to itself is a no-op; removing it first would lose
        // the file.
        if target == &parent.join(name) {
            return Ok(());
        }
        self.root.clear(parent, name, false)?;
        let tfd = self.root.dir_uncached(&tparent)?;
        let shown = self.root.show(&parent.join(name));
        let pfd = self.root.dir(parent)?;
        fs::linkat(&tfd, tname, pfd, name, AtFlags::empty())
            .map_err(SnapshotError::errno("create hard link", &shown))?;
        // Docker and containerd apply a hard link header's owner, mode and
        // mtime to the shared inode; so do we. Symlinks cannot be chmodded.
        let is_link = fs::statat(pfd, name, AtFlags::SYMLINK_NOFOLLOW)
            .map(|st| kind(&st) == FileType::Symlink)
            .unwrap_or(false);
        self.finish_node(parent, name, item, !is_link)
    }

    /// Sets directory modes and mtimes, now that nothing more is created
    /// inside them. A directory replaced later by a non-directory is skipped.
    fn finish_dirs(&mut self) -> Result<()> {
        // In tar order, so a later entry for the same directory wins.
        for (rel, item) in std::mem::take(&mut self.dirs) {
            let Some(fd) = self.root.open_dir(&rel)? else {
                continue;
            };
            let shown = self.root.show(&rel);
            fs::fchmod(&fd, Mode::from_raw_mode(item.mode))
                .map_err(SnapshotError::errno("chmod", &shown))?;
            fs::futimens(&fd, &fsops::times(item.mtime.0, item.mtime.1))
                .map_err(SnapshotError::errno("set times of", &shown))?;
        }
        Ok(())
    }
}
