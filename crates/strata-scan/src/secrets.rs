//! Secrets in images: private keys, cloud credentials and tokens in layer
//! files, in the config's `Env` and in the build history.
//!
//! Every layer is scanned, so a file a later layer deletes is still found
//! (it still ships in the image) and is marked as deleted. Files are read
//! from the stored layer streams, never unpacked; binary files (a NUL in
//! the first 8 KiB) and files over [`MAX_FILE`] are skipped, the latter
//! with a warning. Matches are shown redacted.

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;
use strata_core::Digest;
use strata_store::{ImageRecord, Store};

/// Files larger than this are not read.
pub const MAX_FILE: u64 = 10 << 20;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// Worth a look.
    Medium,
    /// A credential of some service.
    High,
    /// A key or cloud credential.
    Critical,
}

impl Severity {
    /// The name in upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// Where a secret was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Location {
    /// A file of a layer.
    File {
        /// Layer index, base first.
        layer: usize,
        /// The layer blob.
        digest: Digest,
        /// The path, without a leading `/`.
        path: String,
        /// 1-based line.
        line: usize,
        /// Whether a later layer deletes or replaces the file.
        hidden: bool,
    },
    /// The config's `Env`.
    Env {
        /// The variable.
        name: String,
    },
    /// A history entry's `created_by`.
    History {
        /// Index of the entry.
        index: usize,
    },
}

/// One secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule that matched.
    pub rule: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// What it is, for people.
    pub title: &'static str,
    /// Where.
    pub location: Location,
    /// The match, redacted.
    pub redacted: String,
}

/// All secrets found, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SecretReport {
    /// The findings, in layer order.
    pub findings: Vec<Finding>,
    /// Files skipped or layers cut short.
    pub warnings: Vec<String>,
}

struct Rule {
    id: &'static str,
    title: &'static str,
    severity: Severity,
    re: Regex,
}

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let r = |id, title, severity, re: &str| Rule {
            id,
            title,
            severity,
            re: Regex::new(re).expect("secret rule regex"),
        };
        vec![
            r(
                "private-key",
                "Private key",
                Severity::Critical,
                r"-----BEGIN[ A-Z0-9]*PRIVATE KEY( BLOCK)?-----",
            ),
            r(
                "aws-access-key-id",
                "AWS access key ID",
                Severity::Critical,
                r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b",
            ),
            r(
                "aws-secret-access-key",
                "AWS secret access key",
                Severity::Critical,
                r#"(?i)aws_?secret_?access_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})\b"#,
            ),
            r(
                "github-token",
                "GitHub token",
                Severity::Critical,
                r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82})\b",
            ),
            r(
                "gitlab-token",
                "GitLab personal access token",
                Severity::Critical,
                r"\bglpat-[A-Za-z0-9_\-]{20}\b",
            ),
            r(
                "slack-token",
                "Slack token",
                Severity::High,
                r"\bxox[baprs]-[A-Za-z0-9-]{10,48}\b",
            ),
            r(
                "google-api-key",
                "Google API key",
                Severity::High,
                r"\bAIza[0-9A-Za-z_\-]{35}\b",
            ),
            r(
                "stripe-secret-key",
                "Stripe secret key",
                Severity::Critical,
                r"\b[sr]k_live_[0-9A-Za-z]{24,99}\b",
            ),
            r(
                "npm-token",
                "npm access token",
                Severity::Critical,
                r"\bnpm_[A-Za-z0-9]{36}\b",
            ),
            r(
                "docker-config-auth",
                "Registry credentials (docker config.json auth)",
                Severity::High,
                r#""auth"\s*:\s*"[A-Za-z0-9+/]{8,}={0,2}""#,
            ),
            r(
                "jwt",
                "JSON Web Token",
                Severity::Medium,
                r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
            ),
        ]
    })
}

/// Names of variables that hold secrets.
fn secret_name() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)(password|passwd|secret|token|api_?key|access_?key|private_?key|credentials?)",
        )
        .expect("secret name regex")
    })
}

fn redact(s: &str) -> String {
    let shown: String = s.chars().take(4).collect();
    format!(
        "{shown}{}",
        "*".repeat(s.chars().count().saturating_sub(4).min(20))
    )
}

/// Runs every rule over `text`; calls `found` with the rule, the 1-based
/// line and the match.
fn match_text(text: &str, mut found: impl FnMut(&Rule, usize, &str)) {
    for rule in rules() {
        for m in rule.re.find_iter(text) {
            let line = text[..m.start()].bytes().filter(|&b| b == b'\n').count() + 1;
            found(rule, line, m.as_str());
        }
    }
}

/// Scans `image` for secrets.
pub fn scan_secrets(
    store: &Store,
    image: &ImageRecord,
) -> Result<SecretReport, crate::AnalyzeError> {
    let manifest = store.manifest(image)?;
    let config = store.config(image)?;
    let mut report = SecretReport::default();
    // What each layer puts or deletes, noted as the layers are read, to
    // mark afterwards the copies a later layer hides.
    let mut overlays = Overlays::default();
    for (index, desc) in manifest.layers.iter().enumerate() {
        overlays.start_layer();
        let mut archive = tar::Archive::new(store.open_layer(&desc.digest)?);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                report
                    .warnings
                    .push(format!("layer {}: {e}", desc.digest.short()));
                continue;
            }
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    report
                        .warnings
                        .push(format!("layer {}: {e}", desc.digest.short()));
                    break;
                }
            };
            let path = match entry.path() {
                Ok(p) => crate::analyze::normalize(&p.to_string_lossy()),
                Err(_) => continue,
            };
            let kind = entry.header().entry_type();
            overlays.note(&path, kind.is_dir());
            if !kind.is_file() {
                continue;
            }
            let size = entry.header().size().unwrap_or(0);
            if size > MAX_FILE {
                report.warnings.push(format!(
                    "layer {}: /{path}: {size} bytes, not scanned (over {MAX_FILE})",
                    desc.digest.short()
                ));
                continue;
            }
            let mut data = Vec::with_capacity(size as usize);
            if let Err(e) = (&mut entry).take(MAX_FILE).read_to_end(&mut data) {
                report
                    .warnings
                    .push(format!("layer {}: /{path}: {e}", desc.digest.short()));
                break;
            }
            if data[..data.len().min(8192)].contains(&0) {
                continue;
            }
            let text = String::from_utf8_lossy(&data);
            match_text(&text, |rule, line, m| {
                report.findings.push(Finding {
                    rule: rule.id,
                    severity: rule.severity,
                    title: rule.title,
                    location: Location::File {
                        layer: index,
                        digest: desc.digest.clone(),
                        path: path.clone(),
                        line,
                        // Set once every layer has been read.
                        hidden: false,
                    },
                    redacted: redact(m),
                });
            });
        }
    }
    for f in &mut report.findings {
        if let Location::File {
            layer,
            path,
            hidden,
            ..
        } = &mut f.location
        {
            *hidden = overlays.hidden(*layer, path);
        }
    }
    for var in config
        .config
        .as_ref()
        .and_then(|c| c.env.clone())
        .unwrap_or_default()
    {
        let (name, value) = var.split_once('=').unwrap_or((var.as_str(), ""));
        let mut matched = false;
        match_text(value, |rule, _, m| {
            matched = true;
            report.findings.push(Finding {
                rule: rule.id,
                severity: rule.severity,
                title: rule.title,
                location: Location::Env {
                    name: name.to_owned(),
                },
                redacted: redact(m),
            });
        });
        if !matched && !value.is_empty() && secret_name().is_match(name) {
            report.findings.push(Finding {
                rule: "env-secret",
                severity: Severity::High,
                title: "Secret-looking variable set in the image config",
                location: Location::Env {
                    name: name.to_owned(),
                },
                redacted: redact(value),
            });
        }
    }
    for (index, h) in config
        .history
        .clone()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some(cmd) = &h.created_by else { continue };
        match_text(cmd, |rule, _, m| {
            report.findings.push(Finding {
                rule: rule.id,
                severity: rule.severity,
                title: rule.title,
                location: Location::History { index },
                redacted: redact(m),
            });
        });
        // Build args are recorded as `|N NAME=value ... /bin/sh -c ...`.
        if let Some(rest) = cmd.strip_prefix('|') {
            for word in rest.split_whitespace().skip(1) {
                let Some((name, value)) = word.split_once('=') else {
                    break;
                };
                if !value.is_empty() && secret_name().is_match(name) {
                    report.findings.push(Finding {
                        rule: "build-arg-secret",
                        severity: Severity::High,
                        title: "Secret-looking build argument recorded in the history",
                        location: Location::History { index },
                        redacted: format!("{name}={}", redact(value)),
                    });
                }
            }
        }
    }
    Ok(report)
}

/// What each layer puts or deletes, by path (directories as `dir/`), to
/// tell which copies of files later layers hide: a later entry at the
/// path, a whiteout of it or of a parent, an opaque parent, or a file
/// replacing a parent directory. Built while the layers are read.
#[derive(Debug, Default)]
pub(crate) struct Overlays {
    per_layer: Vec<BTreeSet<String>>,
}

impl Overlays {
    /// The next layer begins.
    pub(crate) fn start_layer(&mut self) {
        self.per_layer.push(BTreeSet::new());
    }

    /// Notes an entry (a normalized path) of the current layer.
    pub(crate) fn note(&mut self, path: &str, is_dir: bool) {
        let Some(set) = self.per_layer.last_mut() else {
            return;
        };
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let join = |n: &str| {
            if dir.is_empty() {
                n.to_owned()
            } else {
                format!("{dir}/{n}")
            }
        };
        if name == ".wh..wh..opq" {
            set.insert(format!("{dir}/"));
        } else if let Some(h) = name.strip_prefix(".wh.") {
            set.insert(join(h));
            set.insert(format!("{}/", join(h)));
        } else if !is_dir {
            set.insert(path.to_owned());
            set.insert(format!("{path}/"));
        }
    }

    /// Whether a layer after `layer` hides its copy of `path`.
    pub(crate) fn hidden(&self, layer: usize, path: &str) -> bool {
        self.per_layer.iter().skip(layer + 1).any(|later| {
            if later.contains(path) {
                return true;
            }
            // A deleted or replaced ancestor directory.
            let mut p = path;
            while let Some((parent, _)) = p.rsplit_once('/') {
                if later.contains(&format!("{parent}/")) {
                    return true;
                }
                p = parent;
            }
            false
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_find_keys_and_tokens_and_skip_look_alikes() {
        let mut hits = Vec::new();
        let text = "x\n-----BEGIN OPENSSH PRIVATE KEY-----\nAKIAIOSFODNN7EXAMPLE\n\
                    token=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\nAKIA-not-a-key\n";
        match_text(text, |r, line, _| hits.push((r.id, line)));
        hits.sort();
        assert_eq!(
            hits,
            [
                ("aws-access-key-id", 3),
                ("github-token", 4),
                ("private-key", 2)
            ]
        );
        assert_eq!(redact("AKIAIOSFODNN7EXAMPLE"), "AKIA****************");
    }
}
