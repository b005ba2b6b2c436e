//! Helpers for the real-runc tests: a busybox root file system unpacked
//! from `strata_test_support::busybox_rootfs`, requests over it, a run that
//! collects output, and a check that a run left nothing on the host.
//!
//! Tests that need root and runc are named `root_*`; skip them with
//! `cargo test -- --skip root_`.
#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use strata_runtime::{ExitStatus, Mount, Network, Process, RunRequest, Stream};

/// A temporary directory with `lower/` (busybox), a state directory and
/// room for overlay upper and work directories.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub lower: PathBuf,
    pub state: PathBuf,
}

/// Unpacks a busybox root file system with `extra` files.
pub fn env(extra: &[(&str, &[u8])]) -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let lower = tmp.path().join("lower");
    std::fs::create_dir(&lower).unwrap();
    untar(&strata_test_support::busybox_rootfs(extra), &lower);
    let state = tmp.path().join("runtime-v1");
    Env { tmp, lower, state }
}

/// Extracts a tar stream into `dir` with the system's tar.
pub fn untar(tar: &[u8], dir: &Path) {
    let mut child = Command::new("tar")
        .arg("-x")
        .arg("--numeric-owner")
        .arg("-C")
        .arg(dir)
        .stdin(Stdio::piped())
        .spawn()
        .expect("tar");
    child.stdin.take().unwrap().write_all(tar).unwrap();
    assert!(child.wait().unwrap().success(), "tar -x failed");
}

impl Env {
    /// An overlay over `lower` with fresh upper and work directories
    /// named after `name`; returns the mount and the upper directory.
    pub fn overlay(&self, name: &str) -> (Mount, PathBuf) {
        let upper = self.tmp.path().join(format!("{name}-upper"));
        let work = self.tmp.path().join(format!("{name}-work"));
        std::fs::create_dir(&upper).unwrap();
        std::fs::create_dir(&work).unwrap();
        let mount = Mount {
            destination: "/".into(),
            kind: "overlay".into(),
            source: "overlay".into(),
            options: vec![
                format!("lowerdir={}", self.lower.display()),
                format!("upperdir={}", upper.display()),
                format!("workdir={}", work.display()),
            ],
        };
        (mount, upper)
    }

    /// A request running `sh -c script` as root in `/`, host network.
    pub fn request<'a>(&'a self, id: &'a str, rootfs: &'a [Mount], script: &str) -> RunRequest<'a> {
        RunRequest {
            id,
            state_dir: &self.state,
            rootfs,
            mounts: &[],
            process: Process {
                args: vec!["/bin/sh".into(), "-c".into(), script.into()],
                env: vec!["PATH=/bin".into()],
                cwd: "/".into(),
                uid: 0,
                gid: 0,
                additional_gids: vec![],
            },
            network: Network::Host,
            hostname: "strata-test",
            readonly_rootfs: false,
            runtime: strata_runtime::DEFAULT_RUNTIME,
        }
    }
}

/// A unique container ID for this test process.
pub fn id(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

/// What a run produced.
#[derive(Debug)]
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// Each chunk's stream and arrival time.
    pub chunks: Vec<(Stream, Instant, String)>,
}

/// Runs `req`, panicking on a runtime error.
pub fn run(req: &RunRequest<'_>) -> Ran {
    try_run(req).unwrap_or_else(|e| panic!("run {}: {e}", req.id))
}

/// Runs `req`, collecting output.
pub fn try_run(req: &RunRequest<'_>) -> strata_runtime::Result<Ran> {
    let mut chunks = Vec::new();
    let status = strata_runtime::run(req, &mut |stream, data| {
        chunks.push((
            stream,
            Instant::now(),
            String::from_utf8_lossy(data).into_owned(),
        ));
    })?;
    let join = |want: Stream| {
        chunks
            .iter()
            .filter(|(s, _, _)| *s == want)
            .map(|(_, _, d)| d.as_str())
            .collect::<String>()
    };
    Ok(Ran {
        status,
        stdout: join(Stream::Stdout),
        stderr: join(Stream::Stderr),
        chunks,
    })
}

/// Asserts that container `id` left nothing: no bundle, no runc state, no
/// mount under its bundle, no cgroup.
pub fn assert_clean(state: &Path, id: &str) {
    assert!(
        !state.join("bundles").join(id).exists(),
        "bundle of {id} left"
    );
    assert!(
        !state.join("runc").join(id).exists(),
        "runc state of {id} left"
    );
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let bundle = format!("{}/", state.join("bundles").join(id).display());
    assert!(
        !mountinfo.lines().any(|l| l.contains(&bundle)),
        "a mount under {bundle} is left:\n{mountinfo}"
    );
    for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let cg = entry.path().join("strata").join(id);
        assert!(!cg.exists(), "cgroup {} left", cg.display());
    }
}

/// Every path under `dir`, relative, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(base).unwrap().display().to_string());
            if entry.file_type().unwrap().is_dir() {
                walk(base, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
