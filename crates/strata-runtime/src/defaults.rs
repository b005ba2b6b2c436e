//! Docker's and BuildKit's defaults for a container: capabilities, masked
//! and read-only paths, the standard mounts, and the generated `/etc`
//! files. Kept in one place so that a difference from Docker is a one-line
//! diff against moby's `oci/defaults.go` and `oci/caps/defaults.go`.

use oci_spec::runtime::Capability;

use crate::request::Mount;

/// Docker's default capability set (moby `oci/caps/defaults.go`). It never
/// includes `CAP_SYS_RESOURCE`, which these machines lack.
pub(crate) const CAPABILITIES: [Capability; 14] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// Paths hidden from the container (moby `oci/defaults.go`): runc mounts
/// `/dev/null` over files and an empty read-only tmpfs over directories.
pub(crate) const MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths remounted read-only (moby `oci/defaults.go`).
pub(crate) const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The parent of every container's cgroup (`cgroupsPath` is
/// `/strata/<id>` in each hierarchy).
pub(crate) const CGROUP_PARENT: &str = "strata";

/// Options of the bind mounts of generated files (`/etc/hosts`, ...): as
/// BuildKit's `withROBind`, read-only so that RUN cannot edit the host's
/// copy and nothing it writes there is mistaken for layer content.
const ETC_BIND_OPTIONS: [&str; 5] = ["nosuid", "noexec", "nodev", "rbind", "ro"];

fn mount(destination: &str, kind: &str, source: &str, options: &[&str]) -> Mount {
    Mount {
        destination: destination.to_owned(),
        kind: kind.to_owned(),
        source: source.to_owned(),
        options: options.iter().map(|o| (*o).to_owned()).collect(),
    }
}

/// The kernel file systems every container gets, in mount order
/// (moby's `DefaultLinuxSpec` and BuildKit's `GetMounts`).
pub(crate) fn system_mounts() -> Vec<Mount> {
    vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        ),
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["ro", "nosuid", "noexec", "nodev"],
        ),
    ]
}

/// Read-only binds of the generated `/etc` files, `(destination, host
/// file)`, each host file in the bundle directory.
pub(crate) fn etc_mounts(files: [(&str, String); 3]) -> Vec<Mount> {
    files
        .into_iter()
        .map(|(destination, source)| mount(destination, "bind", &source, &ETC_BIND_OPTIONS))
        .collect()
}

/// `/etc/hosts` as BuildKit writes it for RUN: localhost and the host name.
pub(crate) fn hosts_file(hostname: &str) -> String {
    format!("127.0.0.1\tlocalhost {hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n")
}

/// `/etc/hostname`.
pub(crate) fn hostname_file(hostname: &str) -> String {
    format!("{hostname}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_names_localhost_and_the_host_name() {
        assert_eq!(
            hosts_file("buildkitsandbox"),
            "127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        );
        assert_eq!(hostname_file("box"), "box\n");
    }

    #[test]
    fn defaults_never_grant_sys_resource_or_sys_admin() {
        for cap in [
            Capability::SysResource,
            Capability::SysAdmin,
            Capability::NetAdmin,
        ] {
            assert!(!CAPABILITIES.contains(&cap), "{cap:?}");
        }
    }

    #[test]
    fn system_mounts_come_parents_first() {
        let mounts = system_mounts();
        for (i, m) in mounts.iter().enumerate() {
            for later in &mounts[i + 1..] {
                assert!(
                    !m.destination
                        .starts_with(&format!("{}/", later.destination)),
                    "{} is mounted before its parent {}",
                    m.destination,
                    later.destination
                );
            }
        }
    }
}
