//! `strata volume create|ls|inspect|rm|prune` and `strata commit`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::{Value, json};
use strata_container::{ContainerError, Definition, volumes};
use strata_store::{Store, VolumeRecord};

use crate::cli::{
    CommitArgs, VolumeCreateArgs, VolumeInspectArgs, VolumeLsArgs, VolumePruneArgs, VolumeRmArgs,
};
use crate::commands::run::find;
use crate::output::{self, FormatSpec};

fn labels(args: &[String]) -> Vec<(String, String)> {
    args.iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (l.clone(), String::new()),
        })
        .collect()
}

fn value(store: &Store, v: &VolumeRecord) -> Value {
    let labels: Value = serde_json::from_str(&v.labels).unwrap_or(Value::Null);
    let ns = v.created_ns;
    json!({
        "CreatedAt": strata_core::Timestamp::from_unix(ns / 1_000_000_000, 0).to_string(),
        "Driver": "local",
        "Labels": if labels.as_object().is_some_and(|o| o.is_empty()) { Value::Null } else { labels },
        "Mountpoint": volumes::data_dir(store, &v.name),
        "Name": v.name,
        "Options": Value::Null,
        "Scope": "local",
    })
}

pub(crate) fn create(store: &Store, args: VolumeCreateArgs) -> Result<ExitCode> {
    if args.driver != "local" {
        writeln!(
            std::io::stderr(),
            "Error response from daemon: create {}: error looking up volume plugin {}: plugin \"{}\" not found",
            args.name.as_deref().unwrap_or_default(),
            args.driver,
            args.driver
        )?;
        return Ok(ExitCode::from(1));
    }
    match volumes::create(store, args.name.as_deref(), &labels(&args.label)) {
        Ok(v) => {
            writeln!(std::io::stdout(), "{}", v.name)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            writeln!(std::io::stderr(), "Error response from daemon: {e}")?;
            Ok(ExitCode::from(1))
        }
    }
}

pub(crate) fn ls(store: &Store, args: VolumeLsArgs) -> Result<ExitCode> {
    let mut rows = Vec::new();
    for v in store.volumes()? {
        let mut keep = true;
        for f in &args.filter {
            let (k, val) = f.split_once('=').unwrap_or((f, ""));
            keep &= match k {
                "dangling" => {
                    let unused = store.volume_users(&v.name)?.is_empty();
                    unused == matches!(val, "true" | "1")
                }
                "name" => v.name.contains(val),
                "label" => v.labels.contains(&format!(
                    "\"{}\"",
                    val.split('=').next().unwrap_or_default()
                )),
                other => {
                    writeln!(
                        std::io::stderr(),
                        "Error response from daemon: invalid filter '{other}'"
                    )?;
                    return Ok(ExitCode::from(1));
                }
            };
        }
        if keep {
            rows.push(value(store, &v));
        }
    }
    rows.sort_by(|a, b| a["Name"].as_str().cmp(&b["Name"].as_str()));
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for r in &rows {
            writeln!(out, "{}", r["Name"].as_str().unwrap_or_default())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let header = json!({"Driver": "DRIVER", "Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT", "Scope": "SCOPE", "CreatedAt": "CREATED", "Labels": "LABELS"});
    let spec = FormatSpec {
        default_table: "table {{.Driver}}\t{{.Name}}",
        header: &header,
    };
    out.write_all(output::render(args.format.as_deref(), &spec, &rows)?.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn inspect(store: &Store, args: VolumeInspectArgs) -> Result<ExitCode> {
    let mut values = Vec::new();
    let mut failed = false;
    for name in &args.volumes {
        match store.volume(name)? {
            Some(v) => values.push(value(store, &v)),
            None => {
                writeln!(
                    std::io::stderr(),
                    "Error response from daemon: get {name}: no such volume"
                )?;
                failed = true;
            }
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format.as_deref() {
        None | Some("") | Some("json") => writeln!(out, "{}", output::to_go_json_pretty(&values))?,
        Some(f) => {
            let tmpl = strata_format::Template::parse(&strata_format::unescape_cli(f))?;
            for v in &values {
                writeln!(out, "{}", tmpl.render(v)?)?;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn rm(store: &Store, args: VolumeRmArgs) -> Result<ExitCode> {
    crate::commands::containers::each(&args.volumes, |name| match volumes::remove(store, name) {
        Err(ContainerError::Store(strata_store::StoreError::VolumeNotFound(_))) if args.force => {
            Ok(())
        }
        other => other,
    })
}

pub(crate) fn prune(store: &Store, args: VolumePruneArgs) -> Result<ExitCode> {
    let what = if args.all {
        "WARNING! This will remove all local volumes not used by at least one container."
    } else {
        "WARNING! This will remove anonymous local volumes not used by at least one container."
    };
    if !args.force
        && !crate::commands::confirm(&format!(
            "{what}\nAre you sure you want to continue? [y/N] "
        ))?
    {
        return Ok(ExitCode::SUCCESS);
    }
    let (removed, freed) = volumes::prune(store, args.all)?;
    let mut out = std::io::stdout().lock();
    if !removed.is_empty() {
        writeln!(out, "Deleted Volumes:")?;
        for v in &removed {
            writeln!(out, "{v}")?;
        }
        writeln!(out)?;
    }
    writeln!(out, "Total reclaimed space: {}", output::size3(freed))?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn commit(store: &Store, args: CommitArgs) -> Result<ExitCode> {
    let fail = |e: &dyn std::fmt::Display| {
        let _ = writeln!(std::io::stderr(), "Error response from daemon: {e}");
        Ok(ExitCode::from(1))
    };
    let rec = match find(store, &args.container) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let reference = match args
        .reference
        .as_deref()
        .map(str::parse::<strata_core::Reference>)
        .transpose()
    {
        Ok(r) => r.map(strata_core::Reference::with_default_tag),
        Err(e) => return fail(&e),
    };
    let def = Definition::from_json(&rec.spec)?;
    let mut config = strata_container::commit::container_config(&def);
    if let Err(e) = crate::changes::apply_to(&mut config, &args.change) {
        return fail(&e);
    }
    let parts = strata_container::rootfs::ImageParts::read(store, &rec.image, &rec.image_manifest)?;
    let upper = strata_container::rootfs::upper_dir(store, &rec.id)?;
    let opts = strata_container::commit::CommitOptions {
        reference,
        author: args.author.clone(),
        message: args.message.clone(),
    };
    match strata_container::commit::commit(store, &rec.id, &parts, &upper, &def, config, &opts) {
        Ok(image) => {
            writeln!(std::io::stdout(), "{}", image.id)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => fail(&e),
    }
}
