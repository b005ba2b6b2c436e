//! [`ContainerSpec`]: everything a long-lived container (`strata run`,
//! `create`, `start`) needs, as the CLI decides it and as the shim reads it
//! back from `config.json` (see `state.rs`). Plain serde data; the rules
//! that turn it into a runtime spec live in `profile.rs` and `spec.rs`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::caps;
use crate::error::{Error, Result};
use crate::profile::{HostInfo, Profile};
use crate::request::{DEFAULT_RUNTIME, Mount, Network, Process, RunRequest};
use crate::spec;

/// Where an init (`--init`) is bound inside the container, as Docker does.
pub const INIT_PATH: &str = "/sbin/docker-init";

/// A container as `docker create` defines it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ContainerSpec {
    /// Unique container ID (runc's rules: letters, digits, `_-.+`).
    pub id: String,
    /// Mounts that together form `/` (typically one overlay whose upper
    /// directory is the container's writable layer, owned by the caller):
    /// mounted by the shim at start, unmounted at exit.
    pub rootfs: Vec<Mount>,
    /// Extra mounts: binds (`-v host:ctr[:ro]`), tmpfs, ...
    pub mounts: Vec<Mount>,
    /// The process: args (after entrypoint and cmd are combined), env,
    /// cwd, user.
    pub process: Process,
    /// `-t`: the process gets a terminal; its output is all `stdout`.
    #[serde(default)]
    pub tty: bool,
    /// `-i`: standard input comes from the `stdin` FIFO in the container's
    /// state directory; the first writer's close is the process's EOF.
    #[serde(default)]
    pub stdin_open: bool,
    /// The network namespace.
    pub network: Network,
    /// Host name inside the container.
    pub hostname: String,
    /// `--read-only`.
    #[serde(default)]
    pub readonly_rootfs: bool,
    /// The OCI runtime binary, usually [`DEFAULT_RUNTIME`].
    #[serde(default = "default_runtime")]
    pub runtime: String,
    /// cgroup limits.
    #[serde(default)]
    pub resources: Resources,
    /// `--cap-add`: Docker names with or without `CAP_`, or `ALL`.
    #[serde(default)]
    pub cap_add: Vec<String>,
    /// `--cap-drop`: as `cap_add`.
    #[serde(default)]
    pub cap_drop: Vec<String>,
    /// `--privileged`: every capability available, no masked or read-only
    /// paths, every host device, `/sys` writable.
    #[serde(default)]
    pub privileged: bool,
    /// `no_new_privileges` for the process (true for `strata run`).
    #[serde(default)]
    pub no_new_privileges: bool,
    /// `--init`: host path of an init (tini-static), bound read-only at
    /// [`INIT_PATH`] and run as `INIT_PATH -- args...`.
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// Absolute host path of the json-file log the shim appends to.
    pub log_path: PathBuf,
}

fn default_runtime() -> String {
    DEFAULT_RUNTIME.to_owned()
}

/// cgroup limits, each unset by default (Docker's `--memory`,
/// `--memory-swap`, `--cpus`, `--pids-limit`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq)]
#[serde(default)]
pub struct Resources {
    /// Memory limit in bytes (at least 6 MiB, as Docker requires).
    pub memory: Option<i64>,
    /// Memory plus swap in bytes; `-1` is unlimited. Unset with `memory`
    /// set means twice `memory`, as Docker does where swap can be limited.
    pub memory_swap: Option<i64>,
    /// CPUs (`1.5`): a CFS quota of `cpus * 100000` per 100000 µs period.
    pub cpus: Option<f64>,
    /// Maximum number of processes; zero or negative is unlimited.
    pub pids_limit: Option<i64>,
}

impl ContainerSpec {
    /// Mounts runc makes: [`ContainerSpec::mounts`] plus the init's bind.
    pub(crate) fn all_mounts(&self) -> Vec<Mount> {
        let mut mounts = self.mounts.clone();
        if let Some(init) = &self.init {
            let mut bind = Mount::bind(init.display().to_string(), INIT_PATH, true);
            bind.options = vec!["bind".into(), "ro".into()];
            mounts.push(bind);
        }
        mounts
    }

    /// The process as started: behind the init when there is one.
    pub(crate) fn start_process(&self) -> Process {
        let mut process = self.process.clone();
        if self.init.is_some() {
            let mut args = vec![INIT_PATH.to_owned(), "--".to_owned()];
            args.append(&mut process.args);
            process.args = args;
        }
        process
    }

    /// A [`RunRequest`] view of this container, with `mounts` from
    /// [`ContainerSpec::all_mounts`].
    pub(crate) fn request<'a>(
        &'a self,
        state_dir: &'a Path,
        mounts: &'a [Mount],
    ) -> RunRequest<'a> {
        RunRequest {
            id: &self.id,
            state_dir,
            rootfs: &self.rootfs,
            mounts,
            process: self.start_process(),
            network: self.network,
            hostname: &self.hostname,
            readonly_rootfs: self.readonly_rootfs,
            runtime: &self.runtime,
        }
    }

    /// Checks everything that can be checked before the container starts:
    /// the request rules of [`run`](crate::run), the capability names, the
    /// limits, the log and init paths.
    pub(crate) fn validate(&self, state_dir: &Path) -> Result<()> {
        let mounts = self.all_mounts();
        spec::validate(&self.request(state_dir, &mounts))?;
        let bad = |reason: String| Err(Error::invalid(&self.id, reason));
        if !self.log_path.is_absolute() {
            return bad(format!(
                "the log path {} is not absolute",
                self.log_path.display()
            ));
        }
        if let Some(init) = &self.init
            && !init.is_absolute()
        {
            return bad(format!("the init {} is not absolute", init.display()));
        }
        if self.runtime.is_empty() {
            return bad("no runtime".into());
        }
        let host = HostInfo {
            bounding: caps::host_bounding(),
            swap_limit: true,
            devices: Vec::new(),
        };
        Profile::container(self, &host).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> ContainerSpec {
        ContainerSpec {
            id: "c1".into(),
            rootfs: vec![Mount::bind("/lower", "/", false)],
            mounts: vec![],
            process: Process {
                args: vec!["sleep".into(), "30".into()],
                env: vec!["PATH=/bin".into()],
                cwd: "/".into(),
                uid: 0,
                gid: 0,
                additional_gids: vec![],
            },
            tty: false,
            stdin_open: false,
            network: Network::None,
            hostname: "c1".into(),
            readonly_rootfs: false,
            runtime: DEFAULT_RUNTIME.into(),
            resources: Resources::default(),
            cap_add: vec![],
            cap_drop: vec![],
            privileged: false,
            no_new_privileges: true,
            init: None,
            log_path: "/var/log/c1.json".into(),
        }
    }

    #[test]
    fn init_wraps_the_process_and_is_bound_read_only() {
        let mut spec = sample();
        assert_eq!(spec.start_process().args, ["sleep", "30"]);
        spec.init = Some("/usr/bin/tini-static".into());
        assert_eq!(
            spec.start_process().args,
            ["/sbin/docker-init", "--", "sleep", "30"]
        );
        let mounts = spec.all_mounts();
        assert_eq!(mounts.len(), 1);
        assert_eq!(mounts[0].destination, INIT_PATH);
        assert_eq!(mounts[0].source, "/usr/bin/tini-static");
        assert_eq!(mounts[0].options, ["bind", "ro"]);
    }

    #[test]
    fn validate_names_what_is_wrong() {
        let state = Path::new("/state");
        assert!(sample().validate(state).is_ok());
        #[allow(clippy::type_complexity)]
        let cases: Vec<(fn(&mut ContainerSpec), &str)> = vec![
            (|s| s.id = "a/b".into(), "the id must be"),
            (|s| s.log_path = "rel.json".into(), "log path"),
            (|s| s.init = Some("tini".into()), "init"),
            (|s| s.cap_add = vec!["NOPE".into()], "unknown capability"),
            (|s| s.resources.memory = Some(1024), "Minimum memory limit"),
            (|s| s.resources.cpus = Some(0.0), "CPUs"),
            (|s| s.process.args.clear(), "no command"),
        ];
        for (change, want) in cases {
            let mut spec = sample();
            change(&mut spec);
            let err = spec.validate(state).unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
        }
    }

    #[test]
    fn unknown_fields_default() {
        let json = r#"{"id":"c","rootfs":[],"mounts":[],"process":{"args":["true"],
            "env":[],"cwd":"/","uid":0,"gid":0,"additional_gids":[]},
            "network":"Host","hostname":"h","log_path":"/l"}"#;
        let spec: ContainerSpec = serde_json::from_str(json).unwrap();
        assert_eq!(spec.runtime, "runc");
        assert_eq!(spec.resources, Resources::default());
        assert!(!spec.tty && !spec.privileged && spec.init.is_none());
    }
}
