//! `strata scan --secrets`: keys and tokens in files, including a file a
//! later layer deletes, in `Env` and in the history; exit 1 when found.

use strata_test_support::{ArchiveImage, Cli, TarBuilder};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

fn load(img: ArchiveImage) -> Cli {
    let cli = Cli::new(BIN);
    cli.load_images(vec![img]);
    cli
}

#[test]
fn secrets_are_found_in_files_deleted_files_env_and_history() {
    let key = b"-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n";
    let mut img = ArchiveImage::new(
        vec![
            TarBuilder::new()
                .dir("etc")
                .file("etc/hostname", b"box\n")
                .finish(),
            TarBuilder::new()
                .dir("root")
                .dir("root/.ssh")
                .file("root/.ssh/id_rsa", key)
                .dir("app")
                .file(
                    "app/.env",
                    b"DEBUG=1\nAWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
                )
                .file("app/blob.bin", b"\0\0AKIAIOSFODNN7EXAMPLE")
                .finish(),
            TarBuilder::new()
                .dir("root")
                .dir("root/.ssh")
                .file("root/.ssh/.wh.id_rsa", b"")
                .finish(),
        ],
        &["leaky:1"],
    );
    let mut config = img.config_json();
    config["config"]["Env"] =
        serde_json::json!(["PATH=/bin", "DB_PASSWORD=hunter2hunter2", "MODE=prod"]);
    config["history"] = serde_json::json!([
        {"created_by": "ADD base"},
        {"created_by": "|1 GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB /bin/sh -c make"},
        {"created_by": "/bin/sh -c rm /root/.ssh/id_rsa"}
    ]);
    img.config = serde_json::to_vec(&config).unwrap();
    let cli = load(img);

    let out = cli.run(&["scan", "--secrets", "leaky:1"]).fails(1).stdout;
    assert!(out.contains("CRITICAL  private-key"), "{out}");
    assert!(
        out.contains("/root/.ssh/id_rsa:1 (deleted or replaced later)"),
        "{out}"
    );
    assert!(out.contains("/app/.env:2 "), "{out}");
    assert!(out.contains("AKIA****************"), "{out}");
    assert!(
        !out.contains("AKIAIOSFODNN7EXAMPLE"),
        "secrets are shown redacted: {out}"
    );
    assert!(!out.contains("blob.bin"), "binary files are skipped: {out}");
    assert!(out.contains("config Env DB_PASSWORD"), "{out}");
    assert!(out.contains("history entry 1"), "{out}");
    assert!(out.contains("build-arg-secret"), "{out}");

    let json = cli
        .run(&["scan", "--secrets", "--format", "json", "leaky:1"])
        .fails(1)
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let key = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "private-key")
        .unwrap();
    assert_eq!(key["location"]["kind"], "file");
    assert_eq!(key["location"]["layer"], 1);
    assert_eq!(key["location"]["hidden"], true);
}

#[test]
fn a_clean_image_passes_and_scan_without_secrets_is_the_vulnerability_scan() {
    let cli = load(ArchiveImage::new(
        vec![
            TarBuilder::new()
                .dir("etc")
                .file("etc/motd", b"hello\n")
                .finish(),
        ],
        &["clean:1"],
    ));
    let out = cli.run(&["scan", "--secrets", "clean:1"]).ok().stdout;
    assert_eq!(out, "No secrets found in clean:1\n");
    // Without --secrets it is the vulnerability scan, which needs a database.
    let out = cli.run(&["scan", "clean:1"]).fails(1);
    assert!(out.stderr.contains("strata db import"), "{}", out.stderr);
}
