//! `pull`, `push`, `login` and `logout`, printing Docker's lines over
//! `strata_registry_client`.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Result;
use strata_core::{Platform, Reference};
use strata_registry_client::{
    Client, ClientOptions, Credentials, DockerConfig, Event, PullOptions, server_key,
};
use strata_store::Store;

use crate::cli::{LoginArgs, LogoutArgs, PullArgs, PushArgs};
use crate::commands::terminal;

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

/// The registry domain of a `login`/`logout` argument: Docker Hub by
/// default; a URL loses its scheme and path.
fn registry_domain(server: Option<&str>) -> String {
    let Some(s) = server else {
        return "docker.io".into();
    };
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let s = s.split('/').next().unwrap_or(s);
    match s {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".into(),
        other => other.to_owned(),
    }
}

/// One line from standard input, without its end.
fn read_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

pub(crate) fn login(args: LoginArgs) -> Result<ExitCode> {
    let domain = registry_domain(args.server.as_deref());
    let mut err = std::io::stderr();
    if args.password.is_some() {
        writeln!(
            err,
            "WARNING! Using --password via the CLI is insecure. Use --password-stdin."
        )?;
    }
    let interactive = terminal::is_terminal(std::io::stdin());
    if args.password_stdin && args.password.is_some() {
        writeln!(
            err,
            "--password and --password-stdin are mutually exclusive"
        )?;
        return Ok(ExitCode::from(1));
    }
    if args.password_stdin && args.username.is_none() {
        writeln!(err, "Must provide --username with --password-stdin")?;
        return Ok(ExitCode::from(1));
    }
    let username = match &args.username {
        Some(u) => u.clone(),
        None if interactive => {
            write!(std::io::stdout(), "Username: ")?;
            std::io::stdout().flush()?;
            read_line()?
        }
        None => {
            writeln!(
                err,
                "Error: Cannot perform an interactive login from a non TTY device"
            )?;
            return Ok(ExitCode::from(1));
        }
    };
    let secret = match (&args.password, args.password_stdin) {
        (Some(p), _) => p.clone(),
        (None, true) => {
            let mut all = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut all)?;
            all.trim_end_matches(['\n', '\r']).to_owned()
        }
        (None, false) if interactive => {
            write!(std::io::stdout(), "Password: ")?;
            std::io::stdout().flush()?;
            let quiet = terminal::TerminalMode::no_echo();
            let line = read_line()?;
            drop(quiet);
            writeln!(std::io::stdout())?;
            line
        }
        (None, false) => {
            writeln!(
                err,
                "Error: Cannot perform an interactive login from a non TTY device"
            )?;
            return Ok(ExitCode::from(1));
        }
    };
    let creds = Credentials { username, secret };
    let client = Client::new(ClientOptions::default())?;
    if let Err(e) = client.check_login(&domain, &creds) {
        return fail(e);
    }
    let path = DockerConfig::default_path();
    let mut config = DockerConfig::load(&path)?;
    config.store(&domain, &creds)?;
    writeln!(
        err,
        "WARNING! Your password will be stored unencrypted in {}.",
        path.display()
    )?;
    writeln!(std::io::stdout(), "Login Succeeded")?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn logout(args: LogoutArgs) -> Result<ExitCode> {
    let domain = registry_domain(args.server.as_deref());
    let key = server_key(&domain);
    let mut config = DockerConfig::load(&DockerConfig::default_path())?;
    if config.erase(&domain)? {
        writeln!(std::io::stdout(), "Removing login credentials for {key}")?;
    } else {
        writeln!(std::io::stdout(), "Not logged in to {key}")?;
    }
    Ok(ExitCode::SUCCESS)
}
