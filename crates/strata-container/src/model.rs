//! A container's definition, as `docker container inspect` shows it:
//! `Config` (what runs), `HostConfig` (how the host runs it) and `Mounts`.
//! It is stored as the record's `spec` JSON, in Docker's field names, so
//! `inspect` prints it as it is and a newer strata can read an older one
//! (every field has a default).

use serde::{Deserialize, Serialize};

/// Docker's container `Config`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Config {
    /// Host name (the short ID unless `--hostname`).
    pub hostname: String,
    /// Domain name (always empty).
    pub domainname: String,
    /// `USER[:GROUP]`, from `-u` or the image.
    pub user: String,
    /// `-a stdin` / `-i` attached.
    pub attach_stdin: bool,
    /// Output attached (foreground).
    pub attach_stdout: bool,
    /// Errors attached (foreground).
    pub attach_stderr: bool,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub open_stdin: bool,
    /// Close stdin after the first attach ends (`-i` in the foreground).
    pub stdin_once: bool,
    /// The environment: the image's, then `--env-file`, then `-e`.
    pub env: Vec<String>,
    /// The command (arguments after the image, or the image's `Cmd`).
    pub cmd: Option<Vec<String>>,
    /// The image as the user named it.
    pub image: String,
    /// Anonymous volume paths declared by the image (`VOLUME`).
    pub volumes: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    /// Working directory (`-w` or the image's).
    pub working_dir: String,
    /// The entrypoint (`--entrypoint` or the image's).
    pub entrypoint: Option<Vec<String>>,
    /// The image's `OnBuild` (kept for `commit`).
    pub on_build: Option<Vec<String>>,
    /// Labels: the image's plus `--label`.
    pub labels: std::collections::BTreeMap<String, String>,
    /// The signal `stop` sends first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// `--stop-timeout`, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    /// Ports the image exposes (kept for `commit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

/// Docker's container `HostConfig`, the parts strata implements.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    /// `-v` as given.
    pub binds: Option<Vec<String>>,
    /// `host` or `none` (Docker's `default` bridge is not implemented:
    /// containers share the host's network unless `none`).
    pub network_mode: String,
    /// `--rm`.
    pub auto_remove: bool,
    /// `--privileged`.
    pub privileged: bool,
    /// `--read-only`.
    pub readonly_rootfs: bool,
    /// `--cap-add`.
    pub cap_add: Option<Vec<String>>,
    /// `--cap-drop`.
    pub cap_drop: Option<Vec<String>>,
    /// `--security-opt`.
    pub security_opt: Option<Vec<String>>,
    /// `--tmpfs` as given: path → options.
    pub tmpfs: Option<std::collections::BTreeMap<String, String>>,
    /// `--memory`, bytes (0: unlimited).
    pub memory: i64,
    /// `--memory-swap`, bytes (0: default, -1: unlimited).
    pub memory_swap: i64,
    /// `--cpus` × 10⁹.
    pub nano_cpus: i64,
    /// `--pids-limit` (None or ≤ 0: unlimited).
    pub pids_limit: Option<i64>,
    /// `--init`.
    pub init: Option<bool>,
    /// `--runtime`.
    pub runtime: String,
    /// `--restart`: the shim restarts the container as it says.
    pub restart_policy: RestartPolicy,
}

/// Docker's `RestartPolicy`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    /// `no`, `always`, ...
    pub name: String,
    /// Retries for `on-failure`.
    pub maximum_retry_count: i64,
}

/// One mount, as `inspect`'s `Mounts` lists it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountPoint {
    /// `bind`, `volume` or `tmpfs`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The volume's name (volumes only).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Host path: the bind source, or the volume's `_data` directory.
    pub source: String,
    /// Path in the container.
    pub destination: String,
    /// `local` for volumes.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    /// Mount options as given (`ro`, `z`, tmpfs options).
    pub mode: String,
    /// Writable.
    #[serde(rename = "RW")]
    pub rw: bool,
    /// Bind propagation (`rprivate` by default).
    pub propagation: String,
    /// A volume made for this container alone (removed by `rm -v`).
    #[serde(skip)]
    pub anonymous: bool,
}

/// Docker's `ReplaceOrAppendEnvValues`: each `NAME=value` of `entries`
/// replaces the entry of that name in place, or is appended.
pub fn merge_env(env: &mut Vec<String>, entries: &[String]) {
    for e in entries {
        let key = e.split('=').next().unwrap_or_default();
        match env.iter_mut().find(|x| x.split('=').next() == Some(key)) {
            Some(slot) => slot.clone_from(e),
            None => env.push(e.clone()),
        }
    }
}

/// Everything stored about a container besides its lifecycle state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Definition {
    /// What runs.
    pub config: Config,
    /// How.
    pub host_config: HostConfig,
    /// Volumes, binds and tmpfs mounts, in mount order.
    pub mounts: Vec<MountPoint>,
    /// Volumes made for this container alone, removed by `rm -v`.
    pub anonymous_volumes: Vec<String>,
    /// `no_new_privs` for its processes.
    pub no_new_privileges: bool,
}

impl Definition {
    /// Parses a record's `spec`.
    pub fn from_json(json: &str) -> crate::Result<Definition> {
        serde_json::from_str(json)
            .map_err(|e| crate::ContainerError::Invalid(format!("bad container record: {e}")))
    }

    /// The record's `spec`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a definition serializes")
    }

    /// The process's arguments: entrypoint then command.
    pub fn args(&self) -> Vec<String> {
        let mut args = self.config.entrypoint.clone().unwrap_or_default();
        args.extend(self.config.cmd.clone().unwrap_or_default());
        args
    }

    /// The signal `stop` sends first: the image's or `SIGTERM`.
    pub fn stop_signal(&self) -> &str {
        self.config
            .stop_signal
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("SIGTERM")
    }
}
