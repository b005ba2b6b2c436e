//! `pull`, `push`, `login` and `logout`, printing Docker's lines over
//! `strata_registry_client`.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Result;
use strata_core::{Platform, Reference};
use strata_registry_client::{
    Client, CopyEvent, CopyOptions, Credentials, DockerConfig, Location, PullOptions, PushOptions,
    server_key,
};
use strata_store::Store;

use crate::cli::{CopyArgs, LoginArgs, LogoutArgs, PullArgs, PushArgs};
use crate::commands::terminal;
use crate::output::{Direction, TransferProgress};

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
    let name_only = reference.tag().is_none() && reference.digest().is_none();
    if args.all_tags && !name_only {
        return usage("tag can't be used with --all-tags/-a");
    }
    if name_only && !args.all_tags && !args.quiet {
        writeln!(std::io::stdout(), "Using default tag: latest")?;
    }
    let platform = match args.platform.as_deref().map(str::parse::<Platform>) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => return fail(e),
    };
    let client = Client::new(crate::env::client_options()?)?;
    let opts = PullOptions {
        platform,
        parallel: args.max_concurrent_downloads,
        limit: crate::env::expansion_limit()?,
    };
    let (wanted, shown) = if args.all_tags {
        let tags = match client.tags(&reference) {
            Ok(t) => t,
            Err(e) => return fail(e),
        };
        let wanted = tags
            .iter()
            .map(|t| reference.with_tag(t))
            .collect::<Result<Vec<_>, _>>()?;
        (wanted, reference.clone())
    } else {
        let r = reference.with_default_tag();
        (vec![r.clone()], r)
    };
    let mut updated = false;
    for one in &wanted {
        let progress = TransferProgress::new(Direction::Pull, args.quiet);
        if !args.quiet {
            let what = match (one.digest(), one.tag()) {
                (Some(d), _) => d.to_string(),
                (None, t) => t.unwrap_or("latest").to_owned(),
            };
            writeln!(std::io::stdout(), "{what}: Pulling from {}", repo_path(one))?;
        }
        let pulled = match strata_registry_client::pull(store, &client, one, &opts, &|e| {
            progress.event(e)
        }) {
            Ok(p) => p,
            // As Docker: with -a, a tag that fails is skipped.
            Err(e) if args.all_tags => {
                writeln!(
                    std::io::stderr(),
                    "Error pulling {}: {e}",
                    one.familiar_string()
                )?;
                continue;
            }
            Err(e) => return fail(e),
        };
        updated |= pulled.updated;
        if !args.quiet {
            writeln!(std::io::stdout(), "Digest: {}", pulled.digest)?;
        }
    }
    let mut out = std::io::stdout().lock();
    if !args.quiet {
        let status = if updated {
            "Downloaded newer image for"
        } else {
            "Image is up to date for"
        };
        writeln!(out, "Status: {status} {}", shown.familiar_string())?;
    }
    writeln!(out, "{}", full_string(&shown))?;
    Ok(ExitCode::SUCCESS)
}

/// A usage error, as Docker's CLI words it.
fn usage(message: &str) -> Result<ExitCode> {
    writeln!(std::io::stderr(), "Error: {message}")?;
    Ok(ExitCode::from(1))
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
        Ok(r) => r,
        Err(e) => return fail(format!("invalid reference format: {e}")),
    };
    let name_only = target.tag().is_none() && target.digest().is_none();
    if args.all_tags && !name_only {
        return usage("tag can't be used with --all-tags/-a");
    }
    if name_only && !args.all_tags && !args.quiet {
        writeln!(std::io::stdout(), "Using default tag: latest")?;
    }
    // Docker 20.10+: a bare name pushes `latest`; `-a` every local tag.
    let targets: Vec<Reference> = if args.all_tags {
        store
            .names()?
            .into_iter()
            .filter(|n| n.is_tag() && n.reference.trimmed() == target)
            .map(|n| n.reference)
            .collect()
    } else {
        vec![target.clone().with_default_tag()]
    };
    let mut images = Vec::new();
    for t in &targets {
        match store.resolve(&t.familiar_string()) {
            Ok(i) => images.push(i),
            Err(_) => {
                return fail(format!(
                    "An image does not exist locally with the tag: {}",
                    t.trimmed().familiar_string()
                ));
            }
        }
    }
    if images.is_empty() {
        return fail(format!(
            "An image does not exist locally with the tag: {}",
            target.familiar_string()
        ));
    }
    if !args.quiet {
        writeln!(
            std::io::stdout(),
            "The push refers to repository [{}]",
            target.name()
        )?;
    }
    let client = Client::new(crate::env::client_options()?)?;
    let opts = PushOptions {
        parallel: args.max_concurrent_uploads,
        chunk_size: args.chunk_size,
    };
    for (t, image) in targets.iter().zip(&images) {
        let progress = TransferProgress::new(Direction::Push, args.quiet);
        let pushed = match strata_registry_client::push(store, &client, image, t, &opts, &|e| {
            progress.event(e)
        }) {
            Ok(p) => p,
            Err(e) => return fail(e),
        };
        if !args.quiet {
            writeln!(
                std::io::stdout(),
                "{}: digest: {} size: {}",
                pushed.reference,
                pushed.digest,
                pushed.size
            )?;
        }
    }
    if args.quiet {
        let shown = if args.all_tags {
            target
        } else {
            target.with_default_tag()
        };
        writeln!(std::io::stdout(), "{}", full_string(&shown))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `copy SRC DST`, printing skopeo's lines.
pub(crate) fn copy(store: &Store, args: CopyArgs) -> Result<ExitCode> {
    let parse = |s: &str| s.parse::<Location>();
    let (src, dst) = match (parse(&args.source), parse(&args.destination)) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(e), _) | (_, Err(e)) => return usage(&e.to_string()),
    };
    let platform = match args.platform.as_deref().map(str::parse::<Platform>) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => return usage(&e.to_string()),
    };
    let quiet = args.quiet;
    let say = |line: String| {
        if !quiet {
            let _ = writeln!(std::io::stdout(), "{line}");
        }
    };
    say("Getting image source signatures".into());
    let client = Client::new(crate::env::client_options()?)?;
    let opts = CopyOptions {
        all: args.all,
        platform,
        parallel: 3,
        limit: crate::env::expansion_limit()?,
    };
    let out = Mutex::new(());
    let progress = |e: CopyEvent| {
        let _guard = out.lock();
        say(match e {
            CopyEvent::Images(n) => format!("Copying {n} images generated from {n} images in list"),
            CopyEvent::Image(d, i, n) => format!("Copying image {d} ({i}/{n})"),
            CopyEvent::Blob(d, false) => format!("Copying blob {d}"),
            CopyEvent::Blob(d, true) => format!("Copying blob {d} skipped: already exists"),
            CopyEvent::Config(d, false) => format!("Copying config {d}"),
            CopyEvent::Config(d, true) => format!("Copying config {d} skipped: already exists"),
            CopyEvent::WritingManifest => "Writing manifest to image destination".into(),
        })
    };
    match strata_registry_client::copy(store, &client, &src, &dst, &opts, &progress) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            writeln!(std::io::stderr(), "Error: copying {}: {e}", args.source)?;
            Ok(ExitCode::from(1))
        }
    }
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
    let client = Client::new(crate::env::client_options()?)?;
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
