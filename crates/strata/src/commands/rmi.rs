//! `strata rmi [-f] IMAGE...`: Docker's `Untagged:` / `Deleted:` lines;
//! errors for some arguments do not stop the others. With `-f`, a missing
//! image is reported but does not fail the command.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use strata_core::{Categorized, ErrorCategory};
use strata_store::{DeleteRecord, Store};

use crate::cli::RmiArgs;

pub(crate) fn run(store: &Store, args: RmiArgs) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mut errors = Vec::new();
    let mut fatal = false;
    let mut deleted_any = false;
    for image in &args.images {
        match store.remove_image(image, args.force) {
            Ok(records) => {
                for r in records {
                    match r {
                        DeleteRecord::Untagged(n) => {
                            writeln!(out, "Untagged: {}", n.familiar_string())?
                        }
                        DeleteRecord::Deleted(d) => {
                            deleted_any = true;
                            writeln!(out, "Deleted: {d}")?
                        }
                    }
                }
            }
            Err(e) => {
                fatal |= e.category() != ErrorCategory::NotFound;
                errors.push(e.to_string());
            }
        }
    }
    if deleted_any {
        store.gc(false)?;
    }
    if errors.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let msg = errors.join("\n");
    if !args.force || fatal {
        return Err(anyhow!(msg));
    }
    writeln!(std::io::stderr(), "Error: {msg}")?;
    Ok(ExitCode::SUCCESS)
}
