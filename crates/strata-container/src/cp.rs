//! `docker cp`: files and directories between a container's root file
//! system and the host, or a tar stream.
//!
//! Every function takes `root`, a host directory that is the container's
//! `/` (for a running container `/proc/<pid>/root`, for a stopped one a
//! temporary overlay mount). Everything on the container side goes through
//! file descriptors: a path is resolved by the kernel with
//! `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` on a directory fd of
//! `root`, so symlinks (absolute or relative, `..` included) resolve as if
//! `root` were `/`, and the final component is then handled with `*at`
//! calls that never follow it. Nothing outside `root` is ever read or
//! written on the container side, whatever the container holds or changes
//! meanwhile.
//!
//! # Docker's rules
//!
//! These follow docker/cli's `cp.go` and moby's `archive/copy.go` (checked
//! against Docker 28's CLI with a 20.10 daemon):
//!
//! - Container paths are relative to the container's `/`; the last
//!   component of SRC is not followed unless `-L` ([`CopyOptions::follow_link`]
//!   / `follow_link`), or SRC ends in `/` or `/.`.
//! - SRC a file: DEST missing → a file named DEST; DEST missing and ending
//!   in `/` → `no such directory`; DEST an existing file → overwritten (a
//!   new inode: hard links to the old one keep the old contents); DEST an
//!   existing directory → `DEST/basename(SRC)`.
//! - SRC a directory: DEST missing → created with SRC's contents; DEST an
//!   existing file → `cannot copy directory`; DEST an existing directory →
//!   `DEST/basename(SRC)`, or, when SRC ends in `/.`, SRC's contents merged
//!   into DEST (existing subdirectories take the copied ones' metadata).
//! - A directory never replaces a non-directory nor the other way round
//!   inside the copied tree (`cannot overwrite directory ...`).
//! - SRC ending in `/` but not a directory: `not a directory`.
//! - A DEST that is a symlink is followed (in the container: inside `root`);
//!   a broken one names the file to create.
//! - `-` as DEST ([`CopyDest::Stream`]): a tar of SRC whose top entry is
//!   SRC's base name (`hostname`, `d/`, `./` for `d/.`, `/` for the root),
//!   exactly as `docker cp CTR:SRC - | tar t` lists it. With `-L` Docker
//!   resolves the link first, so the entry takes the target's name.
//! - `-` as SRC ([`CopySrc::Stream`]): a tar (plain, gzip or zstd)
//!   extracted into DEST, which must be an existing directory
//!   (`destination "CTR:DEST" must be a directory`).
//! - Modes (setuid bits included), mtimes (whole seconds, as Docker's tar
//!   keeps them), symlinks, hard links inside the copied tree, fifos and
//!   device nodes are kept (device nodes need root to be created).
//!
//! # Ownership
//!
//! Docker's documentation says files copied into a container get root's
//! uid/gid and `-a` keeps the source's. The 20.10 daemon in fact keeps the
//! tar's uid/gid without `-a` as well (and `-a` in a container with
//! `--user` chowns everything to that user). We do what the documentation
//! says: into the container, everything (implied parent directories too)
//! is owned by 0:0, root in the container, unless [`CopyOptions::archive`],
//! which keeps the source's uid/gid (the tar header's for a stream).
//! Copying out, files belong to whoever runs strata, as with Docker's CLI,
//! which extracts without chown: they get our euid/egid, never the
//! container's uids.
//!
//! # Hostile tar streams
//!
//! Entries are created relative to a directory fd of DEST; a name that
//! climbs above DEST (`../x`, `a/../../x`) is refused (`"../x" is outside of
//! "/dest"`), an absolute name is taken relative to DEST (as Docker does),
//! a symlink whose target climbs out of DEST is refused (`invalid symlink`),
//! and a hard link's target is a name inside DEST (`invalid hardlink`).
//! Parent directories are resolved with `RESOLVE_BENEATH` from DEST; one
//! reached through an absolute symlink is resolved in the container's root
//! and accepted only if it lies below DEST. So an entry never lands outside
//! DEST, and never outside `root` even if the container races us.
//!
//! # What differs from Docker
//!
//! - Ownership into the container, as above.
//! - Docker names the host path of the overlay in some daemon errors
//!   (`lstat /var/lib/docker/.../merged/d/f/: not a directory`); we name the
//!   container path.
//! - A symlink in a stream whose relative target leaves DEST and comes back
//!   by name (`../dest/x`) is refused; Docker compares the cleaned result.
//! - An entry below a symlink that leads out of DEST (`sl -> /etc`, then
//!   `sl/x`) is refused; Docker writes it through the link (inside the
//!   container, outside DEST).
//! - Extraction errors lack the 20.10 daemon's `Error processing tar
//!   file(exit status 1): ` prefix, as Docker 28's daemon's do.
//! - Copying a whole running container (`/proc/<pid>/root`) skips the
//!   contents of procfs, sysfs and the like, which the daemon's view of a
//!   container does not show either.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use rustix::fs::{
    self as rfs, AtFlags, FileType, Mode, OFlags, ResolveFlags, Timespec, Timestamps,
};
use rustix::io::Errno;
use strata_core::{Categorized, ErrorCategory};

/// What Docker's archive `HEAD` reports about a path in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStat {
    /// The path's base name (`/` for the root, `.` for `dir/.`).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// `st_mode`, file type bits included.
    pub mode: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// For a symlink, the absolute container path it finally resolves to
    /// (as far as that exists); empty otherwise.
    pub link_target: String,
}

impl PathStat {
    /// Whether the path is a directory.
    pub fn is_dir(&self) -> bool {
        FileType::from_raw_mode(self.mode) == FileType::Directory
    }

    /// Whether the path is a symlink.
    pub fn is_symlink(&self) -> bool {
        FileType::from_raw_mode(self.mode) == FileType::Symlink
    }
}

/// Where [`copy_from_container`] puts SRC.
pub enum CopyDest<'a> {
    /// A host path (`docker cp CTR:SRC DEST`); a relative one is relative
    /// to the current directory.
    Host(&'a Path),
    /// `-`: a tar stream of SRC is written here.
    Stream(&'a mut dyn Write),
}

/// What [`copy_to_container`] copies.
pub enum CopySrc<'a> {
    /// A host path (`docker cp SRC CTR:DEST`); a relative one is relative
    /// to the current directory.
    Host(&'a Path),
    /// `-`: a tar stream (plain, gzip or zstd) read from here.
    Stream(&'a mut dyn Read),
}

/// `docker cp`'s flags for copying into a container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// `-L`: follow a symlink in SRC's last component.
    pub follow_link: bool,
    /// `-a`: keep the source's uid/gid instead of making everything root's.
    pub archive: bool,
}

/// Why a copy failed, worded as Docker words it. Variants that Docker
/// prints with the container's name carry the path; see
/// [`CpError::docker_message`].
#[derive(Debug, thiserror::Error)]
pub enum CpError {
    /// The path does not exist in the container. Docker 28 prints
    /// `Error: No such container:path: NAME:PATH`, older daemons
    /// `Could not find the file PATH in container NAME`.
    #[error("Could not find the file {path} in container")]
    NotFound {
        /// The container path as asked for (after `-L` resolved it).
        path: String,
    },
    /// A container path that must be (or go through) a directory does
    /// not (`docker cp CTR:/etc/hostname/ ...`). Docker's daemon names
    /// the overlay's host path here; we name the container path.
    #[error("lstat {path}: not a directory")]
    NotADirectory {
        /// The container path as asked for.
        path: String,
    },
    /// A host path that must be (or go through) a directory does not
    /// (`docker cp file/ CTR:/x`, or DEST's parent is a file).
    #[error("not a directory")]
    NotDirectory,
    /// DEST ends in `/` (so names a directory), does not exist, and SRC is
    /// not a directory.
    #[error("no such directory")]
    DirNotExists,
    /// SRC is a directory and DEST an existing non-directory.
    #[error("cannot copy directory")]
    CannotCopyDir,
    /// Copying a stream into a container path that is not a directory.
    /// Docker prints `destination "NAME:PATH" must be a directory`.
    #[error("destination {path:?} must be a directory")]
    DestinationNotDirectory {
        /// DEST as asked for.
        path: String,
    },
    /// DEST in the container is a device. Docker prints
    /// `destination "NAME:PATH" must be a directory or a regular file: got a device`.
    #[error("destination {path:?} must be a directory or a regular file: {reason}")]
    DestinationNotFileOrDirectory {
        /// DEST as asked for.
        path: String,
        /// `got a device`.
        reason: &'static str,
    },
    /// The directory to extract into turned out not to be one.
    #[error("extraction point is not a directory")]
    ExtractionPointNotDirectory,
    /// The host DEST's parent directory does not exist.
    #[error("invalid output path: directory {dir:?} does not exist")]
    OutputDirNotFound {
        /// The missing directory.
        dir: String,
    },
    /// The host DEST exists and is a device.
    #[error("invalid output path: {path:?} must be a directory or a regular file: {reason}")]
    InvalidOutputPath {
        /// The host DEST.
        path: String,
        /// `got a device`.
        reason: &'static str,
    },
    /// The host DEST is a chain of more than 10 symlinks.
    #[error("too many symlinks in {path}")]
    TooManySymlinks {
        /// The host DEST.
        path: String,
    },
    /// A tar entry's name climbs above the directory it is extracted into.
    #[error("{name:?} is outside of {dest:?}")]
    OutsideDestination {
        /// The entry's name, cleaned.
        name: String,
        /// The directory extracted into.
        dest: String,
    },
    /// A tar symlink whose target climbs above the extraction directory.
    #[error("invalid symlink {path:?} -> {target:?}")]
    InvalidSymlink {
        /// The symlink that would have been created.
        path: String,
        /// Its target.
        target: String,
    },
    /// A tar hard link to something outside the extraction directory.
    #[error("invalid hardlink {path:?} -> {target:?}")]
    InvalidHardlink {
        /// Where the target would be.
        path: String,
        /// The link's target as the tar gives it.
        target: String,
    },
    /// A non-directory would replace a directory.
    #[error("cannot overwrite directory {path:?} with non-directory {dest:?}")]
    OverwriteDirectory {
        /// The existing directory.
        path: String,
        /// The directory extracted into.
        dest: String,
    },
    /// A directory would replace a non-directory.
    #[error("cannot overwrite non-directory {path:?} with directory {dest:?}")]
    OverwriteNonDirectory {
        /// The existing non-directory.
        path: String,
        /// The directory extracted into.
        dest: String,
    },
    /// A tar entry of a kind that cannot be extracted (its type flag).
    #[error("unhandled tar header type {0}")]
    UnsupportedEntry(u8),
    /// A compressed stream we cannot read.
    #[error("unsupported archive compression: {0}")]
    UnsupportedCompression(&'static str),
    /// The tar stream is malformed or could not be read.
    #[error("{}", go_text(.0))]
    Tar(#[source] io::Error),
    /// A file operation failed: `OP PATH: reason`, as Go prints it.
    #[error("{op} {path}: {}", go_text(.source))]
    Io {
        /// The operation (`open`, `lstat`, `mkdir`, ...).
        op: &'static str,
        /// The path (container paths for the container side).
        path: String,
        /// The cause.
        source: io::Error,
    },
}

impl CpError {
    /// The whole message Docker 28 prints for this error in a `docker cp`
    /// with container `container`: `Error: No such container:path:
    /// NAME:PATH`, `destination "NAME:PATH" must be a directory`, else the
    /// error's own text.
    pub fn docker_message(&self, container: &str) -> String {
        match self {
            CpError::NotFound { path } => {
                format!("Error: No such container:path: {container}:{path}")
            }
            CpError::DestinationNotDirectory { path } => {
                format!("destination \"{container}:{path}\" must be a directory")
            }
            CpError::DestinationNotFileOrDirectory { path, reason } => format!(
                "destination \"{container}:{path}\" must be a directory or a regular file: {reason}"
            ),
            other => other.to_string(),
        }
    }
}

impl Categorized for CpError {
    fn category(&self) -> ErrorCategory {
        match self {
            CpError::NotFound { .. }
            | CpError::DirNotExists
            | CpError::OutputDirNotFound { .. } => ErrorCategory::NotFound,
            CpError::OverwriteDirectory { .. } | CpError::OverwriteNonDirectory { .. } => {
                ErrorCategory::FailedPrecondition
            }
            CpError::Io { .. } => ErrorCategory::Internal,
            _ => ErrorCategory::InvalidArgument,
        }
    }
}

/// Go's text for an OS error: `no such file or directory`, without Rust's
/// `(os error 2)`.
fn go_text(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error ") {
        Some(i) => &s[..i],
        None => &s[..],
    };
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn io_error(op: &'static str, path: &[u8], e: impl Into<io::Error>) -> CpError {
    CpError::Io {
        op,
        path: lossy(path),
        source: e.into(),
    }
}

/// `stat` of `path` in the container: lstat semantics for the last
/// component (a trailing `/` or `/.` follows it), the link's final target
/// for a symlink, as Docker's archive `HEAD` reports it.
pub fn stat_in(root: &Path, path: &str) -> Result<PathStat, CpError> {
    let root = Root::open(root)?;
    stat_path(&root, path.as_bytes())
}

/// `docker cp CTR:SRC DEST` (or `-`): copies `src`, a path in the
/// container at `root`, to a host path or as a tar stream. Host files
/// are created by the calling user (not chowned). See the module docs
/// for the rules.
pub fn copy_from_container(
    root: &Path,
    src: &str,
    dest: CopyDest<'_>,
    follow_link: bool,
) -> Result<(), CpError> {
    let rootfs = Root::open(root)?;
    // The CLI checks the host destination before it asks the daemon.
    let host_dest = match &dest {
        CopyDest::Host(p) => {
            let abs = host_abs(p)?;
            validate_output_path(&abs)?;
            Some(abs)
        }
        CopyDest::Stream(_) => None,
    };

    let mut src_path = src.as_bytes().to_vec();
    if src_path.is_empty() {
        src_path = b"/".to_vec();
    }
    let mut rebase_name = None;
    if follow_link
        && let Ok(st) = stat_path(&rootfs, &src_path)
        && st.is_symlink()
    {
        let (resolved, rebase) = rebase_name_for(&src_path, st.link_target.as_bytes());
        src_path = resolved;
        rebase_name = rebase;
    }

    let abs = container_abs(&src_path);
    let node = resolve_in_root(&rootfs, &abs, &lossy(&src_path))?;
    let top = archive_top(&abs);

    match dest {
        CopyDest::Stream(out) => {
            let mut sink = TarSink::new(out);
            Walker::new(&mut sink, true).walk(node, &top)?;
            sink.finish()
        }
        CopyDest::Host(_) => {
            let dst = host_dest.expect("a host destination was made absolute");
            let src_is_dir = node.is_dir();
            let mut ops = Vec::new();
            let mut src_base = split_path_dir_entry(&src_path).1;
            if let Some(name) = rebase_name {
                ops.push((src_base, name.clone()));
                src_base = name;
            }
            let info = host_dest_info(&dst)?;
            let (dst_dir, rename) = prepare_archive_copy(src_is_dir, &src_base, &info)?;
            ops.extend(rename);
            let mut extractor = Extractor::on_host(&dst_dir)?;
            let mut sink = Rebase {
                ops,
                inner: &mut extractor,
            };
            Walker::new(&mut sink, true).walk(node, &top)?;
            extractor.finish()
        }
    }
}

/// `docker cp SRC CTR:DEST` (or `-`): copies a host path, or extracts a
/// tar stream, into `dest`, a path in the container at `root`. Files are
/// owned by 0:0 unless `opts.archive`. See the module docs for the rules.
pub fn copy_to_container(
    root: &Path,
    src: CopySrc<'_>,
    dest: &str,
    opts: &CopyOptions,
) -> Result<(), CpError> {
    let rootfs = Root::open(root)?;
    let owner = if opts.archive {
        Owner::FromEntry
    } else {
        Owner::Root
    };

    // What DEST is, as the CLI learns it from the daemon's stat: a symlink
    // is replaced by its target; stat errors only mean "does not exist".
    let mut dst = DstInfo {
        path: dest.as_bytes().to_vec(),
        exists: false,
        is_dir: false,
    };
    if let Ok(st) = stat_path(&rootfs, dest.as_bytes()) {
        let mut st = Ok(st);
        if let Ok(s) = &st
            && s.is_symlink()
        {
            dst.path = s.link_target.as_bytes().to_vec();
            st = stat_path(&rootfs, &dst.path);
        }
        if let Ok(s) = st {
            if matches!(
                FileType::from_raw_mode(s.mode),
                FileType::BlockDevice | FileType::CharacterDevice
            ) {
                return Err(CpError::DestinationNotFileOrDirectory {
                    path: dest.to_owned(),
                    reason: "got a device",
                });
            }
            dst.exists = true;
            dst.is_dir = s.is_dir();
        }
    }

    match src {
        CopySrc::Stream(input) => {
            if !dst.is_dir {
                return Err(CpError::DestinationNotDirectory {
                    path: dest.to_owned(),
                });
            }
            let mut extractor = Extractor::in_container(&rootfs, &dst.path, owner)?;
            read_tar(input, &mut extractor)?;
            extractor.finish()
        }
        CopySrc::Host(path) => {
            let abs = host_abs(path)?;
            let (resolved, rebase) = resolve_host_source(&abs, opts.follow_link)?;
            let node = host_node(&resolved)?;
            let top = match rebase {
                Some(name) => name,
                None => split_path_dir_entry(&resolved).1,
            };
            let (dst_dir, rename) = prepare_archive_copy(node.is_dir(), &top, &dst)?;
            let top = if top == b"/" { Vec::new() } else { top };
            let mut extractor = Extractor::in_container(&rootfs, &dst_dir, owner)?;
            let mut sink = Rebase {
                ops: rename.into_iter().collect(),
                inner: &mut extractor,
            };
            Walker::new(&mut sink, false).walk(node, &top)?;
            extractor.finish()
        }
    }
}

// ---------------------------------------------------------------------------
// Paths, with Go's `path/filepath` semantics on bytes.

fn components(p: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    p.split(|&c| c == b'/').filter(|c| !c.is_empty())
}

fn has_trailing_sep(p: &[u8]) -> bool {
    p.last() == Some(&b'/')
}

/// `filepath.Clean`.
fn clean(p: &[u8]) -> Vec<u8> {
    let rooted = p.first() == Some(&b'/');
    let mut out: Vec<&[u8]> = Vec::new();
    for c in components(p) {
        match c {
            b"." => {}
            b".." => {
                if out.last().is_some_and(|l| *l != b"..") {
                    out.pop();
                } else if !rooted {
                    out.push(c);
                }
            }
            c => out.push(c),
        }
    }
    let joined = out.join(&b'/');
    match (rooted, joined.is_empty()) {
        (true, _) => [b"/".as_slice(), &joined].concat(),
        (false, true) => b".".to_vec(),
        (false, false) => joined,
    }
}

/// `filepath.Base`.
fn base(p: &[u8]) -> Vec<u8> {
    if p.is_empty() {
        return b".".to_vec();
    }
    let mut end = p.len();
    while end > 0 && p[end - 1] == b'/' {
        end -= 1;
    }
    if end == 0 {
        return b"/".to_vec();
    }
    let start = p[..end]
        .iter()
        .rposition(|&c| c == b'/')
        .map_or(0, |i| i + 1);
    p[start..end].to_vec()
}

/// `filepath.Dir`.
fn dir(p: &[u8]) -> Vec<u8> {
    match p.iter().rposition(|&c| c == b'/') {
        Some(i) => clean(&p[..=i]),
        None => b".".to_vec(),
    }
}

fn specifies_current_dir(p: &[u8]) -> bool {
    base(p) == b"."
}

/// A path ending in `/` or `/.` says it names a directory.
fn asserts_directory(p: &[u8]) -> bool {
    has_trailing_sep(p) || specifies_current_dir(p)
}

/// moby's `SplitPathDirEntry`: the cleaned parent and base, keeping a
/// final `.`.
fn split_path_dir_entry(p: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut cleaned = clean(p);
    if specifies_current_dir(p) {
        cleaned.extend_from_slice(b"/.");
    }
    (dir(&cleaned), base(&cleaned))
}

/// moby's `PreserveTrailingDotOrSeparator`.
fn preserve_trailing(cleaned: &[u8], original: &[u8]) -> Vec<u8> {
    let mut out = cleaned.to_vec();
    if !specifies_current_dir(&out) && specifies_current_dir(original) {
        if !has_trailing_sep(&out) {
            out.push(b'/');
        }
        out.push(b'.');
    }
    if !has_trailing_sep(&out) && has_trailing_sep(original) {
        out.push(b'/');
    }
    out
}

/// A container path made absolute (`filepath.Join("/", p)`), keeping a
/// trailing `/` or `/.`.
fn container_abs(p: &[u8]) -> Vec<u8> {
    let joined = clean(&[b"/".as_slice(), p].concat());
    preserve_trailing(&joined, p)
}

/// The name the archive of `abs` starts with: its base name, nothing for
/// the root (whose entries are `/`, `/bin/`, ...).
fn archive_top(abs: &[u8]) -> Vec<u8> {
    let b = base(abs);
    if b == b"/" { Vec::new() } else { b }
}

/// moby's `GetRebaseName`: `resolved` with `path`'s trailing `/` or `/.`,
/// and the name to rename the archive's top entry to when the base names
/// differ.
fn rebase_name_for(path: &[u8], resolved: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut out = resolved.to_vec();
    if specifies_current_dir(path) && !specifies_current_dir(&out) {
        out.extend_from_slice(b"/.");
    }
    if has_trailing_sep(path) && !has_trailing_sep(&out) {
        out.push(b'/');
    }
    let rebase = (base(path) != base(&out)).then(|| base(path));
    (out, rebase)
}

/// Replaces the first `old` in `s` by `new` (Go's `strings.Replace(s, old,
/// new, 1)`, with `/` meaning the empty prefix as in `RebaseArchiveEntries`).
fn replace_first(s: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let old: &[u8] = if old == b"/" { b"" } else { old };
    let at = if old.is_empty() {
        Some(0)
    } else {
        s.windows(old.len()).position(|w| w == old)
    };
    match at {
        Some(i) => [&s[..i], new, &s[i + old.len()..]].concat(),
        None => s.to_vec(),
    }
}

// ---------------------------------------------------------------------------
// The container's root.

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC
}

fn in_root() -> ResolveFlags {
    ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS
}

fn beneath() -> ResolveFlags {
    ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS
}

/// `openat2`, retried while the kernel reports a concurrent rename.
fn openat2_retry(
    dirfd: BorrowedFd<'_>,
    path: &[u8],
    flags: OFlags,
    resolve: ResolveFlags,
) -> rustix::io::Result<OwnedFd> {
    let path: &[u8] = if path.is_empty() { b"." } else { path };
    let mut tries = 0;
    loop {
        match rfs::openat2(dirfd, path, flags, Mode::empty(), resolve) {
            Err(Errno::AGAIN) if tries < 32 => tries += 1,
            r => return r,
        }
    }
}

fn file_id(st: &rfs::Stat) -> (u64, u64) {
    (st.st_dev, st.st_ino)
}

fn is_dir(st: &rfs::Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::Directory
}

fn is_symlink(st: &rfs::Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::Symlink
}

/// A directory fd of the container's root.
struct Root {
    fd: OwnedFd,
    id: (u64, u64),
}

impl Root {
    fn open(root: &Path) -> Result<Root, CpError> {
        let shown = root.as_os_str().as_bytes();
        let fd =
            rfs::open(root, dir_flags(), Mode::empty()).map_err(|e| io_error("open", shown, e))?;
        let st = rfs::fstat(&fd).map_err(|e| io_error("stat", shown, e))?;
        Ok(Root {
            fd,
            id: file_id(&st),
        })
    }

    /// Opens a container path, resolved inside the root.
    fn open_path(&self, path: &[u8], flags: OFlags) -> rustix::io::Result<OwnedFd> {
        openat2_retry(self.fd.as_fd(), path, flags, in_root())
    }
}

/// A resolved source: a directory, or something else in a directory.
enum Node {
    Dir {
        fd: OwnedFd,
        stat: rfs::Stat,
    },
    Leaf {
        parent: OwnedFd,
        name: Vec<u8>,
        stat: rfs::Stat,
    },
}

impl Node {
    fn stat(&self) -> &rfs::Stat {
        match self {
            Node::Dir { stat, .. } | Node::Leaf { stat, .. } => stat,
        }
    }

    fn is_dir(&self) -> bool {
        matches!(self, Node::Dir { .. })
    }
}

/// `name` in `parent`, not followed.
fn node_at(parent: OwnedFd, name: Vec<u8>) -> rustix::io::Result<Node> {
    let stat = rfs::statat(&parent, &name[..], AtFlags::SYMLINK_NOFOLLOW)?;
    if is_dir(&stat) {
        let fd = rfs::openat(
            &parent,
            &name[..],
            dir_flags() | OFlags::NOFOLLOW,
            Mode::empty(),
        )?;
        let stat = rfs::fstat(&fd)?;
        return Ok(Node::Dir { fd, stat });
    }
    Ok(Node::Leaf { parent, name, stat })
}

/// Resolves the absolute container path `abs` inside the root: every
/// component but the last is followed; the last too when `abs` ends in
/// `/` or `/.`.
fn resolve_in_root(root: &Root, abs: &[u8], shown: &str) -> Result<Node, CpError> {
    let fail = |e: Errno| match e {
        Errno::NOENT => CpError::NotFound {
            path: shown.to_owned(),
        },
        Errno::NOTDIR => CpError::NotADirectory {
            path: shown.to_owned(),
        },
        e => io_error("lstat", shown.as_bytes(), e),
    };
    if abs == b"/" || asserts_directory(abs) {
        let fd = root.open_path(abs, dir_flags()).map_err(fail)?;
        let stat = rfs::fstat(&fd).map_err(fail)?;
        return Ok(Node::Dir { fd, stat });
    }
    let parent = root.open_path(&dir(abs), dir_flags()).map_err(fail)?;
    node_at(parent, base(abs)).map_err(fail)
}

fn stat_path(root: &Root, path: &[u8]) -> Result<PathStat, CpError> {
    let abs = container_abs(path);
    let node = resolve_in_root(root, &abs, &lossy(path))?;
    let st = node.stat();
    let link_target = if is_symlink(st) {
        lossy(&follow_in_scope(root, &abs)?)
    } else {
        String::new()
    };
    Ok(PathStat {
        name: lossy(&base(&abs)),
        size: u64::try_from(st.st_size).unwrap_or(0),
        mode: st.st_mode,
        mtime: st.st_mtime,
        link_target,
    })
}

/// moby's `FollowSymlinkInScope(path, "/")`: `path` with every symlink
/// resolved inside the root, components that do not exist kept as they
/// are. Returns an absolute container path.
fn follow_in_scope(root: &Root, path: &[u8]) -> Result<Vec<u8>, CpError> {
    const MAX_LINKS: usize = 255;
    let mut queue: std::collections::VecDeque<Vec<u8>> =
        components(&clean(&[b"/".as_slice(), path].concat()))
            .map(<[u8]>::to_vec)
            .collect();
    let mut done: Vec<Vec<u8>> = Vec::new();
    let mut links = 0;
    while let Some(c) = queue.pop_front() {
        match &c[..] {
            b"." => continue,
            b".." => {
                done.pop();
                continue;
            }
            _ => {}
        }
        let parent_path = [b"/".as_slice(), &done.join(&b'/')].concat();
        let shown = [
            &parent_path[..],
            if done.is_empty() { b"" } else { b"/" },
            &c,
        ]
        .concat();
        let parent = match root.open_path(&parent_path, dir_flags()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => {
                done.push(c);
                continue;
            }
            Err(e) => return Err(io_error("lstat", &shown, e)),
        };
        let st = match rfs::statat(&parent, &c[..], AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => {
                done.push(c);
                continue;
            }
            Err(e) => return Err(io_error("lstat", &shown, e)),
        };
        if !is_symlink(&st) {
            done.push(c);
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Err(io_error("lstat", path, Errno::LOOP));
        }
        let target = rfs::readlinkat(&parent, &c[..], Vec::new())
            .map_err(|e| io_error("readlink", &shown, e))?
            .into_bytes();
        if target.first() == Some(&b'/') {
            done.clear();
        }
        for t in components(&target).rev() {
            queue.push_front(t.to_vec());
        }
    }
    Ok([b"/".as_slice(), &done.join(&b'/')].concat())
}

// ---------------------------------------------------------------------------
// The host side.

/// `filepath.Abs`, keeping a trailing `/` or `/.`.
fn host_abs(p: &Path) -> Result<Vec<u8>, CpError> {
    let orig = p.as_os_str().as_bytes();
    let joined = if orig.first() == Some(&b'/') {
        orig.to_vec()
    } else {
        let cwd = std::env::current_dir().map_err(|e| io_error("getwd", b".", e))?;
        [cwd.as_os_str().as_bytes(), b"/", orig].concat()
    };
    Ok(preserve_trailing(&clean(&joined), orig))
}

fn os(p: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(p))
}

/// The CLI's `ValidateOutputPath`.
fn validate_output_path(abs: &[u8]) -> Result<(), CpError> {
    let parent = dir(&clean(abs));
    if parent != b"."
        && !parent.is_empty()
        && let Err(e) = std::fs::metadata(os(&parent))
        && e.kind() == io::ErrorKind::NotFound
    {
        return Err(CpError::OutputDirNotFound {
            dir: lossy(&parent),
        });
    }
    match std::fs::metadata(os(abs)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("stat", abs, e)),
        Ok(m) => {
            use std::os::unix::fs::FileTypeExt;
            let t = m.file_type();
            if t.is_block_device() || t.is_char_device() {
                return Err(CpError::InvalidOutputPath {
                    path: lossy(abs),
                    reason: "got a device",
                });
            }
            Ok(())
        }
    }
}

/// What a destination is.
struct DstInfo {
    path: Vec<u8>,
    exists: bool,
    is_dir: bool,
}

/// moby's `CopyInfoDestinationPath` on the host: symlinks are followed
/// (a broken one names the file to create); a missing DEST needs its
/// parent directory.
fn host_dest_info(path: &[u8]) -> Result<DstInfo, CpError> {
    const MAX_LINKS: usize = 10;
    let mut path = path.to_vec();
    let original = path.clone();
    let mut st = std::fs::symlink_metadata(os(&path));
    let mut n = 0;
    while let Ok(m) = &st {
        if !m.file_type().is_symlink() {
            break;
        }
        if n > MAX_LINKS {
            return Err(CpError::TooManySymlinks {
                path: lossy(&original),
            });
        }
        n += 1;
        let target = std::fs::read_link(os(&path))
            .map_err(|e| io_error("readlink", &path, e))?
            .into_os_string()
            .into_vec();
        path = if target.first() == Some(&b'/') {
            target
        } else {
            let (parent, _) = split_path_dir_entry(&path);
            clean(&[&parent[..], b"/", &target].concat())
        };
        st = std::fs::symlink_metadata(os(&path));
    }
    match st {
        Ok(m) => Ok(DstInfo {
            path,
            exists: true,
            is_dir: m.is_dir(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let (parent, _) = split_path_dir_entry(&path);
            let pm = std::fs::metadata(os(&parent)).map_err(|e| io_error("stat", &parent, e))?;
            if !pm.is_dir() {
                return Err(CpError::NotDirectory);
            }
            Ok(DstInfo {
                path,
                exists: false,
                is_dir: false,
            })
        }
        Err(e) => Err(io_error("lstat", &path, e)),
    }
}

/// moby's `ResolveHostSourcePath`: with `follow`, every symlink resolved;
/// without, those of the parent only. Returns the path and the name to
/// give the archive's top entry when it differs.
fn resolve_host_source(abs: &[u8], follow: bool) -> Result<(Vec<u8>, Option<Vec<u8>>), CpError> {
    let canon = |p: &[u8]| -> Result<Vec<u8>, CpError> {
        match std::fs::canonicalize(os(p)) {
            Ok(c) => Ok(c.into_os_string().into_vec()),
            Err(e) if e.raw_os_error() == Some(Errno::NOTDIR.raw_os_error()) => {
                Err(CpError::NotDirectory)
            }
            Err(e) => Err(io_error("lstat", abs, e)),
        }
    };
    if follow {
        let resolved = canon(abs)?;
        return Ok(rebase_name_for(abs, &resolved));
    }
    let split = abs.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
    let (dir_part, base_part) = abs.split_at(split);
    let dir_resolved = canon(if dir_part.is_empty() { b"." } else { dir_part })?;
    let mut resolved = dir_resolved;
    if !has_trailing_sep(&resolved) {
        resolved.push(b'/');
    }
    resolved.extend_from_slice(base_part);
    let rebase = (has_trailing_sep(abs) && base(abs) != base(&resolved)).then(|| base(abs));
    Ok((resolved, rebase))
}

/// Opens a host source like [`resolve_in_root`] does a container one.
fn host_node(resolved: &[u8]) -> Result<Node, CpError> {
    let fail = |e: Errno| io_error("lstat", resolved, e);
    if resolved == b"/" || asserts_directory(resolved) {
        let fd = rfs::open(os(resolved), dir_flags(), Mode::empty()).map_err(fail)?;
        let stat = rfs::fstat(&fd).map_err(fail)?;
        return Ok(Node::Dir { fd, stat });
    }
    let parent = rfs::open(os(&dir(resolved)), dir_flags(), Mode::empty()).map_err(fail)?;
    node_at(parent, base(resolved)).map_err(fail)
}

/// moby's `PrepareArchiveCopy`: the directory to extract into and how to
/// rename the archive's top entry.
#[allow(clippy::type_complexity)]
fn prepare_archive_copy(
    src_is_dir: bool,
    src_base: &[u8],
    dst: &DstInfo,
) -> Result<(Vec<u8>, Option<(Vec<u8>, Vec<u8>)>), CpError> {
    let (dst_dir, dst_base) = split_path_dir_entry(&dst.path);
    let rename = Some((src_base.to_vec(), dst_base));
    if dst.exists && dst.is_dir {
        Ok((dst.path.clone(), None))
    } else if dst.exists && src_is_dir {
        Err(CpError::CannotCopyDir)
    } else if dst.exists || src_is_dir {
        Ok((dst_dir, rename))
    } else if asserts_directory(&dst.path) {
        Err(CpError::DirNotExists)
    } else {
        Ok((dst_dir, rename))
    }
}

// ---------------------------------------------------------------------------
// Entries: what a walk or a tar stream yields, and what a tar or an
// extraction consumes.

enum Kind {
    Dir,
    File {
        size: u64,
    },
    Symlink(Vec<u8>),
    /// A hard link to an earlier entry, by its name.
    HardLink(Vec<u8>),
    Char(u32, u32),
    Block(u32, u32),
    Fifo,
}

#[derive(Clone, Copy)]
struct Meta {
    /// Permission bits with setuid, setgid and sticky.
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: i64,
}

impl Meta {
    fn of(st: &rfs::Stat) -> Meta {
        Meta {
            mode: st.st_mode & 0o7777,
            uid: st.st_uid.into(),
            gid: st.st_gid.into(),
            mtime: st.st_mtime,
        }
    }
}

struct Entry<'a> {
    /// The archive name: `/`-separated, directories ending in `/`.
    name: Vec<u8>,
    kind: Kind,
    meta: Meta,
    data: &'a mut dyn Read,
}

trait Sink {
    fn put(&mut self, e: Entry<'_>) -> Result<(), CpError>;
}

/// Renames entries as moby's `RebaseArchiveEntries` does, in order.
struct Rebase<'s> {
    ops: Vec<(Vec<u8>, Vec<u8>)>,
    inner: &'s mut dyn Sink,
}

impl Sink for Rebase<'_> {
    fn put(&mut self, mut e: Entry<'_>) -> Result<(), CpError> {
        for (old, new) in &self.ops {
            e.name = replace_first(&e.name, old, new);
            if let Kind::HardLink(target) = &mut e.kind {
                *target = replace_first(target, old, new);
            }
        }
        self.inner.put(e)
    }
}

/// File contents of exactly `left` bytes: cut if the file grew since it
/// was stat'ed, padded with zeros if it shrank (a tar header's size is
/// already written).
struct Exact<R> {
    inner: R,
    left: u64,
    eof: bool,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let mut n = 0;
        if !self.eof {
            n = self.inner.read(&mut buf[..want])?;
            if n == 0 {
                self.eof = true;
            }
        }
        if n == 0 {
            buf[..want].fill(0);
            n = want;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// File systems whose contents a container copy leaves out (the daemon's
/// view of a container has them as empty mount points).
fn is_pseudo_fs(fd: BorrowedFd<'_>) -> bool {
    const PSEUDO: [i128; 16] = [
        0x9fa0,      // proc
        0x6265_6572, // sysfs
        0x1cd1,      // devpts
        0x0027_e0eb, // cgroup
        0x6367_7270, // cgroup2
        0x1980_0202, // mqueue
        0x7363_6673, // securityfs
        0x6462_6720, // debugfs
        0x7472_6163, // tracefs
        0xcafe_4a11, // bpf
        0x6165_676c, // pstore
        0x6265_6570, // configfs
        0x6573_5543, // fusectl
        0xf97c_ff8c, // selinuxfs
        0x4249_4e4d, // binfmt_misc
        0x6e73_6673, // nsfs
    ];
    rfs::fstatfs(fd).is_ok_and(|s| PSEUDO.contains(&i128::from(s.f_type)))
}

/// Walks a source tree through fds, never following a symlink, yielding
/// entries named as Docker's tarballer names them: directories before
/// their contents, siblings by name; the second and later names of a
/// multiply linked file as hard links to the first.
struct Walker<'s> {
    sink: &'s mut dyn Sink,
    seen: HashMap<(u64, u64), Vec<u8>>,
    skip_pseudo: bool,
}

impl<'s> Walker<'s> {
    fn new(sink: &'s mut dyn Sink, skip_pseudo: bool) -> Walker<'s> {
        Walker {
            sink,
            seen: HashMap::new(),
            skip_pseudo,
        }
    }

    fn walk(&mut self, node: Node, top: &[u8]) -> Result<(), CpError> {
        match node {
            Node::Dir { fd, stat } => self.dir(fd.as_fd(), &stat, top.to_vec()),
            Node::Leaf { parent, name, stat } => {
                self.other(parent.as_fd(), &name, &stat, top.to_vec())
            }
        }
    }

    fn dir(&mut self, fd: BorrowedFd<'_>, stat: &rfs::Stat, name: Vec<u8>) -> Result<(), CpError> {
        let mut ename = name.clone();
        ename.push(b'/');
        self.sink.put(Entry {
            name: ename.clone(),
            kind: Kind::Dir,
            meta: Meta::of(stat),
            data: &mut io::empty(),
        })?;
        if self.skip_pseudo && is_pseudo_fs(fd) {
            return Ok(());
        }
        let mut children = Vec::new();
        for ent in rfs::Dir::read_from(fd).map_err(|e| io_error("open", &ename, e))? {
            let ent = ent.map_err(|e| io_error("readdir", &ename, e))?;
            let n = ent.file_name().to_bytes();
            if n != b"." && n != b".." {
                children.push(n.to_vec());
            }
        }
        children.sort();
        for child in children {
            let cname = [&ename[..], &child].concat();
            let st = match rfs::statat(fd, &child[..], AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                // Gone since the directory was read.
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(io_error("lstat", &cname, e)),
            };
            if is_dir(&st) {
                let cfd = match rfs::openat(
                    fd,
                    &child[..],
                    dir_flags() | OFlags::NOFOLLOW,
                    Mode::empty(),
                ) {
                    Ok(cfd) => cfd,
                    Err(Errno::NOENT) => continue,
                    Err(e) => return Err(io_error("open", &cname, e)),
                };
                let cst = rfs::fstat(&cfd).map_err(|e| io_error("stat", &cname, e))?;
                self.dir(cfd.as_fd(), &cst, cname)?;
            } else {
                self.other(fd, &child, &st, cname)?;
            }
        }
        Ok(())
    }

    fn other(
        &mut self,
        parent: BorrowedFd<'_>,
        name: &[u8],
        st: &rfs::Stat,
        ename: Vec<u8>,
    ) -> Result<(), CpError> {
        let meta = Meta::of(st);
        if st.st_nlink > 1 {
            if let Some(first) = self.seen.get(&file_id(st)) {
                return self.sink.put(Entry {
                    name: ename,
                    kind: Kind::HardLink(first.clone()),
                    meta,
                    data: &mut io::empty(),
                });
            }
            self.seen.insert(file_id(st), ename.clone());
        }
        let kind = match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => {
                let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
                let fd = match rfs::openat(parent, name, flags, Mode::empty()) {
                    Ok(fd) => fd,
                    Err(Errno::NOENT) => return Ok(()),
                    Err(e) => return Err(io_error("open", &ename, e)),
                };
                let now = rfs::fstat(&fd).map_err(|e| io_error("stat", &ename, e))?;
                if FileType::from_raw_mode(now.st_mode) != FileType::RegularFile
                    || file_id(&now) != file_id(st)
                {
                    // Replaced since it was listed.
                    return Ok(());
                }
                let size = u64::try_from(st.st_size).unwrap_or(0);
                let mut data = Exact {
                    inner: File::from(fd),
                    left: size,
                    eof: false,
                };
                return self.sink.put(Entry {
                    name: ename,
                    kind: Kind::File { size },
                    meta,
                    data: &mut data,
                });
            }
            FileType::Symlink => Kind::Symlink(
                rfs::readlinkat(parent, name, Vec::new())
                    .map_err(|e| io_error("readlink", &ename, e))?
                    .into_bytes(),
            ),
            FileType::CharacterDevice => Kind::Char(rfs::major(st.st_rdev), rfs::minor(st.st_rdev)),
            FileType::BlockDevice => Kind::Block(rfs::major(st.st_rdev), rfs::minor(st.st_rdev)),
            FileType::Fifo => Kind::Fifo,
            _ => {
                // Sockets: tar has no type for them; Docker skips them too.
                tracing::debug!(name = %lossy(&ename), "cp: skipping a socket");
                return Ok(());
            }
        };
        self.sink.put(Entry {
            name: ename,
            kind,
            meta,
            data: &mut io::empty(),
        })
    }
}

// ---------------------------------------------------------------------------
// Writing a tar stream.

/// The largest value of a 12-byte octal tar field.
const OCTAL_11: u64 = 0o777_7777_7777;
/// The largest value of an 8-byte octal tar field.
const OCTAL_7: u64 = 0o777_7777;

struct TarSink<'w> {
    out: tar::Builder<&'w mut dyn Write>,
}

fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    // "LEN key=value\n", LEN counting itself.
    let body = key.len() + value.len() + 3;
    let mut len = body + 1;
    loop {
        let total = body + len.to_string().len();
        if total == len {
            break;
        }
        len = total;
    }
    [format!("{len} {key}=").as_bytes(), value, b"\n"].concat()
}

/// Puts `value` in a fixed header field, or in a PAX record if too long.
fn name_field(field: &mut [u8; 100], value: &[u8], key: &str, pax: &mut Vec<u8>) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
    if value.len() > field.len() {
        pax.extend(pax_record(key, value));
    }
}

impl<'w> TarSink<'w> {
    fn new(out: &'w mut dyn Write) -> TarSink<'w> {
        TarSink {
            out: tar::Builder::new(out),
        }
    }

    fn finish(mut self) -> Result<(), CpError> {
        self.out
            .finish()
            .map_err(|e| io_error("write", b"tar stream", e))
    }
}

impl Sink for TarSink<'_> {
    fn put(&mut self, e: Entry<'_>) -> Result<(), CpError> {
        let write_err = |err: io::Error| io_error("write", &e.name, err);
        let mut h = tar::Header::new_ustar();
        let mut pax = Vec::new();
        name_field(&mut h.as_old_mut().name, &e.name, "path", &mut pax);
        // Go's FileInfoHeader keeps the type bits in the mode field.
        let (entry_type, type_bits) = match &e.kind {
            Kind::Dir => (tar::EntryType::Directory, 0o040000),
            Kind::File { .. } | Kind::HardLink(_) => (
                if matches!(e.kind, Kind::HardLink(_)) {
                    tar::EntryType::Link
                } else {
                    tar::EntryType::Regular
                },
                0o100000,
            ),
            Kind::Symlink(_) => (tar::EntryType::Symlink, 0o120000),
            Kind::Char(..) => (tar::EntryType::Char, 0o020000),
            Kind::Block(..) => (tar::EntryType::Block, 0o060000),
            Kind::Fifo => (tar::EntryType::Fifo, 0o010000),
        };
        h.set_entry_type(entry_type);
        h.set_mode(e.meta.mode | type_bits);
        h.set_uid(e.meta.uid.min(OCTAL_7));
        h.set_gid(e.meta.gid.min(OCTAL_7));
        if e.meta.uid > OCTAL_7 {
            pax.extend(pax_record("uid", e.meta.uid.to_string().as_bytes()));
        }
        if e.meta.gid > OCTAL_7 {
            pax.extend(pax_record("gid", e.meta.gid.to_string().as_bytes()));
        }
        match u64::try_from(e.meta.mtime) {
            Ok(t) if t <= OCTAL_11 => h.set_mtime(t),
            _ => {
                h.set_mtime(0);
                pax.extend(pax_record("mtime", e.meta.mtime.to_string().as_bytes()));
            }
        }
        let size = match e.kind {
            Kind::File { size } => size,
            _ => 0,
        };
        h.set_size(size.min(OCTAL_11));
        if size > OCTAL_11 {
            pax.extend(pax_record("size", size.to_string().as_bytes()));
        }
        match &e.kind {
            Kind::Symlink(target) | Kind::HardLink(target) => {
                name_field(&mut h.as_old_mut().linkname, target, "linkpath", &mut pax);
            }
            Kind::Char(major, minor) | Kind::Block(major, minor) => {
                h.set_device_major(*major).map_err(write_err)?;
                h.set_device_minor(*minor).map_err(write_err)?;
            }
            _ => {}
        }
        h.set_cksum();
        if !pax.is_empty() {
            let mut ph = tar::Header::new_ustar();
            let pax_name = [b"PaxHeaders.0/".as_slice(), &base(&e.name)].concat();
            name_field(&mut ph.as_old_mut().name, &pax_name, "", &mut Vec::new());
            ph.set_entry_type(tar::EntryType::XHeader);
            ph.set_mode(0o644);
            ph.set_size(pax.len() as u64);
            ph.set_mtime(h.mtime().unwrap_or(0));
            ph.set_cksum();
            self.out.append(&ph, &pax[..]).map_err(write_err)?;
        }
        self.out.append(&h, e.data).map_err(write_err)
    }
}

// ---------------------------------------------------------------------------
// Reading a tar stream.

/// Reads a tar stream (plain, gzip or zstd, as Docker's untar detects
/// them) into `sink`.
fn read_tar(input: &mut dyn Read, sink: &mut dyn Sink) -> Result<(), CpError> {
    let mut head = [0u8; 6];
    let mut n = 0;
    while n < head.len() {
        match input.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CpError::Tar(e)),
        }
    }
    let head = &head[..n];
    let stream = io::Cursor::new(head.to_vec()).chain(input);
    if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        tar_entries(flate2::read::MultiGzDecoder::new(stream), sink)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        tar_entries(
            zstd::stream::read::Decoder::new(stream).map_err(CpError::Tar)?,
            sink,
        )
    } else if head.starts_with(b"BZh") {
        Err(CpError::UnsupportedCompression("bzip2"))
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Err(CpError::UnsupportedCompression("xz"))
    } else {
        tar_entries(stream, sink)
    }
}

fn tar_entries<R: Read>(input: R, sink: &mut dyn Sink) -> Result<(), CpError> {
    let mut archive = tar::Archive::new(input);
    for entry in archive.entries().map_err(CpError::Tar)? {
        let mut entry = entry.map_err(CpError::Tar)?;
        let mut uid_pax = None;
        let mut gid_pax = None;
        let mut mtime_pax = None;
        if let Some(records) = entry.pax_extensions().map_err(CpError::Tar)? {
            for r in records {
                let r = r.map_err(CpError::Tar)?;
                let value = std::str::from_utf8(r.value_bytes()).unwrap_or("");
                match r.key() {
                    Ok("uid") => uid_pax = value.parse::<u64>().ok(),
                    Ok("gid") => gid_pax = value.parse::<u64>().ok(),
                    Ok("mtime") => {
                        let whole = value.split('.').next().unwrap_or("");
                        mtime_pax = whole.parse::<i64>().ok();
                    }
                    _ => {}
                }
            }
        }
        let name = entry.path_bytes().into_owned();
        let link = entry
            .link_name_bytes()
            .map(|l| l.into_owned())
            .unwrap_or_default();
        let size = entry.size();
        let h = entry.header();
        let raw_type = h.as_old().linkflag[0];
        let device = |h: &tar::Header| -> Result<(u32, u32), CpError> {
            let major = h.device_major().map_err(CpError::Tar)?.unwrap_or(0);
            let minor = h.device_minor().map_err(CpError::Tar)?.unwrap_or(0);
            Ok((major, minor))
        };
        let kind = match h.entry_type() {
            // The old convention: a "regular file" named with a trailing
            // slash is a directory.
            tar::EntryType::Regular if raw_type == 0 && has_trailing_sep(&name) => Kind::Dir,
            tar::EntryType::Regular | tar::EntryType::Continuous => Kind::File { size },
            tar::EntryType::Directory => Kind::Dir,
            tar::EntryType::Symlink => Kind::Symlink(link),
            tar::EntryType::Link => Kind::HardLink(link),
            tar::EntryType::Char => {
                let (major, minor) = device(h)?;
                Kind::Char(major, minor)
            }
            tar::EntryType::Block => {
                let (major, minor) = device(h)?;
                Kind::Block(major, minor)
            }
            tar::EntryType::Fifo => Kind::Fifo,
            tar::EntryType::XGlobalHeader => continue,
            other => return Err(CpError::UnsupportedEntry(other.as_byte())),
        };
        let meta = Meta {
            mode: h.mode().map_err(CpError::Tar)? & 0o7777,
            uid: match uid_pax {
                Some(u) => u,
                None => h.uid().map_err(CpError::Tar)?,
            },
            gid: match gid_pax {
                Some(g) => g,
                None => h.gid().map_err(CpError::Tar)?,
            },
            mtime: match mtime_pax {
                Some(t) => t,
                None => i64::try_from(h.mtime().map_err(CpError::Tar)?).unwrap_or(i64::MAX),
            },
        };
        sink.put(Entry {
            name,
            kind,
            meta,
            data: &mut entry,
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Extracting into a directory.

/// Who owns what an extraction creates.
#[derive(Clone, Copy)]
enum Owner {
    /// Whoever creates it (the host side: no chown).
    Creator,
    /// 0:0, root in the container.
    Root,
    /// The entry's uid/gid (`-a`).
    FromEntry,
}

/// The container around an extraction directory, to resolve parents
/// reached through absolute symlinks.
struct Scope<'r> {
    root: &'r Root,
    dest_abs: Vec<u8>,
    dest_id: (u64, u64),
}

/// Why a directory lookup found nothing usable.
enum Miss {
    Absent,
    Fail(CpError),
}

/// Extracts entries into a directory, as moby's `Unpack` does with
/// `NoOverwriteDirNonDir`, through fds only: parents are resolved beneath
/// the directory, final components are never followed.
struct Extractor<'r> {
    dest: OwnedFd,
    /// The directory as messages name it.
    dest_shown: Vec<u8>,
    scope: Option<Scope<'r>>,
    owner: Owner,
    /// Directories whose mtime is set last (their contents change it).
    dirs: Vec<(Vec<Vec<u8>>, i64)>,
    /// The last parent directory used.
    cache: Option<(Vec<Vec<u8>>, OwnedFd)>,
}

fn times(mtime: i64) -> Timestamps {
    let t = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    Timestamps {
        last_access: t,
        last_modification: t,
    }
}

impl<'r> Extractor<'r> {
    /// Extraction into a host directory (the CLI's side: no chown).
    fn on_host(dir: &[u8]) -> Result<Extractor<'static>, CpError> {
        let dest =
            rfs::open(os(dir), dir_flags(), Mode::empty()).map_err(|e| io_error("open", dir, e))?;
        Ok(Extractor {
            dest,
            dest_shown: clean(dir),
            scope: None,
            owner: Owner::Creator,
            dirs: Vec::new(),
            cache: None,
        })
    }

    /// Extraction into the container directory `dir` (the daemon's side:
    /// it must be an existing directory, symlinks followed in the root).
    fn in_container(root: &'r Root, dir: &[u8], owner: Owner) -> Result<Extractor<'r>, CpError> {
        let abs = container_abs(dir);
        let fail = |e: Errno| match e {
            Errno::NOENT => CpError::NotFound { path: lossy(dir) },
            Errno::NOTDIR => CpError::NotADirectory { path: lossy(dir) },
            e => io_error("open", dir, e),
        };
        let fd = root
            .open_path(&abs, OFlags::PATH | OFlags::CLOEXEC)
            .map_err(fail)?;
        let st = rfs::fstat(&fd).map_err(fail)?;
        if !is_dir(&st) {
            return Err(CpError::ExtractionPointNotDirectory);
        }
        let dest = rfs::openat(&fd, ".", dir_flags(), Mode::empty()).map_err(fail)?;
        let resolved = follow_in_scope(root, &abs).unwrap_or_else(|_| clean(&abs));
        Ok(Extractor {
            dest,
            dest_shown: resolved.clone(),
            scope: Some(Scope {
                root,
                dest_abs: resolved,
                dest_id: file_id(&st),
            }),
            owner,
            dirs: Vec::new(),
            cache: None,
        })
    }

    /// `dest/rel` for messages.
    fn show(&self, rel: &[u8]) -> Vec<u8> {
        clean(&[&self.dest_shown[..], b"/", rel].concat())
    }

    fn outside(&self, name: &[u8]) -> CpError {
        CpError::OutsideDestination {
            name: lossy(name),
            dest: lossy(&self.dest_shown),
        }
    }

    /// The owner to give what is created at `shown`, if any.
    fn ids(&self, meta: &Meta, shown: &[u8]) -> Result<Option<(rfs::Uid, rfs::Gid)>, CpError> {
        let (uid, gid) = match self.owner {
            Owner::Creator => return Ok(None),
            Owner::Root => (0, 0),
            Owner::FromEntry => (meta.uid, meta.gid),
        };
        match (u32::try_from(uid), u32::try_from(gid)) {
            (Ok(u), Ok(g)) if u != u32::MAX && g != u32::MAX => {
                Ok(Some((rfs::Uid::from_raw(u), rfs::Gid::from_raw(g))))
            }
            _ => Err(io_error("lchown", shown, Errno::INVAL)),
        }
    }

    /// The directory `dest/rel`: resolved beneath `dest`; in a container,
    /// one reached through an absolute symlink is resolved in the root and
    /// must lie below `dest`.
    fn lookup(&self, rel: &[Vec<u8>], name: &[u8]) -> Result<OwnedFd, Miss> {
        let p = rel.join(&b'/');
        match openat2_retry(self.dest.as_fd(), &p, dir_flags(), beneath()) {
            Ok(fd) => Ok(fd),
            Err(Errno::NOENT) => Err(Miss::Absent),
            Err(Errno::XDEV) => self.lookup_in_root(&p, name),
            Err(e) => Err(Miss::Fail(io_error("open", &self.show(&p), e))),
        }
    }

    fn lookup_in_root(&self, rel: &[u8], name: &[u8]) -> Result<OwnedFd, Miss> {
        let Some(scope) = &self.scope else {
            return Err(Miss::Fail(self.outside(name)));
        };
        let full = [&scope.dest_abs[..], b"/", rel].concat();
        let fd = match scope.root.open_path(&full, dir_flags()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Err(Miss::Absent),
            Err(e) => return Err(Miss::Fail(io_error("open", &self.show(rel), e))),
        };
        match below(fd.as_fd(), scope.dest_id, scope.root.id) {
            Ok(true) => Ok(fd),
            Ok(false) => Err(Miss::Fail(self.outside(name))),
            Err(e) => Err(Miss::Fail(io_error("open", &self.show(rel), e))),
        }
    }

    /// Makes `rel` the cached parent directory, creating what is missing
    /// (0755, root's in a container, as Docker's implied directories).
    fn open_parent(&mut self, rel: &[Vec<u8>], name: &[u8]) -> Result<(), CpError> {
        if matches!(&self.cache, Some((r, _)) if r == rel) {
            return Ok(());
        }
        let fd = match self.lookup(rel, name) {
            Ok(fd) => fd,
            Err(Miss::Fail(e)) => return Err(e),
            Err(Miss::Absent) => self.make_dirs(rel, name)?,
        };
        self.cache = Some((rel.to_vec(), fd));
        Ok(())
    }

    fn make_dirs(&self, rel: &[Vec<u8>], name: &[u8]) -> Result<OwnedFd, CpError> {
        let fail = |m: Miss, at: &[u8]| match m {
            Miss::Absent => io_error("mkdir", &self.show(at), Errno::NOENT),
            Miss::Fail(e) => e,
        };
        let mut parent = self.lookup(&[], name).map_err(|m| fail(m, b""))?;
        for i in 0..rel.len() {
            let prefix = &rel[..=i];
            let shown = prefix.join(&b'/');
            match self.lookup(prefix, name) {
                Ok(fd) => {
                    parent = fd;
                    continue;
                }
                Err(Miss::Fail(e)) => return Err(e),
                Err(Miss::Absent) => {}
            }
            let created = match rfs::mkdirat(&parent, &rel[i][..], Mode::from_raw_mode(0o755)) {
                Ok(()) => true,
                Err(Errno::EXIST) => false,
                Err(e) => return Err(io_error("mkdir", &self.show(&shown), e)),
            };
            parent = self.lookup(prefix, name).map_err(|m| fail(m, &shown))?;
            if created {
                // Implied directories are root's, whatever the entries'.
                let implied = Meta {
                    mode: 0o755,
                    uid: 0,
                    gid: 0,
                    mtime: 0,
                };
                if let Some((u, g)) = self.ids(&implied, &shown)? {
                    rfs::fchown(&parent, Some(u), Some(g))
                        .map_err(|e| io_error("lchown", &self.show(&shown), e))?;
                }
                rfs::fchmod(&parent, Mode::from_raw_mode(0o755))
                    .map_err(|e| io_error("chmod", &self.show(&shown), e))?;
            }
        }
        Ok(parent)
    }

    fn finish(&mut self) -> Result<(), CpError> {
        let dirs = std::mem::take(&mut self.dirs);
        for (rel, mtime) in dirs {
            let shown = self.show(&rel.join(&b'/'));
            let fd = match self.lookup(&rel, &shown) {
                Ok(fd) => fd,
                Err(Miss::Absent) => return Err(io_error("chtimes", &shown, Errno::NOENT)),
                Err(Miss::Fail(e)) => return Err(e),
            };
            rfs::futimens(&fd, &times(mtime)).map_err(|e| io_error("chtimes", &shown, e))?;
        }
        Ok(())
    }
}

/// Whether the directory `fd` is `dest` or below it, walking up through
/// `..` until `dest` or the root.
fn below(fd: BorrowedFd<'_>, dest: (u64, u64), root: (u64, u64)) -> rustix::io::Result<bool> {
    let mut cur = rfs::openat(
        fd,
        ".",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    for _ in 0..4096 {
        let id = file_id(&rfs::fstat(&cur)?);
        if id == dest {
            return Ok(true);
        }
        if id == root {
            return Ok(false);
        }
        let up = rfs::openat(
            &cur,
            "..",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        if file_id(&rfs::fstat(&up)?) == id {
            return Ok(false);
        }
        cur = up;
    }
    Ok(false)
}

/// Whether a symlink in `parent` (relative to the extraction directory)
/// pointing at `target` climbs above the extraction directory, taking the
/// target relative to the link's directory as Docker's check does.
fn symlink_escapes(parent: &[Vec<u8>], target: &[u8]) -> bool {
    let mut depth = parent.len();
    for c in components(target) {
        match c {
            b"." => {}
            b".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

impl Sink for Extractor<'_> {
    fn put(&mut self, e: Entry<'_>) -> Result<(), CpError> {
        let cleaned = clean(&e.name);
        // Cleaning leaves `.` only for the directory itself.
        let comps: Vec<Vec<u8>> = components(&cleaned)
            .filter(|c| *c != b".")
            .map(<[u8]>::to_vec)
            .collect();
        if comps.first().is_some_and(|c| c == b"..") {
            return Err(self.outside(&cleaned));
        }
        let is_dir_entry = matches!(e.kind, Kind::Dir);
        let Some((leaf, parent_rel)) = comps.split_last() else {
            // `.` or `/`: the directory itself, which stays as it is.
            return if is_dir_entry {
                Ok(())
            } else {
                Err(CpError::OverwriteDirectory {
                    path: lossy(&self.dest_shown),
                    dest: lossy(&self.dest_shown),
                })
            };
        };
        let rel = comps.join(&b'/');
        let shown = self.show(&rel);

        // Checks that need no directory.
        match &e.kind {
            Kind::Symlink(target) if symlink_escapes(parent_rel, target) => {
                return Err(CpError::InvalidSymlink {
                    path: lossy(&shown),
                    target: lossy(target),
                });
            }
            Kind::HardLink(target) => {
                let t = clean(target);
                if components(&t).next().is_none_or(|c| c == b"..") {
                    return Err(CpError::InvalidHardlink {
                        path: lossy(&self.show(&t)),
                        target: lossy(target),
                    });
                }
            }
            _ => {}
        }

        self.open_parent(parent_rel, &cleaned)?;
        let ids = self.ids(&e.meta, &shown)?;
        let (_, pfd) = self.cache.as_ref().expect("open_parent fills the cache");
        let pfd = pfd.as_fd();
        let dest_shown = lossy(&self.dest_shown);

        let existing = match rfs::statat(pfd, &leaf[..], AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Some(st),
            Err(Errno::NOENT) => None,
            Err(err) => return Err(io_error("lstat", &shown, err)),
        };
        let mut unlinked = false;
        if let Some(st) = &existing {
            match (is_dir(st), is_dir_entry) {
                (true, false) => {
                    return Err(CpError::OverwriteDirectory {
                        path: lossy(&shown),
                        dest: dest_shown,
                    });
                }
                (false, true) => {
                    return Err(CpError::OverwriteNonDirectory {
                        path: lossy(&shown),
                        dest: dest_shown,
                    });
                }
                (false, false) => {
                    rfs::unlinkat(pfd, &leaf[..], AtFlags::empty())
                        .map_err(|err| io_error("remove", &shown, err))?;
                    unlinked = true;
                }
                (true, true) => {}
            }
        }

        let chown_at = |ids: Option<(rfs::Uid, rfs::Gid)>| -> Result<(), CpError> {
            if let Some((u, g)) = ids {
                rfs::chownat(pfd, &leaf[..], Some(u), Some(g), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|err| io_error("lchown", &shown, err))?;
            }
            Ok(())
        };
        let times_at = || {
            rfs::utimensat(
                pfd,
                &leaf[..],
                &times(e.meta.mtime),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(|err| io_error("chtimes", &shown, err))
        };
        let mode = Mode::from_raw_mode(e.meta.mode & 0o7777);
        let mut new_dir = None;

        match e.kind {
            Kind::Dir => {
                if existing.is_none() {
                    rfs::mkdirat(pfd, &leaf[..], Mode::from_raw_mode(e.meta.mode & 0o777))
                        .map_err(|err| io_error("mkdir", &shown, err))?;
                }
                let fd = rfs::openat(
                    pfd,
                    &leaf[..],
                    dir_flags() | OFlags::NOFOLLOW,
                    Mode::empty(),
                )
                .map_err(|err| io_error("open", &shown, err))?;
                if let Some((u, g)) = ids {
                    rfs::fchown(&fd, Some(u), Some(g))
                        .map_err(|err| io_error("lchown", &shown, err))?;
                }
                rfs::fchmod(&fd, mode).map_err(|err| io_error("chmod", &shown, err))?;
                new_dir = Some(comps.clone());
            }
            Kind::File { .. } => {
                let flags = OFlags::WRONLY
                    | OFlags::CREATE
                    | OFlags::EXCL
                    | OFlags::NOFOLLOW
                    | OFlags::CLOEXEC;
                let fd = rfs::openat(pfd, &leaf[..], flags, Mode::from_raw_mode(0o600))
                    .map_err(|err| io_error("open", &shown, err))?;
                let mut file = File::from(fd);
                io::copy(e.data, &mut file).map_err(|err| io_error("write", &shown, err))?;
                if let Some((u, g)) = ids {
                    rfs::fchown(&file, Some(u), Some(g))
                        .map_err(|err| io_error("lchown", &shown, err))?;
                }
                rfs::fchmod(&file, mode).map_err(|err| io_error("chmod", &shown, err))?;
                rfs::futimens(&file, &times(e.meta.mtime))
                    .map_err(|err| io_error("chtimes", &shown, err))?;
            }
            Kind::Symlink(ref target) => {
                rfs::symlinkat(&target[..], pfd, &leaf[..])
                    .map_err(|err| io_error("symlink", &shown, err))?;
                chown_at(ids)?;
                times_at()?;
            }
            Kind::HardLink(ref target) => {
                let t = clean(target);
                let tcomps: Vec<Vec<u8>> = components(&t).map(<[u8]>::to_vec).collect();
                let (tleaf, tparent) = tcomps.split_last().expect("checked above");
                let tshown = self.show(&t);
                let link_err =
                    |err: Errno| io_error("link", &[&tshown[..], b" ", &shown].concat(), err);
                let tfd = match self.lookup(tparent, &t) {
                    Ok(fd) => fd,
                    Err(Miss::Absent) => return Err(link_err(Errno::NOENT)),
                    Err(Miss::Fail(err)) => return Err(err),
                };
                rfs::linkat(&tfd, &tleaf[..], pfd, &leaf[..], AtFlags::empty())
                    .map_err(link_err)?;
                chown_at(ids)?;
                times_at()?;
            }
            Kind::Char(..) | Kind::Block(..) | Kind::Fifo => {
                let (file_type, dev) = match e.kind {
                    Kind::Char(major, minor) => {
                        (FileType::CharacterDevice, rfs::makedev(major, minor))
                    }
                    Kind::Block(major, minor) => {
                        (FileType::BlockDevice, rfs::makedev(major, minor))
                    }
                    _ => (FileType::Fifo, 0),
                };
                rfs::mknodat(
                    pfd,
                    &leaf[..],
                    file_type,
                    Mode::from_raw_mode(e.meta.mode & 0o777),
                    dev,
                )
                .map_err(|err| io_error("mknod", &shown, err))?;
                chown_at(ids)?;
                // chmod follows symlinks; go through an O_PATH fd of what
                // we just made, so a swapped-in symlink is never followed.
                let fd = rfs::openat(
                    pfd,
                    &leaf[..],
                    OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|err| io_error("open", &shown, err))?;
                let st = rfs::fstat(&fd).map_err(|err| io_error("stat", &shown, err))?;
                if FileType::from_raw_mode(st.st_mode) == file_type {
                    rfs::chmod(format!("/proc/self/fd/{}", fd.as_raw_fd()), mode)
                        .map_err(|err| io_error("chmod", &shown, err))?;
                }
                times_at()?;
            }
        }

        if let Some(dir) = new_dir {
            self.dirs.push((dir, e.meta.mtime));
        }
        if unlinked || matches!(e.kind, Kind::Symlink(_)) {
            // A cached parent may have gone through what was replaced.
            self.cache = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: Vec<u8>) -> String {
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("//a//b/", "/a/b"),
            ("a/b/../c", "a/c"),
            ("a/../../x", "../x"),
            ("/../x", "/x"),
            ("./d", "d"),
            ("./", "."),
            ("/d/.", "/d"),
        ] {
            assert_eq!(s(clean(input.as_bytes())), want, "clean({input:?})");
        }
    }

    #[test]
    fn base_dir_and_split_match_go() {
        assert_eq!(s(base(b"/d/")), "d");
        assert_eq!(s(base(b"/")), "/");
        assert_eq!(s(base(b"/d/.")), ".");
        assert_eq!(s(base(b"")), ".");
        assert_eq!(s(dir(b"/d/f")), "/d");
        assert_eq!(s(dir(b"f")), ".");
        assert_eq!(s(dir(b"/f")), "/");
        let (d, b) = split_path_dir_entry(b"/d/.");
        assert_eq!((s(d), s(b)), ("/d".to_owned(), ".".to_owned()));
        let (d, b) = split_path_dir_entry(b"/d/sub/");
        assert_eq!((s(d), s(b)), ("/d".to_owned(), "sub".to_owned()));
    }

    #[test]
    fn container_paths_keep_trailing_dot_and_slash() {
        assert_eq!(s(container_abs(b"d/f")), "/d/f");
        assert_eq!(s(container_abs(b"/d/")), "/d/");
        assert_eq!(s(container_abs(b"/d/.")), "/d/.");
        assert_eq!(s(container_abs(b"/d/./")), "/d/./");
        assert_eq!(s(container_abs(b"/a/../d")), "/d");
        assert_eq!(s(container_abs(b"")), "/.");
        assert!(asserts_directory(b"/d/"));
        assert!(asserts_directory(b"/d/."));
        assert!(!asserts_directory(b"/d"));
    }

    #[test]
    fn rebase_replaces_the_top_name() {
        assert_eq!(s(replace_first(b"d/f", b"d", b"new")), "new/f");
        assert_eq!(s(replace_first(b"./f", b".", b"new")), "new/f");
        assert_eq!(s(replace_first(b"/bin/", b"/", b"new")), "new/bin/");
        let (p, r) = rebase_name_for(b"/dlink/", b"/d");
        assert_eq!(s(p), "/d/");
        assert_eq!(r.map(s).as_deref(), Some("dlink"));
        let (p, r) = rebase_name_for(b"/flink", b"/d/flink");
        assert_eq!(s(p), "/d/flink");
        assert!(r.is_none());
    }

    #[test]
    fn pax_record_counts_its_own_length() {
        let r = pax_record("path", b"abc");
        assert_eq!(r, b"12 path=abc\n");
        let long = vec![b'x'; 95];
        let r = pax_record("path", &long);
        assert_eq!(r.len(), 105);
        assert!(r.starts_with(b"105 path="));
    }

    #[test]
    fn symlink_escape_is_lexical_from_the_link_dir() {
        let sub = vec![b"a".to_vec()];
        assert!(!symlink_escapes(&sub, b"../x"));
        assert!(symlink_escapes(&sub, b"../../x"));
        assert!(symlink_escapes(&[], b"/../etc"));
        assert!(!symlink_escapes(&[], b"/etc"));
        assert!(!symlink_escapes(&[], b"f"));
    }

    #[test]
    fn go_text_drops_rust_suffix() {
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(go_text(&e), "no such file or directory");
    }

    #[test]
    fn docker_message_names_the_container() {
        let e = CpError::NotFound {
            path: "/nosuch".into(),
        };
        assert_eq!(
            e.docker_message("ctr"),
            "Error: No such container:path: ctr:/nosuch"
        );
        let e = CpError::DestinationNotDirectory { path: "/f".into() };
        assert_eq!(
            e.docker_message("ctr"),
            "destination \"ctr:/f\" must be a directory"
        );
        assert_eq!(
            CpError::DirNotExists.docker_message("ctr"),
            "no such directory"
        );
        assert_eq!(
            CpError::CannotCopyDir.category(),
            ErrorCategory::InvalidArgument
        );
    }
}
