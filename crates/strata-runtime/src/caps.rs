//! Capabilities by name: the kernel's list, Docker's `--cap-add` and
//! `--cap-drop` rules (moby's `oci/caps.TweakCapabilities`), and which ones
//! this host can grant at all.
//!
//! Docker's rules, exactly:
//! - privileged: every capability available here;
//! - `ALL` in the additions: every available one except the drops (drops win);
//! - `ALL` in the drops: exactly the additions;
//! - otherwise the defaults minus the drops, plus the additions (a name in
//!   both lists is added back, as moby appends the additions last).
//!
//! Names are case-insensitive, with or without `CAP_`. A name Linux does not
//! define is "unknown"; one this process's bounding set lacks (here
//! `CAP_SYS_RESOURCE`) is "not available", as moby says since it limits
//! "all" to the current environment: runc could not grant it anyway.

use oci_spec::runtime::Capability;

use crate::defaults;

/// Every capability Linux defines, indexed by bit number
/// (`include/uapi/linux/capability.h`).
pub(crate) const KNOWN: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The magic name for every capability.
const ALL: &str = "ALL";

/// The capabilities this process can pass on: its bounding set, as a bit
/// mask (`CapBnd` in `/proc/self/status`); every known one if unreadable.
pub(crate) fn host_bounding() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| parse_bounding(&status))
        .unwrap_or(u64::MAX)
}

fn parse_bounding(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("CapBnd:"))?;
    u64::from_str_radix(line.trim(), 16).ok()
}

/// Every known capability whose bit is set in `available`, in bit order.
fn all_available(available: u64) -> Vec<&'static str> {
    KNOWN
        .iter()
        .enumerate()
        .filter(|(bit, _)| available & (1 << bit) != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// `name` upper-cased with a `CAP_` prefix (`ALL` stays), checked against
/// [`KNOWN`] and `available`.
fn normalize(name: &str, available: u64) -> Result<&'static str, String> {
    let upper = name.to_ascii_uppercase();
    if upper == ALL {
        return Ok(ALL);
    }
    let full = match upper.starts_with("CAP_") {
        true => upper,
        false => format!("CAP_{upper}"),
    };
    match KNOWN.iter().position(|k| *k == full) {
        None => Err(format!("unknown capability: {full:?}")),
        Some(bit) if available & (1 << bit) == 0 => Err(format!(
            "capability not supported by your kernel or not available in the current environment: {full:?}"
        )),
        Some(bit) => Ok(KNOWN[bit]),
    }
}

/// The capability names a container gets (see the module comment), or why
/// `adds`/`drops` are invalid.
pub(crate) fn tweak(
    adds: &[String],
    drops: &[String],
    privileged: bool,
    available: u64,
) -> Result<Vec<&'static str>, String> {
    if privileged {
        return Ok(all_available(available));
    }
    let basics: Vec<&'static str> = defaults::CAPABILITIES.iter().map(|c| name_of(*c)).collect();
    let norm = |list: &[String]| -> Result<Vec<&'static str>, String> {
        list.iter().map(|n| normalize(n, available)).collect()
    };
    let (adds, drops) = (norm(adds)?, norm(drops)?);
    let mut caps: Vec<&'static str> = if adds.contains(&ALL) {
        all_available(available)
            .into_iter()
            .filter(|c| !drops.contains(c))
            .collect()
    } else if drops.contains(&ALL) {
        adds
    } else {
        let mut kept: Vec<&'static str> =
            basics.into_iter().filter(|c| !drops.contains(c)).collect();
        kept.extend(adds);
        kept
    };
    let mut seen = Vec::new();
    caps.retain(|c| {
        let new = !seen.contains(c);
        seen.push(*c);
        new
    });
    Ok(caps)
}

/// The `CAP_*` name of an oci-spec capability.
fn name_of(cap: Capability) -> &'static str {
    let value = serde_json::to_value(cap).expect("a capability serializes");
    let name = value.as_str().unwrap_or_default();
    KNOWN
        .iter()
        .find(|k| **k == name)
        .expect("defaults are known capabilities")
}

/// The oci-spec capability for a known `CAP_*` name; `None` for a name
/// the oci-spec version does not know (none today).
pub(crate) fn to_oci(name: &str) -> Option<Capability> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's bounding set: everything but CAP_SYS_RESOURCE.
    const HOST: u64 = 0x1fffeffffff;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn dockers_rules() {
        let defaults: Vec<&str> = defaults::CAPABILITIES.iter().map(|c| name_of(*c)).collect();
        let all: Vec<&str> = KNOWN
            .iter()
            .copied()
            .filter(|c| *c != "CAP_SYS_RESOURCE")
            .collect();
        let minus = |list: &[&'static str], gone: &[&str]| -> Vec<&'static str> {
            list.iter().copied().filter(|c| !gone.contains(c)).collect()
        };
        #[allow(clippy::type_complexity)]
        let table: Vec<(&[&str], &[&str], bool, Vec<&str>)> = vec![
            (&[], &[], false, defaults.clone()),
            (&[], &[], true, all.clone()),
            (&["all"], &["NET_RAW"], true, all.clone()),
            (&[], &["ALL"], false, vec![]),
            (
                &["chown", "CAP_KILL"],
                &["all"],
                false,
                vec!["CAP_CHOWN", "CAP_KILL"],
            ),
            (
                &["ALL"],
                &["net_raw", "cap_chown"],
                false,
                minus(&all, &["CAP_NET_RAW", "CAP_CHOWN"]),
            ),
            (&["SYS_ADMIN"], &["MKNOD"], false, {
                let mut v = minus(&defaults, &["CAP_MKNOD"]);
                v.push("CAP_SYS_ADMIN");
                v
            }),
            // In both lists: moby appends the additions after dropping.
            (&["MKNOD"], &["MKNOD"], false, {
                let mut v = minus(&defaults, &["CAP_MKNOD"]);
                v.push("CAP_MKNOD");
                v
            }),
            (&["kill", "KILL"], &[], false, defaults.clone()),
        ];
        for (adds, drops, privileged, want) in table {
            let got = tweak(&strings(adds), &strings(drops), privileged, HOST).unwrap();
            assert_eq!(
                got, want,
                "add {adds:?} drop {drops:?} privileged {privileged}"
            );
        }
    }

    #[test]
    fn unknown_and_unavailable_names_are_refused() {
        let err = tweak(&strings(&["NOPE"]), &[], false, HOST).unwrap_err();
        assert_eq!(err, "unknown capability: \"CAP_NOPE\"");
        let err = tweak(&[], &strings(&["sys_resource"]), false, HOST).unwrap_err();
        assert!(
            err.contains("not available in the current environment"),
            "{err}"
        );
        assert!(tweak(&strings(&["SYS_RESOURCE"]), &[], false, u64::MAX).is_ok());
    }

    #[test]
    fn bounding_set_is_read_from_status() {
        let status = "Name:\tx\nCapInh:\t0000000000000000\nCapBnd:\t000001fffeffffff\n";
        assert_eq!(parse_bounding(status), Some(HOST));
        assert_eq!(parse_bounding("Name:\tx\n"), None);
        assert_ne!(host_bounding(), 0);
    }

    #[test]
    fn every_known_name_converts_to_oci() {
        for name in KNOWN {
            let cap = to_oci(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(name_of(cap), name);
        }
    }
}
