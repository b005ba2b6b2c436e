//! A real Debian root filesystem from `debootstrap --variant=minbase
//! bookworm`, built once per machine and cached as a tarball in
//! `/var/tmp` (it needs root, Debian's `debootstrap` and the mirror in the
//! apt sources; a few minutes the first time).

use std::path::{Path, PathBuf};
use std::process::Command;

const CACHE: &str = "/var/tmp/strata-test-debian-minbase-bookworm.tar";

fn mirror() -> String {
    if let Ok(m) = std::env::var("DEBIAN_MIRROR") {
        return m;
    }
    let mut texts = Vec::new();
    if let Ok(d) = std::fs::read_dir("/etc/apt/sources.list.d") {
        for e in d.flatten() {
            texts.extend(std::fs::read_to_string(e.path()));
        }
    }
    texts.extend(std::fs::read_to_string("/etc/apt/sources.list"));
    for t in texts {
        for line in t.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let url = match words.as_slice() {
                ["URIs:", u, ..] => u,
                ["deb", u, ..] if !u.starts_with('[') => u,
                ["deb", _, u, ..] => u,
                _ => continue,
            };
            if url.trim_end_matches('/').ends_with("/debian") {
                return (*url).to_owned();
            }
        }
    }
    "http://deb.debian.org/debian".to_owned()
}

/// The minbase root filesystem as a tarball (path to the cached file).
pub fn debian_minbase_tar() -> PathBuf {
    let cache = Path::new(CACHE);
    // One builder at a time across test processes.
    let lock = std::fs::File::create(format!("{CACHE}.lock")).expect("lock file");
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).expect("flock");
    if cache.exists() {
        return cache.to_owned();
    }
    let dir = tempfile::Builder::new()
        .prefix("strata-debootstrap-")
        .tempdir_in("/var/tmp")
        .expect("temp dir");
    let root = dir.path().join("root");
    let out = Command::new("debootstrap")
        .args(["--variant=minbase", "bookworm"])
        .arg(&root)
        .arg(mirror())
        .output()
        .expect("tests need debootstrap (apt-get install debootstrap) and root");
    assert!(
        out.status.success(),
        "debootstrap failed: {}",
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let partial = format!("{CACHE}.part");
    let status = Command::new("tar")
        .args(["--sort=name", "--numeric-owner", "-C"])
        .arg(&root)
        .args(["-cf", &partial, "."])
        .status()
        .expect("tar");
    assert!(status.success(), "tar of the debootstrap root failed");
    std::fs::rename(&partial, cache).expect("cache the tarball");
    cache.to_owned()
}
