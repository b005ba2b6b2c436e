//! `strata scan --secrets IMAGE`: secrets in layer files (deleted ones
//! included), the config's `Env` and the build history. Exits 1 when it
//! finds any, so CI can gate on it.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use strata_scan::{Location, scan_secrets};
use strata_store::Store;

use crate::cli::ScanArgs;

pub(crate) fn run(store: &Store, args: ScanArgs) -> Result<ExitCode> {
    if !args.secrets {
        bail!(
            "vulnerability scanning is not available yet; `strata scan --secrets IMAGE` looks for secrets"
        );
    }
    let image = store.resolve(&args.image)?;
    let report = scan_secrets(store, &image)?;
    let mut out = std::io::stdout().lock();
    if args.format == "json" {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else if report.findings.is_empty() {
        writeln!(out, "No secrets found in {}", args.image)?;
    } else {
        writeln!(
            out,
            "{:<9} {:<22} {:<60} MATCH",
            "SEVERITY", "RULE", "WHERE"
        )?;
        for f in &report.findings {
            let place = match &f.location {
                Location::File {
                    layer,
                    digest,
                    path,
                    line,
                    hidden,
                } => format!(
                    "layer {layer} ({}) /{path}:{line}{}",
                    digest.short(),
                    if *hidden {
                        " (deleted or replaced later)"
                    } else {
                        ""
                    }
                ),
                Location::Env { name } => format!("config Env {name}"),
                Location::History { index } => format!("history entry {index}"),
            };
            writeln!(
                out,
                "{:<9} {:<22} {:<60} {}",
                f.severity.as_str(),
                f.rule,
                place,
                f.redacted
            )?;
        }
        writeln!(
            out,
            "\n{} secret(s) found in {}",
            report.findings.len(),
            args.image
        )?;
    }
    drop(out);
    for w in &report.warnings {
        warn(w);
    }
    Ok(if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[allow(clippy::print_stderr)]
fn warn(w: &str) {
    eprintln!("WARNING: {w}");
}
