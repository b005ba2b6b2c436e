//! Interop with skopeo and umoci (Debian's packages; needs busybox-static):
//! strata's OCI archives are read by both, and OCI layouts written by
//! skopeo load into strata with the same image ID.

use std::io::Write;
use std::process::{Command, Stdio};

use strata_test_support::{ArchiveImage, Cli, DockerArchive, Layout, TarBuilder, busybox_rootfs};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

#[track_caller]
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e} (apt-get install skopeo umoci)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn loaded_cli() -> (Cli, ArchiveImage) {
    let cli = Cli::new(BIN);
    let img = ArchiveImage::new(
        vec![
            busybox_rootfs(&[]),
            TarBuilder::new().file("etc/app", b"v1\n").finish(),
        ],
        &["example/app:1"],
    );
    let bytes = DockerArchive {
        images: vec![img.clone()],
        layout: Layout::Legacy,
    }
    .build();
    cli.run_stdin(&["load"], Some(&bytes)).ok();
    (cli, img)
}

#[test]
fn skopeo_and_umoci_read_strata_oci_archives() {
    let (cli, img) = loaded_cli();
    let tar = cli.scratch().join("app.oci.tar");
    cli.run(&[
        "save",
        "--format",
        "oci",
        "-o",
        tar.to_str().unwrap(),
        "example/app:1",
    ])
    .ok();
    let manifest_digest = cli
        .run(&[
            "image",
            "inspect",
            "-f",
            "{{.Descriptor.digest}}",
            "example/app:1",
        ])
        .ok()
        .stdout;

    let inspect =
        run(Command::new("skopeo").args(["inspect", &format!("oci-archive:{}", tar.display())]));
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(v["Digest"], manifest_digest.trim());
    assert_eq!(v["Layers"].as_array().unwrap().len(), 2);
    let config = run(Command::new("skopeo").args([
        "inspect",
        "--config",
        &format!("oci-archive:{}", tar.display()),
    ]));
    let c: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(c["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);

    // umoci reads the layout from a directory, by the tag in index.json.
    let layout = cli.scratch().join("layout");
    std::fs::create_dir(&layout).unwrap();
    run(Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&layout));
    let tags = run(Command::new("umoci").args(["ls", "--layout"]).arg(&layout));
    assert_eq!(tags, "1\n");
    let stat = run(Command::new("umoci")
        .arg("stat")
        .arg("--image")
        .arg(format!("{}:1", layout.display())));
    assert!(stat.contains("LAYER"), "{stat}");
    // umoci can unpack it into a runtime bundle with our files in place.
    let bundle = cli.scratch().join("bundle");
    run(Command::new("umoci")
        .arg("unpack")
        .arg("--image")
        .arg(format!("{}:1", layout.display()))
        .arg(&bundle));
    assert_eq!(
        std::fs::read_to_string(bundle.join("rootfs/etc/app")).unwrap(),
        "v1\n"
    );
    assert_eq!(
        c["rootfs"]["diff_ids"][0],
        img.config_json()["rootfs"]["diff_ids"][0]
    );
}

#[test]
fn oci_layouts_written_by_skopeo_load_into_strata() {
    let (cli, img) = loaded_cli();
    let archive = cli.scratch().join("app.docker.tar");
    cli.run(&["save", "-o", archive.to_str().unwrap(), "example/app:1"])
        .ok();
    // skopeo re-packs it as an OCI layout (compressing the layers).
    let dir = cli.scratch().join("skopeo-oci");
    run(Command::new("skopeo").args([
        "copy",
        &format!("docker-archive:{}", archive.display()),
        &format!("oci:{}:example/app:from-skopeo", dir.display()),
    ]));
    let bytes = Command::new("tar")
        .arg("-cf")
        .arg("-")
        .arg("-C")
        .arg(&dir)
        .arg(".")
        .output()
        .unwrap()
        .stdout;

    let other = Cli::new(BIN);
    let mut child = other
        .command(&["load"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Loaded image: example/app:from-skopeo\n"
    );
    // skopeo rewrites the config when it converts Docker's manifest to
    // OCI, so the image ID is the digest of skopeo's config; the layers
    // (diff IDs) are unchanged.
    let raw = run(Command::new("skopeo").args([
        "inspect",
        "--raw",
        &format!("oci:{}:example/app:from-skopeo", dir.display()),
    ]));
    let manifest: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let id = other.run(&["images", "-q", "--no-trunc"]).ok().stdout;
    assert_eq!(id.trim(), manifest["config"]["digest"]);
    let layers = other
        .run(&[
            "image",
            "inspect",
            "-f",
            "{{json .RootFS.Layers}}",
            "example/app:from-skopeo",
        ])
        .ok();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&layers.stdout).unwrap(),
        img.config_json()["rootfs"]["diff_ids"]
    );
    // The manifest is skopeo's, byte for byte (its layers are gzip now).
    let digest = other
        .run(&[
            "image",
            "inspect",
            "-f",
            "{{.Descriptor.digest}}",
            "example/app:from-skopeo",
        ])
        .ok();
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(digest.stdout.trim(), index["manifests"][0]["digest"]);
    assert!(
        manifest["layers"][0]["mediaType"]
            .as_str()
            .unwrap()
            .ends_with("+gzip"),
        "{raw}"
    );
}
