//! Vulnerability matching: an SBOM against a local database of OSV
//! advisories.
//!
//! The database is a SQLite file (`vulndb-v1.db` in the store root):
//!
//! ```text
//! advisories(id PK, summary, severity, aliases JSON)
//! affected(id -> advisories.id, ecosystem, package, ranges JSON, versions JSON)
//! ```
//!
//! `import` takes OSV JSON documents (files, export zips, directories) and
//! replaces advisories with the same id. Debian and Alpine packages match
//! their release's ecosystem (`Debian:12`, `Alpine:v3.19`, from
//! `os-release`) by source package, ordered by dpkg's and apk's rules;
//! PyPI (names normalized, PEP 440), npm, crates.io and Go (semver) match
//! by name. Maven is not matched yet. An advisory applies when
//! the installed version is listed, or lies in an `ECOSYSTEM` range
//! (`introduced` <= v < `fixed`, or <= `last_affected`).

use std::cmp::Ordering;
use std::path::Path;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::sbom::{Ecosystem, Sbom};
use crate::version::{apk_cmp, dpkg_cmp, pep440_cmp, semver_cmp};

/// Severities, lowest first.
pub const SEVERITIES: [&str; 5] = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"];

/// Rank of a severity name in [`SEVERITIES`] (UNKNOWN for others).
pub fn severity_rank(s: &str) -> usize {
    SEVERITIES
        .iter()
        .position(|x| x.eq_ignore_ascii_case(s))
        .unwrap_or(0)
}

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum VulnDbError {
    /// SQLite.
    #[error("vulnerability database: {0}")]
    Db(#[from] rusqlite::Error),
    /// Reading input.
    #[error("reading {path}: {err}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        err: std::io::Error,
    },
    /// No database yet.
    #[error("no vulnerability database at {0}: run `strata db import PATH` first")]
    Missing(String),
}

#[derive(Debug, Deserialize)]
struct Osv {
    id: String,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    severity: Vec<OsvSeverity>,
    #[serde(default)]
    affected: Vec<OsvAffected>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct OsvSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Debug, Deserialize)]
struct OsvAffected {
    package: OsvPackage,
    #[serde(default)]
    ranges: Vec<serde_json::Value>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    ecosystem_specific: Option<serde_json::Value>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct OsvPackage {
    ecosystem: String,
    name: String,
}

/// Opens (creating) the database at `path`.
pub fn open(path: &Path) -> Result<Connection, VulnDbError> {
    let conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE IF NOT EXISTS advisories (
             id TEXT PRIMARY KEY, summary TEXT NOT NULL, severity TEXT NOT NULL, aliases TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS affected (
             id TEXT NOT NULL, ecosystem TEXT NOT NULL, package TEXT NOT NULL,
             ranges TEXT NOT NULL, versions TEXT NOT NULL, severity TEXT);
         CREATE INDEX IF NOT EXISTS affected_pkg ON affected(ecosystem, package);",
    )?;
    Ok(conn)
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Advisories stored.
    pub advisories: usize,
    /// Files that were not OSV documents.
    pub skipped: Vec<String>,
}

/// Imports OSV documents from a JSON file, an OSV export zip (such as
/// `Debian/all.zip`) or a directory of either (recursively).
pub fn import(conn: &mut Connection, path: &Path) -> Result<ImportReport, VulnDbError> {
    let mut files = Vec::new();
    collect(path, &mut files)?;
    files.sort();
    let mut report = ImportReport::default();
    let tx = conn.transaction()?;
    for f in files {
        let io = |err| VulnDbError::Io {
            path: f.display().to_string(),
            err,
        };
        if f.extension().is_some_and(|e| e == "zip") {
            let file = std::fs::File::open(&f).map_err(io)?;
            let mut zip = zip::ZipArchive::new(file)
                .map_err(|e| io(std::io::Error::other(format!("not a zip archive: {e}"))))?;
            for i in 0..zip.len() {
                let mut entry = zip
                    .by_index(i)
                    .map_err(|e| io(std::io::Error::other(e.to_string())))?;
                let name = format!("{}:{}", f.display(), entry.name());
                if !entry.name().ends_with(".json") || entry.size() > 16 << 20 {
                    continue;
                }
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut bytes).map_err(io)?;
                store_one(&tx, &bytes, &name, &mut report)?;
            }
            continue;
        }
        let bytes = std::fs::read(&f).map_err(io)?;
        store_one(&tx, &bytes, &f.display().to_string(), &mut report)?;
    }
    tx.commit()?;
    Ok(report)
}

fn store_one(
    tx: &rusqlite::Transaction<'_>,
    bytes: &[u8],
    name: &str,
    report: &mut ImportReport,
) -> Result<(), VulnDbError> {
    let Ok(osv) = serde_json::from_slice::<Osv>(bytes) else {
        report.skipped.push(name.to_owned());
        return Ok(());
    };
    let severity = advisory_severity(&osv);
    tx.execute("DELETE FROM affected WHERE id = ?1", [&osv.id])?;
    tx.execute(
        "INSERT OR REPLACE INTO advisories (id, summary, severity, aliases) VALUES (?1, ?2, ?3, ?4)",
        params![
            osv.id,
            osv.summary
                .clone()
                .or_else(|| osv.details.as_ref().map(|d| d.lines().next().unwrap_or("").to_owned()))
                .unwrap_or_default(),
            severity,
            serde_json::to_string(&osv.aliases).unwrap_or_default()
        ],
    )?;
    for a in &osv.affected {
        let own = [&a.ecosystem_specific, &a.database_specific]
            .into_iter()
            .flatten()
            .find_map(|v| {
                v.get("severity")
                    .and_then(|s| s.as_str())
                    .map(str::to_uppercase)
            });
        let name = if a.package.ecosystem == "PyPI" {
            pypi_name(&a.package.name)
        } else {
            a.package.name.clone()
        };
        tx.execute(
            "INSERT INTO affected (id, ecosystem, package, ranges, versions, severity) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                osv.id,
                a.package.ecosystem,
                name,
                serde_json::to_string(&a.ranges).unwrap_or_default(),
                serde_json::to_string(&a.versions).unwrap_or_default(),
                own
            ],
        )?;
    }
    report.advisories += 1;
    Ok(())
}

fn collect(path: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), VulnDbError> {
    let io = |err| VulnDbError::Io {
        path: path.display().to_string(),
        err,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        for e in std::fs::read_dir(path).map_err(io)? {
            collect(&e.map_err(io)?.path(), out)?;
        }
    } else if path.extension().is_some_and(|e| e == "json" || e == "zip") {
        out.push(path.to_owned());
    }
    Ok(())
}

fn advisory_severity(osv: &Osv) -> String {
    if let Some(s) = osv
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(|s| s.as_str())
    {
        let up = s.to_uppercase();
        return if up == "MODERATE" {
            "MEDIUM".into()
        } else {
            up
        };
    }
    for s in &osv.severity {
        if s.kind.starts_with("CVSS_V3")
            && let Some(score) = cvss3_base_score(&s.score)
        {
            return rating(score).to_owned();
        }
    }
    "UNKNOWN".to_owned()
}

fn rating(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "CRITICAL",
        s if s >= 7.0 => "HIGH",
        s if s >= 4.0 => "MEDIUM",
        s if s > 0.0 => "LOW",
        _ => "UNKNOWN",
    }
}

/// The CVSS 3.x base score of a vector (`CVSS:3.1/AV:N/AC:L/...`).
pub fn cvss3_base_score(vector: &str) -> Option<f64> {
    let mut m = std::collections::BTreeMap::new();
    for part in vector.split('/').skip(1) {
        let (k, v) = part.split_once(':')?;
        m.insert(k, v);
    }
    let av = match *m.get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match *m.get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let changed = *m.get("S")? == "C";
    let pr = match (*m.get("PR")?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match *m.get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |k: &str| -> Option<f64> {
        match *m.get(k)? {
            "H" => Some(0.56),
            "L" => Some(0.22),
            "N" => Some(0.0),
            _ => None,
        }
    };
    let iss = 1.0 - (1.0 - cia("C")?) * (1.0 - cia("I")?) * (1.0 - cia("A")?);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploit = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let raw = if changed {
        (1.08 * (impact + exploit)).min(10.0)
    } else {
        (impact + exploit).min(10.0)
    };
    // CVSS 3.1 Roundup.
    let i = (raw * 100_000.0).round() as i64;
    Some(if i % 10_000 == 0 {
        i as f64 / 100_000.0
    } else {
        ((i / 10_000) + 1) as f64 / 10.0
    })
}

/// One match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VulnFinding {
    /// The advisory.
    pub id: String,
    /// Its other names (CVE ids).
    pub aliases: Vec<String>,
    /// Severity name.
    pub severity: String,
    /// The installed package.
    pub package: String,
    /// Its installed version.
    pub installed: String,
    /// The first fixed version above it, if any.
    pub fixed: Option<String>,
    /// The layer that added the package.
    pub layer: usize,
    /// One line.
    pub title: String,
}

fn compare(eco: Ecosystem) -> fn(&str, &str) -> Ordering {
    match eco {
        Ecosystem::Apk => apk_cmp,
        Ecosystem::Deb => dpkg_cmp,
        Ecosystem::Python => pep440_cmp,
        _ => semver_cmp,
    }
}

/// PyPI names compare case-insensitively with runs of `-`, `_`, `.` equal.
fn pypi_name(n: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in n.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The OSV ecosystem string of the image's OS packages.
fn os_ecosystem(sbom: &Sbom, eco: Ecosystem) -> Option<String> {
    let d = sbom.distro.clone().unwrap_or_default();
    match eco {
        Ecosystem::Deb => {
            let major = d.version_id.split('.').next().unwrap_or("");
            (!major.is_empty()).then(|| format!("Debian:{major}"))
        }
        Ecosystem::Apk => {
            let mm: Vec<&str> = d.version_id.split('.').take(2).collect();
            (mm.len() == 2).then(|| format!("Alpine:v{}.{}", mm[0], mm[1]))
        }
        Ecosystem::Python => Some("PyPI".to_owned()),
        Ecosystem::Npm => Some("npm".to_owned()),
        Ecosystem::Cargo => Some("crates.io".to_owned()),
        Ecosystem::Go => Some("Go".to_owned()),
        Ecosystem::Maven | Ecosystem::Rpm => None,
    }
}

/// Matches the SBOM's packages against the database.
pub fn matches(conn: &Connection, sbom: &Sbom) -> Result<Vec<VulnFinding>, VulnDbError> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT a.id, a.ranges, a.versions, a.severity, d.severity, d.summary, d.aliases
         FROM affected a JOIN advisories d ON d.id = a.id
         WHERE a.ecosystem = ?1 AND a.package = ?2",
    )?;
    for p in &sbom.packages {
        let Some(eco) = os_ecosystem(sbom, p.ecosystem) else {
            continue;
        };
        let source = match p.ecosystem {
            Ecosystem::Python => pypi_name(&p.name),
            _ => p.source.clone().unwrap_or_else(|| p.name.clone()),
        };
        let cmp = compare(p.ecosystem);
        let rows = stmt.query_map(params![eco, source], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        for row in rows {
            let (id, ranges, versions, own_sev, sev, summary, aliases) = row?;
            let versions: Vec<String> = serde_json::from_str(&versions).unwrap_or_default();
            let ranges: Vec<serde_json::Value> = serde_json::from_str(&ranges).unwrap_or_default();
            let (affected, fixed) = affected_by(&p.version, &versions, &ranges, cmp);
            if !affected {
                continue;
            }
            out.push(VulnFinding {
                id,
                aliases: serde_json::from_str(&aliases).unwrap_or_default(),
                severity: own_sev.unwrap_or(sev),
                package: p.name.clone(),
                installed: p.version.clone(),
                fixed,
                layer: p.layer,
                title: summary,
            });
        }
    }
    out.sort_by(|a, b| {
        severity_rank(&b.severity)
            .cmp(&severity_rank(&a.severity))
            .then(a.package.cmp(&b.package))
            .then(a.id.cmp(&b.id))
    });
    Ok(out)
}

/// Whether `v` is affected, and the fixed version that applies.
fn affected_by(
    v: &str,
    versions: &[String],
    ranges: &[serde_json::Value],
    cmp: fn(&str, &str) -> Ordering,
) -> (bool, Option<String>) {
    let mut fixed_any = None;
    let mut hit = versions.iter().any(|x| cmp(x, v) == Ordering::Equal);
    for r in ranges {
        if r["type"] != "ECOSYSTEM" && r["type"] != "SEMVER" {
            continue;
        }
        let events = r["events"].as_array().cloned().unwrap_or_default();
        let mut introduced: Option<String> = None;
        for e in &events {
            if let Some(i) = e["introduced"].as_str() {
                introduced = Some(i.to_owned());
            }
            let (limit, inclusive) = match (e["fixed"].as_str(), e["last_affected"].as_str()) {
                (Some(f), _) => (Some(f), false),
                (None, Some(l)) => (Some(l), true),
                _ => (None, false),
            };
            if let Some(limit) = limit {
                let lo_ok = introduced
                    .as_deref()
                    .is_some_and(|i| i == "0" || cmp(v, i) != Ordering::Less);
                let hi_ok = match cmp(v, limit) {
                    Ordering::Less => true,
                    Ordering::Equal => inclusive,
                    Ordering::Greater => false,
                };
                if lo_ok && hi_ok {
                    hit = true;
                    if !inclusive {
                        fixed_any = Some(limit.to_owned());
                    }
                }
                introduced = None;
            }
        }
        // An introduced with no end: affected ever since.
        if let Some(i) = introduced
            && (i == "0" || cmp(v, &i) != Ordering::Less)
        {
            hit = true;
        }
    }
    (hit, fixed_any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_scores_match_the_calculator() {
        assert_eq!(
            cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some(9.8)
        );
        assert_eq!(
            cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
            Some(6.1)
        );
        assert_eq!(
            cvss3_base_score("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N"),
            Some(5.5)
        );
        assert_eq!(
            cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"),
            Some(0.0)
        );
    }

    #[test]
    fn ranges_and_versions_decide_and_name_the_fix() {
        let r = serde_json::json!([{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u1"}]}]);
        let r = r.as_array().unwrap();
        assert_eq!(
            affected_by("3.0.9-1", &[], r, dpkg_cmp),
            (true, Some("3.0.11-1~deb12u1".into()))
        );
        assert_eq!(
            affected_by("3.0.11-1~deb12u1", &[], r, dpkg_cmp),
            (false, None)
        );
        assert_eq!(affected_by("3.0.11-1", &[], r, dpkg_cmp), (false, None));
        let last = serde_json::json!([{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"last_affected": "1.2"}]}]);
        assert_eq!(
            affected_by("1.2", &[], last.as_array().unwrap(), dpkg_cmp),
            (true, None)
        );
        assert_eq!(
            affected_by("0.9", &[], last.as_array().unwrap(), dpkg_cmp),
            (false, None)
        );
        assert_eq!(
            affected_by("2.0", &["2.0".into()], &[], dpkg_cmp),
            (true, None)
        );
    }
}
