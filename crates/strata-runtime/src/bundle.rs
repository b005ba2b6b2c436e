//! The runtime's directory and one container's OCI bundle in it.
//!
//! Layout (version 1; the caller names the directory, e.g.
//! `<store root>/runtime-v1`, so a new layout gets a new directory):
//!
//! ```text
//! <state_dir>/
//! ├── bundles/<id>/        one OCI bundle per container, removed after it ran
//! │   ├── config.json      the runtime spec (see spec.rs)
//! │   ├── rootfs/          mount point of the request's rootfs mounts
//! │   ├── resolv.conf      copy of the host's, bind-mounted read-only
//! │   ├── hosts            localhost and the host name, bind-mounted
//! │   ├── hostname         the host name, bind-mounted
//! │   ├── pid              the process's host PID (long-lived containers)
//! │   └── runc.log         runc's own log (JSON lines)
//! └── runc/                runc's --root: runc's state, <id>/state.json
//! ```
//!
//! Nothing else is kept: a container that is gone leaves nothing behind,
//! and a crashed run leaves only its own `<id>`, which never disturbs
//! another ID (and is cleaned up if the same ID runs again).

use std::io;
use std::path::{Path, PathBuf};

use fs_err as fs;

use crate::defaults;
use crate::error::Result;

/// The bundle's root file system directory, relative to the bundle (as
/// `config.json` names it).
pub(crate) const ROOTFS: &str = "rootfs";

/// The files this crate writes into a bundle (besides `rootfs/`).
const FILES: [&str; 6] = [
    "config.json",
    "pid",
    "resolv.conf",
    "hosts",
    "hostname",
    "runc.log",
];

/// Paths of one container's bundle. Creating and removing are explicit:
/// the value itself owns nothing.
#[derive(Clone, Debug)]
pub(crate) struct Bundle {
    dir: PathBuf,
}

impl Bundle {
    /// The bundle of container `id` under `state_dir`.
    pub(crate) fn new(state_dir: &Path, id: &str) -> Bundle {
        Bundle {
            dir: state_dir.join("bundles").join(id),
        }
    }

    /// runc's `--root` under `state_dir`.
    pub(crate) fn runc_root(state_dir: &Path) -> PathBuf {
        state_dir.join("runc")
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn rootfs(&self) -> PathBuf {
        self.dir.join(ROOTFS)
    }

    pub(crate) fn config(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    pub(crate) fn resolv_conf(&self) -> PathBuf {
        self.dir.join("resolv.conf")
    }

    pub(crate) fn hosts(&self) -> PathBuf {
        self.dir.join("hosts")
    }

    pub(crate) fn hostname(&self) -> PathBuf {
        self.dir.join("hostname")
    }

    /// Where `runc create` writes the process's host PID.
    pub(crate) fn pid_file(&self) -> PathBuf {
        self.dir.join("pid")
    }

    pub(crate) fn log(&self) -> PathBuf {
        self.dir.join("runc.log")
    }

    /// Whether a bundle directory exists (a crashed run's leftovers).
    pub(crate) fn exists(&self) -> bool {
        self.dir.symlink_metadata().is_ok()
    }

    /// Creates the bundle directory, its empty `rootfs/`, and the generated
    /// `/etc` files; `host_resolv_conf` is copied (an absent one gives an
    /// empty file, as a host without DNS has).
    pub(crate) fn create(&self, hostname: &str, host_resolv_conf: &Path) -> Result<()> {
        if let Some(parent) = self.dir.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::create_dir(&self.dir)?;
        fs::create_dir(self.rootfs())?;
        let resolv = match fs::read(host_resolv_conf) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::warn!(path = %host_resolv_conf.display(), "no resolv.conf on the host; the container gets an empty one");
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        fs::write(self.resolv_conf(), resolv)?;
        fs::write(self.hosts(), defaults::hosts_file(hostname))?;
        fs::write(self.hostname(), defaults::hostname_file(hostname))?;
        Ok(())
    }

    /// Writes `config.json`.
    pub(crate) fn write_config(&self, json: &[u8]) -> Result<()> {
        fs::write(self.config(), json)?;
        Ok(())
    }

    /// Removes the files this crate wrote, then `rootfs/` and the bundle
    /// directory with `rmdir`: a still-mounted or non-empty `rootfs/`
    /// fails instead of being deleted through (never `remove_dir_all`,
    /// which would delete the container's files through a mount).
    pub(crate) fn remove(&self) -> Result<()> {
        for name in FILES {
            remove_if_present(&self.dir.join(name), false)?;
        }
        remove_if_present(&self.rootfs(), true)?;
        remove_if_present(&self.dir, true)?;
        Ok(())
    }
}

fn remove_if_present(path: &Path, dir: bool) -> io::Result<()> {
    let result = if dir {
        fs::remove_dir(path)
    } else {
        fs::remove_file(path)
    };
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_writes_the_etc_files_and_remove_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let host_resolv = tmp.path().join("host-resolv.conf");
        std::fs::write(&host_resolv, "nameserver 192.0.2.53\n").unwrap();
        let state = tmp.path().join("runtime-v1");
        let b = Bundle::new(&state, "b1");
        assert!(!b.exists());
        b.create("box", &host_resolv).unwrap();
        assert!(b.exists());
        assert_eq!(b.dir(), state.join("bundles/b1"));
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(b.resolv_conf()), "nameserver 192.0.2.53\n");
        assert_eq!(read(b.hostname()), "box\n");
        assert!(read(b.hosts()).starts_with("127.0.0.1\tlocalhost box\n"));
        assert!(b.rootfs().is_dir());
        b.write_config(b"{}\n").unwrap();
        b.remove().unwrap();
        assert!(!b.exists());
        assert!(state.join("bundles").is_dir(), "the shared parent stays");
        b.remove().unwrap(); // idempotent
    }

    #[test]
    fn missing_host_resolv_conf_gives_an_empty_file() {
        let tmp = tempfile::tempdir().unwrap();
        let b = Bundle::new(tmp.path(), "b2");
        b.create("box", &tmp.path().join("absent")).unwrap();
        assert_eq!(std::fs::read(b.resolv_conf()).unwrap(), b"");
    }

    #[test]
    fn remove_refuses_a_rootfs_with_content() {
        let tmp = tempfile::tempdir().unwrap();
        let b = Bundle::new(tmp.path(), "b3");
        b.create("box", &tmp.path().join("absent")).unwrap();
        std::fs::write(b.rootfs().join("precious"), "x").unwrap();
        let err = b.remove().unwrap_err().to_string();
        assert!(err.contains("rootfs"), "{err}");
        assert!(b.rootfs().join("precious").exists());
    }
}
