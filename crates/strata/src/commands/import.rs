//! `strata import FILE|- [REPOSITORY[:TAG]] [-c CHANGE]... [-m MSG]`.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use strata_core::{Platform, Reference, Timestamp};
use strata_store::{ImportOptions, Store};

use crate::cli::ImportArgs;
use crate::{changes, env, output};

pub(crate) fn run(store: &Store, args: ImportArgs) -> Result<ExitCode> {
    let names = match &args.reference {
        Some(r) => vec![Reference::parse_normalized(r)?.with_default_tag()],
        None => Vec::new(),
    };
    if names.iter().any(|n| n.digest().is_some()) {
        bail!("refusing to create a tag with a digest reference");
    }
    let platform = match &args.platform {
        Some(p) => p.parse::<Platform>()?,
        None => Platform::host().normalized(),
    };
    let created = match env::source_date_epoch()? {
        Some(secs) => Timestamp::from_unix(secs, 0),
        None => output::now(),
    };
    let config = changes::apply(&args.change)?;
    let input: Box<dyn Read> = match args.file.as_str() {
        "-" => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                bail!("requested import from stdin, but stdin is a terminal");
            }
            Box::new(stdin.lock())
        }
        f if f.starts_with("http://") || f.starts_with("https://") => {
            bail!("importing from a URL is not supported; download the tarball first")
        }
        f => Box::new(fs_err::File::open(f).context("import failed")?),
    };
    let opts = ImportOptions {
        config: Some(config),
        // Docker records this when no message is given (the CLI always
        // streams the tarball, so the source is "-").
        message: Some(
            args.message
                .clone()
                .unwrap_or_else(|| "Imported from -".to_owned()),
        ),
        created,
        platform,
        names,
        limit: env::expansion_limit()?,
    };
    let (image, _) = store.import(input, &opts)?;
    writeln!(std::io::stdout().lock(), "{}", image.id)?;
    Ok(ExitCode::SUCCESS)
}
