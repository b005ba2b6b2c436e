//! `strata image inspect IMAGE...`: a JSON array shaped like Docker's, with
//! fields in Docker's order, or one `--format` line per image.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use serde::Serialize;
use serde_json::Value;
use strata_core::{ContainerConfig, Descriptor, Timestamp};
use strata_format::{Template, unescape_cli};
use strata_store::{ImageRecord, Store, StoreError};

use crate::cli::InspectArgs;
use crate::output::to_go_json_pretty;

/// Go's zero time, which Docker prints for unknown times.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Inspect {
    id: String,
    repo_tags: Vec<String>,
    repo_digests: Vec<String>,
    parent: String,
    comment: String,
    created: String,
    docker_version: String,
    author: String,
    config: Option<DockerConfig>,
    architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
    os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    os_version: Option<String>,
    size: u64,
    virtual_size: u64,
    #[serde(rename = "RootFS")]
    root_fs: RootFs,
    metadata: Metadata,
    descriptor: Descriptor,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RootFs {
    #[serde(rename = "Type")]
    kind: String,
    layers: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    last_tag_time: String,
}

/// The image config as Docker 20.10's inspect shows it: every field
/// present, `null` when unset, except those Docker omits when empty.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DockerConfig {
    hostname: Value,
    domainname: Value,
    user: String,
    attach_stdin: Value,
    attach_stdout: Value,
    attach_stderr: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    exposed_ports: Option<BTreeMap<String, Value>>,
    tty: Value,
    open_stdin: Value,
    stdin_once: Value,
    env: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    healthcheck: Option<strata_core::HealthConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args_escaped: Option<bool>,
    image: Value,
    volumes: Option<BTreeMap<String, Value>>,
    working_dir: String,
    entrypoint: Option<Vec<String>>,
    on_build: Option<Vec<String>>,
    labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_timeout: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shell: Option<Vec<String>>,
}

fn docker_config(c: &ContainerConfig) -> DockerConfig {
    let extra = |k: &str, default: Value| c.extra.get(k).cloned().unwrap_or(default);
    DockerConfig {
        hostname: extra("Hostname", "".into()),
        domainname: extra("Domainname", "".into()),
        user: c.user.clone().unwrap_or_default(),
        attach_stdin: extra("AttachStdin", false.into()),
        attach_stdout: extra("AttachStdout", false.into()),
        attach_stderr: extra("AttachStderr", false.into()),
        exposed_ports: c.exposed_ports.clone(),
        tty: extra("Tty", false.into()),
        open_stdin: extra("OpenStdin", false.into()),
        stdin_once: extra("StdinOnce", false.into()),
        env: c.env.clone(),
        cmd: c.cmd.clone(),
        healthcheck: c.healthcheck.clone(),
        args_escaped: c.args_escaped,
        image: extra("Image", "".into()),
        volumes: c.volumes.clone(),
        working_dir: c.working_dir.clone().unwrap_or_default(),
        entrypoint: c.entrypoint.clone(),
        on_build: c.on_build.clone(),
        labels: c.labels.clone(),
        stop_signal: c.stop_signal.clone(),
        stop_timeout: c.stop_timeout,
        shell: c.shell.clone(),
    }
}

fn go_time(s: Option<&str>) -> String {
    s.and_then(|c| c.parse::<Timestamp>().ok())
        .map(|t| t.to_string())
        .unwrap_or_else(|| ZERO_TIME.to_owned())
}

fn inspect(store: &Store, image: &ImageRecord) -> Result<Inspect> {
    let config = store.config(image)?;
    let names = store.names_of(&image.id)?;
    let text = |k: &str| {
        config
            .extra
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let last_tag = names.iter().map(|n| n.updated_unix).max();
    Ok(Inspect {
        id: image.id.to_string(),
        repo_tags: names
            .iter()
            .filter(|n| n.is_tag())
            .map(|n| n.reference.familiar_string())
            .collect(),
        repo_digests: names
            .iter()
            .filter(|n| !n.is_tag())
            .map(|n| n.reference.familiar_string())
            .collect(),
        parent: image
            .parent
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        comment: text("comment"),
        created: go_time(config.created.as_deref()),
        docker_version: text("docker_version"),
        author: config.author.clone().unwrap_or_default(),
        config: config.config.as_ref().map(docker_config),
        architecture: config.architecture.clone(),
        variant: config.variant.clone(),
        os: config.os.clone(),
        os_version: config.os_version.clone(),
        size: image.size,
        virtual_size: image.size,
        root_fs: RootFs {
            kind: config.rootfs.kind.clone(),
            layers: config
                .rootfs
                .diff_ids
                .iter()
                .map(ToString::to_string)
                .collect(),
        },
        metadata: Metadata {
            last_tag_time: last_tag
                .map(|t| Timestamp::from_unix(t, 0).to_string())
                .unwrap_or_else(|| ZERO_TIME.to_owned()),
        },
        descriptor: image.manifest.clone(),
    })
}

pub(crate) fn run(store: &Store, args: InspectArgs) -> Result<ExitCode> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for name in &args.images {
        match store.resolve(name) {
            Ok(image) => found.push(inspect(store, &image)?),
            // The CLI reports the name as typed, unlike the daemon.
            Err(StoreError::ImageNotFound(_)) => errors.push(format!("No such image: {name}")),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => writeln!(out, "{}", to_go_json_pretty(&found))?,
        Some(f) => {
            let tmpl = Template::parse(&unescape_cli(f)).context("template parsing error")?;
            for item in &found {
                let value = serde_json::to_value(item)?;
                writeln!(
                    out,
                    "{}",
                    tmpl.render(&value).context("template parsing error")?
                )?;
            }
        }
    }
    if errors.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(anyhow!(errors.join("\n")))
    }
}
