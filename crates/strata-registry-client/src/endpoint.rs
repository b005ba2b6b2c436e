//! How a registry is reached: plain HTTP for loopback and insecure
//! registries (Docker's `insecure-registries`: `host[:port]` or a CIDR
//! for IP addresses), HTTPS otherwise, trusting the system's roots plus
//! the registry's own CA files in Docker's layout,
//! `<certs.d>/<host[:port]>/*.crt`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Docker's daemon settings, where `insecure-registries` lives.
pub const DOCKER_DAEMON_JSON: &str = "/etc/docker/daemon.json";
/// Docker's per-registry certificate directories.
pub const DOCKER_CERTS_D: &str = "/etc/docker/certs.d";
/// strata's own, same layout.
pub const STRATA_CERTS_D: &str = "/etc/strata/certs.d";

/// `insecure-registries` of Docker's `daemon.json` at `path` (none when
/// the file is missing).
pub fn docker_insecure_registries(path: &Path) -> Result<Vec<String>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::Invalid(format!("reading {}: {e}", path.display()))),
    };
    #[derive(serde::Deserialize)]
    struct Daemon {
        #[serde(default, rename = "insecure-registries")]
        insecure: Vec<String>,
    }
    let d: Daemon = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
    Ok(d.insecure)
}

/// `domain` (`host[:port]`) split into host and port.
fn split_host(domain: &str) -> (&str, Option<&str>) {
    match domain.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => (h, Some(p)),
        _ => (domain, None),
    }
}

/// Whether `domain` is spoken to over plain HTTP: loopback, or listed in
/// `insecure` (as `host[:port]`, as its host, or as a CIDR holding its
/// IP address).
pub(crate) fn plain_http(domain: &str, insecure: &[String]) -> bool {
    let (host, _) = split_host(domain);
    let ip = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    if host == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
        return true;
    }
    insecure.iter().map(|e| e.trim()).any(|entry| {
        let entry = entry
            .strip_prefix("http://")
            .or_else(|| entry.strip_prefix("https://"))
            .unwrap_or(entry)
            .trim_end_matches('/');
        entry == domain || entry == host || ip.is_some_and(|ip| in_cidr(ip, entry))
    })
}

/// Whether `ip` is in `cidr` (`10.0.0.0/8`, `fd00::/8`).
fn in_cidr(ip: IpAddr, cidr: &str) -> bool {
    let Some((net, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    let prefix = |a: u128, b: u128, width: u32| {
        bits <= width && (bits == 0 || (a ^ b) >> (width - bits) == 0)
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => prefix(u32::from(a).into(), u32::from(b).into(), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => prefix(u128::from(a), u128::from(b), 128),
        _ => false,
    }
}

/// The CA files for `domain`: `*.crt` in `<dir>/<domain>/` of each of
/// `dirs`, sorted.
pub(crate) fn ca_files(dirs: &[PathBuf], domain: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir.join(domain)) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "crt"))
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}

/// The certificates in PEM files `files`.
pub(crate) fn certificates(files: &[PathBuf]) -> Result<Vec<reqwest::Certificate>> {
    let mut certs = Vec::new();
    for f in files {
        let pem = std::fs::read(f)
            .map_err(|e| Error::Invalid(format!("reading CA file {}: {e}", f.display())))?;
        let found = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| Error::Invalid(format!("CA file {}: {e}", f.display())))?;
        if found.is_empty() {
            return Err(Error::Invalid(format!(
                "CA file {}: no PEM certificate",
                f.display()
            )));
        }
        certs.extend(found);
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_for_loopback_and_listed_registries() {
        let insecure: Vec<String> = ["reg.lan:5000", "mirror.lan", "10.1.0.0/16", "fd00::/8"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for (domain, plain) in [
            ("localhost:5000", true),
            ("localhost", true),
            ("127.0.0.1:41234", true),
            ("127.8.9.1", true),
            ("[::1]:5000", true),
            ("reg.lan:5000", true),
            ("reg.lan:5001", false),
            ("reg.lan", false),
            ("mirror.lan:443", true),
            ("10.1.200.3:5000", true),
            ("10.2.0.1:5000", false),
            ("[fd12::1]:5000", true),
            ("quay.io", false),
            ("localhost.evil.com", false),
            ("127.0.0.1.nip.io", false),
        ] {
            assert_eq!(plain_http(domain, &insecure), plain, "{domain}");
        }
        assert!(in_cidr("1.2.3.4".parse().unwrap(), "0.0.0.0/0"));
        assert!(!in_cidr("1.2.3.4".parse().unwrap(), "1.2.3.0/33"));
    }

    #[test]
    fn daemon_json_insecure_registries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daemon.json");
        assert!(docker_insecure_registries(&path).unwrap().is_empty());
        std::fs::write(
            &path,
            r#"{"debug":true,"insecure-registries":["reg.lan:5000","10.0.0.0/8"]}"#,
        )
        .unwrap();
        assert_eq!(
            docker_insecure_registries(&path).unwrap(),
            ["reg.lan:5000", "10.0.0.0/8"]
        );
        std::fs::write(&path, r#"{"debug":true}"#).unwrap();
        assert!(docker_insecure_registries(&path).unwrap().is_empty());
        std::fs::write(&path, "{nope").unwrap();
        let err = docker_insecure_registries(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
    }

    #[test]
    fn ca_files_are_the_crt_files_of_the_registry_directory() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let reg = a.path().join("reg.lan:5000");
        std::fs::create_dir_all(&reg).unwrap();
        for f in ["ca.crt", "b.crt", "client.cert", "client.key"] {
            std::fs::write(reg.join(f), "x").unwrap();
        }
        std::fs::create_dir_all(b.path().join("reg.lan:5000")).unwrap();
        std::fs::write(b.path().join("reg.lan:5000/extra.crt"), "x").unwrap();
        let dirs = [a.path().to_owned(), b.path().to_owned()];
        assert_eq!(
            ca_files(&dirs, "reg.lan:5000"),
            [
                reg.join("b.crt"),
                reg.join("ca.crt"),
                b.path().join("reg.lan:5000/extra.crt")
            ]
        );
        assert!(ca_files(&dirs, "reg.lan").is_empty());
        let err = certificates(&[reg.join("ca.crt")]).unwrap_err().to_string();
        assert!(err.contains("ca.crt"), "{err}");
    }
}
