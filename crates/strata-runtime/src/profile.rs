//! What a runtime spec needs beyond a [`RunRequest`](crate::RunRequest): a
//! terminal, capabilities, `noNewPrivileges`, privileged mode, devices and
//! cgroup limits. RUN steps use [`Profile::default`] (Docker's build
//! defaults); containers get [`Profile::container`], which applies Docker's
//! rules to a [`ContainerSpec`] and to what this host supports
//! ([`HostInfo`], read once by the shim so that spec generation stays pure).

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use oci_spec::runtime::{Capability, LinuxDevice, LinuxDeviceBuilder, LinuxDeviceType};

use crate::caps;
use crate::container_spec::ContainerSpec;
use crate::defaults;
use crate::error::{Error, Result};

/// The CFS period Docker uses for `--cpus`, in microseconds.
pub(crate) const CPU_PERIOD: u64 = 100_000;

/// Docker's smallest memory limit (`linuxMinMemory`).
const MIN_MEMORY: i64 = 6 * 1024 * 1024;

/// What this host offers, as far as specs depend on it.
#[derive(Clone, Debug, Default)]
pub(crate) struct HostInfo {
    /// Capabilities that can be granted (our bounding set, as a mask).
    pub(crate) bounding: u64,
    /// Whether memory plus swap can be limited (cgroup v1 `memsw`, or v2).
    pub(crate) swap_limit: bool,
    /// The host's devices, listed only for privileged containers.
    pub(crate) devices: Vec<HostDevice>,
}

impl HostInfo {
    /// Reads the host; lists `/dev` only when `privileged`.
    pub(crate) fn detect(privileged: bool) -> io::Result<HostInfo> {
        let cg = Path::new("/sys/fs/cgroup");
        let swap_limit = cg.join("memory/memory.memsw.limit_in_bytes").exists()
            || std::fs::read_to_string(cg.join("cgroup.controllers"))
                .is_ok_and(|c| c.split_whitespace().any(|x| x == "memory"));
        let mut devices = Vec::new();
        if privileged {
            host_devices(Path::new("/dev"), &mut devices)?;
        }
        Ok(HostInfo {
            bounding: caps::host_bounding(),
            swap_limit,
            devices,
        })
    }
}

/// A device node on the host, as runc's `devices.GetDevices` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HostDevice {
    pub(crate) path: String,
    pub(crate) block: bool,
    pub(crate) major: i64,
    pub(crate) minor: i64,
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// Character and block devices under `dir`, skipping the directories and
/// files runc skips (its own mounts replace them).
fn host_devices(dir: &Path, out: &mut Vec<HostDevice>) -> io::Result<()> {
    const SKIP_DIRS: [&str; 7] = ["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"];
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let ft = meta.file_type();
        if ft.is_dir() {
            if !SKIP_DIRS.contains(&name.as_ref()) {
                host_devices(&entry.path(), out)?;
            }
            continue;
        }
        if name == "console" || !(ft.is_char_device() || ft.is_block_device()) {
            continue;
        }
        let rdev = meta.rdev();
        out.push(HostDevice {
            path: entry.path().display().to_string(),
            block: ft.is_block_device(),
            major: i64::from(rustix::fs::major(rdev)),
            minor: i64::from(rustix::fs::minor(rdev)),
            mode: meta.mode() & 0o777,
            uid: meta.uid(),
            gid: meta.gid(),
        });
    }
    Ok(())
}

/// cgroup limits in the runtime spec's units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Limits {
    pub(crate) memory: Option<i64>,
    pub(crate) memory_swap: Option<i64>,
    pub(crate) cpu_quota: Option<i64>,
    pub(crate) pids: Option<i64>,
}

/// The parts of the runtime spec a [`ContainerSpec`] adds to a request.
#[derive(Clone, Debug)]
pub(crate) struct Profile {
    pub(crate) terminal: bool,
    pub(crate) capabilities: Vec<Capability>,
    pub(crate) no_new_privileges: bool,
    /// No masked or read-only paths, `/sys` and cgroups writable, every
    /// device allowed.
    pub(crate) privileged: bool,
    pub(crate) devices: Vec<HostDevice>,
    pub(crate) limits: Limits,
}

impl Default for Profile {
    /// A RUN step's: Docker's default capabilities, nothing else.
    fn default() -> Profile {
        Profile {
            terminal: false,
            capabilities: defaults::CAPABILITIES.to_vec(),
            no_new_privileges: false,
            privileged: false,
            devices: Vec::new(),
            limits: Limits::default(),
        }
    }
}

impl Profile {
    /// Docker's rules for `spec` on `host`; an invalid setting is an
    /// [`Error::InvalidRequest`] worded as Docker words it.
    pub(crate) fn container(spec: &ContainerSpec, host: &HostInfo) -> Result<Profile> {
        let bad = |reason: String| Error::invalid(&spec.id, reason);
        let names = caps::tweak(
            &spec.cap_add,
            &spec.cap_drop,
            spec.privileged,
            host.bounding,
        )
        .map_err(bad)?;
        let capabilities = names.iter().filter_map(|n| caps::to_oci(n)).collect();
        Ok(Profile {
            terminal: spec.tty,
            capabilities,
            no_new_privileges: spec.no_new_privileges,
            privileged: spec.privileged,
            devices: match spec.privileged {
                true => host.devices.clone(),
                false => Vec::new(),
            },
            limits: limits(&spec.resources, host.swap_limit).map_err(bad)?,
        })
    }

    /// The devices runc creates, as spec entries.
    pub(crate) fn linux_devices(&self) -> Result<Vec<LinuxDevice>, oci_spec::OciSpecError> {
        self.devices
            .iter()
            .map(|d| {
                LinuxDeviceBuilder::default()
                    .path(&d.path)
                    .typ(match d.block {
                        true => LinuxDeviceType::B,
                        false => LinuxDeviceType::C,
                    })
                    .major(d.major)
                    .minor(d.minor)
                    .file_mode(d.mode)
                    .uid(d.uid)
                    .gid(d.gid)
                    .build()
            })
            .collect()
    }
}

/// Docker's checks and defaults for `--memory`, `--memory-swap`, `--cpus`
/// and `--pids-limit`.
fn limits(r: &crate::container_spec::Resources, swap_limit: bool) -> Result<Limits, String> {
    let mut out = Limits::default();
    match (r.memory, r.memory_swap) {
        (None | Some(0), Some(s)) if s != 0 => {
            return Err(
                "You should always set the Memory limit when using Memoryswap limit, see usage"
                    .into(),
            );
        }
        (Some(m), _) if m != 0 && m < MIN_MEMORY => {
            return Err("Minimum memory limit allowed is 6MB".into());
        }
        (Some(m), swap) if m > 0 => {
            out.memory = Some(m);
            out.memory_swap = match swap {
                _ if !swap_limit => None,
                None | Some(0) => Some(m.saturating_mul(2)),
                Some(-1) => Some(-1),
                Some(s) if s < m => {
                    return Err(
                        "Minimum memoryswap limit should be larger than memory limit, see usage"
                            .into(),
                    );
                }
                Some(s) => Some(s),
            };
        }
        _ => {}
    }
    if let Some(cpus) = r.cpus {
        let quota = (cpus * CPU_PERIOD as f64).round();
        if !cpus.is_finite() || quota < 1000.0 {
            return Err(format!("Range of CPUs is from 0.01 and up, not {cpus}"));
        }
        out.cpu_quota = Some(quota as i64);
    }
    out.pids = r.pids_limit.filter(|&p| p > 0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container_spec::Resources;

    #[test]
    fn limits_follow_docker() {
        let mib = 1024 * 1024;
        let r = |memory, memory_swap, cpus, pids_limit| Resources {
            memory,
            memory_swap,
            cpus,
            pids_limit,
        };
        let ok = |r: Resources, swap: bool| limits(&r, swap).unwrap();
        assert_eq!(ok(Resources::default(), true), Limits::default());
        let l = ok(r(Some(64 * mib), None, Some(1.5), Some(10)), true);
        assert_eq!(
            l,
            Limits {
                memory: Some(64 * mib),
                memory_swap: Some(128 * mib),
                cpu_quota: Some(150_000),
                pids: Some(10),
            }
        );
        assert_eq!(
            ok(r(Some(64 * mib), None, None, None), false).memory_swap,
            None
        );
        assert_eq!(
            ok(r(Some(64 * mib), Some(-1), None, None), true).memory_swap,
            Some(-1)
        );
        assert_eq!(
            ok(r(None, None, Some(0.01), Some(-1)), true).cpu_quota,
            Some(1000)
        );
        assert_eq!(ok(r(None, None, None, Some(0)), true).pids, None);
        for (bad, want) in [
            (r(Some(mib), None, None, None), "Minimum memory limit"),
            (r(None, Some(64 * mib), None, None), "always set the Memory"),
            (
                r(Some(64 * mib), Some(mib * 10), None, None),
                "Minimum memoryswap",
            ),
            (r(None, None, Some(0.001), None), "Range of CPUs"),
            (r(None, None, Some(f64::NAN), None), "Range of CPUs"),
        ] {
            let err = limits(&bad, true).unwrap_err();
            assert!(err.contains(want), "{bad:?}: {err}");
        }
    }

    #[test]
    fn host_devices_lists_dev_without_pts() {
        let mut devices = Vec::new();
        host_devices(Path::new("/dev"), &mut devices).unwrap();
        let null = devices
            .iter()
            .find(|d| d.path == "/dev/null")
            .expect("/dev/null");
        assert_eq!((null.block, null.major, null.minor), (false, 1, 3));
        assert!(!devices.iter().any(|d| d.path.starts_with("/dev/pts/")));
        assert!(!devices.iter().any(|d| d.path == "/dev/console"));
    }
}
