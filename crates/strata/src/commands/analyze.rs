//! `strata analyze IMAGE`: what each layer adds, the space hidden files
//! waste, an efficiency score and the largest paths (dive's analysis);
//! `--ci` checks dive's three rules and exits 1 when one fails.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use strata_format::units::human_size;
use strata_scan::Analysis;
use strata_store::Store;

use crate::cli::AnalyzeArgs;

fn size(b: u64) -> String {
    human_size(b as f64)
}

/// A rule threshold: a number, or `disabled`.
fn threshold(s: &str, what: &str) -> Result<Option<f64>> {
    if s.eq_ignore_ascii_case("disabled") {
        return Ok(None);
    }
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(v) if s.ends_with('%') => Ok(Some(v / 100.0)),
        Ok(v) => Ok(Some(v)),
        Err(_) => bail!("invalid {what}: {s:?} (a ratio such as 0.9, or \"disabled\")"),
    }
}

pub(crate) fn run(store: &Store, args: AnalyzeArgs) -> Result<ExitCode> {
    let image = store.resolve(&args.image)?;
    let a = strata_scan::analyze(store, &image, args.top)?;
    let mut out = std::io::stdout().lock();
    if args.format == "json" {
        serde_json::to_writer_pretty(&mut out, &a)?;
        writeln!(out)?;
    } else {
        print_report(&mut out, &args.image, &image.id.to_string(), &a)?;
    }
    for w in &a.warnings {
        eprintln_warning(w);
    }
    if !args.ci {
        return Ok(ExitCode::SUCCESS);
    }
    let efficiency = threshold(&args.lowest_efficiency, "--lowest-efficiency")?;
    let wasted = if args.highest_wasted_bytes.eq_ignore_ascii_case("disabled") {
        None
    } else {
        Some(super::builder_prune::parse_size(
            &args.highest_wasted_bytes,
        )?)
    };
    let user = threshold(
        &args.highest_user_wasted_percent,
        "--highest-user-wasted-percent",
    )?;
    let mut results = Vec::new();
    results.push(match efficiency {
        None => ("SKIP", "lowestEfficiency: rule disabled".to_owned()),
        Some(t) if a.efficiency < t => (
            "FAIL",
            format!(
                "lowestEfficiency: image efficiency is too low (efficiency={:.4} < threshold={t})",
                a.efficiency
            ),
        ),
        Some(_) => ("PASS", "lowestEfficiency".to_owned()),
    });
    results.push(match wasted {
        None => ("SKIP", "highestWastedBytes: rule disabled".to_owned()),
        Some(t) if a.wasted_bytes > t => (
            "FAIL",
            format!(
                "highestWastedBytes: too many bytes wasted (wasted-bytes={} > threshold={t})",
                a.wasted_bytes
            ),
        ),
        Some(_) => ("PASS", "highestWastedBytes".to_owned()),
    });
    results.push(match user {
        None => ("SKIP", "highestUserWastedPercent: rule disabled".to_owned()),
        Some(t) if a.user_wasted_ratio > t => (
            "FAIL",
            format!(
                "highestUserWastedPercent: too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes={:.4} > threshold={t})",
                a.user_wasted_ratio
            ),
        ),
        Some(_) => ("PASS", "highestUserWastedPercent".to_owned()),
    });
    writeln!(out, "\nResults:")?;
    for (verdict, text) in &results {
        writeln!(out, "  {verdict}: {text}")?;
    }
    let count = |v: &str| results.iter().filter(|(r, _)| *r == v).count();
    let failed = count("FAIL");
    writeln!(
        out,
        "Result:{} [Total:{}] [Passed:{}] [Failed:{failed}] [Warn:0] [Skipped:{}]",
        if failed > 0 { "FAIL" } else { "PASS" },
        results.len(),
        count("PASS"),
        count("SKIP"),
    )?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[allow(clippy::print_stderr)]
fn eprintln_warning(w: &str) {
    eprintln!("WARNING: {w}");
}

fn print_report(out: &mut impl Write, name: &str, id: &str, a: &Analysis) -> Result<()> {
    writeln!(out, "Image: {name} ({id})\n")?;
    writeln!(out, "Layers")?;
    writeln!(out, "  {:<3} {:<10} {:<8} COMMAND", "#", "SIZE", "FILES")?;
    for l in &a.layers {
        let cmd: String = l.command.chars().take(100).collect();
        writeln!(
            out,
            "  {:<3} {:<10} {:<8} {cmd}",
            l.index,
            size(l.size),
            l.entries
        )?;
    }
    writeln!(out)?;
    writeln!(out, "Total image size: {}", size(a.total_bytes))?;
    writeln!(out, "Potential wasted space: {}", size(a.wasted_bytes))?;
    writeln!(
        out,
        "Wasted by layers after the base: {} of {} ({:.1} %)",
        size(a.user_wasted_bytes),
        size(a.user_bytes),
        a.user_wasted_ratio * 100.0
    )?;
    writeln!(out, "Image efficiency score: {:.1} %", a.efficiency * 100.0)?;
    if !a.wasted_paths.is_empty() {
        writeln!(out, "\nWasted space by path")?;
        writeln!(out, "  {:<6} {:<11} PATH", "COUNT", "TOTAL SPACE")?;
        for w in &a.wasted_paths {
            writeln!(out, "  {:<6} {:<11} /{}", w.count, size(w.wasted), w.path)?;
        }
    }
    if !a.largest.is_empty() {
        writeln!(out, "\nLargest files")?;
        writeln!(out, "  {:<10} PATH", "SIZE")?;
        for (p, s) in &a.largest {
            writeln!(out, "  {:<10} /{p}", size(*s))?;
        }
    }
    Ok(())
}
