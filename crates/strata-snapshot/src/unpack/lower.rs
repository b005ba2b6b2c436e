//! Hard links whose target lives in a lower layer.
//!
//! Each snapshot dir holds one layer, and a hard link cannot cross
//! directories of different layers' inodes in any useful way: the merged
//! view would show two unrelated files. So, as overlayfs's copy-up does, the
//! target is copied into this layer (data, owner, mode, xattrs, mtime, and
//! any missing parent directories with their lower metadata) and the link is
//! made to the copy.

use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};

use rustix::fs::{self, AtFlags, Mode, OFlags};

use super::fsops::{InRoot, lchown, times};
use crate::error::{Result, SnapshotError};
use crate::merged::{MergedEntry, MergedView};
use crate::path::RelPath;
use crate::xattr::{self, Target, is_overlay_private};

/// Copies `target` from `lowers` into `root`. `entry` names the hard link
/// entry, for messages.
pub(super) fn copy_up(
    root: &InRoot,
    lowers: &MergedView,
    target: &RelPath,
    entry: &str,
) -> Result<()> {
    let found = lowers.stat(target.to_abs())?.ok_or_else(|| {
        SnapshotError::entry(
            entry,
            format!(
                "hard link target {} is not in this layer or below",
                target.display()
            ),
        )
    })?;
    let Some(name) = target.file_name() else {
        return Err(SnapshotError::entry(entry, "hard link to the root"));
    };
    let created = make_parents(root, lowers, &target.parent())?;
    let pfd = root.dir_uncached(&target.parent())?;
    let shown = root.show(target);
    let m = &found.metadata;
    let ft = m.file_type();
    if ft.is_file() {
        let mut src = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(OFlags::NOFOLLOW.bits() as i32)
            .open(&found.real_path)
            .map_err(SnapshotError::io("open", &found.real_path))?;
        let fd = fs::openat(
            &pfd,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(SnapshotError::errno("create", &shown))?;
        let mut dst = std::fs::File::from(fd);
        std::io::copy(&mut src, &mut dst).map_err(SnapshotError::io("copy to", &shown))?;
        fs::fchown(
            &dst,
            Some(fs::Uid::from_raw(m.uid())),
            Some(fs::Gid::from_raw(m.gid())),
        )
        .map_err(SnapshotError::errno("chown", &shown))?;
        copy_xattrs(
            Target::Fd(src.as_fd()),
            Target::Fd(dst.as_fd()),
            &found,
            &shown,
        )?;
        fs::fchmod(&dst, Mode::from_raw_mode(m.mode() & 0o7777))
            .map_err(SnapshotError::errno("chmod", &shown))?;
        fs::futimens(&dst, &times(m.mtime(), m.mtime_nsec() as u32))
            .map_err(SnapshotError::errno("set times of", &shown))?;
    } else if ft.is_symlink() {
        let link = std::fs::read_link(&found.real_path)
            .map_err(SnapshotError::io("read link", &found.real_path))?;
        fs::symlinkat(&link, &pfd, name).map_err(SnapshotError::errno("create symlink", &shown))?;
        lchown(pfd.as_fd(), name, m.uid(), m.gid())
            .map_err(SnapshotError::errno("chown", &shown))?;
        fs::utimensat(
            &pfd,
            name,
            &times(m.mtime(), m.mtime_nsec() as u32),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(SnapshotError::errno("set times of", &shown))?;
    } else {
        return Err(SnapshotError::entry(
            entry,
            format!(
                "hard link target {} in a lower layer is not a file",
                target.display()
            ),
        ));
    }
    // Parents last: creating children changed their mtimes.
    for (rel, meta) in created.iter().rev() {
        if let Some(fd) = root.open_dir(rel)? {
            let shown = root.show(rel);
            fs::fchmod(&fd, Mode::from_raw_mode(meta.mode() & 0o7777))
                .map_err(SnapshotError::errno("chmod", &shown))?;
            fs::futimens(&fd, &times(meta.mtime(), meta.mtime_nsec() as u32))
                .map_err(SnapshotError::errno("set times of", &shown))?;
        }
    }
    Ok(())
}

/// Creates the parents of a copied-up file that this layer lacks, owned as
/// in the lower layers. Returns them with their lower metadata.
fn make_parents(
    root: &InRoot,
    lowers: &MergedView,
    dir: &RelPath,
) -> Result<Vec<(RelPath, std::fs::Metadata)>> {
    let mut created = Vec::new();
    let mut cur = RelPath::default();
    for name in &dir.0 {
        let parent = cur.clone();
        cur = cur.join(name);
        if root.open_dir(&cur)?.is_some() {
            continue;
        }
        let Some(lower) = lowers.stat(cur.to_abs())?.filter(MergedEntry::is_dir) else {
            // Not a directory below either: let the ordinary path report it.
            continue;
        };
        let pfd = root.dir_uncached(&parent)?;
        let shown = root.show(&cur);
        match fs::mkdirat(&pfd, name, Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(SnapshotError::errno("create directory", &shown)(e)),
        }
        let m = lower.metadata;
        lchown(pfd.as_fd(), name, m.uid(), m.gid())
            .map_err(SnapshotError::errno("chown", &shown))?;
        created.push((cur.clone(), m));
    }
    Ok(created)
}

fn copy_xattrs(
    src: Target<'_>,
    dst: Target<'_>,
    found: &MergedEntry,
    shown: &std::path::Path,
) -> Result<()> {
    let all =
        xattr::read_all(src).map_err(SnapshotError::io("read xattrs of", &found.real_path))?;
    for (k, v) in all.iter().filter(|(k, _)| !is_overlay_private(k)) {
        xattr::set(dst, k, v).map_err(SnapshotError::io("set xattrs of", shown))?;
    }
    Ok(())
}
