//! `strata copy` between registries (Debian's `docker-registry` on
//! 127.0.0.1), OCI layout directories, docker archives and the store,
//! checked against skopeo where it is installed.

use std::process::Command;

use strata_test_support::{
    ArchiveImage, Cli, Distribution, DockerArchive, Layout, TarBuilder, redact,
};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

/// Pushes a busybox image as `name`; returns the manifest digest.
fn pushed(name: &str) -> String {
    let cli = Cli::with_busybox(BIN, name);
    let out = cli.run(&["push", name]).ok().stdout;
    out.lines()
        .last()
        .unwrap()
        .split(' ')
        .nth(2)
        .unwrap()
        .to_owned()
}

/// The digest a fresh store is told when pulling `name`.
fn pulled_digest(name: &str) -> String {
    let out = Cli::new(BIN).run(&["pull", name]).ok().stdout;
    out.lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned()
}

/// skopeo's digest of `location`, when skopeo is installed.
fn skopeo_digest(location: &str) -> Option<String> {
    let out = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", location])
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "skopeo inspect {location}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(v["Digest"].as_str().unwrap().to_owned())
}

const COPIED: &str = "Getting image source signatures\n\
    Copying blob sha256:[DIGEST]\n\
    Copying config sha256:[DIGEST]\n\
    Writing manifest to image destination\n";

#[test]
fn registry_to_registry_keeps_the_digest_and_names_nothing_locally() {
    let a = Distribution::start();
    let b = Distribution::start();
    let src = format!("{}/team/a:1", a.host);
    let digest = pushed(&src);

    let cli = Cli::new(BIN);
    let dst = format!("{}/copied/x:2", b.host);
    let out = cli
        .run(&[
            "copy",
            &format!("docker://{src}"),
            &format!("docker://{dst}"),
        ])
        .ok();
    assert_eq!(redact(&out.stdout), COPIED);
    assert_eq!(pulled_digest(&dst), digest);
    if let Some(d) = skopeo_digest(&format!("docker://{dst}")) {
        assert_eq!(d, digest);
    }
    assert_eq!(cli.run(&["images", "-q"]).ok().stdout, "", "no local names");

    // Again: the destination has every blob.
    let out = cli
        .run(&[
            "copy",
            &format!("docker://{src}"),
            &format!("docker://{dst}"),
        ])
        .ok();
    assert_eq!(
        redact(&out.stdout),
        "Getting image source signatures\n\
         Copying blob sha256:[DIGEST] skipped: already exists\n\
         Copying config sha256:[DIGEST] skipped: already exists\n\
         Writing manifest to image destination\n"
    );

    // By digest, within one registry (blobs mounted), quietly.
    let out = cli
        .run(&[
            "copy",
            "-q",
            &format!("docker://{}/team/a@{digest}", a.host),
            &format!("docker://{}/team/c:1", a.host),
        ])
        .ok();
    assert_eq!(out.stdout, "");
    assert_eq!(pulled_digest(&format!("{}/team/c:1", a.host)), digest);

    let out = cli
        .run(&["copy", "dir:/tmp/x", &format!("docker://{dst}")])
        .fails(1);
    assert!(
        out.stderr
            .starts_with("Error: invalid image location \"dir:/tmp/x\""),
        "{}",
        out.stderr
    );
    let out = cli
        .run(&[
            "copy",
            &format!("docker://{}/team/none:1", a.host),
            "oci:/tmp/x",
        ])
        .fails(1);
    assert!(out.stderr.contains("manifest unknown"), "{}", out.stderr);
}

#[test]
fn registry_to_oci_layout_and_back_keeps_the_digest() {
    let reg = Distribution::start();
    let src = format!("{}/team/a:1", reg.host);
    let digest = pushed(&src);
    let cli = Cli::new(BIN);
    let dir = cli.scratch().join("layout");
    let oci = format!("oci:{}:v1", dir.display());

    let out = cli.run(&["copy", &format!("docker://{src}"), &oci]).ok();
    assert_eq!(redact(&out.stdout), COPIED);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(index["manifests"][0]["digest"], digest.as_str());
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "v1"
    );
    assert!(dir.join("oci-layout").is_file());
    if let Some(d) = skopeo_digest(&oci) {
        assert_eq!(d, digest);
    }
    // A second name in the same layout adds an entry; the same name
    // replaces its own.
    let v2 = format!("oci:{}:v2", dir.display());
    cli.run(&["copy", "-q", &format!("docker://{src}"), &v2])
        .ok();
    cli.run(&["copy", "-q", &format!("docker://{src}"), &oci])
        .ok();
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);

    let back = format!("{}/from-oci/x:1", reg.host);
    let out = cli.run(&["copy", &oci, &format!("docker://{back}")]).ok();
    assert!(
        out.stdout
            .ends_with("Writing manifest to image destination\n")
    );
    assert_eq!(pulled_digest(&back), digest);
    if let Some(d) = skopeo_digest(&format!("docker://{back}")) {
        assert_eq!(d, digest);
    }
    // An index in the layout: with --all it goes whole (its digest kept),
    // without only the platform's image.
    let mut child = index["manifests"][0].clone();
    child.as_object_mut().unwrap().remove("annotations");
    child["platform"] = serde_json::json!({"os": "linux", "architecture": "arm64"});
    let list = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [child],
    });
    let list = serde_json::to_vec(&list).unwrap();
    let list_digest = format!("sha256:{}", sha256_hex(&list));
    std::fs::write(dir.join("blobs/sha256").join(&list_digest[7..]), &list).unwrap();
    let mut idx = index.clone();
    idx["manifests"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": list_digest,
            "size": list.len(),
            "annotations": {"org.opencontainers.image.ref.name": "multi"},
        }));
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&idx).unwrap()).unwrap();
    let multi = format!("oci:{}:multi", dir.display());
    let all = format!("{}/multi/x:all", reg.host);
    let out = cli
        .run(&["copy", "--all", &multi, &format!("docker://{all}")])
        .ok();
    assert_eq!(
        redact(&out.stdout),
        "Getting image source signatures\n\
         Copying 1 images generated from 1 images in list\n\
         Copying image sha256:[DIGEST] (1/1)\n\
         Copying blob sha256:[DIGEST]\n\
         Copying config sha256:[DIGEST]\n\
         Writing manifest to image destination\n"
    );
    let out = Cli::new(BIN)
        .run(&["pull", "--platform", "linux/arm64", &all])
        .ok()
        .stdout;
    assert!(out.contains(&format!("Digest: {list_digest}\n")), "{out}");
    let one = format!("{}/multi/x:one", reg.host);
    cli.run(&[
        "copy",
        "-q",
        "--platform",
        "linux/arm64",
        &multi,
        &format!("docker://{one}"),
    ])
    .ok();
    assert_eq!(pulled_digest(&one), digest);
    let out = cli
        .run(&[
            "copy",
            "--platform",
            "linux/s390x",
            &multi,
            &format!("docker://{one}"),
        ])
        .fails(1);
    assert!(
        out.stderr.contains("no matching manifest for linux/s390x"),
        "{}",
        out.stderr
    );

    // Two images and no name: which one is meant is asked.
    let out = cli
        .run(&[
            "copy",
            &format!("oci:{}", dir.display()),
            &format!("docker://{back}"),
        ])
        .fails(1);
    assert!(out.stderr.contains("holds 3 images"), "{}", out.stderr);
    assert_eq!(cli.run(&["images", "-q"]).ok().stdout, "");
}

#[test]
fn docker_archives_and_the_store_copy_to_registries_and_back() {
    let reg = Distribution::start();
    let cli = Cli::with_busybox(BIN, "local/bb:1");
    let id = cli
        .run(&["images", "-q", "--no-trunc", "local/bb:1"])
        .ok()
        .stdout;

    // A legacy `docker save` archive (no manifest): an OCI manifest is made.
    let mut layer = TarBuilder::new();
    layer.file("hello.txt", b"hello from an archive\n");
    let image = ArchiveImage::new(vec![layer.finish()], &["arch/img:7"]);
    let legacy = DockerArchive {
        images: vec![image.clone()],
        layout: Layout::Legacy,
    };
    let file = cli.scratch().join("legacy.tar");
    std::fs::write(&file, legacy.build()).unwrap();
    let dst = format!("{}/from-archive/x:1", reg.host);
    let out = cli
        .run(&[
            "copy",
            &format!("docker-archive:{}:arch/img:7", file.display()),
            &format!("docker://{dst}"),
        ])
        .ok();
    assert_eq!(redact(&out.stdout), COPIED);
    let other = Cli::new(BIN);
    other.run(&["pull", "-q", &dst]).ok();
    assert_eq!(
        other
            .run(&["images", "-q", "--no-trunc", &dst])
            .ok()
            .stdout
            .trim(),
        image.id().to_string()
    );

    // strata save writes a Docker 25 archive, manifest included: its digest
    // is kept, and it is the digest a push of the image gets.
    let saved = cli.scratch().join("saved.tar");
    cli.run(&["save", "-o", saved.to_str().unwrap(), "local/bb:1"])
        .ok();
    let dst = format!("{}/from-save/x:1", reg.host);
    cli.run(&[
        "copy",
        "-q",
        &format!("docker-archive:{}", saved.display()),
        &format!("docker://{dst}"),
    ])
    .ok();
    let digest = pulled_digest(&dst);
    let via_push = format!("{}/pushed/x:1", reg.host);
    cli.run(&["tag", "local/bb:1", &via_push]).ok();
    let out = cli.run(&["push", &via_push]).ok().stdout;
    assert!(out.contains(&format!("1: digest: {digest} ")), "{out}");

    // The store as a source, and as a destination (which names the image).
    let dst = format!("{}/from-store/x:1", reg.host);
    cli.run(&[
        "copy",
        "-q",
        "strata:local/bb:1",
        &format!("docker://{dst}"),
    ])
    .ok();
    assert_eq!(pulled_digest(&dst), digest);
    let fresh = Cli::new(BIN);
    let out = fresh
        .run(&["copy", &format!("docker://{dst}"), "strata:copied/bb:2"])
        .ok();
    assert_eq!(redact(&out.stdout), COPIED);
    assert_eq!(
        fresh
            .run(&["images", "-q", "--no-trunc", "copied/bb:2"])
            .ok()
            .stdout,
        id
    );

    // And out to a docker archive that `load` takes.
    let out_file = fresh.scratch().join("out.tar");
    fresh
        .run(&[
            "copy",
            "-q",
            &format!("docker://{dst}"),
            &format!("docker-archive:{}:again/bb:3", out_file.display()),
        ])
        .ok();
    let third = Cli::new(BIN);
    let out = third
        .run(&["load", "-i", out_file.to_str().unwrap()])
        .ok()
        .stdout;
    assert_eq!(out, "Loaded image: again/bb:3\n");
    assert_eq!(
        third
            .run(&["images", "-q", "--no-trunc", "again/bb:3"])
            .ok()
            .stdout,
        id
    );
}

fn sha256_hex(data: &[u8]) -> String {
    strata_core::Digest::sha256(data).hex().to_owned()
}
