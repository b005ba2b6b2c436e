//! `create`: a container's record, its layers and its volumes, from an
//! image and `docker create`'s options. Nothing runs yet.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fs_err as fs;
use strata_snapshot::Snapshots;
use strata_store::{ContainerRecord, ContainerStatus, Store, StoreError};

use crate::error::{ContainerError, Result};
use crate::model::{Config, Definition, HostConfig, MountPoint, RestartPolicy};
use crate::parse::MountSpec;
use crate::rootfs::{self, ImageParts};

/// `docker create`'s options, parsed.
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    /// `--name` (checked here); a Docker-style random name when `None`.
    pub name: Option<String>,
    /// The image as the user typed it.
    pub image: String,
    /// Arguments after the image.
    pub command: Vec<String>,
    /// `--entrypoint` (`Some("")` clears the image's).
    pub entrypoint: Option<String>,
    /// `--env-file` entries then `-e` entries, `NAME=value`, in order.
    pub env: Vec<String>,
    /// `-u`.
    pub user: Option<String>,
    /// `-w`.
    pub workdir: Option<String>,
    /// `--hostname`.
    pub hostname: Option<String>,
    /// `-v`, `--mount` and `--tmpfs`, parsed, in the order given.
    pub mounts: Vec<MountSpec>,
    /// `-v` as typed (for `inspect`'s `Binds`).
    pub binds: Vec<String>,
    /// `--tmpfs` as typed: path → options.
    pub tmpfs: BTreeMap<String, String>,
    /// `--network`: `host` (the default here) or `none`.
    pub network: String,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub interactive: bool,
    /// Runs attached in the foreground (`run` without `-d`).
    pub attach: bool,
    /// `--read-only`.
    pub read_only: bool,
    /// `--memory`, bytes.
    pub memory: Option<i64>,
    /// `--memory-swap`, bytes.
    pub memory_swap: Option<i64>,
    /// `--cpus`.
    pub cpus: Option<f64>,
    /// `--pids-limit`.
    pub pids_limit: Option<i64>,
    /// `--cap-add`.
    pub cap_add: Vec<String>,
    /// `--cap-drop`.
    pub cap_drop: Vec<String>,
    /// `--privileged`.
    pub privileged: bool,
    /// `--security-opt` as given.
    pub security_opt: Vec<String>,
    /// `no_new_privs`: on unless `--security-opt no-new-privileges=false`.
    pub no_new_privileges: bool,
    /// `--runtime`.
    pub runtime: String,
    /// `--init`.
    pub init: bool,
    /// `--rm`.
    pub auto_remove: bool,
    /// `--label K=V`.
    pub labels: Vec<(String, String)>,
    /// `--stop-signal`.
    pub stop_signal: Option<String>,
    /// `--stop-timeout`.
    pub stop_timeout: Option<i64>,
    /// `--restart`: the policy's name (`no` when empty) and retry count,
    /// as [`crate::parse::parse_restart_policy`] gives them.
    pub restart: (String, i64),
}

/// A fresh 64-hex container ID.
pub fn new_id() -> String {
    format!(
        "{:016x}{:016x}{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>(),
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// Creates a container as `opts` says: checks everything first, then
/// makes its layers and volumes, then records it. On failure, nothing is
/// left behind.
pub fn create(store: &Store, opts: &CreateOptions) -> Result<ContainerRecord> {
    let taken: Vec<String> = store.containers()?.into_iter().map(|c| c.name).collect();
    let name = match &opts.name {
        Some(n) => {
            // Checked as given: the check allows one leading `/`, which
            // is then not part of the name (`//x` is refused).
            crate::parse::validate_container_name(n)
                .map_err(|e| ContainerError::Invalid(e.to_string()))?;
            let n = n.strip_prefix('/').unwrap_or(n);
            if taken.iter().any(|t| t == n) {
                // Docker names the container holding it.
                let other = store.container_find(n)?;
                return Err(ContainerError::Conflict(format!(
                    "Conflict. The container name \"/{n}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                    other.id
                )));
            }
            n.to_owned()
        }
        None => crate::names::generate(&|n| taken.iter().any(|t| t == n)),
    };
    let image = store.resolve(&opts.image)?;
    let parts = ImageParts::read(store, &image.id, &image.manifest.digest)?;
    let id = new_id();
    let def = definition(&id, opts, &parts)?;
    if def.args().is_empty() {
        return Err(ContainerError::Invalid("no command specified".to_owned()));
    }
    let snapshots = Snapshots::open(&store.layout().snapshots_dir())?;
    let lowers = rootfs::image_lowers(store, &snapshots, &parts)?;
    let mut made = Made::default();
    let result = (|| -> Result<ContainerRecord> {
        let mut def = def;
        let mut volumes = Vec::new();
        for m in &mut def.mounts {
            if m.kind != "volume" {
                continue;
            }
            let existed = store.volume(&m.name)?.is_some();
            let dir = store.layout().volumes_dir().join(&m.name).join("_data");
            if !existed {
                store.volume_create(&m.name, "{}", m.anonymous, now_ns())?;
                made.volumes.push(m.name.clone());
                fs::create_dir_all(&dir)?;
                if !m.mode.split(',').any(|o| o == "nocopy") {
                    rootfs::populate_volume(&lowers, &m.destination, &dir)?;
                }
            }
            m.source = dir.display().to_string();
            volumes.push(m.name.clone());
        }
        let points: Vec<(String, bool)> = def
            .mounts
            .iter()
            .map(|m| {
                let file = m.kind == "bind" && Path::new(&m.source).is_file();
                (m.destination.clone(), file)
            })
            .collect();
        made.dir = Some(store.layout().containers_dir().join(&id));
        rootfs::create_layers(store, &snapshots, &id, &lowers, &points)?;
        made.layer = true;
        let rec = ContainerRecord {
            id: id.clone(),
            name,
            image: image.id.clone(),
            image_manifest: image.manifest.digest.clone(),
            image_ref: opts.image.clone(),
            spec: def.to_json(),
            created_ns: now_ns(),
            status: ContainerStatus::Created,
            pid: None,
            shim: None,
            exit_code: None,
            started_ns: None,
            finished_ns: None,
            restart_count: 0,
            error: None,
        };
        store
            .container_create(&rec, &volumes)
            .map_err(|e| match e {
                StoreError::Conflict(m) => ContainerError::Conflict(m),
                e => e.into(),
            })?;
        Ok(rec)
    })();
    if result.is_err() {
        made.undo(store, &snapshots, &id);
    }
    result
}

/// What a failing `create` undoes.
#[derive(Default)]
struct Made {
    volumes: Vec<String>,
    dir: Option<PathBuf>,
    layer: bool,
}

impl Made {
    fn undo(self, store: &Store, snapshots: &Snapshots, id: &str) {
        if self.layer
            && let Err(e) = rootfs::remove_layer(snapshots, id)
        {
            tracing::warn!(id, error = %e, "removing the writable layer failed");
        }
        if let Some(dir) = self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        for v in self.volumes {
            let _ = store.volume_delete(&v);
            let _ = std::fs::remove_dir_all(store.layout().volumes_dir().join(&v));
        }
    }
}

/// The definition `opts` gives over `image`.
fn definition(id: &str, opts: &CreateOptions, image: &ImageParts) -> Result<Definition> {
    let ic = image.config.config.clone().unwrap_or_default();
    let (entrypoint, cmd) = match (&opts.entrypoint, opts.command.is_empty()) {
        (Some(e), true) if e.is_empty() => (None, None),
        (Some(e), true) => (Some(vec![e.clone()]), None),
        (Some(e), false) if e.is_empty() => (None, Some(opts.command.clone())),
        (Some(e), false) => (Some(vec![e.clone()]), Some(opts.command.clone())),
        (None, true) => (ic.entrypoint.clone(), ic.cmd.clone()),
        (None, false) => (ic.entrypoint.clone(), Some(opts.command.clone())),
    };
    let mut env = ic.env.clone().unwrap_or_default();
    crate::model::merge_env(&mut env, &opts.env);
    let mut labels: BTreeMap<String, String> =
        ic.labels.clone().unwrap_or_default().into_iter().collect();
    for (k, v) in &opts.labels {
        labels.insert(k.clone(), v.clone());
    }
    let hostname = opts.hostname.clone().unwrap_or_else(|| id[..12].to_owned());
    let config = Config {
        hostname,
        user: opts.user.clone().or(ic.user.clone()).unwrap_or_default(),
        attach_stdin: opts.attach && opts.interactive,
        attach_stdout: opts.attach,
        attach_stderr: opts.attach,
        tty: opts.tty,
        open_stdin: opts.interactive,
        stdin_once: opts.attach && opts.interactive,
        env,
        cmd,
        image: opts.image.clone(),
        volumes: ic.volumes.as_ref().map(|v| {
            v.keys()
                .map(|k| (k.clone(), serde_json::json!({})))
                .collect()
        }),
        working_dir: opts
            .workdir
            .clone()
            .or(ic.working_dir.clone())
            .unwrap_or_default(),
        entrypoint,
        on_build: ic.on_build.clone(),
        labels,
        stop_signal: opts.stop_signal.clone().or(ic.stop_signal.clone()),
        stop_timeout: opts.stop_timeout,
        exposed_ports: ic.exposed_ports.as_ref().map(|v| {
            v.keys()
                .map(|k| (k.clone(), serde_json::json!({})))
                .collect()
        }),
        domainname: String::new(),
    };
    if !config.working_dir.is_empty() && !config.working_dir.starts_with('/') {
        return Err(ContainerError::Invalid(format!(
            "the working directory '{}' is invalid, it needs to be an absolute path",
            config.working_dir
        )));
    }
    let mut mounts: Vec<MountPoint> = Vec::new();
    let mut anonymous = Vec::new();
    for spec in &opts.mounts {
        let m = mount_point(spec, &mut anonymous)?;
        if mounts.iter().any(|x| x.destination == m.destination) {
            return Err(ContainerError::Invalid(format!(
                "Duplicate mount point: {}",
                m.destination
            )));
        }
        mounts.push(m);
    }
    for path in config.volumes.iter().flat_map(|v| v.keys()) {
        let dest = clean(path);
        if mounts.iter().any(|m| m.destination == dest) {
            continue;
        }
        let name = new_id();
        anonymous.push(name.clone());
        mounts.push(MountPoint {
            kind: "volume".into(),
            name,
            destination: dest,
            driver: "local".into(),
            rw: true,
            anonymous: true,
            ..MountPoint::default()
        });
    }
    let host_config = HostConfig {
        binds: (!opts.binds.is_empty()).then(|| opts.binds.clone()),
        network_mode: match opts.network.as_str() {
            "" | "default" | "bridge" | "host" => "host".into(),
            other => other.into(),
        },
        auto_remove: opts.auto_remove,
        privileged: opts.privileged,
        readonly_rootfs: opts.read_only,
        cap_add: (!opts.cap_add.is_empty()).then(|| opts.cap_add.clone()),
        cap_drop: (!opts.cap_drop.is_empty()).then(|| opts.cap_drop.clone()),
        security_opt: (!opts.security_opt.is_empty()).then(|| opts.security_opt.clone()),
        tmpfs: (!opts.tmpfs.is_empty()).then(|| opts.tmpfs.clone()),
        memory: opts.memory.unwrap_or(0),
        memory_swap: opts.memory_swap.unwrap_or(0),
        nano_cpus: opts.cpus.map_or(0, |c| (c * 1e9).round() as i64),
        pids_limit: opts.pids_limit,
        init: opts.init.then_some(true),
        runtime: if opts.runtime.is_empty() {
            strata_runtime::DEFAULT_RUNTIME.into()
        } else {
            opts.runtime.clone()
        },
        restart_policy: RestartPolicy {
            name: if opts.restart.0.is_empty() {
                "no".into()
            } else {
                opts.restart.0.clone()
            },
            maximum_retry_count: opts.restart.1,
        },
    };
    if host_config.network_mode != "host" && host_config.network_mode != "none" {
        return Err(ContainerError::Invalid(format!(
            "network {} not found",
            host_config.network_mode
        )));
    }
    Ok(Definition {
        config,
        host_config,
        mounts,
        anonymous_volumes: anonymous,
        no_new_privileges: opts.no_new_privileges,
    })
}

/// A container path as Docker records it: absolute and clean.
fn clean(path: &str) -> String {
    strata_core::go_clean(&format!("/{path}"))
}

fn mount_point(spec: &MountSpec, anonymous: &mut Vec<String>) -> Result<MountPoint> {
    Ok(match spec {
        MountSpec::Bind {
            source,
            target,
            readonly,
            propagation,
            create_host_path,
        } => {
            if !source.exists() {
                if *create_host_path {
                    fs::create_dir_all(source)?;
                } else {
                    return Err(ContainerError::Invalid(format!(
                        "invalid mount config for type \"bind\": bind source path does not exist: {}",
                        source.display()
                    )));
                }
            }
            MountPoint {
                kind: "bind".into(),
                source: source.display().to_string(),
                destination: clean(target),
                mode: if *readonly {
                    "ro".into()
                } else {
                    String::new()
                },
                rw: !readonly,
                propagation: propagation.clone().unwrap_or_else(|| "rprivate".into()),
                ..MountPoint::default()
            }
        }
        MountSpec::Volume {
            name,
            target,
            readonly,
            nocopy,
            ..
        } => {
            let (name, anon) = match name {
                Some(n) => (n.clone(), false),
                None => {
                    let n = new_id();
                    anonymous.push(n.clone());
                    (n, true)
                }
            };
            let mut mode = Vec::new();
            if *readonly {
                mode.push("ro");
            }
            if *nocopy {
                mode.push("nocopy");
            }
            MountPoint {
                kind: "volume".into(),
                name,
                destination: clean(target),
                driver: "local".into(),
                mode: mode.join(","),
                rw: !readonly,
                anonymous: anon,
                ..MountPoint::default()
            }
        }
        MountSpec::Tmpfs {
            target,
            size,
            mode,
            options,
        } => {
            let mut opts: Vec<String> = options.clone();
            if let Some(s) = size {
                opts.push(format!("size={s}"));
            }
            if let Some(m) = mode {
                opts.push(format!("mode={m:o}"));
            }
            MountPoint {
                kind: "tmpfs".into(),
                destination: clean(target),
                mode: opts.join(","),
                rw: !options.iter().any(|o| o == "ro"),
                ..MountPoint::default()
            }
        }
    })
}
