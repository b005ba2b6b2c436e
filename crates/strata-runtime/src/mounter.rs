//! Mounting on the host: the one side effect of preparing a container that
//! needs root. It sits behind [`Mounter`] so that bundle preparation (files,
//! `config.json`, mount points) runs in unit tests without root.
//!
//! Only the request's rootfs mounts go through here; everything inside the
//! container is mounted by runc in the container's own mount namespace.

use std::ffi::CString;
use std::io;
use std::path::Path;

use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};

use crate::request::Mount;

/// Mounts and unmounts on the host.
pub trait Mounter {
    /// Mounts `mount` (its kind, source and options; its destination is
    /// ignored) at the host directory `target`.
    fn mount(&self, mount: &Mount, target: &Path) -> io::Result<()>;

    /// Unmounts `target`; with `detach`, lazily (`MNT_DETACH`), which
    /// takes the mount and everything under it out of the tree at once.
    fn unmount(&self, target: &Path, detach: bool) -> io::Result<()>;
}

/// The real thing: mount(2) and umount2(2).
#[derive(Clone, Copy, Debug, Default)]
pub struct HostMounter;

/// A mount's options split as mount(2) wants them.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    flags: MountFlags,
    propagation: Option<MountPropagationFlags>,
    /// File-system specific options (`size=1m`, `lowerdir=...`).
    data: Vec<String>,
}

impl Parsed {
    /// The file-system options as mount(2) takes them.
    fn data(&self) -> String {
        self.data.join(",")
    }
}

/// The largest `data` mount(2) reads: one page, NUL included.
const MAX_DATA: usize = 4095;

fn parse(options: &[String]) -> Parsed {
    let mut flags = MountFlags::empty();
    let mut propagation = None;
    let mut data = Vec::new();
    for option in options {
        let (set, clear) = match option.as_str() {
            "defaults" => (MountFlags::empty(), MountFlags::empty()),
            "ro" => (MountFlags::RDONLY, MountFlags::empty()),
            "rw" => (MountFlags::empty(), MountFlags::RDONLY),
            "nosuid" => (MountFlags::NOSUID, MountFlags::empty()),
            "suid" => (MountFlags::empty(), MountFlags::NOSUID),
            "nodev" => (MountFlags::NODEV, MountFlags::empty()),
            "dev" => (MountFlags::empty(), MountFlags::NODEV),
            "noexec" => (MountFlags::NOEXEC, MountFlags::empty()),
            "exec" => (MountFlags::empty(), MountFlags::NOEXEC),
            "sync" => (MountFlags::SYNCHRONOUS, MountFlags::empty()),
            "async" => (MountFlags::empty(), MountFlags::SYNCHRONOUS),
            "dirsync" => (MountFlags::DIRSYNC, MountFlags::empty()),
            "noatime" => (MountFlags::NOATIME, MountFlags::empty()),
            "atime" => (MountFlags::empty(), MountFlags::NOATIME),
            "nodiratime" => (MountFlags::NODIRATIME, MountFlags::empty()),
            "diratime" => (MountFlags::empty(), MountFlags::NODIRATIME),
            "relatime" => (MountFlags::RELATIME, MountFlags::empty()),
            "norelatime" => (MountFlags::empty(), MountFlags::RELATIME),
            "strictatime" => (MountFlags::STRICTATIME, MountFlags::empty()),
            "nostrictatime" => (MountFlags::empty(), MountFlags::STRICTATIME),
            "bind" => (MountFlags::BIND, MountFlags::empty()),
            "rbind" => (MountFlags::BIND | MountFlags::REC, MountFlags::empty()),
            other => {
                match propagation_of(other) {
                    Some(p) => propagation = Some(p),
                    None => data.push(other.to_owned()),
                }
                continue;
            }
        };
        flags = (flags | set) - clear;
    }
    Parsed {
        flags,
        propagation,
        data,
    }
}

fn propagation_of(option: &str) -> Option<MountPropagationFlags> {
    let (recursive, name) = match option.strip_prefix('r') {
        Some(rest) if ["private", "slave", "shared", "unbindable"].contains(&rest) => (true, rest),
        _ => (false, option),
    };
    let flag = match name {
        "private" => MountPropagationFlags::PRIVATE,
        "slave" => MountPropagationFlags::DOWNSTREAM,
        "shared" => MountPropagationFlags::SHARED,
        "unbindable" => MountPropagationFlags::UNBINDABLE,
        _ => return None,
    };
    Some(if recursive {
        flag | MountPropagationFlags::REC
    } else {
        flag
    })
}

impl Mounter for HostMounter {
    fn mount(&self, mount: &Mount, target: &Path) -> io::Result<()> {
        let parsed = parse(&mount.options);
        let data = parsed.data();
        if data.len() > MAX_DATA {
            // mount(2) would silently cut the options at a page; many
            // overlay layers need the new mount API instead.
            if mount.kind != "overlay" {
                return Err(io::Error::other(format!(
                    "mount options are {} bytes, more than the {MAX_DATA} mount(2) accepts",
                    data.len()
                )));
            }
            mount_overlay_by_parts(&mount.source, &parsed, target)?;
        } else if mount.is_bind() {
            let flags = MountFlags::BIND | (parsed.flags & MountFlags::REC);
            rustix::mount::mount(mount.source.as_str(), target, "", flags, None)?;
            // A bind ignores every other flag until it is remounted.
            let rest = parsed.flags - MountFlags::BIND - MountFlags::REC;
            if !rest.is_empty() {
                let remount = rustix::mount::mount_remount(target, MountFlags::BIND | rest, "");
                if let Err(e) = remount {
                    let _ = rustix::mount::unmount(target, UnmountFlags::DETACH);
                    return Err(e.into());
                }
            }
        } else {
            let data = CString::new(data).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in mount options")
            })?;
            let data = (!data.is_empty()).then_some(data.as_c_str());
            let source = mount.source.as_str();
            rustix::mount::mount(source, target, mount.kind.as_str(), parsed.flags, data)?;
        }
        if let Some(p) = parsed.propagation {
            rustix::mount::mount_change(target, p)?;
        }
        Ok(())
    }

    fn unmount(&self, target: &Path, detach: bool) -> io::Result<()> {
        let flags = if detach {
            UnmountFlags::DETACH | UnmountFlags::NOFOLLOW
        } else {
            UnmountFlags::NOFOLLOW
        };
        Ok(rustix::mount::unmount(target, flags)?)
    }
}

/// Mounts an overlay through fsopen(2) and friends, adding lower layers
/// one at a time (`lowerdir+`, Linux 6.8 and later), so that no option
/// string approaches a page. Lower paths must not contain `:`.
fn mount_overlay_by_parts(source: &str, parsed: &Parsed, target: &Path) -> io::Result<()> {
    use rustix::mount::{
        FsMountFlags, FsOpenFlags, MountAttrFlags, MoveMountFlags, fsconfig_create,
        fsconfig_set_flag, fsconfig_set_string, fsmount, fsopen, move_mount,
    };
    let fs = fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)?;
    fsconfig_set_string(&fs, "source", source)?;
    for option in &parsed.data {
        match option.split_once('=') {
            Some(("lowerdir", dirs)) => {
                for dir in dirs.split(':') {
                    fsconfig_set_string(&fs, "lowerdir+", dir)?;
                }
            }
            Some((key, value)) => fsconfig_set_string(&fs, key, value)?,
            None => fsconfig_set_flag(&fs, option.as_str())?,
        }
    }
    fsconfig_create(&fs)?;
    let mut attrs = MountAttrFlags::empty();
    for (flag, attr) in [
        (MountFlags::RDONLY, MountAttrFlags::MOUNT_ATTR_RDONLY),
        (MountFlags::NOSUID, MountAttrFlags::MOUNT_ATTR_NOSUID),
        (MountFlags::NODEV, MountAttrFlags::MOUNT_ATTR_NODEV),
        (MountFlags::NOEXEC, MountAttrFlags::MOUNT_ATTR_NOEXEC),
        (MountFlags::NOATIME, MountAttrFlags::MOUNT_ATTR_NOATIME),
    ] {
        if parsed.flags.contains(flag) {
            attrs |= attr;
        }
    }
    let mnt = fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, attrs)?;
    let flags = MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH;
    Ok(move_mount(&mnt, "", rustix::fs::CWD, target, flags)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_split_into_flags_propagation_and_data() {
        let p = parse(&opts(&[
            "lowerdir=/a:/b",
            "upperdir=/u",
            "workdir=/w",
            "ro",
            "nosuid",
            "rprivate",
        ]));
        assert_eq!(p.flags, MountFlags::RDONLY | MountFlags::NOSUID);
        assert_eq!(
            p.propagation,
            Some(MountPropagationFlags::PRIVATE | MountPropagationFlags::REC)
        );
        assert_eq!(p.data(), "lowerdir=/a:/b,upperdir=/u,workdir=/w");
    }

    #[test]
    fn later_options_win_and_rbind_is_recursive() {
        let p = parse(&opts(&[
            "ro", "rw", "rbind", "size=1m", "mode=755", "slave",
        ]));
        assert_eq!(p.flags, MountFlags::BIND | MountFlags::REC);
        assert_eq!(p.propagation, Some(MountPropagationFlags::DOWNSTREAM));
        assert_eq!(p.data(), "size=1m,mode=755");
        assert_eq!(parse(&[]).flags, MountFlags::empty());
    }
}
