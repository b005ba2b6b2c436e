//! `strata tag SOURCE TARGET`.

use std::process::ExitCode;

use anyhow::Result;
use strata_store::Store;

use crate::cli::TagArgs;

pub(crate) fn run(store: &Store, args: TagArgs) -> Result<ExitCode> {
    store.tag(&args.source, &args.target)?;
    Ok(ExitCode::SUCCESS)
}
