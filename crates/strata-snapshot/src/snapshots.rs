//! [`Snapshots`]: committed snapshots by chain ID and active snapshots by
//! key, in the layout the crate docs draw.

use std::io::Read;
use std::path::{Path, PathBuf};

use rustix::fs::{CWD, RenameFlags};
use rustix::io::Errno;
use strata_core::Digest;
use tempfile::TempDir;

use crate::error::{Result, SnapshotError};
use crate::mount::Mount;
use crate::mount::{self, Active};
use crate::owner::Owner;

/// The `owner` file of an active snapshot that no process owns (a
/// container's writable layer): `prune` leaves it alone.
pub(crate) const PERSISTENT: &str = "persistent\n";
use crate::unpack::unpack_into;

/// The snapshots under one directory.
#[derive(Debug, Clone)]
pub struct Snapshots {
    dir: PathBuf,
}

/// Subdirectories made by [`Snapshots::open`].
const SUBDIRS: [&str; 4] = ["committed", "active", "tmp", "l"];

impl Snapshots {
    /// Opens (creating if needed) the snapshots under `dir`.
    pub fn open(dir: &Path) -> Result<Snapshots> {
        for sub in SUBDIRS {
            let p = dir.join(sub);
            std::fs::create_dir_all(&p).map_err(SnapshotError::io("create directory", &p))?;
        }
        // Mount options and links need one stable absolute spelling.
        let dir = std::fs::canonicalize(dir).map_err(SnapshotError::io("resolve", dir))?;
        Ok(Snapshots { dir })
    }

    /// The directory everything lives in (absolute, symlinks resolved).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the committed snapshot of `chain` lives, whether or not it exists.
    pub fn committed_path(&self, chain: &Digest) -> PathBuf {
        self.dir.join("committed").join(chain.hex())
    }

    /// The committed snapshot of `chain`, if it exists.
    pub fn committed(&self, chain: &Digest) -> Option<PathBuf> {
        let p = self.committed_path(chain);
        p.is_dir().then_some(p)
    }

    /// Unpacks an uncompressed OCI layer tar as the committed snapshot of
    /// `chain`, converting OCI whiteouts to overlay form, and returns its
    /// dir. Idempotent: when the snapshot exists, `layer` is not read.
    /// A hard link to a file of a lower layer fails here; use
    /// [`Snapshots::unpack_over`] for layers above the base.
    pub fn unpack(&self, chain: &Digest, layer: impl Read) -> Result<PathBuf> {
        self.unpack_over(chain, &[], layer)
    }

    /// Like [`Snapshots::unpack`], for a layer over `parents` (the
    /// committed dirs below it, base first): a hard link whose target is
    /// only in a parent gets the target copied into this snapshot.
    pub fn unpack_over(
        &self,
        chain: &Digest,
        parents: &[PathBuf],
        layer: impl Read,
    ) -> Result<PathBuf> {
        let target = self.committed_path(chain);
        if target.is_dir() {
            return Ok(target);
        }
        let tmp = self.tempdir()?;
        unpack_into(tmp.path(), parents, layer, chain)?;
        tracing::debug!(%chain, "unpacked layer");
        self.publish(tmp, &target)?;
        Ok(target)
    }

    /// A new active snapshot `key` over `lowers` (committed dirs, base
    /// first): creates its upper and work dirs and returns the mount that
    /// makes its root. With no lowers the mount is a bind of the upper dir.
    pub fn prepare(&self, key: &str, lowers: &[PathBuf]) -> Result<Active> {
        self.prepare_with(key, lowers, false)
    }

    /// Like [`Snapshots::prepare`], for a container's writable layer: it
    /// outlives the process that made it (`prune` never removes it) until
    /// [`Snapshots::remove`]. Reopen it later with [`Snapshots::reopen`].
    pub fn prepare_persistent(&self, key: &str, lowers: &[PathBuf]) -> Result<Active> {
        self.prepare_with(key, lowers, true)
    }

    /// The active snapshot `key` made earlier (by any process), with its
    /// mount description over the same `lowers`.
    pub fn reopen(&self, key: &str, lowers: &[PathBuf]) -> Result<Active> {
        mount::check_key(key)?;
        let adir = self.active_dir(key);
        if !adir.join("upper").is_dir() {
            return Err(SnapshotError::NotFound {
                what: "active snapshot",
                path: adir,
            });
        }
        let (upper, work, mount) = self.mount_for(key, lowers)?;
        Ok(Active {
            key: key.to_owned(),
            upper,
            work,
            mount,
        })
    }

    fn mount_for(&self, key: &str, lowers: &[PathBuf]) -> Result<(PathBuf, PathBuf, Mount)> {
        for l in lowers {
            if !l.is_dir() {
                return Err(SnapshotError::NotFound {
                    what: "lower dir",
                    path: l.clone(),
                });
            }
        }
        let adir = self.active_dir(key);
        let upper = adir.join("upper");
        let work = adir.join("work");
        let mount = if lowers.is_empty() {
            mount::bind(&upper)
        } else if let Some(m) = mount::overlay_absolute(lowers, &upper, &work) {
            m
        } else {
            let shorts = lowers
                .iter()
                .map(|l| self.short_link(l))
                .collect::<Result<Vec<_>>>()?;
            mount::overlay_relative(&self.dir, &shorts, key)?
        };
        Ok((upper, work, mount))
    }

    fn prepare_with(&self, key: &str, lowers: &[PathBuf], persistent: bool) -> Result<Active> {
        mount::check_key(key)?;
        let adir = self.active_dir(key);
        let (upper, work, mount) = self.mount_for(key, lowers)?;
        if adir.exists() {
            return Err(SnapshotError::ActiveExists {
                key: key.to_owned(),
                path: adir,
            });
        }
        // Built in tmp/ and renamed, so an active dir always has its owner
        // file and prune never sees one half made.
        let tmp = self.tempdir()?;
        let owner = tmp.path().join("owner");
        let contents = if persistent {
            PERSISTENT.to_owned()
        } else {
            Owner::current().file_contents()
        };
        std::fs::write(&owner, contents).map_err(SnapshotError::io("write", &owner))?;
        for sub in ["upper", "work"] {
            let p = tmp.path().join(sub);
            std::fs::create_dir(&p).map_err(SnapshotError::io("create directory", &p))?;
        }
        let upper_tmp = tmp.path().join("upper");
        rustix::fs::chmod(&upper_tmp, rustix::fs::Mode::from_raw_mode(0o755))
            .map_err(SnapshotError::errno("chmod", &upper_tmp))?;
        match self.publish(tmp, &adir)? {
            true => Ok(Active {
                key: key.to_owned(),
                upper,
                work,
                mount,
            }),
            false => Err(SnapshotError::ActiveExists {
                key: key.to_owned(),
                path: adir,
            }),
        }
    }

    /// Makes the active snapshot's upper dir the committed snapshot of
    /// `chain` (a rename) and removes the rest of it. If `chain` is
    /// committed already (another process won), the upper dir is discarded.
    /// The snapshot must no longer be mounted.
    pub fn commit(&self, active: Active, chain: &Digest) -> Result<PathBuf> {
        mount::check_key(&active.key)?;
        let adir = self.active_dir(&active.key);
        let upper = adir.join("upper");
        if !upper.is_dir() {
            return Err(SnapshotError::NotFound {
                what: "active snapshot",
                path: adir,
            });
        }
        let target = self.committed_path(chain);
        match rename_noreplace(&upper, &target) {
            Ok(()) => tracing::debug!(%chain, key = %active.key, "committed"),
            Err(Errno::EXIST | Errno::NOTEMPTY) => {
                tracing::debug!(%chain, "already committed; discarding upper")
            }
            Err(e) => return Err(SnapshotError::errno("rename", &upper)(e)),
        }
        std::fs::remove_dir_all(&adir).map_err(SnapshotError::io("remove", &adir))?;
        Ok(target)
    }

    /// Removes an active snapshot (it must no longer be mounted).
    pub fn remove(&self, active: Active) -> Result<()> {
        mount::check_key(&active.key)?;
        let adir = self.active_dir(&active.key);
        match std::fs::remove_dir_all(&adir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(SnapshotError::io("remove", &adir)(e)),
        }
    }

    pub(crate) fn active_dir(&self, key: &str) -> PathBuf {
        self.dir.join("active").join(key)
    }

    /// A fresh directory under `tmp/`, named after this process.
    pub(crate) fn tempdir(&self) -> Result<TempDir> {
        let tmp = self.dir.join("tmp");
        tempfile::Builder::new()
            .prefix(&format!("{}.", Owner::current().token()))
            .tempdir_in(&tmp)
            .map_err(SnapshotError::io("create directory in", &tmp))
    }

    /// Renames `tmp` to `target` unless `target` exists. Returns false (and
    /// removes `tmp`) when it does.
    fn publish(&self, tmp: TempDir, target: &Path) -> Result<bool> {
        match rename_noreplace(tmp.path(), target) {
            Ok(()) => {
                // Renamed away: nothing left for the guard to delete.
                let _ = tmp.keep();
                Ok(true)
            }
            Err(Errno::EXIST | Errno::NOTEMPTY) => {
                tmp.close()
                    .map_err(SnapshotError::io("remove", self.dir.join("tmp")))?;
                Ok(false)
            }
            Err(e) => Err(SnapshotError::errno("rename", tmp.path())(e)),
        }
    }

    /// The short lowerdir name of a committed dir, making its link
    /// `l/<20 hex>` -> `../committed/<hex>` if needed.
    fn short_link(&self, lower: &Path) -> Result<String> {
        let real = std::fs::canonicalize(lower).map_err(SnapshotError::io("resolve", lower))?;
        let chain = (real.parent() == Some(&*self.dir.join("committed")))
            .then(|| real.file_name().and_then(|n| n.to_str()))
            .flatten()
            .and_then(|hex| Digest::from_sha256_hex(hex).ok())
            .ok_or_else(|| SnapshotError::NotCommitted(lower.to_path_buf()))?;
        let short = mount::short_name(&chain);
        let link = self.dir.join("l").join(&short);
        let want = PathBuf::from("../committed").join(chain.hex());
        match std::os::unix::fs::symlink(&want, &link) {
            Ok(()) => return Ok(short),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(SnapshotError::io("create symlink", &link)(e)),
        }
        let found = std::fs::read_link(&link).map_err(SnapshotError::io("read link", &link))?;
        if found != want {
            return Err(SnapshotError::ShortLinkCollision { link, found, chain });
        }
        Ok(short)
    }
}

fn rename_noreplace(from: &Path, to: &Path) -> rustix::io::Result<()> {
    rustix::fs::renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE)
}
