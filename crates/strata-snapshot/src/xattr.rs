//! Extended attributes through rustix, on an open fd or on a path whose last
//! component is never followed (`l*xattr`).
//!
//! Symlinks, devices and FIFOs cannot be opened for xattr calls, so those go
//! through `/proc/self/fd/<dir fd>/<name>`: the kernel resolves the magic
//! link to the directory we already hold, and the `l` variant does not
//! follow `<name>`. No path outside our own fds is ever walked.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

use rustix::fs;
use rustix::io::Errno;

/// Where xattrs are read or written.
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    /// An open file or directory.
    Fd(BorrowedFd<'a>),
    /// A path; its last component is not followed.
    Path(&'a Path),
}

/// The path naming `name` inside the directory open as `dir`.
pub(crate) fn proc_path(dir: BorrowedFd<'_>, name: &OsStr) -> PathBuf {
    let mut p = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()));
    p.push(name);
    p
}

fn not_supported(e: Errno) -> bool {
    e == Errno::OPNOTSUPP || e == Errno::NOTSUP
}

/// The names of all xattrs (empty when the filesystem has none).
pub(crate) fn list(t: Target<'_>) -> io::Result<Vec<Vec<u8>>> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let size = match t {
            Target::Fd(fd) => fs::flistxattr_query(fd),
            Target::Path(p) => fs::llistxattr_query(p),
        };
        let size = match size {
            Ok(n) => n,
            Err(e) if not_supported(e) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        if size == 0 {
            return Ok(Vec::new());
        }
        buf.resize(size, 0);
        let got = match t {
            Target::Fd(fd) => fs::flistxattr(fd, &mut buf[..]),
            Target::Path(p) => fs::llistxattr(p, &mut buf[..]),
        };
        match got {
            Ok(n) => {
                buf.truncate(n);
                break;
            }
            // The list grew between the two calls; ask again.
            Err(Errno::RANGE) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(buf
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(<[u8]>::to_vec)
        .collect())
}

/// One xattr's value, or `None` when it is not set.
pub(crate) fn get(t: Target<'_>, name: &str) -> io::Result<Option<Vec<u8>>> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let size = match t {
            Target::Fd(fd) => fs::fgetxattr_query(fd, name),
            Target::Path(p) => fs::lgetxattr_query(p, name),
        };
        let size = match size {
            Ok(n) => n,
            Err(e) if e == Errno::NODATA || not_supported(e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if size == 0 {
            return Ok(Some(Vec::new()));
        }
        buf.resize(size, 0);
        let got = match t {
            Target::Fd(fd) => fs::fgetxattr(fd, name, &mut buf[..]),
            Target::Path(p) => fs::lgetxattr(p, name, &mut buf[..]),
        };
        match got {
            Ok(n) => {
                buf.truncate(n);
                return Ok(Some(buf));
            }
            Err(Errno::RANGE) => continue,
            Err(Errno::NODATA) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Sets one xattr (creating or replacing it).
pub(crate) fn set(t: Target<'_>, name: &str, value: &[u8]) -> io::Result<()> {
    let flags = fs::XattrFlags::empty();
    match t {
        Target::Fd(fd) => fs::fsetxattr(fd, name, value, flags)?,
        Target::Path(p) => fs::lsetxattr(p, name, value, flags)?,
    }
    Ok(())
}

/// All xattrs with UTF-8 names, sorted by name. Names that are not UTF-8
/// cannot be written as PAX `SCHILY.xattr.*` keys by our writer and are
/// left out with a warning.
pub(crate) fn read_all(t: Target<'_>) -> io::Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    for name in list(t)? {
        let Ok(name) = String::from_utf8(name) else {
            tracing::warn!("skipping an xattr whose name is not UTF-8");
            continue;
        };
        if let Some(v) = get(t, &name)? {
            out.insert(name, v);
        }
    }
    Ok(out)
}

/// True when the directory carries `trusted.overlay.opaque=y`.
pub(crate) fn is_opaque(t: Target<'_>) -> io::Result<bool> {
    Ok(get(t, crate::OPAQUE_XATTR)?.as_deref() == Some(b"y"))
}

/// True for a name overlayfs uses for its own bookkeeping.
pub(crate) fn is_overlay_private(name: &str) -> bool {
    name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.")
}
