//! A container's `/` as a host directory, for `cp`: the running
//! container's own root (`/proc/<pid>/root`, its mounts and volumes
//! included), or for a stopped one its overlay (image layers, init layer,
//! writable layer) with its volumes and bind mounts, mounted in a private
//! mount namespace of the calling process.
//!
//! The private namespace is what makes a stopped container safe to reach:
//! the mounts are seen by this process only and vanish with it, so a
//! `kill -9` leaves nothing mounted behind, and the container's operation
//! lock, held as long as the view lives, keeps it from being started (and
//! its upper directory mounted twice) meanwhile.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::mount::{MountFlags, MountPropagationFlags};
use strata_snapshot::Snapshots;
use strata_store::{ContainerRecord, Store};

use crate::error::{ContainerError, Result};
use crate::lifecycle::{self, OpLock};
use crate::model::Definition;
use crate::rootfs::{self, ImageParts};

/// A container's root, reachable at [`RootView::path`] while this lives.
pub struct RootView {
    path: PathBuf,
    _lock: Option<OpLock>,
}

impl RootView {
    /// The host directory that is the container's `/`.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Container `rec`'s root as a host directory.
///
/// For a stopped container this moves the calling process into a new
/// mount namespace of its own (for good): call it from a single-threaded
/// process, such as the CLI running one `cp`.
pub fn root_view(store: &Store, rec: &ContainerRecord) -> Result<RootView> {
    let lock = lifecycle::lock(store, &rec.id)?;
    let rec = lifecycle::refresh(store, store.container_find(&rec.id)?)?;
    if rec.is_running()
        && let Some(pid) = rec.pid
    {
        return Ok(RootView {
            path: PathBuf::from(format!("/proc/{pid}/root")),
            _lock: None,
        });
    }
    let def = Definition::from_json(&rec.spec)?;
    let mount_err = |what: &str, e: std::io::Error| {
        ContainerError::Io(std::io::Error::new(
            e.kind(),
            format!(
                "mounting the file system of container {}: {what}: {e}",
                rec.id
            ),
        ))
    };
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| mount_err("unshare", e.into()))?;
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
    )
    .map_err(|e| mount_err("making / private", e.into()))?;

    let parts = ImageParts::read(store, &rec.image, &rec.image_manifest)?;
    let snapshots = Snapshots::open(&store.layout().snapshots_dir())?;
    let lowers = rootfs::image_lowers(store, &snapshots, &parts)?;
    let active = rootfs::reopen_layers(store, &snapshots, &rec.id, &lowers)?;
    let target = lifecycle::container_dir(store, &rec.id).join("rootfs");
    fs_err::create_dir_all(&target)?;
    mount_snapshot(&active.mount, &target).map_err(|e| mount_err("overlay", e))?;

    let root = rustix::fs::open(&target, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
        .map_err(|e| mount_err("opening the root", e.into()))?;
    for m in def.mounts.iter().filter(|m| m.kind != "tmpfs") {
        // The mount point is resolved inside the container's root, so a
        // symlink in the image cannot send the mount elsewhere.
        let point = match rustix::fs::openat2(
            &root,
            m.destination.as_str(),
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => continue,
            Err(e) => return Err(mount_err(&m.destination, e.into())),
        };
        let at = format!("/proc/self/fd/{}", point.as_raw_fd());
        rustix::mount::mount_bind_recursive(m.source.as_str(), at.as_str())
            .map_err(|e| mount_err(&m.destination, e.into()))?;
        if !m.rw {
            rustix::mount::mount_remount(at.as_str(), MountFlags::BIND | MountFlags::RDONLY, "")
                .map_err(|e| mount_err(&m.destination, e.into()))?;
        }
    }
    Ok(RootView {
        path: target,
        _lock: Some(lock),
    })
}

/// Performs a snapshot's mount at `target`, changing into the directory
/// its relative paths start from when it has one.
fn mount_snapshot(mount: &strata_snapshot::Mount, target: &Path) -> std::io::Result<()> {
    if mount.kind == "bind" {
        return Ok(rustix::mount::mount_bind_recursive(
            mount.source.as_str(),
            target,
        )?);
    }
    let target = std::path::absolute(target)?;
    let back = match &mount.cwd {
        Some(dir) => {
            let here = rustix::fs::open(".", OFlags::PATH | OFlags::DIRECTORY, Mode::empty())?;
            std::env::set_current_dir(dir)?;
            Some(here)
        }
        None => None,
    };
    let data = std::ffi::CString::new(mount.data())
        .map_err(|_| std::io::Error::other("a NUL byte in the mount options"))?;
    let done = rustix::mount::mount(
        mount.source.as_str(),
        &target,
        mount.kind.as_str(),
        MountFlags::empty(),
        Some(data.as_c_str()),
    );
    if let Some(here) = back {
        rustix::process::fchdir(&here)?;
    }
    Ok(done?)
}
