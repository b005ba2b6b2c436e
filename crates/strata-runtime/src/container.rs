//! One container's host-side resources: the bundle, the mounted root file
//! system and its mount stubs. [`Prepared`] acquires them in order and
//! releases them in reverse, in [`Prepared::cleanup`] or, on an early
//! return or a panic, when dropped.
//!
//! The lifecycle is split so that `strata run` can reuse it: prepare, then
//! any runc commands (today only `run`), then cleanup.

use std::path::{Path, PathBuf};

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::mounter::Mounter;
use crate::profile::Profile;
use crate::request::RunRequest;
use crate::runc::{self, Runc};
use crate::spec;
use crate::stubs::{StubKind, Stubs};

/// A rootfs mount on the host, and the stubs made while it was the
/// topmost one (they are removed before it is unmounted).
struct Mounted {
    target: PathBuf,
    stubs: Stubs,
}

/// A container ready to start, holding what must be undone.
pub(crate) struct Prepared<'a> {
    id: String,
    bundle: Bundle,
    runc: Runc,
    mounter: &'a dyn Mounter,
    mounted: Vec<Mounted>,
    done: bool,
}

impl<'a> Prepared<'a> {
    /// Writes the bundle for `req`, mounts its rootfs and makes the mount
    /// points. `host_resolv_conf` is the file copied to `/etc/resolv.conf`.
    pub(crate) fn new(
        req: &RunRequest<'_>,
        profile: &Profile,
        runc: Runc,
        mounter: &'a dyn Mounter,
        host_resolv_conf: &Path,
    ) -> Result<Prepared<'a>> {
        spec::validate(req)?;
        let bundle = Bundle::new(req.state_dir, req.id);
        let mut prepared = Prepared {
            id: req.id.to_owned(),
            bundle,
            runc,
            mounter,
            mounted: Vec::new(),
            done: false,
        };
        if prepared.bundle.exists() {
            tracing::warn!(id = req.id, dir = %prepared.bundle.dir().display(), "removing a previous run's leftovers");
            prepared.remove_leftovers()?;
        }
        prepared.bundle.create(req.hostname, host_resolv_conf)?;
        let root = prepared.bundle.rootfs();
        for m in req.rootfs {
            let dest = spec::clean(&m.destination).unwrap_or_default();
            let target = match dest.trim_start_matches('/') {
                "" => root.clone(),
                rel => root.join(rel),
            };
            if let Some(top) = prepared.mounted.last_mut() {
                make_stub(&mut top.stubs, &root, &dest, StubKind::DIR)?;
            }
            mounter.mount(m, &target).map_err(|source| Error::Mount {
                kind: m.kind.clone(),
                source_path: m.source.clone(),
                target: target.clone(),
                source,
            })?;
            prepared.mounted.push(Mounted {
                target,
                stubs: Stubs::default(),
            });
        }
        let mounts = spec::container_mounts(req, &prepared.bundle);
        let top = &mut prepared
            .mounted
            .last_mut()
            .expect("validated: rootfs")
            .stubs;
        let mut covered: Vec<&str> = Vec::new();
        for m in &mounts {
            // Below another mount, the mount point is made in that mount
            // (a tmpfs, a bind source), not in the root file system.
            if covered
                .iter()
                .any(|c| m.destination.starts_with(&format!("{c}/")))
            {
                continue;
            }
            covered.push(&m.destination);
            let kind = if m.is_bind() {
                match Path::new(&m.source).is_file() {
                    true => StubKind::File,
                    false => StubKind::DIR,
                }
            } else if m.kind == "tmpfs" {
                StubKind::Dir(tmpfs_mode(&m.options))
            } else {
                StubKind::DIR
            };
            make_stub(top, &root, &m.destination, kind)?;
        }
        let config = spec::spec(req, &prepared.bundle, profile)?;
        prepared
            .bundle
            .write_config(&spec::to_json(&config, req.id)?)?;
        Ok(prepared)
    }

    pub(crate) fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    pub(crate) fn runc(&self) -> &Runc {
        &self.runc
    }

    /// Undoes everything, in reverse: the runtime's container and cgroup,
    /// the stubs, the rootfs mounts (lazily if they are busy), the bundle.
    /// Goes as far as it can and returns the first error; if a mount
    /// cannot be removed the bundle stays, so nothing under it is deleted.
    pub(crate) fn cleanup(&mut self) -> Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        let mut first: Option<Error> = None;
        if self.runc.has_state(&self.id)
            && let Err(e) = self.runc.delete(&self.id)
        {
            first.get_or_insert(e);
        }
        runc::remove_cgroups(&self.id);
        let mut all_unmounted = true;
        while let Some(mut m) = self.mounted.pop() {
            if let Err(e) = m.stubs.remove() {
                first.get_or_insert(e.into());
            }
            if let Err(e) = self.unmount(&m.target) {
                all_unmounted = false;
                first.get_or_insert(e);
            }
        }
        if all_unmounted && let Err(e) = self.bundle.remove() {
            first.get_or_insert(e);
        }
        first.map_or(Ok(()), Err)
    }

    fn unmount(&self, target: &Path) -> Result<()> {
        match self.mounter.unmount(target, false) {
            Ok(()) => Ok(()),
            Err(busy) => {
                tracing::warn!(target = %target.display(), error = %busy, "unmount failed; detaching lazily");
                self.mounter
                    .unmount(target, true)
                    .map_err(|source| Error::Unmount {
                        target: target.to_owned(),
                        source,
                    })
            }
        }
    }

    /// Cleans up after a crashed run with the same ID: its runc state, any
    /// mounts still on its rootfs (detached, with everything under them),
    /// its files. Stubs it made cannot be told from content any more; the
    /// snapshot they are in was never committed.
    fn remove_leftovers(&mut self) -> Result<()> {
        remove_leftovers(&self.bundle, &self.runc, self.mounter, &self.id)
    }
}

/// What [`Prepared::remove_leftovers`] does, for a container whose
/// `Prepared` lived in a process that is gone.
pub(crate) fn remove_leftovers(
    bundle: &Bundle,
    runc: &Runc,
    mounter: &dyn Mounter,
    id: &str,
) -> Result<()> {
    if runc.has_state(id) {
        runc.delete(id)?;
    }
    runc::remove_cgroups(id);
    let root = bundle.rootfs();
    // Stacked mounts come off one per call; a bounded loop ends even
    // if the mounter keeps succeeding.
    for _ in 0..64 {
        if mounter.unmount(&root, true).is_err() {
            break;
        }
    }
    bundle.remove()
}

impl Drop for Prepared<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.cleanup() {
            tracing::error!(id = %self.id, error = %e, "cleanup after a failed run failed");
        }
    }
}

/// The mode of a new tmpfs's root: its `mode=` option (octal), else the
/// kernel's 1777.
fn tmpfs_mode(options: &[String]) -> u32 {
    options
        .iter()
        .rev()
        .find_map(|o| o.strip_prefix("mode="))
        .and_then(|m| u32::from_str_radix(m, 8).ok())
        .unwrap_or(0o1777)
}

fn make_stub(stubs: &mut Stubs, root: &Path, destination: &str, kind: StubKind) -> Result<()> {
    stubs
        .ensure(root, destination, kind)
        .map_err(|source| Error::MountPoint {
            destination: destination.to_owned(),
            rootfs: root.to_owned(),
            source,
        })
}

#[cfg(test)]
#[path = "container_tests.rs"]
mod tests;
