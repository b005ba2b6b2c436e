//! `strata lint [-f Dockerfile|-] [PATH]`: the Dockerfile rules of
//! `strata_scan::lint`, as text, JSON or SARIF; exit 1 when a finding is
//! at or above the failure threshold (hadolint's default: info).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use strata_scan::lint::{Finding, Level, LintOptions, RULES, lint, rule};

use crate::cli::LintArgs;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    levels: std::collections::BTreeMap<String, String>,
    failure_threshold: Option<String>,
}

pub(crate) fn run(args: LintArgs) -> Result<ExitCode> {
    let file = args
        .path
        .clone()
        .or_else(|| args.file.clone())
        .unwrap_or_else(|| PathBuf::from("Dockerfile"));
    let (name, src) = if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        (
            "<stdin>".to_owned(),
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    } else {
        let bytes = std::fs::read(&file).with_context(|| format!("open {}", file.display()))?;
        (
            file.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    };
    // The config: --config, else .strata-lint.toml beside the Dockerfile.
    let config_path = args.config.clone().or_else(|| {
        let dir = if file.as_os_str() == "-" {
            PathBuf::from(".")
        } else {
            file.parent().map(PathBuf::from).unwrap_or_default()
        };
        let p = dir.join(".strata-lint.toml");
        p.exists().then_some(p)
    });
    let config: FileConfig = match &config_path {
        Some(p) => toml::from_str(&fs_err::read_to_string(p)?)
            .with_context(|| format!("reading {}", p.display()))?,
        None => FileConfig::default(),
    };
    let mut opts = LintOptions {
        ignore: config.ignore.clone(),
        ..LintOptions::default()
    };
    opts.ignore.extend(args.ignore.iter().cloned());
    for (code, level) in &config.levels {
        let Some(l) = Level::parse(level) else {
            bail!("{code}: unknown level {level:?} (error, warning, info, style)");
        };
        opts.levels.insert(code.clone(), l);
    }
    let threshold = args
        .failure_threshold
        .clone()
        .or(config.failure_threshold.clone())
        .unwrap_or_else(|| "info".to_owned());
    let threshold = match threshold.as_str() {
        "none" => None,
        t => Some(Level::parse(t).with_context(|| format!("unknown failure threshold {t:?}"))?),
    };
    let findings = lint(&src, &opts);
    let mut out = std::io::stdout().lock();
    match args.format.as_str() {
        "json" => {
            let v: Vec<_> = findings
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "file": name, "line": f.line, "column": f.column, "code": f.code,
                        "level": f.level.as_str(), "message": f.message, "hint": f.hint,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &v)?;
            writeln!(out)?;
        }
        "sarif" => {
            serde_json::to_writer_pretty(&mut out, &sarif(&name, &findings))?;
            writeln!(out)?;
        }
        _ => {
            for f in &findings {
                writeln!(
                    out,
                    "{name}:{}:{} {} {}: {} (hint: {})",
                    f.line,
                    f.column,
                    f.code,
                    f.level.as_str(),
                    f.message,
                    f.hint
                )?;
            }
        }
    }
    let failed = threshold.is_some_and(|t| findings.iter().any(|f| f.level <= t));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn help_uri(code: &str) -> String {
    if code.starts_with("DL") {
        return format!("https://github.com/hadolint/hadolint/wiki/{code}");
    }
    // BuildKit's check names: CamelCase to kebab-case.
    let mut kebab = String::new();
    for (i, c) in code.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            kebab.push('-');
        }
        kebab.push(c.to_ascii_lowercase());
    }
    format!("https://docs.docker.com/reference/build-checks/{kebab}/")
}

fn sarif(name: &str, findings: &[Finding]) -> serde_json::Value {
    let used: std::collections::BTreeSet<&str> = findings.iter().map(|f| f.code).collect();
    let rules: Vec<_> = RULES
        .iter()
        .filter(|r| used.contains(r.code))
        .map(|r| {
            serde_json::json!({
                "id": r.code,
                "shortDescription": {"text": r.summary},
                "help": {"text": r.hint},
                "helpUri": help_uri(r.code),
            })
        })
        .collect();
    let results: Vec<_> = findings
        .iter()
        .map(|f| {
            let level = match f.level {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Info | Level::Style => "note",
            };
            serde_json::json!({
                "ruleId": f.code,
                "level": level,
                "message": {"text": format!("{} (hint: {})", f.message, rule(f.code).map_or("", |r| r.hint))},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": name},
                    "region": {"startLine": f.line, "startColumn": f.column},
                }}],
            })
        })
        .collect();
    serde_json::json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {"name": "strata lint", "informationUri": "https://github.com/hadolint/hadolint", "rules": rules}},
            "results": results,
        }],
    })
}
