//! `strata scan IMAGE`: the image's Debian and Alpine packages matched
//! against the local OSV database (`strata db import`); `--fail-on` gates
//! CI. `strata scan --secrets IMAGE`: secrets in layer files (deleted ones
//! included), the config's `Env` and the build history; exits 1 when it
//! finds any.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use strata_scan::{Location, scan_secrets};
use strata_store::Store;

use crate::cli::{DbImportArgs, DbUpdateArgs, ScanArgs};

fn db_path(store: &Store) -> std::path::PathBuf {
    store.layout().root().join("vulndb-v1.db")
}

pub(crate) fn db_import(store: &Store, args: DbImportArgs) -> Result<ExitCode> {
    let mut conn = strata_scan::vuln::open(&db_path(store))?;
    let report = strata_scan::vuln::import(&mut conn, &args.path)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Imported {} advisories from {}",
        report.advisories,
        args.path.display()
    )?;
    drop(out);
    for s in &report.skipped {
        warn(&format!("{s}: not an OSV document, skipped"));
    }
    Ok(ExitCode::SUCCESS)
}

/// OSV's exports of the ecosystems matched today.
const DEFAULT_FEEDS: [&str; 2] = [
    "https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip",
    "https://osv-vulnerabilities.storage.googleapis.com/Alpine/all.zip",
];

pub(crate) fn db_update(store: &Store, args: DbUpdateArgs) -> Result<ExitCode> {
    let urls: Vec<String> = if args.url.is_empty() {
        DEFAULT_FEEDS.iter().map(|s| (*s).to_owned()).collect()
    } else {
        args.url.clone()
    };
    let http = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()?;
    let dir = tempfile::tempdir()?;
    let mut conn = strata_scan::vuln::open(&db_path(store))?;
    for (i, url) in urls.iter().enumerate() {
        let resp = http
            .get(url)
            .send()
            .and_then(|r| r.error_for_status())
            .map_err(|e| anyhow::anyhow!("downloading {url}: {e}"))?;
        let ext = if url.ends_with(".json") {
            "json"
        } else {
            "zip"
        };
        let file = dir.path().join(format!("feed-{i}.{ext}"));
        let bytes = resp
            .bytes()
            .map_err(|e| anyhow::anyhow!("downloading {url}: {e}"))?;
        fs_err::write(&file, &bytes)?;
        let report = strata_scan::vuln::import(&mut conn, &file)
            .map_err(|e| anyhow::anyhow!("importing {url}: {e}"))?;
        writeln!(
            std::io::stdout(),
            "Imported {} advisories from {url}",
            report.advisories
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn vulnerabilities(store: &Store, args: &ScanArgs) -> Result<ExitCode> {
    use strata_scan::vuln::{SEVERITIES, severity_rank};
    let path = db_path(store);
    if !path.exists() {
        bail!(strata_scan::vuln::VulnDbError::Missing(
            path.display().to_string()
        ));
    }
    let wanted: Option<Vec<String>> = args
        .severity
        .as_ref()
        .map(|s| s.split(',').map(|x| x.trim().to_uppercase()).collect());
    for w in wanted.iter().flatten() {
        if !SEVERITIES.contains(&w.as_str()) {
            bail!("unknown severity {w:?} (CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN)");
        }
    }
    let fail_on = match &args.fail_on {
        Some(s) if SEVERITIES.contains(&s.to_uppercase().as_str()) => Some(severity_rank(s)),
        Some(s) => bail!("unknown severity {s:?} for --fail-on"),
        None => None,
    };
    let image = store.resolve(&args.image)?;
    let sbom = strata_scan::sbom::sbom(store, &image)?;
    let conn = strata_scan::vuln::open(&path)?;
    let mut found = strata_scan::vuln::matches(&conn, &sbom)?;
    let suppressed = vex_statements(&args.vex)?;
    found.retain(|f| {
        wanted.as_ref().is_none_or(|w| w.contains(&f.severity))
            && !(args.ignore_unfixed && f.fixed.is_none())
            && !suppressed
                .iter()
                .any(|v| v == &f.id || f.aliases.contains(v))
    });
    let mut out = std::io::stdout().lock();
    if args.format == "json" {
        serde_json::to_writer_pretty(&mut out, &found)?;
        writeln!(out)?;
    } else if args.format == "sarif" {
        serde_json::to_writer_pretty(&mut out, &sarif(&args.image, &found))?;
        writeln!(out)?;
    } else {
        let distro = sbom
            .distro
            .as_ref()
            .map(|d| format!("{} {}", d.id, d.version_id))
            .unwrap_or_else(|| "unknown OS".to_owned());
        writeln!(out, "{} ({distro})", args.image)?;
        let mut counts = [0usize; 5];
        for f in &found {
            counts[severity_rank(&f.severity)] += 1;
        }
        writeln!(
            out,
            "Total: {} (UNKNOWN: {}, LOW: {}, MEDIUM: {}, HIGH: {}, CRITICAL: {})\n",
            found.len(),
            counts[0],
            counts[1],
            counts[2],
            counts[3],
            counts[4]
        )?;
        if !found.is_empty() {
            writeln!(
                out,
                "{:<20} {:<20} {:<9} {:<22} {:<22} {:<6} TITLE",
                "LIBRARY", "VULNERABILITY", "SEVERITY", "INSTALLED", "FIXED", "LAYER"
            )?;
            for f in &found {
                writeln!(
                    out,
                    "{:<20} {:<20} {:<9} {:<22} {:<22} {:<6} {}",
                    f.package,
                    f.id,
                    f.severity,
                    f.installed,
                    f.fixed.as_deref().unwrap_or("(none)"),
                    f.layer,
                    f.title.chars().take(60).collect::<String>()
                )?;
            }
        }
    }
    drop(out);
    for w in &sbom.warnings {
        warn(w);
    }
    let failed = fail_on.is_some_and(|r| found.iter().any(|f| severity_rank(&f.severity) >= r));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Vulnerability names (ids or aliases) that OpenVEX documents mark
/// `not_affected` or `fixed`.
fn vex_statements(files: &[std::path::PathBuf]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for f in files {
        let v: serde_json::Value = serde_json::from_slice(&fs_err::read(f)?)
            .map_err(|e| anyhow::anyhow!("{}: not a VEX document: {e}", f.display()))?;
        let Some(statements) = v["statements"].as_array() else {
            bail!("{}: not an OpenVEX document (no statements)", f.display());
        };
        for s in statements {
            let status = s["status"].as_str().unwrap_or("");
            if status != "not_affected" && status != "fixed" {
                continue;
            }
            let vuln = &s["vulnerability"];
            let names = vuln["name"]
                .as_str()
                .or_else(|| vuln.as_str())
                .into_iter()
                .chain(
                    vuln["aliases"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|a| a.as_str()),
                );
            out.extend(names.map(str::to_owned));
        }
    }
    Ok(out)
}

fn sarif(image: &str, found: &[strata_scan::vuln::VulnFinding]) -> serde_json::Value {
    let mut rules: Vec<serde_json::Value> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for f in found {
        if seen.insert(f.id.clone()) {
            rules.push(serde_json::json!({
                "id": f.id,
                "shortDescription": {"text": f.title},
                "properties": {"security-severity": match f.severity.as_str() {
                    "CRITICAL" => "9.5", "HIGH" => "8.0", "MEDIUM" => "5.5", "LOW" => "2.0", _ => "0.0",
                }},
            }));
        }
    }
    let results: Vec<_> = found
        .iter()
        .map(|f| {
            let level = match f.severity.as_str() {
                "CRITICAL" | "HIGH" => "error",
                "MEDIUM" => "warning",
                _ => "note",
            };
            serde_json::json!({
                "ruleId": f.id,
                "level": level,
                "message": {"text": format!(
                    "{} {} is affected by {} ({}); fixed in {}",
                    f.package, f.installed, f.id, f.severity,
                    f.fixed.as_deref().unwrap_or("no release yet")
                )},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": image},
                    "region": {"startLine": 1},
                }, "message": {"text": format!("layer {}", f.layer)}}],
            })
        })
        .collect();
    serde_json::json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{"tool": {"driver": {"name": "strata scan", "rules": rules}}, "results": results}],
    })
}

pub(crate) fn run(store: &Store, args: ScanArgs) -> Result<ExitCode> {
    if !args.secrets {
        return vulnerabilities(store, &args);
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
