//! `strata ps` and `strata container inspect`: containers as Docker shows
//! them, each record's state made true first (a container whose shim died
//! is shown as exited).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::{Value, json};
use strata_container::Definition;
use strata_container::lifecycle;
use strata_core::Timestamp;
use strata_format::units::human_duration;
use strata_store::{ContainerRecord, ContainerStatus, Store};

use crate::cli::{ContainerInspectArgs, PsArgs};
use crate::output::{self, FormatSpec};

const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

fn secs(ns: Option<i64>) -> i64 {
    ns.unwrap_or(0) / 1_000_000_000
}

fn rfc3339(ns: Option<i64>) -> String {
    match ns {
        Some(ns) if ns > 0 => {
            Timestamp::from_unix(ns / 1_000_000_000, (ns % 1_000_000_000) as u32).to_string()
        }
        _ => "0001-01-01T00:00:00Z".to_owned(),
    }
}

/// Docker's STATUS column.
pub(crate) fn status_text(rec: &ContainerRecord) -> String {
    let now = output::now().unix_secs();
    match rec.status {
        ContainerStatus::Created => "Created".into(),
        ContainerStatus::Running => format!("Up {}", human_duration(now - secs(rec.started_ns))),
        ContainerStatus::Exited if rec.started_ns.is_none() => "Created".into(),
        ContainerStatus::Exited => format!(
            "Exited ({}) {} ago",
            rec.exit_code.unwrap_or(0),
            human_duration(now - secs(rec.finished_ns))
        ),
        ContainerStatus::Restarting => format!(
            "Restarting ({}) {} ago",
            rec.exit_code.unwrap_or(0),
            human_duration(now - secs(rec.finished_ns))
        ),
        ContainerStatus::Dead => "Dead".into(),
    }
}

/// Docker's `State.Status` word.
fn state_word(rec: &ContainerRecord) -> &'static str {
    match rec.status {
        ContainerStatus::Exited if rec.started_ns.is_none() => "created",
        ContainerStatus::Dead => "removing",
        s => s.as_str(),
    }
}

fn command_text(def: &Definition, no_trunc: bool) -> String {
    let text = def.args().join(" ");
    let text = if !no_trunc && text.chars().count() > 20 {
        let cut: String = text.chars().take(19).collect();
        format!("{cut}…")
    } else {
        text
    };
    format!("\"{text}\"")
}

fn matches(rec: &ContainerRecord, def: &Definition, store: &Store, filter: &str) -> Result<bool> {
    let (key, value) = filter.split_once('=').ok_or_else(|| {
        crate::UsageError("bad format of filter (expected name=value)".to_owned())
    })?;
    Ok(match key {
        "status" => {
            const KNOWN: [&str; 7] = [
                "created",
                "restarting",
                "running",
                "removing",
                "paused",
                "exited",
                "dead",
            ];
            if !KNOWN.contains(&value) {
                return Err(crate::UsageError(format!("invalid filter 'status={value}'")).into());
            }
            state_word(rec) == value
        }
        "name" => rec.name.contains(value.trim_start_matches('/')),
        "id" => rec.id.starts_with(value),
        "exited" => {
            rec.status == ContainerStatus::Exited
                && rec.exit_code.map(|c| c.to_string()).as_deref() == Some(value)
        }
        "label" => match value.split_once('=') {
            Some((k, v)) => def.config.labels.get(k).is_some_and(|x| x == v),
            None => def.config.labels.contains_key(value),
        },
        "ancestor" => match store.resolve(value) {
            Ok(img) => img.id == rec.image,
            Err(_) => rec.image_ref == value,
        },
        other => {
            return Err(crate::UsageError(format!("invalid filter '{other}'")).into());
        }
    })
}

pub(crate) fn ps(store: &Store, args: PsArgs) -> Result<ExitCode> {
    let mut rows = Vec::new();
    let mut recs = Vec::new();
    for rec in store.containers()? {
        recs.push(lifecycle::refresh(store, rec.clone()).unwrap_or(rec));
    }
    recs.sort_by_key(|r| std::cmp::Reverse(r.created_ns));
    let all = args.all || args.latest || args.last > 0 || !args.filter.is_empty();
    let mut shown = 0;
    for rec in recs {
        let def = Definition::from_json(&rec.spec).unwrap_or_default();
        if !all && !rec.is_up() {
            continue;
        }
        let mut keep = true;
        for f in &args.filter {
            keep &= matches(&rec, &def, store, f)?;
        }
        if !keep {
            continue;
        }
        if (args.latest && shown >= 1) || (args.last > 0 && shown >= args.last) {
            break;
        }
        shown += 1;
        let id = if args.no_trunc {
            rec.id.clone()
        } else {
            rec.short_id().to_owned()
        };
        let image = if rec.image_ref.is_empty() {
            rec.image.to_string()
        } else {
            rec.image_ref.clone()
        };
        rows.push(json!({
            "ID": id,
            "Image": image,
            "Command": command_text(&def, args.no_trunc),
            "CreatedAt": Timestamp::from_unix(secs(Some(rec.created_ns)), 0).go_string_utc(),
            "RunningFor": format!("{} ago", human_duration(output::now().unix_secs() - secs(Some(rec.created_ns)))),
            "Ports": "",
            "State": state_word(&rec),
            "Status": status_text(&rec),
            "Size": "",
            "Names": rec.name,
            "Labels": def.config.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
            "Mounts": def.mounts.iter().map(|m| if m.name.is_empty() { m.source.clone() } else { m.name.clone() }).collect::<Vec<_>>().join(","),
            "Networks": def.host_config.network_mode,
        }));
    }
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for r in &rows {
            writeln!(out, "{}", r["ID"].as_str().unwrap_or_default())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let header = json!({
        "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
        "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
        "Size": "SIZE", "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS",
    });
    let spec = FormatSpec {
        default_table: DEFAULT_TABLE,
        header: &header,
    };
    out.write_all(output::render(args.format.as_deref(), &spec, &rows)?.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Docker's `container inspect` document for `rec`.
pub(crate) fn inspect_value(store: &Store, rec: &ContainerRecord) -> Value {
    let def = Definition::from_json(&rec.spec).unwrap_or_default();
    let args = def.args();
    let running = rec.is_up();
    let restarting = rec.status == ContainerStatus::Restarting;
    let dir = lifecycle::container_dir(store, &rec.id);
    let snapshots = store.layout().snapshots_dir();
    json!({
        "Id": rec.id,
        "Created": rfc3339(Some(rec.created_ns)),
        "Path": args.first().cloned().unwrap_or_default(),
        "Args": args.iter().skip(1).collect::<Vec<_>>(),
        "State": {
            "Status": state_word(rec),
            "Running": running,
            "Paused": false,
            "Restarting": restarting,
            "OOMKilled": false,
            "Dead": rec.status == ContainerStatus::Dead,
            "Pid": if running && !restarting { rec.pid.unwrap_or(0) } else { 0 },
            "ExitCode": rec.exit_code.unwrap_or(0),
            "Error": rec.error.clone().unwrap_or_default(),
            "StartedAt": rfc3339(rec.started_ns),
            "FinishedAt": rfc3339(rec.finished_ns),
        },
        "Image": rec.image.to_string(),
        "ResolvConfPath": store.layout().runtime_dir().join("bundles").join(&rec.id).join("resolv.conf"),
        "HostnamePath": store.layout().runtime_dir().join("bundles").join(&rec.id).join("hostname"),
        "HostsPath": store.layout().runtime_dir().join("bundles").join(&rec.id).join("hosts"),
        "LogPath": lifecycle::log_path(store, &rec.id),
        "Name": format!("/{}", rec.name),
        "RestartCount": rec.restart_count,
        "Driver": "overlay",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": Value::Null,
        "HostConfig": def.host_config,
        "GraphDriver": {
            "Data": {
                "UpperDir": snapshots.join("active").join(&rec.id).join("upper"),
                "WorkDir": snapshots.join("active").join(&rec.id).join("work"),
                "InitDir": dir.join("init"),
            },
            "Name": "overlay",
        },
        "Mounts": def.mounts,
        "Config": def.config,
        "NetworkSettings": {
            "Networks": { def.host_config.network_mode.clone(): {} },
        },
    })
}

pub(crate) fn inspect(store: &Store, args: ContainerInspectArgs) -> Result<ExitCode> {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for name in &args.containers {
        match store.container_find(name) {
            Ok(rec) => {
                let rec = lifecycle::refresh(store, rec.clone()).unwrap_or(rec);
                values.push(inspect_value(store, &rec));
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format.as_deref() {
        None | Some("") | Some("json") => {
            writeln!(out, "{}", output::to_go_json_pretty(&values))?;
        }
        Some(f) => {
            let tmpl = strata_format::Template::parse(&strata_format::unescape_cli(f))?;
            for v in &values {
                writeln!(out, "{}", tmpl.render(v)?)?;
            }
        }
    }
    for e in &errors {
        writeln!(std::io::stderr(), "Error: {e}")?;
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
