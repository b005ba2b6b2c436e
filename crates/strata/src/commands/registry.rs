//! `strata registry serve` and `strata registry gc`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use strata_registry::{Config, Registry};
use strata_store::Store;

use crate::cli::{RegistryGcArgs, RegistryServeArgs};

fn load_config(file: Option<&PathBuf>) -> Result<Config> {
    match file {
        Some(f) => {
            let text = fs_err::read_to_string(f)?;
            Ok(Config::from_toml(&text).with_context(|| format!("reading {}", f.display()))?)
        }
        None => Ok(Config::default()),
    }
}

fn open_store(root: Option<PathBuf>, config: &Config) -> Result<Store> {
    let root = root
        .or_else(|| config.root.clone())
        .unwrap_or_else(Store::default_root);
    Store::open(&root).with_context(|| format!("opening the store at {}", root.display()))
}

pub(crate) fn serve(root: Option<PathBuf>, args: RegistryServeArgs) -> Result<ExitCode> {
    let config = load_config(args.config.as_ref())?;
    let store = open_store(root, &config)?;
    let addr = args
        .addr
        .or_else(|| config.addr.clone())
        .unwrap_or_else(|| "127.0.0.1:5000".to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let local = listener.local_addr()?;
        let registry = Registry::new(store.clone(), config);
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "strata registry listening on http://{local} (store {})",
            store.layout().root().display()
        )?;
        drop(err);
        let shutdown = async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        };
        registry.serve(listener, shutdown).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn gc(root: Option<PathBuf>, args: RegistryGcArgs) -> Result<ExitCode> {
    let config = load_config(args.config.as_ref())?;
    let store = open_store(root, &config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (plan, report) =
        runtime.block_on(strata_registry::collect(&store, &config, args.dry_run))?;
    let mut out = std::io::stdout().lock();
    let verb = if args.dry_run {
        "would drop"
    } else {
        "dropped"
    };
    for (t, why) in &plan.tags {
        writeln!(out, "{verb} tag {}:{} ({why})", t.repo, t.tag)?;
    }
    for (repo, d) in &plan.manifests {
        writeln!(out, "{verb} manifest {repo}@{d} (untagged)")?;
    }
    let verb = if args.dry_run {
        "would unlink"
    } else {
        "unlinked"
    };
    for (repo, d) in &report.unlinked {
        writeln!(out, "{verb} {repo}@{d}")?;
    }
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    for (d, size) in &report.removed_blobs {
        writeln!(
            out,
            "{verb} {d} ({})",
            strata_format::units::human_size(*size as f64)
        )?;
    }
    let total = strata_format::units::human_size(report.freed_bytes() as f64);
    if args.dry_run {
        writeln!(out, "Would reclaim: {total}")?;
    } else {
        writeln!(out, "Total reclaimed space: {total}")?;
    }
    Ok(ExitCode::SUCCESS)
}
