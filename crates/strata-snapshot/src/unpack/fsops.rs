//! Filesystem operations confined to one root directory.
//!
//! Every lookup starts at the root's fd and goes through `openat2` with
//! `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`: a parent that is a symlink
//! (say one an earlier entry of the same tar created) is refused, never
//! followed, and nothing can resolve outside the root. Final components
//! are never followed either: creation uses `O_EXCL`/`mknodat`/`symlinkat`
//! after removing whatever was there, metadata uses `AT_SYMLINK_NOFOLLOW`.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{self, AtFlags, Mode, OFlags, ResolveFlags, Timespec, Timestamps};
use rustix::io::Errno;

use crate::error::{Result, SnapshotError};
use crate::path::RelPath;
use crate::xattr;

/// Mode of directories created because an entry needed a parent.
const IMPLICIT_DIR_MODE: u32 = 0o755;

/// A root directory and the last parent directory used (tars list
/// siblings together, so one cached fd saves most lookups).
pub(crate) struct InRoot {
    fd: OwnedFd,
    path: PathBuf,
    cache: Option<(RelPath, OwnedFd)>,
}

fn resolve() -> ResolveFlags {
    ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

impl InRoot {
    /// Opens `path` as the root.
    pub(crate) fn open(path: &Path) -> Result<InRoot> {
        let fd = fs::open(path, dir_flags(), Mode::empty())
            .map_err(SnapshotError::errno("open", path))?;
        Ok(InRoot {
            fd,
            path: path.to_path_buf(),
            cache: None,
        })
    }

    /// The root's fd.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The on-disk path of `rel`, for messages.
    pub(crate) fn show(&self, rel: &RelPath) -> PathBuf {
        self.path.join(rel.to_path())
    }

    /// Opens the directory `rel` if it exists as a real directory.
    pub(crate) fn open_dir(&self, rel: &RelPath) -> Result<Option<OwnedFd>> {
        match fs::openat2(
            &self.fd,
            rel.to_path(),
            dir_flags(),
            Mode::empty(),
            resolve(),
        ) {
            Ok(fd) => Ok(Some(fd)),
            Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP) => Ok(None),
            Err(e) => Err(SnapshotError::errno("open", self.show(rel))(e)),
        }
    }

    /// The directory `dir`, created (with missing parents) if absent.
    /// Refuses a path that goes through a symlink or a non-directory.
    pub(crate) fn dir(&mut self, dir: &RelPath) -> Result<BorrowedFd<'_>> {
        let hit = matches!(&self.cache, Some((p, _)) if p == dir);
        if !hit {
            let fd = self.make_dirs(dir)?;
            self.cache = Some((dir.clone(), fd));
        }
        let (_, fd) = self.cache.as_ref().expect("cache was just filled");
        Ok(fd.as_fd())
    }

    /// Opens `dir` without using or filling the cache.
    pub(crate) fn dir_uncached(&self, dir: &RelPath) -> Result<OwnedFd> {
        self.make_dirs(dir)
    }

    fn make_dirs(&self, dir: &RelPath) -> Result<OwnedFd> {
        if let Some(fd) = self.existing_dir(dir)? {
            return Ok(fd);
        }
        let mut cur = fs::openat(&self.fd, ".", dir_flags(), Mode::empty())
            .map_err(SnapshotError::errno("open", &self.path))?;
        let mut walked = RelPath::default();
        for name in &dir.0 {
            walked = walked.join(name);
            match fs::mkdirat(&cur, name, Mode::from_raw_mode(IMPLICIT_DIR_MODE)) {
                Ok(()) => {
                    // mkdir applies the umask; implicit parents are 0755.
                    fs::chmodat(
                        &cur,
                        name,
                        Mode::from_raw_mode(IMPLICIT_DIR_MODE),
                        AtFlags::empty(),
                    )
                    .map_err(SnapshotError::errno("chmod", self.show(&walked)))?;
                }
                Err(Errno::EXIST) => {}
                Err(e) => {
                    return Err(SnapshotError::errno("create directory", self.show(&walked))(e));
                }
            }
            cur = match fs::openat2(&cur, name, dir_flags(), Mode::empty(), resolve()) {
                Ok(fd) => fd,
                Err(Errno::LOOP) => return Err(through_symlink(&walked)),
                Err(Errno::NOTDIR) => return Err(not_dir(&walked)),
                Err(e) => return Err(SnapshotError::errno("open", self.show(&walked))(e)),
            };
        }
        Ok(cur)
    }

    pub(crate) fn existing_dir(&self, dir: &RelPath) -> Result<Option<OwnedFd>> {
        match fs::openat2(
            &self.fd,
            dir.to_path(),
            dir_flags(),
            Mode::empty(),
            resolve(),
        ) {
            Ok(fd) => Ok(Some(fd)),
            Err(Errno::NOENT) => Ok(None),
            // Find out which component is at fault for the message.
            Err(Errno::LOOP | Errno::NOTDIR) => {
                let mut walked = RelPath::default();
                for name in &dir.0 {
                    walked = walked.join(name);
                    match fs::statat(&self.fd, walked.to_path(), AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(st) if kind(&st) == fs::FileType::Symlink => {
                            return Err(through_symlink(&walked));
                        }
                        Ok(st) if kind(&st) != fs::FileType::Directory => {
                            return Err(not_dir(&walked));
                        }
                        _ => {}
                    }
                }
                Err(not_dir(dir))
            }
            Err(e) => Err(SnapshotError::errno("open", self.show(dir))(e)),
        }
    }

    /// Removes whatever is at `name` in `parent` (a directory with all its
    /// contents), unless it is a directory and `keep_dir` is set. Returns
    /// true when a directory was kept.
    pub(crate) fn clear(&mut self, parent: &RelPath, name: &OsStr, keep_dir: bool) -> Result<bool> {
        let rel = parent.join(name);
        let shown = self.show(&rel);
        let pfd = self.dir(parent)?;
        let st = match fs::statat(pfd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => return Ok(false),
            Err(e) => return Err(SnapshotError::errno("stat", shown)(e)),
        };
        if kind(&st) != fs::FileType::Directory {
            fs::unlinkat(pfd, name, AtFlags::empty())
                .map_err(SnapshotError::errno("remove", &shown))?;
            return Ok(false);
        }
        if keep_dir {
            return Ok(true);
        }
        // remove_dir_all does not follow symlinks below the top; the top is
        // reached through our own fd, so nothing outside the root is touched.
        std::fs::remove_dir_all(xattr::proc_path(pfd, name))
            .map_err(SnapshotError::io("remove", &shown))?;
        // The cached fd may have been inside what we removed.
        self.cache = None;
        Ok(false)
    }
}

/// The file type of a stat result.
pub(crate) fn kind(st: &fs::Stat) -> fs::FileType {
    fs::FileType::from_raw_mode(st.st_mode)
}

/// Access and modification time both set to `mtime`.
pub(crate) fn times(secs: i64, nanos: u32) -> Timestamps {
    let t = Timespec {
        tv_sec: secs,
        tv_nsec: nanos.into(),
    };
    Timestamps {
        last_access: t,
        last_modification: t,
    }
}

/// Changes owner of `name` in `dir` without following it.
pub(crate) fn lchown(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    uid: u32,
    gid: u32,
) -> rustix::io::Result<()> {
    fs::chownat(
        dir,
        name,
        Some(fs::Uid::from_raw(uid)),
        Some(fs::Gid::from_raw(gid)),
        AtFlags::SYMLINK_NOFOLLOW,
    )
}

fn through_symlink(rel: &RelPath) -> SnapshotError {
    SnapshotError::entry(
        rel.display(),
        "is a symlink; later entries are never created through one",
    )
}

fn not_dir(rel: &RelPath) -> SnapshotError {
    SnapshotError::entry(
        rel.display(),
        "is not a directory but later entries are inside it",
    )
}
