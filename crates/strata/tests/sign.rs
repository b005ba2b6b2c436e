//! `strata key`, `sign` and `verify` against strata's registry on
//! 127.0.0.1: cosign's key files (one written by the real cosign),
//! signatures stored under `sha256-<hex>.sig`, and clear failures for a
//! wrong key, a missing signature and a tampered image.

use strata_test_support::{Cli, StrataRegistry, busybox_full_rootfs};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

/// Pushes another image (a different import message) as `name`.
fn push_other(reg: &StrataRegistry, name: &str) {
    let cli = Cli::new(BIN);
    let full = format!("{}/{name}", reg.host);
    let env = [("SOURCE_DATE_EPOCH", "0")];
    cli.run_env(
        &["import", "-m", "tampered", "-", &full],
        &env,
        Some(&busybox_full_rootfs()),
    )
    .ok();
    cli.run(&["push", &full]).ok();
}

#[test]
fn sign_then_verify_and_every_failure_is_clear() {
    let reg = StrataRegistry::start(BIN, None);
    let name = "team/app:1";
    let full = format!("{}/{name}", reg.host);
    let cli = Cli::new(BIN);
    let env = [("SOURCE_DATE_EPOCH", "0")];
    cli.run_env(&["import", "-", &full], &env, Some(&busybox_full_rootfs()))
        .ok();
    cli.run(&["push", &full]).ok();

    let prefix = cli.scratch().join("mykey");
    let pw = [("COSIGN_PASSWORD", "s3cret")];
    let out = cli
        .run_env(
            &[
                "key",
                "generate",
                "--output-key-prefix",
                prefix.to_str().unwrap(),
            ],
            &pw,
            None,
        )
        .ok();
    assert_eq!(
        out.stdout,
        format!(
            "Private key written to {0}.key\nPublic key written to {0}.pub\n",
            prefix.display()
        )
    );
    let key = format!("{}.key", prefix.display());
    let public = format!("{}.pub", prefix.display());
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
    );

    // Unsigned yet.
    let out = cli.run(&["verify", "--key", &public, &full]).fails(1);
    assert!(
        out.stderr.contains("no signatures found for"),
        "{}",
        out.stderr
    );
    // A wrong password.
    let out = cli
        .run_env(
            &["sign", "--key", &key, &full],
            &[("COSIGN_PASSWORD", "nope")],
            None,
        )
        .fails(1);
    assert!(out.stderr.contains("reading the key"), "{}", out.stderr);

    let out = cli.run_env(&["sign", "--key", &key, &full], &pw, None).ok();
    assert!(
        out.stdout.starts_with(&format!(
            "Pushing signature to: {}/team/app:sha256-",
            reg.host
        )),
        "{}",
        out.stdout
    );
    let out = cli.run(&["verify", "--key", &public, &full]).ok();
    assert!(
        out.stderr
            .contains("The signatures were verified against the specified public key"),
        "{}",
        out.stderr
    );
    let claims: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        claims[0]["critical"]["identity"]["docker-reference"],
        format!("{}/team/app", reg.host)
    );
    assert_eq!(
        claims[0]["critical"]["type"],
        "cosign container image signature"
    );

    // The signature is where cosign looks for it.
    let digest = claims[0]["critical"]["image"]["docker-manifest-digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let sig_tag = digest.replace(':', "-") + ".sig";
    let m: serde_json::Value = serde_json::from_str(
        &reqwest::blocking::Client::new()
            .get(format!(
                "http://{}/v2/team/app/manifests/{sig_tag}",
                reg.host
            ))
            .header("accept", "application/vnd.oci.image.manifest.v1+json")
            .send()
            .unwrap()
            .text()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    assert!(m["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"].is_string());

    // The signature is also an OCI 1.1 referrer of the image.
    let refs: serde_json::Value = serde_json::from_str(
        &reqwest::blocking::get(format!(
            "http://{}/v2/team/app/referrers/{digest}?artifactType=application/vnd.dev.cosign.artifact.sig.v1%2Bjson",
            reg.host
        ))
        .unwrap()
        .text()
        .unwrap(),
    )
    .unwrap();
    assert_eq!(refs["manifests"].as_array().unwrap().len(), 1, "{refs}");
    // Without the tag, verify finds it through the referrers API.
    let status = reqwest::blocking::Client::new()
        .delete(format!(
            "http://{}/v2/team/app/manifests/{sig_tag}",
            reg.host
        ))
        .send()
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 202);
    cli.run(&["verify", "--key", &public, &full]).ok();

    // Another key does not verify it.
    let other = cli.scratch().join("other");
    cli.run_env(
        &[
            "key",
            "generate",
            "--output-key-prefix",
            other.to_str().unwrap(),
        ],
        &pw,
        None,
    )
    .ok();
    let out = cli
        .run(&[
            "verify",
            "--key",
            &format!("{}.pub", other.display()),
            &full,
        ])
        .fails(1);
    assert!(
        out.stderr
            .contains("no matching signatures: invalid signature"),
        "{}",
        out.stderr
    );

    // The tag moved to another image (tampering): its digest is unsigned.
    push_other(&reg, name);
    let out = cli.run(&["verify", "--key", &public, &full]).fails(1);
    assert!(
        out.stderr.contains("no signatures found for"),
        "{}",
        out.stderr
    );
    // By digest, the original still verifies.
    cli.run(&[
        "verify",
        "--key",
        &public,
        &format!("{}/team/app@{digest}", reg.host),
    ])
    .ok();
}

#[test]
fn a_key_written_by_cosign_signs_and_its_public_key_verifies() {
    let reg = StrataRegistry::start(BIN, None);
    let full = format!("{}/cosign/app:1", reg.host);
    let cli = Cli::new(BIN);
    cli.run_env(
        &["import", "-", &full],
        &[("SOURCE_DATE_EPOCH", "0")],
        Some(&busybox_full_rootfs()),
    )
    .ok();
    cli.run(&["push", &full]).ok();
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cosign_generated_encrypted_empty_private.key"
    );
    let empty = [("COSIGN_PASSWORD", "")];
    let public = cli
        .run_env(&["key", "public-key", "--key", key], &empty, None)
        .ok()
        .stdout;
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"), "{public}");
    let pub_file = cli.scratch().join("cosign.pub");
    std::fs::write(&pub_file, &public).unwrap();
    cli.run_env(&["sign", "--key", key, &full], &empty, None)
        .ok();
    // Signing twice keeps both signatures in the one manifest.
    cli.run_env(&["sign", "--key", key, &full], &empty, None)
        .ok();
    let out = cli
        .run(&["verify", "--key", pub_file.to_str().unwrap(), &full])
        .ok();
    let claims: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(claims.as_array().unwrap().len(), 2);
}
