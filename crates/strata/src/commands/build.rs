//! `strata build [OPTIONS] CONTEXT|-`, with Docker's flags.
//!
//! The context is a directory, or `-`: a tarball (plain or compressed) or a
//! bare Dockerfile on standard input. The ignore file is the Dockerfile's
//! own `<Dockerfile>.dockerignore` when it exists, else the context's
//! `.dockerignore`. Progress goes to standard error; `-q` prints only the
//! image ID on standard output.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use strata_builder::{BuildRequest, NetworkMode, Progress, Silent, StoreImages};
use strata_core::{Platform, Reference};
use strata_store::Store;

use crate::cli::BuildArgs;
use crate::env;
use crate::output::PlainProgress;

fn read_stdin() -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin().lock().read_to_end(&mut buf)?;
    Ok(buf)
}

/// Whether `data` is a tar stream (possibly compressed).
fn looks_like_tar(data: &[u8]) -> bool {
    let mut head = Vec::new();
    let reader: Box<dyn Read + '_> = match strata_core::Compression::sniff(data) {
        strata_core::Compression::Gzip => Box::new(flate2::read::GzDecoder::new(data)),
        strata_core::Compression::Zstd => match zstd::stream::read::Decoder::new(data) {
            Ok(d) => Box::new(d),
            Err(_) => return false,
        },
        strata_core::Compression::None => Box::new(data),
    };
    let _ = reader.take(512).read_to_end(&mut head);
    strata_builder::is_tar_header(&head)
}

fn unpack_context(data: &[u8], dir: &Path) -> Result<()> {
    let reader: Box<dyn Read + '_> = match strata_core::Compression::sniff(data) {
        strata_core::Compression::Gzip => Box::new(flate2::read::GzDecoder::new(data)),
        strata_core::Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(data)?),
        strata_core::Compression::None => Box::new(data),
    };
    let mut ar = tar::Archive::new(reader);
    ar.set_preserve_permissions(true);
    ar.unpack(dir)
        .context("unpacking the build context from stdin")?;
    Ok(())
}

fn key_values(items: &[String], what: &str, from_env: bool) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in items {
        match item.split_once('=') {
            Some((k, v)) => {
                out.insert(k.to_owned(), v.to_owned());
            }
            None if from_env => {
                // `--build-arg NAME` takes the value from the environment.
                if let Ok(v) = std::env::var(item) {
                    out.insert(item.clone(), v);
                }
            }
            None => bail!("invalid {what} {item:?}: expected KEY=VALUE"),
        }
    }
    Ok(out)
}

fn secrets(specs: &[String], scratch: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let mut out = BTreeMap::new();
    for (n, spec) in specs.iter().enumerate() {
        let mut id = None;
        let mut src = None;
        for field in spec.split(',') {
            let (k, v) = field.split_once('=').unwrap_or((field, ""));
            match k {
                "id" => id = Some(v.to_owned()),
                "src" | "source" => src = Some(PathBuf::from(v)),
                "env" => {
                    let value =
                        std::env::var(v).with_context(|| format!("secret env {v} is not set"))?;
                    let path = scratch.join(format!("secret-{n}"));
                    fs_err::write(&path, value)?;
                    src = Some(path);
                }
                "type" => {}
                other => bail!("unexpected key '{other}' in '{spec}'"),
            }
        }
        let id = id.ok_or_else(|| anyhow::anyhow!("secret {spec:?} needs an id"))?;
        let src = match src {
            Some(s) => s,
            // Docker falls back to an environment variable named like the id.
            None => {
                let value = std::env::var(&id).with_context(|| {
                    format!("secret {id}: no src and no environment variable {id}")
                })?;
                let path = scratch.join(format!("secret-{n}"));
                fs_err::write(&path, value)?;
                path
            }
        };
        if !src.exists() {
            bail!(
                "failed to stat {}: no such file or directory",
                src.display()
            );
        }
        out.insert(id, src);
    }
    Ok(out)
}

pub(crate) fn run(store: &Store, args: BuildArgs) -> Result<ExitCode> {
    let scratch = tempfile::Builder::new().prefix("strata-build-").tempdir()?;
    let (context, dockerfile, name, disk_path) = if args.context == "-" {
        let data = read_stdin()?;
        let ctx = scratch.path().join("context");
        fs_err::create_dir_all(&ctx)?;
        if looks_like_tar(&data) {
            unpack_context(&data, &ctx)?;
            let rel = args.file.clone().unwrap_or_else(|| "Dockerfile".into());
            let path = ctx.join(&rel);
            let text = fs_err::read_to_string(&path).context("failed to read dockerfile")?;
            (ctx, text, rel, Some(path))
        } else {
            (
                ctx,
                String::from_utf8(data).context("the Dockerfile on stdin is not UTF-8")?,
                "Dockerfile".into(),
                None,
            )
        }
    } else {
        let ctx = PathBuf::from(&args.context);
        if !ctx.is_dir() {
            bail!(
                "unable to prepare context: path {:?} not found",
                args.context
            );
        }
        match args.file.as_deref() {
            Some("-") => (
                ctx,
                String::from_utf8(read_stdin()?).context("the Dockerfile on stdin is not UTF-8")?,
                "Dockerfile".into(),
                None,
            ),
            other => {
                let path = match other {
                    Some(f) => PathBuf::from(f),
                    None => ctx.join("Dockerfile"),
                };
                let text = fs_err::read_to_string(&path).context("failed to read dockerfile")?;
                let shown = other.unwrap_or("Dockerfile").to_owned();
                (ctx, text, shown, Some(path))
            }
        }
    };
    let own_ignore = disk_path
        .as_ref()
        .map(|p| PathBuf::from(format!("{}.dockerignore", p.display())));
    let ignore_path = own_ignore
        .filter(|p| p.is_file())
        .unwrap_or_else(|| context.join(".dockerignore"));
    let dockerignore = if ignore_path.is_file() {
        Some(fs_err::read_to_string(&ignore_path)?)
    } else {
        None
    };
    let tags = args
        .tag
        .iter()
        .map(|t| {
            Reference::parse_normalized(t)
                .map(Reference::with_default_tag)
                .map_err(|e| anyhow::anyhow!("invalid tag {t:?}: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let epoch = match args.source_date_epoch {
        Some(n) => n,
        None => env::source_date_epoch()?.unwrap_or(0),
    };
    let req = BuildRequest {
        dockerfile,
        dockerfile_name: name,
        context,
        dockerignore,
        tags,
        build_args: key_values(&args.build_arg, "build-arg", true)?,
        target: args.target.clone(),
        no_cache: args.no_cache,
        labels: key_values(&args.label, "label", false)?,
        network: match args.network.as_str() {
            "none" => NetworkMode::None,
            "host" => NetworkMode::Host,
            _ => NetworkMode::Default,
        },
        secrets: secrets(&args.secret, scratch.path())?,
        epoch,
        platform: Platform::host().normalized(),
        runtime: args.runtime.clone(),
    };
    let quiet = args.quiet || args.progress == "quiet";
    let plain = PlainProgress::default();
    let progress: &dyn Progress = if quiet { &Silent } else { &plain };
    let fetcher = crate::fetch::HttpFetcher::new(scratch.path());
    let result = strata_builder::build(store, &req, &StoreImages, &fetcher, progress)?;
    if let Some(f) = &args.iidfile {
        fs_err::write(f, result.image.id.to_string())?;
    }
    if quiet {
        writeln!(std::io::stdout().lock(), "{}", result.image.id)?;
    }
    Ok(ExitCode::SUCCESS)
}
