//! `strata image prune [-a] [-f]` and `strata system prune`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use strata_store::{DeleteRecord, Store};

use crate::cli::PruneArgs;
use crate::output;

const DANGLING_WARNING: &str = "WARNING! This will remove all dangling images.";
const ALL_WARNING: &str =
    "WARNING! This will remove all images without at least one container associated to them.";

pub(crate) fn run(store: &Store, args: PruneArgs, system: bool) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if !args.force {
        let warning = if system {
            "WARNING! This will remove:\n  - all dangling images\n  - all unused blobs"
        } else if args.all {
            ALL_WARNING
        } else {
            DANGLING_WARNING
        };
        if !super::confirm(&format!(
            "{warning}\nAre you sure you want to continue? [y/N] "
        ))? {
            writeln!(out, "Total reclaimed space: 0B")?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    let report = store.prune_images(args.all)?;
    if !report.records.is_empty() {
        writeln!(out, "Deleted Images:")?;
        for r in &report.records {
            match r {
                DeleteRecord::Untagged(n) => writeln!(out, "untagged: {}", n.familiar_string())?,
                DeleteRecord::Deleted(d) => writeln!(out, "deleted: {d}")?,
            }
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Total reclaimed space: {}",
        output::size4(report.reclaimed)
    )?;
    Ok(ExitCode::SUCCESS)
}
