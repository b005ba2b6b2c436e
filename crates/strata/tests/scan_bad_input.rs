//! Bad input for the analysers: huge files, corrupt metadata, an absolute
//! link naming a host file. Warnings, never a crash, never a byte read
//! from outside the image. (Entries that escape the layer root, `../`
//! names or links, never reach the store: `load` and `pull` refuse them.)

use strata_test_support::{ArchiveImage, Cli, TarBuilder};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

#[test]
fn analysers_warn_on_bad_input_and_never_follow_links_out_of_the_image() {
    // A secret on the host, which a link in the image points at.
    let host = tempfile::tempdir().unwrap();
    let secret = host.path().join("id_rsa");
    std::fs::write(&secret, b"-----BEGIN OPENSSH PRIVATE KEY-----\nxyz\n").unwrap();
    let mut huge = b"AKIAIOSFODNN7EXAMPLE\n".to_vec();
    huge.resize(11 << 20, b'x');
    let cli = Cli::new(BIN);
    let img = ArchiveImage::new(
        vec![
            TarBuilder::new()
                .dir("app")
                .symlink("app/stolen", secret.to_str().unwrap())
                .file("app/huge.log", &huge)
                .dir("app/node_modules/weird")
                .file(
                    "app/node_modules/weird/package.json",
                    br#"{"name": 5, "version": []}"#,
                )
                .dir("usr/lib/python3/dist-packages/noversion.dist-info")
                .file(
                    "usr/lib/python3/dist-packages/noversion.dist-info/METADATA",
                    b"Name: noversion\n",
                )
                .dir("var/lib/dpkg")
                .file(
                    "var/lib/dpkg/status",
                    b"Package: half\nStatus: install ok installed\n",
                )
                .finish(),
        ],
        &["bad:1"],
    );
    cli.load_images(vec![img]);

    let out = cli.run(&["scan", "--secrets", "bad:1"]).ok();
    assert_eq!(
        out.stdout, "No secrets found in bad:1\n",
        "the host's key behind the link was not read"
    );
    assert!(
        out.stderr
            .contains("/app/huge.log: 11534336 bytes, not scanned"),
        "{}",
        out.stderr
    );

    let out = cli.run(&["sbom", "--format", "json", "bad:1"]).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v["packages"],
        serde_json::json!([]),
        "nothing half-described is listed"
    );
    assert!(
        out.stderr
            .contains("noversion.dist-info/METADATA: no Name or Version"),
        "{}",
        out.stderr
    );

    let out = cli.run(&["analyze", "--format", "json", "bad:1"]).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(v["total_bytes"].as_u64().unwrap() > 11 << 20);

    // No database, no OS: a clear error, not a crash.
    let out = cli.run(&["scan", "bad:1"]).fails(1);
    assert!(out.stderr.contains("strata db import"), "{}", out.stderr);
}
