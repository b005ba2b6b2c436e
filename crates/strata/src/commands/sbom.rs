//! `strata sbom IMAGE [--format table|spdx-json|cyclonedx-json|json]`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use strata_core::Timestamp;
use strata_scan::sbom::{cyclonedx_json, sbom, spdx_json};
use strata_store::Store;

use crate::cli::SbomArgs;

pub(crate) fn run(store: &Store, args: SbomArgs) -> Result<ExitCode> {
    let image = store.resolve(&args.image)?;
    let report = sbom(store, &image)?;
    // SOURCE_DATE_EPOCH makes the document reproducible, as for builds.
    let created = match crate::env::source_date_epoch()? {
        Some(secs) => Timestamp::from_unix(secs, 0),
        None => Timestamp::from_unix(crate::output::now().unix_secs(), 0),
    }
    .to_string();
    let mut out = std::io::stdout().lock();
    match args.format.as_str() {
        "spdx-json" => {
            serde_json::to_writer_pretty(
                &mut out,
                &spdx_json(&report, &args.image, &image.id, &created),
            )?;
            writeln!(out)?;
        }
        "cyclonedx-json" => {
            serde_json::to_writer_pretty(
                &mut out,
                &cyclonedx_json(&report, &args.image, &image.id, &created),
            )?;
            writeln!(out)?;
        }
        "json" => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        _ => {
            writeln!(out, "{:<32} {:<28} {:<7} LAYER", "NAME", "VERSION", "TYPE")?;
            for p in &report.packages {
                writeln!(
                    out,
                    "{:<32} {:<28} {:<7} {}",
                    p.name,
                    p.version,
                    p.ecosystem.as_str(),
                    p.layer
                )?;
            }
        }
    }
    drop(out);
    for w in &report.warnings {
        warn(w);
    }
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stderr)]
fn warn(w: &str) {
    eprintln!("WARNING: {w}");
}
