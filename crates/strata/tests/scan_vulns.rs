//! `strata scan IMAGE`: Debian packages matched against imported OSV
//! advisories of their release, by source package and dpkg ordering;
//! severity filters, --ignore-unfixed and --fail-on deciding the exit.

use strata_test_support::{ArchiveImage, Cli, TarBuilder};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

const STATUS: &[u8] = b"Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.9-1\n\n\
Package: libfoo1\nStatus: install ok installed\nArchitecture: amd64\nSource: foo (1.0-1)\nVersion: 1.0-1+b1\n\n\
Package: bar\nStatus: install ok installed\nArchitecture: all\nVersion: 2.0-1\n";

fn advisory(
    id: &str,
    eco: &str,
    pkg: &str,
    events: serde_json::Value,
    extra: serde_json::Value,
) -> String {
    let mut v = serde_json::json!({
        "id": id,
        "summary": format!("{pkg}: something bad"),
        "affected": [{"package": {"ecosystem": eco, "name": pkg},
                      "ranges": [{"type": "ECOSYSTEM", "events": events}]}],
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v.to_string()
}

fn setup() -> Cli {
    let cli = Cli::new(BIN);
    let img = ArchiveImage::new(
        vec![
            TarBuilder::new()
                .dir("etc")
                .file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n")
                .dir("var/lib/dpkg")
                .file("var/lib/dpkg/status", STATUS)
                .finish(),
        ],
        &["vuln:1"],
    );
    cli.load_images(vec![img]);
    let db = cli.scratch().join("osv/Debian");
    std::fs::create_dir_all(&db).unwrap();
    let w = |name: &str, text: String| std::fs::write(db.join(name), text).unwrap();
    w(
        "DSA-1.json",
        advisory(
            "DSA-1",
            "Debian:12",
            "openssl",
            serde_json::json!([{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u1"}]),
            serde_json::json!({"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}], "aliases": ["CVE-2023-0001"]}),
        ),
    );
    w(
        "DEBIAN-CVE-2.json",
        advisory(
            "DEBIAN-CVE-2",
            "Debian:12",
            "foo",
            serde_json::json!([{"introduced": "0"}]),
            serde_json::json!({"database_specific": {"severity": "low"}}),
        ),
    );
    // Fixed already, another release, another package: none match.
    w(
        "DSA-3.json",
        advisory(
            "DSA-3",
            "Debian:12",
            "openssl",
            serde_json::json!([{"introduced": "0"}, {"fixed": "3.0.2-1"}]),
            serde_json::json!({}),
        ),
    );
    w(
        "DSA-4.json",
        advisory(
            "DSA-4",
            "Debian:11",
            "openssl",
            serde_json::json!([{"introduced": "0"}, {"fixed": "9.9"}]),
            serde_json::json!({}),
        ),
    );
    w("notes.json", "{\"not\": \"osv\"}".to_owned());
    cli
}

#[test]
fn scan_needs_a_database_then_matches_by_release_source_and_version() {
    let cli = setup();
    let out = cli.run(&["scan", "vuln:1"]).fails(1);
    assert!(
        out.stderr.contains("run `strata db import PATH` first"),
        "{}",
        out.stderr
    );
    let osv = cli.scratch().join("osv");
    let out = cli.run(&["db", "import", osv.to_str().unwrap()]).ok();
    assert!(
        out.stdout.starts_with("Imported 4 advisories from "),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("notes.json: not an OSV document, skipped"),
        "{}",
        out.stderr
    );

    let out = cli.run(&["scan", "vuln:1"]).ok().stdout;
    assert!(
        out.starts_with(
            "vuln:1 (debian 12)\nTotal: 2 (UNKNOWN: 0, LOW: 1, MEDIUM: 0, HIGH: 0, CRITICAL: 1)\n"
        ),
        "{out}"
    );
    let rows: Vec<&str> = out.lines().skip(4).collect();
    assert!(
        rows[0].starts_with("libssl3")
            && rows[0].contains("DSA-1")
            && rows[0].contains("CRITICAL")
            && rows[0].contains("3.0.11-1~deb12u1"),
        "{out}"
    );
    assert!(
        rows[1].starts_with("libfoo1")
            && rows[1].contains("DEBIAN-CVE-2")
            && rows[1].contains("(none)"),
        "{out}"
    );
    assert_eq!(rows.len(), 2, "{out}");

    let json = cli
        .run(&["scan", "--format", "json", "--ignore-unfixed", "vuln:1"])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["aliases"], serde_json::json!(["CVE-2023-0001"]));
    assert_eq!(v[0]["installed"], "3.0.9-1");
    assert_eq!(v[0]["layer"], 0);
    let json = cli
        .run(&["scan", "--format", "json", "--severity", "LOW", "vuln:1"])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["id"], "DEBIAN-CVE-2");

    // --fail-on gates the exit code.
    cli.run(&["scan", "--fail-on", "HIGH", "vuln:1"]).fails(1);
    cli.run(&[
        "scan",
        "--fail-on",
        "CRITICAL",
        "--severity",
        "LOW",
        "vuln:1",
    ])
    .ok();
    let out = cli.run(&["scan", "--fail-on", "BAD", "vuln:1"]).fails(1);
    assert!(
        out.stderr.contains("unknown severity \"BAD\""),
        "{}",
        out.stderr
    );
}

#[test]
fn db_update_downloads_osv_export_zips_and_a_corrupt_one_changes_nothing() {
    let cli = setup();
    let osv = cli.scratch().join("osv/Debian");
    let zip = cli.scratch().join("all.zip");
    let made = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile, pathlib\nz = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\nfor f in sorted(pathlib.Path(sys.argv[2]).glob('*.json')): z.write(f, f.name)\nz.close()")
        .arg(&zip)
        .arg(&osv)
        .status()
        .unwrap();
    assert!(made.success());
    let bytes = std::fs::read(&zip).unwrap();
    let stub = strata_test_support::HttpStub::start(move |req| {
        if req.path.ends_with("/Debian/all.zip") {
            strata_test_support::StubReply::new(200, bytes.clone())
        } else if req.path.ends_with("/broken.zip") {
            strata_test_support::StubReply::new(200, b"PK\x03\x04 not really".to_vec())
        } else {
            strata_test_support::StubReply::new(404, b"no".to_vec())
        }
    });
    let url = format!("http://{}/Debian/all.zip", stub.host);
    let out = cli.run(&["db", "update", "--url", &url]).ok();
    assert_eq!(out.stdout, format!("Imported 4 advisories from {url}\n"));
    let json = cli.run(&["scan", "--format", "json", "vuln:1"]).ok().stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);

    let broken = format!("http://{}/broken.zip", stub.host);
    let out = cli.run(&["db", "update", "--url", &broken]).fails(1);
    assert!(out.stderr.contains("not a zip archive"), "{}", out.stderr);
    let missing = format!("http://{}/nope.zip", stub.host);
    let out = cli.run(&["db", "update", "--url", &missing]).fails(1);
    assert!(out.stderr.contains("404"), "{}", out.stderr);
    // The database is as it was.
    let again = cli.run(&["scan", "--format", "json", "vuln:1"]).ok().stdout;
    assert_eq!(again, json);
}

#[test]
fn vex_statements_suppress_and_sarif_reports_what_is_left() {
    let cli = setup();
    let osv = cli.scratch().join("osv");
    cli.run(&["db", "import", osv.to_str().unwrap()]).ok();
    let vex = cli.scratch().join("vex.json");
    std::fs::write(
        &vex,
        serde_json::json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://example.com/vex/1",
            "author": "test",
            "timestamp": "2026-01-01T00:00:00Z",
            "version": 1,
            "statements": [
                {"vulnerability": {"name": "CVE-2023-0001"}, "products": [{"@id": "pkg:oci/app"}],
                 "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
                {"vulnerability": {"name": "DEBIAN-CVE-2"}, "products": [{"@id": "pkg:oci/app"}],
                 "status": "under_investigation"}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let json = cli
        .run(&[
            "scan",
            "--format",
            "json",
            "--vex",
            vex.to_str().unwrap(),
            "vuln:1",
        ])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["DEBIAN-CVE-2"],
        "DSA-1 is not_affected through its CVE alias"
    );

    let sarif = cli
        .run(&["scan", "--format", "sarif", "vuln:1"])
        .ok()
        .stdout;
    let s: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ruleId"], "DSA-1");
    assert_eq!(results[0]["level"], "error");
    assert!(
        results[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("fixed in 3.0.11-1~deb12u1")
    );
    let bad = cli.scratch().join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let out = cli
        .run(&["scan", "--vex", bad.to_str().unwrap(), "vuln:1"])
        .fails(1);
    assert!(
        out.stderr.contains("not an OpenVEX document"),
        "{}",
        out.stderr
    );
}

#[test]
fn language_packages_match_pypi_and_npm_advisories_by_their_own_version_rules() {
    let cli = Cli::new(BIN);
    let img = ArchiveImage::new(
        vec![
            TarBuilder::new()
                .dir("usr/lib/python3/dist-packages/Flask-2.0.1.dist-info")
                .file(
                    "usr/lib/python3/dist-packages/Flask-2.0.1.dist-info/METADATA",
                    b"Metadata-Version: 2.1\nName: Flask\nVersion: 2.0.1\n",
                )
                .dir("app/node_modules/lodash")
                .file(
                    "app/node_modules/lodash/package.json",
                    br#"{"name":"lodash","version":"4.17.20"}"#,
                )
                .finish(),
        ],
        &["lang:1"],
    );
    cli.load_images(vec![img]);
    let dir = cli.scratch().join("osv");
    std::fs::create_dir_all(&dir).unwrap();
    let doc = |id: &str, eco: &str, name: &str, kind: &str, fixed: &str| {
        serde_json::json!({"id": id, "summary": format!("{name} issue"),
            "database_specific": {"severity": "HIGH"},
            "affected": [{"package": {"ecosystem": eco, "name": name},
                "ranges": [{"type": kind, "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]})
        .to_string()
    };
    std::fs::write(
        dir.join("a.json"),
        doc("PYSEC-1", "PyPI", "flask", "ECOSYSTEM", "2.2.5"),
    )
    .unwrap();
    std::fs::write(
        dir.join("b.json"),
        doc("GHSA-1", "npm", "lodash", "SEMVER", "4.17.21"),
    )
    .unwrap();
    std::fs::write(
        dir.join("c.json"),
        doc("GHSA-2", "npm", "lodash", "SEMVER", "4.17.10"),
    )
    .unwrap();
    cli.run(&["db", "import", dir.to_str().unwrap()]).ok();
    let json = cli.run(&["scan", "--format", "json", "lang:1"]).ok().stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["GHSA-1", "PYSEC-1"]);
}

#[test]
fn alpine_and_distroless_debian_packages_are_catalogued_and_matched_per_release() {
    let cli = Cli::new(BIN);
    let apk_db = b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\nC:Q1def=\nP:libcrypto3\nV:3.1.4-r0\nA:x86_64\nL:Apache-2.0\no:openssl\n";
    let alpine = ArchiveImage::new(
        vec![
            TarBuilder::new()
                .dir("etc")
                .file("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n")
                .dir("lib/apk/db")
                .file("lib/apk/db/installed", apk_db)
                .dir("usr/lib/python3.11/site-packages")
                .file(
                    "usr/lib/python3.11/site-packages/six-1.16.0-py3.11.egg-info",
                    b"Metadata-Version: 1.1\nName: six\nVersion: 1.16.0\n",
                )
                .finish(),
        ],
        &["alpine:1"],
    );
    let distroless = ArchiveImage::new(
        vec![TarBuilder::new()
            .dir("etc")
            .file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n")
            .dir("var/lib/dpkg/status.d")
            .file("var/lib/dpkg/status.d/libc6", b"Package: libc6\nVersion: 2.36-9+deb12u3\nArchitecture: amd64\nSource: glibc\n")
            .file("var/lib/dpkg/status.d/libc6.md5sums", b"abc  lib/x\n")
            .finish()],
        &["distroless:1"],
    );
    cli.load_images(vec![alpine, distroless]);
    let out = cli
        .run(&["sbom", "--format", "json", "alpine:1"])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let purls: Vec<&str> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["purl"].as_str().unwrap())
        .collect();
    assert_eq!(
        purls,
        [
            "pkg:apk/alpine/libcrypto3@3.1.4-r0?arch=x86_64&upstream=openssl&distro=alpine-3.19.1",
            "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&upstream=musl&distro=alpine-3.19.1",
            "pkg:pypi/six@1.16.0"
        ]
    );
    let out = cli
        .run(&["sbom", "--format", "json", "distroless:1"])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["packages"].as_array().unwrap().len(), 1);
    assert_eq!(v["packages"][0]["name"], "libc6");

    // Alpine advisories match the image's release only, by origin package.
    let dir = cli.scratch().join("osv");
    std::fs::create_dir_all(&dir).unwrap();
    let doc = |id: &str, eco: &str, name: &str, fixed: &str| {
        serde_json::json!({"id": id, "affected": [{"package": {"ecosystem": eco, "name": name},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]})
        .to_string()
    };
    std::fs::write(
        dir.join("1.json"),
        doc("ALPINE-1", "Alpine:v3.19", "openssl", "3.1.4-r5"),
    )
    .unwrap();
    std::fs::write(
        dir.join("2.json"),
        doc("ALPINE-2", "Alpine:v3.18", "openssl", "3.9.9-r0"),
    )
    .unwrap();
    std::fs::write(
        dir.join("3.json"),
        doc("ALPINE-3", "Alpine:v3.19", "musl", "1.2.4_git20230717-r0"),
    )
    .unwrap();
    std::fs::write(
        dir.join("4.json"),
        doc("DEB-1", "Debian:12", "glibc", "2.36-9+deb12u4"),
    )
    .unwrap();
    cli.run(&["db", "import", dir.to_str().unwrap()]).ok();
    let json = cli
        .run(&["scan", "--format", "json", "alpine:1"])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    ids.sort();
    // apk orders 1.2.4_git...-r0 after 1.2.4-r2 (a _git suffix is a
    // post-release), so musl is affected; ALPINE-2 is another release's.
    assert_eq!(ids, ["ALPINE-1", "ALPINE-3"]);
    let json = cli
        .run(&["scan", "--format", "json", "distroless:1"])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["id"], "DEB-1");
    assert_eq!(v[0]["fixed"], "2.36-9+deb12u4");
}
