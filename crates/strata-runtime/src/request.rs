//! What to run and how it ended: the request types of [`run`](crate::run).
//!
//! These are plain data with public fields, shaped like the OCI runtime
//! spec's mounts and process so that a later `strata run` can persist them
//! (they are serde types) and grow them (terminal, rlimits, resources) without
//! changing what RUN already passes.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The runtime binary used when the caller has no preference.
pub const DEFAULT_RUNTIME: &str = "runc";

/// A mount, as in an OCI runtime spec: `mount -t KIND -o OPTIONS SOURCE
/// DESTINATION`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Absolute path inside the container.
    pub destination: String,
    /// File system type: `"bind"`, `"tmpfs"`, `"overlay"`, `"proc"`, ...
    pub kind: String,
    /// Host path for binds; the device or a label (`"overlay"`, `"tmpfs"`)
    /// otherwise.
    pub source: String,
    /// mount(8) options: flags (`ro`, `nosuid`, `rbind`, `rprivate`, ...)
    /// and file-system data (`size=64m`, `lowerdir=...`).
    pub options: Vec<String>,
}

impl Mount {
    /// A recursive bind of host path `source` at `destination`, read-only
    /// when `readonly` (Docker's `-v` and RUN's `--mount=type=bind`).
    pub fn bind(
        source: impl Into<String>,
        destination: impl Into<String>,
        readonly: bool,
    ) -> Mount {
        let mut options = vec!["rbind".to_owned()];
        if readonly {
            options.push("ro".to_owned());
        }
        Mount {
            destination: destination.into(),
            kind: "bind".to_owned(),
            source: source.into(),
            options,
        }
    }

    /// A tmpfs at `destination` with extra `options` (`size=...`, `mode=...`).
    pub fn tmpfs(destination: impl Into<String>, options: &[&str]) -> Mount {
        Mount {
            destination: destination.into(),
            kind: "tmpfs".to_owned(),
            source: "tmpfs".to_owned(),
            options: options.iter().map(|o| (*o).to_owned()).collect(),
        }
    }

    /// Whether this is a bind mount: runc decides by the `bind`/`rbind`
    /// option; a `"bind"` kind without one gets `rbind` in `config.json`.
    pub(crate) fn is_bind(&self) -> bool {
        self.kind == "bind" || self.options.iter().any(|o| o == "bind" || o == "rbind")
    }
}

/// Which network the container sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Network {
    /// Share the host's network namespace: the container reaches what the
    /// host reaches (RUN's default, like BuildKit's).
    #[default]
    Host,
    /// A new network namespace with only a loopback interface, up.
    None,
}

/// The process to start, as in an OCI runtime spec's `process`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    /// The program and its arguments; the program is looked up in the
    /// `PATH` of `env` when it has no `/`.
    pub args: Vec<String>,
    /// `NAME=value` pairs, as given; the only addition is runc's: `HOME`
    /// when absent (from the container's `/etc/passwd`, else `/`), as
    /// Docker does.
    pub env: Vec<String>,
    /// Absolute working directory inside the container; runc creates it
    /// when missing (and it stays, as with BuildKit).
    pub cwd: String,
    /// User ID the process runs as.
    pub uid: u32,
    /// Primary group ID.
    pub gid: u32,
    /// Supplementary group IDs.
    pub additional_gids: Vec<u32>,
}

/// One container run: its identity, root file system, mounts and process.
#[derive(Clone, Debug)]
pub struct RunRequest<'a> {
    /// Unique container ID: letters, digits, `_`, `-`, `.` and `+`, as runc
    /// accepts. It names the bundle, runc's state and the cgroup.
    pub id: &'a str,
    /// The runtime's own directory, e.g. `<store root>/runtime-v1`
    /// (its versioned layout is drawn in `src/bundle.rs`).
    pub state_dir: &'a Path,
    /// Mounts that together form `/`: the first has destination `/`, any
    /// others lie inside it. They are mounted at `<bundle>/rootfs` before
    /// runc starts and unmounted after.
    pub rootfs: &'a [Mount],
    /// Extra mounts inside the container, after the standard ones. One with
    /// the same destination as a standard mount (`/dev/shm`, `/etc/hosts`)
    /// replaces it.
    pub mounts: &'a [Mount],
    /// The process to run.
    pub process: Process,
    /// The network namespace.
    pub network: Network,
    /// Host name inside the container (also in `/etc/hosts` and
    /// `/etc/hostname`).
    pub hostname: &'a str,
    /// Mount the root file system read-only (mount points are still made).
    pub readonly_rootfs: bool,
    /// The OCI runtime binary: a name looked up in `PATH` (then the `sbin`
    /// directories), or a path. Usually [`DEFAULT_RUNTIME`].
    pub runtime: &'a str,
}

/// Which output stream a chunk came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stream {
    /// The process's standard output.
    Stdout,
    /// The process's standard error (runc's own errors land here too).
    Stderr,
}

/// How the process ended.
///
/// runc reports a process killed by signal N as exit code 128 + N, as
/// shells and `docker run` do; such codes are read back as
/// [`ExitStatus::Signaled`]. A process that itself calls `exit(137)` looks
/// the same, as it does to Docker; [`ExitStatus::code`] is right either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// The process exited with this code.
    Exited(i32),
    /// The process was killed by this signal.
    Signaled(i32),
}

impl ExitStatus {
    /// Whether the process exited with code 0.
    pub fn success(self) -> bool {
        self == ExitStatus::Exited(0)
    }

    /// The exit code Docker would show: the code, or 128 + the signal.
    /// Always `Some`; the `Option` mirrors `std::process::ExitStatus`.
    pub fn code(self) -> Option<i32> {
        Some(match self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled(signal) => 128 + signal,
        })
    }

    /// The signal that killed the process, if one did.
    pub fn signal(self) -> Option<i32> {
        match self {
            ExitStatus::Signaled(signal) => Some(signal),
            ExitStatus::Exited(_) => None,
        }
    }

    /// Reads an exit code the way runc reports it.
    pub(crate) fn from_runc_code(code: i32) -> ExitStatus {
        match code {
            129..=192 => ExitStatus::Signaled(code - 128),
            _ => ExitStatus::Exited(code),
        }
    }
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Exited(code) => write!(f, "exit code: {code}"),
            ExitStatus::Signaled(signal) => {
                write!(f, "killed by signal {signal} (exit code: {})", 128 + signal)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runc_codes_above_128_are_signals() {
        let table = [
            (0, ExitStatus::Exited(0), Some(0), None),
            (3, ExitStatus::Exited(3), Some(3), None),
            (127, ExitStatus::Exited(127), Some(127), None),
            (128, ExitStatus::Exited(128), Some(128), None),
            (137, ExitStatus::Signaled(9), Some(137), Some(9)),
            (143, ExitStatus::Signaled(15), Some(143), Some(15)),
            (255, ExitStatus::Exited(255), Some(255), None),
        ];
        for (code, status, docker_code, signal) in table {
            let got = ExitStatus::from_runc_code(code);
            assert_eq!(got, status, "runc code {code}");
            assert_eq!(got.code(), docker_code, "runc code {code}");
            assert_eq!(got.signal(), signal, "runc code {code}");
            assert_eq!(got.success(), code == 0);
        }
        assert_eq!(
            ExitStatus::Signaled(9).to_string(),
            "killed by signal 9 (exit code: 137)"
        );
        assert_eq!(ExitStatus::Exited(3).to_string(), "exit code: 3");
    }

    #[test]
    fn bind_and_tmpfs_helpers() {
        let b = Mount::bind("/host/cache", "/root/.cache", true);
        assert_eq!(b.options, ["rbind", "ro"]);
        assert!(b.is_bind());
        let t = Mount::tmpfs("/tmp", &["size=1m"]);
        assert!(!t.is_bind());
        assert_eq!(t.source, "tmpfs");
        assert_eq!(Network::default(), Network::Host);
    }
}
