//! `strata load [-i FILE] [-q]`.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use strata_store::{LoadOptions, Store};

use crate::cli::LoadArgs;
use crate::env;

pub(crate) fn run(store: &Store, args: LoadArgs) -> Result<ExitCode> {
    let opts = LoadOptions {
        limit: env::expansion_limit()?,
    };
    let input: Box<dyn Read> = match &args.input {
        Some(p) => Box::new(fs_err::File::open(p).context("failed to load image")?),
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                bail!("requested load from stdin, but stdin is empty");
            }
            Box::new(stdin.lock())
        }
    };
    let loaded = store.load(input, &opts)?;
    let mut out = std::io::stdout().lock();
    for image in loaded {
        for m in &image.moved {
            writeln!(
                out,
                "The image {} already exists, renaming the old one with ID {} to empty string",
                m.reference.familiar_string(),
                m.from
            )?;
        }
        if image.names.is_empty() {
            writeln!(out, "Loaded image ID: {}", image.image.id)?;
        }
        for n in &image.names {
            writeln!(out, "Loaded image: {}", n.familiar_string())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
