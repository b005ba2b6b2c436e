//! `pull` and `push`, printing Docker's lines over
//! `strata_registry_client`.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Result;
use strata_core::{Platform, Reference};
use strata_registry_client::{Client, ClientOptions, Event, PullOptions};
use strata_store::Store;

use crate::cli::{PullArgs, PushArgs};

/// Prints one progress line, as Docker does without a terminal.
fn printer(quiet: bool) -> impl Fn(Event) + Sync {
    let out = Mutex::new(());
    move |e: Event| {
        if quiet {
            return;
        }
        let (d, what) = match &e {
            Event::AlreadyExists(d) => (d, "Already exists"),
            Event::Downloading(d) => (d, "Pulling fs layer"),
            Event::PullComplete(d) => (d, "Pull complete"),
            Event::LayerAlreadyExists(d) => (d, "Layer already exists"),
            Event::Pushing(d) => (d, "Preparing"),
            Event::Pushed(d) => (d, "Pushed"),
        };
        let _guard = out.lock();
        let _ = writeln!(std::io::stdout(), "{}: {what}", &d.hex()[..12]);
    }
}

fn fail(message: impl std::fmt::Display) -> Result<ExitCode> {
    writeln!(std::io::stderr(), "Error response from daemon: {message}")?;
    Ok(ExitCode::from(1))
}

/// The repository as Docker names it in "Pulling from" (`library/x`
/// for Docker Hub, the path elsewhere).
fn repo_path(r: &Reference) -> &str {
    r.path()
}

pub(crate) fn pull(store: &Store, args: PullArgs) -> Result<ExitCode> {
    let reference = match Reference::parse_normalized(&args.name) {
        Ok(r) => r,
        Err(e) => return fail(format!("invalid reference format: {e}")),
    };
    let mut out = std::io::stdout().lock();
    if reference.tag().is_none() && reference.digest().is_none() && !args.quiet {
        writeln!(out, "Using default tag: latest")?;
    }
    let reference = reference.with_default_tag();
    let platform = match args.platform.as_deref().map(str::parse::<Platform>) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => return fail(e),
    };
    if !args.quiet {
        let what = match (reference.digest(), reference.tag()) {
            (Some(d), _) => d.to_string(),
            (None, t) => t.unwrap_or("latest").to_owned(),
        };
        writeln!(out, "{what}: Pulling from {}", repo_path(&reference))?;
    }
    drop(out);
    let client = Client::new(ClientOptions::default())?;
    let opts = PullOptions {
        platform,
        parallel: args.max_concurrent_downloads,
        limit: crate::env::expansion_limit()?,
    };
    let pulled =
        match strata_registry_client::pull(store, &client, &reference, &opts, &printer(args.quiet))
        {
            Ok(p) => p,
            Err(e) => return fail(e),
        };
    let mut out = std::io::stdout().lock();
    if !args.quiet {
        writeln!(out, "Digest: {}", pulled.digest)?;
        let status = if pulled.updated {
            "Downloaded newer image for"
        } else {
            "Image is up to date for"
        };
        writeln!(out, "Status: {status} {}", reference.familiar_string())?;
    }
    writeln!(out, "{}", full_string(&reference))?;
    Ok(ExitCode::SUCCESS)
}

/// `docker.io/library/busybox:latest`: the whole reference.
fn full_string(r: &Reference) -> String {
    let mut s = r.name();
    if let Some(t) = r.tag() {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = r.digest() {
        s.push('@');
        s.push_str(&d.to_string());
    }
    s
}

pub(crate) fn push(store: &Store, args: PushArgs) -> Result<ExitCode> {
    let target = match Reference::parse_normalized(&args.name) {
        Ok(r) => r.with_default_tag(),
        Err(e) => return fail(format!("invalid reference format: {e}")),
    };
    let image = match store.resolve(&target.familiar_string()) {
        Ok(i) => i,
        Err(_) => {
            return fail(format!(
                "An image does not exist locally with the tag: {}",
                target.trimmed().familiar_string()
            ));
        }
    };
    if !args.quiet {
        writeln!(
            std::io::stdout(),
            "The push refers to repository [{}]",
            target.name()
        )?;
    }
    let client = Client::new(ClientOptions::default())?;
    let pushed = match strata_registry_client::push(
        store,
        &client,
        &image,
        &target,
        args.max_concurrent_uploads,
        &printer(args.quiet),
    ) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let mut out = std::io::stdout().lock();
    if args.quiet {
        writeln!(out, "{}", full_string(&target))?;
    } else {
        writeln!(
            out,
            "{}: digest: {} size: {}",
            pushed.reference, pushed.digest, pushed.size
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
