//! Conformance with Docker's BuildKit builder (needs root, Debian's
//! `docker.io` and busybox-static): every case under `tests/conformance/`
//! is built by strata and by real Docker from the same base image, and the
//! two images must have the same file tree (paths, types, modes, owners,
//! link targets, content; mtimes aside) and the same config fields.
//!
//! A case is a folder with a `Dockerfile` and its context. Optional files:
//! `setup.sh` (run in the context copy first, for what git cannot hold:
//! hard links, archives), `parent.Dockerfile` (built first by both tools as
//! `conformance/<case>-parent`), and `Dockerfile.docker` (what Docker builds
//! instead, for features Debian's Docker 20.10 frontend lacks offline, such
//! as heredocs; the images must still match).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use strata_test_support::{Cli, DockerDaemon, ImageTree, busybox_full_rootfs, image_tree};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

const CONFIG_FIELDS: &[&str] = &[
    "Env",
    "Cmd",
    "Entrypoint",
    "WorkingDir",
    "User",
    "ExposedPorts",
    "Volumes",
    "Labels",
    "Healthcheck",
    "StopSignal",
    "OnBuild",
    "Shell",
];

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Empty directories Docker 20.10's BuildKit (v0.8) leaves behind where
/// runc mounted something during RUN: `/dev`, `/proc`, `/sys` and each
/// `--mount` target. Newer BuildKit removes these stubs, as strata does, so
/// they are the one accepted difference.
fn mount_stubs(dockerfile: &str) -> BTreeSet<String> {
    let mut stubs: BTreeSet<String> = ["dev", "proc", "sys"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for part in dockerfile
        .split_whitespace()
        .filter(|w| w.starts_with("--mount="))
    {
        for field in part.trim_start_matches("--mount=").split(',') {
            if let Some(t) = field.strip_prefix("target=") {
                // The target and the directories runc made to reach it.
                let t = t.trim_matches('/');
                let mut prefix = String::new();
                for part in t.split('/') {
                    prefix = if prefix.is_empty() {
                        part.to_owned()
                    } else {
                        format!("{prefix}/{part}")
                    };
                    stubs.insert(prefix.clone());
                }
            }
        }
    }
    stubs
}

fn compare(
    case: &str,
    docker: &ImageTree,
    strata: &ImageTree,
    stubs: &BTreeSet<String>,
    problems: &mut Vec<String>,
) {
    let paths: BTreeSet<&String> = docker.files.keys().chain(strata.files.keys()).collect();
    for p in paths {
        let empty_dir = |path: &str| {
            !docker
                .files
                .keys()
                .any(|k| k.starts_with(&format!("{path}/")))
        };
        match (docker.files.get(p), strata.files.get(p)) {
            (Some(d), Some(s)) if d == s => {}
            (Some(d), None) if d.kind == "dir" && stubs.contains(p.as_str()) && empty_dir(p) => {}
            (d, s) => problems.push(format!(
                "{case}: /{p}\n    docker: {d:?}\n    strata: {s:?}"
            )),
        }
    }
    for field in CONFIG_FIELDS {
        let d = &docker.config["config"][field];
        let s = &strata.config["config"][field];
        // Docker writes empty values as null or leaves them out; both mean unset.
        let empty = |v: &serde_json::Value| {
            v.is_null()
                || v == &serde_json::json!("")
                || v == &serde_json::json!([])
                || v == &serde_json::json!({})
        };
        if d != s && !(empty(d) && empty(s)) {
            problems.push(format!(
                "{case}: config.{field}\n    docker: {d}\n    strata: {s}"
            ));
        }
    }
}

#[test]
fn corpus_builds_like_docker_buildkit() {
    let docker = DockerDaemon::start();
    let cli = Cli::new(BIN);
    // One base image, byte-identical in both tools.
    let base = cli.scratch().join("base.tar");
    std::fs::write(&base, busybox_full_rootfs()).unwrap();
    docker
        .docker(&["import", base.to_str().unwrap(), "bb:local"])
        .ok();
    let saved = cli.scratch().join("base-saved.tar");
    docker
        .docker(&["save", "-o", saved.to_str().unwrap(), "bb:local"])
        .ok();
    cli.run(&["load", "-i", saved.to_str().unwrap()]).ok();

    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut cases: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "the corpus needs at least 15 cases");
    let mut problems = Vec::new();
    for dir in cases {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let ctx = cli.scratch().join(format!("ctx-{case}"));
        copy_dir(&dir, &ctx);
        if ctx.join("setup.sh").exists() {
            let ok = Command::new("sh")
                .arg("setup.sh")
                .current_dir(&ctx)
                .status()
                .unwrap()
                .success();
            assert!(ok, "{case}: setup.sh failed");
        }
        let ctx_s = ctx.to_str().unwrap();
        let docker_build = |file: &str, tag: &str| -> Result<(), String> {
            let out = docker
                .command(&[
                    "build",
                    "--network",
                    "none",
                    "-q",
                    "-f",
                    file,
                    "-t",
                    tag,
                    ctx_s,
                ])
                .env("DOCKER_BUILDKIT", "1")
                .output()
                .unwrap();
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{case}: docker build failed:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        };
        let strata_build = |file: &str, tag: &str| -> Result<(), String> {
            let out = cli.run(&["build", "--progress", "plain", "-f", file, "-t", tag, ctx_s]);
            if out.code == 0 {
                Ok(())
            } else {
                Err(format!("{case}: strata build failed:\n{}", out.stderr))
            }
        };
        let tag = format!("conformance/{case}");
        let docker_file = if ctx.join("Dockerfile.docker").exists() {
            "Dockerfile.docker"
        } else {
            "Dockerfile"
        };
        let parent = ctx.join("parent.Dockerfile");
        let parent_tag = format!("conformance/{case}-parent");
        let built = (|| {
            if parent.exists() {
                docker_build(parent.to_str().unwrap(), &parent_tag)?;
                strata_build(parent.to_str().unwrap(), &parent_tag)?;
            }
            docker_build(ctx.join(docker_file).to_str().unwrap(), &tag)?;
            strata_build(ctx.join("Dockerfile").to_str().unwrap(), &tag)
        })();
        if let Err(e) = built {
            problems.push(e);
            continue;
        }
        let d_tar = cli.scratch().join(format!("{case}.docker.tar"));
        let s_tar = cli.scratch().join(format!("{case}.strata.tar"));
        docker
            .docker(&["save", "-o", d_tar.to_str().unwrap(), &tag])
            .ok();
        cli.run(&["save", "-o", s_tar.to_str().unwrap(), &tag]).ok();
        let d = image_tree(&std::fs::read(&d_tar).unwrap());
        let s = image_tree(&std::fs::read(&s_tar).unwrap());
        let stubs = mount_stubs(&std::fs::read_to_string(ctx.join("Dockerfile")).unwrap());
        compare(&case, &d, &s, &stubs, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "{} differences from Docker:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
