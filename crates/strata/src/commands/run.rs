//! `strata run [OPTIONS] IMAGE [COMMAND [ARG...]]`, in the foreground.
//!
//! The container's root is an overlay of the image's layers (unpacked once
//! into shared snapshots) with a fresh writable layer, removed when the
//! process ends. Exit status is the container's; 125 when strata itself
//! fails, 126/127 when the command cannot be run, as with Docker.
//! (Detached containers, names, logs and the rest of the lifecycle come
//! with the container management commands.)

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use strata_core::chain_ids;
use strata_runtime::{Mount, Network, Process, RunRequest, Stream};
use strata_snapshot::{MergedView, Snapshots};
use strata_store::Store;

use crate::cli::RunArgs;

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub(crate) fn run(store: &Store, args: RunArgs) -> Result<ExitCode> {
    match run_container(store, &args) {
        Ok(code) => Ok(code),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "Error: {e:#}");
            Ok(ExitCode::from(125))
        }
    }
}

/// `uid[:gid]` or `name[:group]` from the image's passwd and group files.
fn resolve_user(view: &MergedView, spec: &str) -> Result<(u32, u32)> {
    let table = |path: &str| -> Vec<Vec<String>> {
        let Ok(mut f) = view.open(std::path::Path::new(path)) else {
            return Vec::new();
        };
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut f, &mut text);
        text.lines()
            .map(|l| l.split(':').map(str::to_owned).collect())
            .collect()
    };
    let (user, group) = spec
        .split_once(':')
        .map_or((spec, None), |(u, g)| (u, Some(g)));
    let passwd = table("/etc/passwd");
    let (uid, primary) = match user.parse::<u32>() {
        Ok(n) => (
            n,
            passwd
                .iter()
                .find(|f| f.get(2).map(String::as_str) == Some(user))
                .and_then(|f| f.get(3)?.parse().ok())
                .unwrap_or(0),
        ),
        Err(_) => {
            let f = passwd
                .iter()
                .find(|f| f.first().map(String::as_str) == Some(user))
                .with_context(|| {
                    format!("unable to find user {user}: no matching entries in passwd file")
                })?;
            (
                f.get(2).and_then(|v| v.parse().ok()).unwrap_or(0),
                f.get(3).and_then(|v| v.parse().ok()).unwrap_or(0),
            )
        }
    };
    let gid = match group {
        None | Some("") => primary,
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => table("/etc/group")
                .iter()
                .find(|f| f.first().map(String::as_str) == Some(g))
                .and_then(|f| f.get(2)?.parse().ok())
                .with_context(|| format!("unable to find group {g}"))?,
        },
    };
    Ok((uid, gid))
}

fn run_container(store: &Store, args: &RunArgs) -> Result<ExitCode> {
    let image = store.resolve(&args.image)?;
    let config = store.config(&image)?;
    let manifest = store.manifest(&image)?;
    let snapshots = Snapshots::open(&store.layout().snapshots_dir())?;
    let chains = chain_ids(&config.rootfs.diff_ids);
    let mut lowers: Vec<PathBuf> = Vec::new();
    for (chain, layer) in chains.iter().zip(&manifest.layers) {
        let dir = match snapshots.committed(chain) {
            Some(d) => d,
            None => {
                let blob = store.open_blob(&layer.digest)?;
                let reader: Box<dyn std::io::Read> = match layer.media_type.layer_compression() {
                    Some(strata_core::Compression::Gzip) => Box::new(
                        flate2::read::MultiGzDecoder::new(std::io::BufReader::new(blob)),
                    ),
                    Some(strata_core::Compression::Zstd) => {
                        Box::new(zstd::stream::read::Decoder::new(blob)?)
                    }
                    _ => Box::new(blob),
                };
                snapshots.unpack_over(chain, &lowers, reader)?
            }
        };
        lowers.push(dir);
    }
    let c = config.config.clone().unwrap_or_default();
    let mut argv: Vec<String> = match &args.entrypoint {
        Some(e) if e.is_empty() => Vec::new(),
        Some(e) => vec![e.clone()],
        None => c.entrypoint.clone().unwrap_or_default(),
    };
    if args.command.is_empty() {
        if args.entrypoint.is_none() {
            argv.extend(c.cmd.clone().unwrap_or_default());
        }
    } else {
        argv.extend(args.command.iter().cloned());
    }
    if argv.is_empty() {
        bail!("no command specified");
    }
    let mut env = c.env.clone().unwrap_or_default();
    for e in &args.env {
        let value = if e.contains('=') {
            e.clone()
        } else {
            format!("{e}={}", std::env::var(e).unwrap_or_default())
        };
        let key = value.split('=').next().unwrap_or_default().to_owned();
        env.retain(|x| x.split('=').next() != Some(&key));
        env.push(value);
    }
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.push(format!("PATH={DEFAULT_PATH}"));
    }
    let view = MergedView::new(lowers.clone());
    let user = args
        .user
        .clone()
        .or(c.user.clone())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "root".into());
    let (uid, gid) = resolve_user(&view, &user)?;
    let id = format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    );
    let active = snapshots.prepare(&format!("run-{id}"), &lowers)?;
    let hostname = args.hostname.clone().unwrap_or_else(|| id[..12].to_owned());
    let rootfs = [Mount {
        destination: "/".into(),
        kind: active.mount.kind.clone(),
        source: active.mount.source.clone(),
        options: active.mount.absolute_options(),
    }];
    let req = RunRequest {
        id: &id,
        state_dir: &store.layout().runtime_dir(),
        rootfs: &rootfs,
        mounts: &[],
        process: Process {
            args: argv,
            env,
            cwd: args
                .workdir
                .clone()
                .or(c.working_dir.clone())
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "/".into()),
            uid,
            gid,
            additional_gids: Vec::new(),
        },
        network: if args.network == "none" {
            Network::None
        } else {
            Network::Host
        },
        hostname: &hostname,
        readonly_rootfs: args.read_only,
        runtime: &args.runtime,
    };
    let status = strata_runtime::run(&req, &mut |stream, data| {
        let _ = match stream {
            Stream::Stdout => std::io::stdout().lock().write_all(data),
            Stream::Stderr => std::io::stderr().lock().write_all(data),
        };
    });
    snapshots.remove(active)?;
    let status = status?;
    let _ = std::io::stdout().flush();
    Ok(ExitCode::from(
        status.code().unwrap_or(125).clamp(0, 255) as u8
    ))
}
