//! Mount points that must not leak into the layer.
//!
//! runc creates every missing mount destination (`/proc`, `/dev`,
//! `/etc/resolv.conf`, `/run/secrets/ID`, cache targets, and their parent
//! directories) inside the root file system. When that is an overlay, they
//! land in the upper directory, which becomes the layer. So, as BuildKit
//! does, we create them ourselves before runc starts, remember which ones
//! we created, and afterwards remove those that are still empty stubs (an
//! empty directory or empty regular file). Removal goes through the merged
//! overlay while it is still mounted: an entry that exists only in the
//! upper directory is deleted outright, never replaced by a whiteout.
//!
//! Making a stub also changes its parent's modification time, and on an
//! overlay copies the parent up. We record each parent's times before the
//! first stub, restore them right after, and restore them again after the
//! stubs are gone unless the process itself changed the directory. A
//! copied-up `/etc` then has exactly its lower's metadata, so a differ
//! that compares metadata sees nothing changed.
//!
//! Paths resolve inside the root as runc resolves them (securejoin):
//! symbolic links are followed, an absolute target starts again at the
//! root, and `..` never climbs above it.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use fs_err as fs;
use rustix::fs::{AtFlags, CWD, Timespec, Timestamps};

/// What a missing destination becomes: runc makes a file for a bind of a
/// file, a directory otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StubKind {
    /// A directory with these permissions. runc gives a tmpfs the mode of
    /// a mount point that existed before it started, so a tmpfs's stub
    /// must have the mode the tmpfs would have had (its `mode=`, else
    /// 1777); other directories get runc's 0755.
    Dir(u32),
    File,
}

impl StubKind {
    /// runc's mode for a directory it creates.
    pub(crate) const DIR: StubKind = StubKind::Dir(0o755);
}

/// Stubs made in one root, and the times of the directories they were
/// made in.
#[derive(Debug, Default)]
pub(crate) struct Stubs {
    /// Host paths, parents before children.
    created: Vec<PathBuf>,
    /// Existing directories that received a stub, with their times before.
    parents: Vec<(PathBuf, Times)>,
}

/// Access and modification times, to the nanosecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Times {
    atime: (i64, i64),
    mtime: (i64, i64),
}

/// How deep symbolic links may nest, as in Linux's path lookup.
const MAX_LINKS: usize = 40;

impl Stubs {
    /// Makes sure `destination` (absolute, inside the container) exists in
    /// `root`, creating what is missing and remembering it.
    pub(crate) fn ensure(
        &mut self,
        root: &Path,
        destination: &str,
        kind: StubKind,
    ) -> io::Result<()> {
        let (existing, missing) = resolve(root, Path::new(destination))?;
        if missing.is_empty() {
            return Ok(());
        }
        let times = times_of(&existing)?;
        if !self.parents.iter().any(|(p, _)| *p == existing) {
            self.parents.push((existing.clone(), times));
        }
        let mut path = existing.clone();
        for (i, name) in missing.iter().enumerate() {
            path.push(name);
            let last = i + 1 == missing.len();
            match kind {
                StubKind::File if last => {
                    fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&path)?;
                }
                StubKind::Dir(mode) if last => make_dir(&path, mode)?,
                _ => make_dir(&path, 0o755)?,
            }
            self.created.push(path.clone());
        }
        set_times(&existing, &times)
    }

    /// How many entries were created.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.created.len()
    }

    /// Removes every stub that is still empty, deepest first, and puts
    /// back the times of the directories the process did not touch.
    /// Returns the first error after trying everything.
    pub(crate) fn remove(&mut self) -> io::Result<()> {
        let untouched: Vec<(PathBuf, Times)> = std::mem::take(&mut self.parents)
            .into_iter()
            .filter(|(dir, before)| times_of(dir).is_ok_and(|now| now.mtime == before.mtime))
            .collect();
        let created = std::mem::take(&mut self.created);
        let mut first_error = None;
        for path in created.iter().rev() {
            if let Err(e) = remove_if_stub(path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove mount stub");
                first_error.get_or_insert(e);
            }
        }
        for (dir, before) in untouched {
            // A stub that stays (the process filled it) is a new entry:
            // the directory did change.
            let kept = created
                .iter()
                .any(|c| c.parent() == Some(dir.as_path()) && c.symlink_metadata().is_ok());
            if kept {
                continue;
            }
            match set_times(&dir, &before) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    first_error.get_or_insert(e);
                }
                _ => {}
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// `mkdir` with exactly `mode`, whatever the umask.
fn make_dir(path: &Path, mode: u32) -> io::Result<()> {
    fs::create_dir(path)?;
    fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
}

fn remove_if_stub(path: &Path) -> io::Result<()> {
    let meta = match path.symlink_metadata() {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        if fs::read_dir(path)?.next().is_none() {
            fs::remove_dir(path)?;
        }
    } else if meta.is_file() && meta.len() == 0 {
        fs::remove_file(path)?;
    }
    Ok(())
}

/// Resolves `destination` inside `root`: the host path of the deepest
/// existing directory, and the names missing below it.
pub(crate) fn resolve(root: &Path, destination: &Path) -> io::Result<(PathBuf, Vec<OsString>)> {
    // Components still to walk, next one last.
    let mut todo: Vec<OsString> = names(destination);
    todo.reverse();
    let mut existing: Vec<OsString> = Vec::new();
    let mut missing: Vec<OsString> = Vec::new();
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            if missing.pop().is_none() {
                existing.pop();
            }
            continue;
        }
        if !missing.is_empty() {
            missing.push(name);
            continue;
        }
        let here: PathBuf = std::iter::once(root.as_os_str().to_owned())
            .chain(existing.iter().cloned())
            .chain(std::iter::once(name.clone()))
            .collect();
        match here.symlink_metadata() {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "too many symbolic links resolving {}",
                            destination.display()
                        ),
                    ));
                }
                let target = fs::read_link(&here)?;
                if target.is_absolute() {
                    existing.clear();
                }
                todo.extend(names(&target).into_iter().rev());
            }
            Ok(m) if !m.is_dir() && !todo.is_empty() => {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!("{} is not a directory", here.display()),
                ));
            }
            Ok(_) => existing.push(name),
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(name),
            Err(e) => return Err(e),
        }
    }
    let mut host = root.to_path_buf();
    host.extend(existing);
    Ok((host, missing))
}

/// Normal and `..` components of `path`; `/` and `.` say nothing here.
fn names(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

fn times_of(path: &Path) -> io::Result<Times> {
    let st = rustix::fs::lstat(path).map_err(|e| named(path, e.into()))?;
    Ok(Times {
        atime: (st.st_atime as i64, st.st_atime_nsec as i64),
        mtime: (st.st_mtime as i64, st.st_mtime_nsec as i64),
    })
}

fn set_times(path: &Path, times: &Times) -> io::Result<()> {
    let spec = |(tv_sec, tv_nsec): (i64, i64)| Timespec {
        tv_sec,
        tv_nsec: tv_nsec as _,
    };
    let times = Timestamps {
        last_access: spec(times.atime),
        last_modification: spec(times.mtime),
    };
    rustix::fs::utimensat(CWD, path, &times, AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|e| named(path, e.into()))
}

fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!(
            "{}: {e}",
            String::from_utf8_lossy(path.as_os_str().as_bytes())
        ),
    )
}

#[cfg(test)]
#[path = "stubs_tests.rs"]
mod tests;
