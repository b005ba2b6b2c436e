//! `strata sbom`: packages from a real dpkg database (this Debian host's),
//! Python and Node metadata, the layer that added each, deleted packages
//! left out, SPDX and CycloneDX documents, corrupt databases as warnings.

use strata_test_support::{ArchiveImage, Cli, TarBuilder};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

fn load(layers: Vec<Vec<u8>>, tag: &str) -> Cli {
    let cli = Cli::new(BIN);
    cli.load_images(vec![ArchiveImage::new(layers, &[tag])]);
    cli
}

fn debian_like() -> Cli {
    let status = std::fs::read("/var/lib/dpkg/status").expect("a Debian host's dpkg database");
    let copyright = std::fs::read("/usr/share/doc/bash/copyright").expect("bash's copyright");
    let mut more = status.clone();
    more.extend_from_slice(
        b"\nPackage: strata-test-pkg\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0-1\nSource: strata-src (1.0-1)\n",
    );
    load(
        vec![
            TarBuilder::new()
                .dir("etc")
                .file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n")
                .dir("var/lib/dpkg")
                .file("var/lib/dpkg/status", &status)
                .dir("usr/share/doc/bash")
                .file("usr/share/doc/bash/copyright", &copyright)
                .finish(),
            TarBuilder::new()
                .dir("var/lib/dpkg")
                .file("var/lib/dpkg/status", &more)
                .dir("usr/lib/python3/dist-packages/Flask-2.0.1.dist-info")
                .file(
                    "usr/lib/python3/dist-packages/Flask-2.0.1.dist-info/METADATA",
                    b"Metadata-Version: 2.1\nName: Flask\nVersion: 2.0.1\nLicense: BSD-3-Clause\n\nA web framework.\nName: not-a-header\n",
                )
                .dir("app/node_modules/@scope/pkg")
                .file("app/node_modules/@scope/pkg/package.json", br#"{"name":"@scope/pkg","version":"1.0.0","license":"MIT"}"#)
                .dir("app/node_modules/left-pad")
                .file("app/node_modules/left-pad/package.json", br#"{"name":"left-pad","version":"1.3.0"}"#)
                .finish(),
            TarBuilder::new()
                .dir("app/node_modules")
                .file("app/node_modules/.wh.left-pad", b"")
                .finish(),
        ],
        "deb:1",
    )
}

#[test]
fn sbom_lists_os_and_language_packages_with_the_layer_that_added_them() {
    let cli = debian_like();
    let out = cli.run(&["sbom", "--format", "json", "deb:1"]).ok().stdout;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let pkgs = v["packages"].as_array().unwrap();
    let find = |name: &str| pkgs.iter().find(|p| p["name"] == name).cloned();
    let host_count = std::fs::read_to_string("/var/lib/dpkg/status")
        .unwrap()
        .matches("\nPackage: ")
        .count()
        + 1;
    let debs = pkgs.iter().filter(|p| p["ecosystem"] == "deb").count();
    assert!(
        debs >= host_count * 9 / 10 && debs <= host_count + 1,
        "{debs} of {host_count}"
    );
    let bash = find("bash").expect("bash");
    assert_eq!(bash["layer"], 0);
    assert!(
        bash["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/bash@"),
        "{bash}"
    );
    assert!(
        bash["purl"]
            .as_str()
            .unwrap()
            .ends_with("&distro=debian-12"),
        "{bash}"
    );
    assert!(
        bash["licenses"]
            .as_array()
            .unwrap()
            .contains(&"GPL-3+".into()),
        "{bash}"
    );
    let mine = find("strata-test-pkg").unwrap();
    assert_eq!(mine["layer"], 1);
    assert_eq!(
        mine["purl"],
        "pkg:deb/debian/strata-test-pkg@1.0-1?arch=all&upstream=strata-src&distro=debian-12"
    );
    let flask = find("Flask").unwrap();
    assert_eq!(flask["purl"], "pkg:pypi/flask@2.0.1");
    assert_eq!(flask["licenses"], serde_json::json!(["BSD-3-Clause"]));
    assert_eq!(flask["layer"], 1);
    let scoped = find("@scope/pkg").unwrap();
    assert_eq!(scoped["purl"], "pkg:npm/%40scope/pkg@1.0.0");
    assert!(find("left-pad").is_none(), "deleted by layer 2");

    let table = cli.run(&["sbom", "deb:1"]).ok().stdout;
    assert!(table.starts_with("NAME "), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("strata-test-pkg") && l.ends_with(" deb     1")),
        "{table}"
    );
}

#[test]
fn spdx_and_cyclonedx_documents_carry_every_package() {
    let cli = debian_like();
    let env = [("SOURCE_DATE_EPOCH", "0")];
    let spdx = cli
        .run_env(&["sbom", "--format", "spdx-json", "deb:1"], &env, None)
        .ok()
        .stdout;
    let s: serde_json::Value = serde_json::from_str(&spdx).unwrap();
    assert_eq!(s["spdxVersion"], "SPDX-2.3");
    assert_eq!(s["creationInfo"]["created"], "1970-01-01T00:00:00Z");
    let pkgs = s["packages"].as_array().unwrap();
    assert_eq!(pkgs[0]["SPDXID"], "SPDXRef-Image");
    for p in &pkgs[1..] {
        assert_eq!(p["externalRefs"][0]["referenceType"], "purl");
        assert!(
            p["SPDXID"]
                .as_str()
                .unwrap()
                .starts_with("SPDXRef-Package-")
        );
    }
    assert_eq!(s["relationships"].as_array().unwrap().len(), pkgs.len());
    // The same document again: reproducible.
    let again = cli
        .run_env(&["sbom", "--format", "spdx-json", "deb:1"], &env, None)
        .ok()
        .stdout;
    assert_eq!(spdx, again);

    let cdx = cli
        .run_env(&["sbom", "--format", "cyclonedx-json", "deb:1"], &env, None)
        .ok()
        .stdout;
    let c: serde_json::Value = serde_json::from_str(&cdx).unwrap();
    assert_eq!(c["bomFormat"], "CycloneDX");
    assert_eq!(c["specVersion"], "1.6");
    assert!(c["serialNumber"].as_str().unwrap().starts_with("urn:uuid:"));
    assert_eq!(c["components"].as_array().unwrap().len(), pkgs.len() - 1);
    assert_eq!(c["metadata"]["component"]["type"], "container");
}

#[test]
fn a_corrupt_package_database_is_a_warning_not_a_failure() {
    let cli = load(
        vec![
            TarBuilder::new()
                .dir("var/lib/dpkg")
                .file("var/lib/dpkg/status", &[0xff, 0xfe, 0x00, 0x13, 0x37])
                .dir("app/node_modules/bad")
                .file("app/node_modules/bad/package.json", b"{not json")
                .finish(),
        ],
        "corrupt:1",
    );
    let out = cli.run(&["sbom", "--format", "json", "corrupt:1"]).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["packages"], serde_json::json!([]));
    assert!(
        out.stderr
            .contains("WARNING: /var/lib/dpkg/status: no package stanzas"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("WARNING: /app/node_modules/bad/package.json: not JSON"),
        "{}",
        out.stderr
    );
}

/// Validates `doc` against a vendored schema with Python's jsonschema.
fn validate(schema: &str, doc: &str, scratch: &std::path::Path) {
    let file = scratch.join(format!("{schema}.doc.json"));
    std::fs::write(&file, doc).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas/validate.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(schema)
        .arg(&file)
        .output()
        .expect("python3 with jsonschema (apt-get install python3-jsonschema)");
    assert!(
        out.status.success(),
        "{schema}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sbom_documents_validate_against_the_spdx_and_cyclonedx_schemas_needs_python_jsonschema() {
    let cli = debian_like();
    let spdx = cli
        .run(&["sbom", "--format", "spdx-json", "deb:1"])
        .ok()
        .stdout;
    validate("spdx-2.3.schema.json", &spdx, cli.scratch());
    let cdx = cli
        .run(&["sbom", "--format", "cyclonedx-json", "deb:1"])
        .ok()
        .stdout;
    validate("bom-1.6.schema.json", &cdx, cli.scratch());
    // The validator does fail: a document without its version is refused.
    let mut broken: serde_json::Value = serde_json::from_str(&cdx).unwrap();
    broken.as_object_mut().unwrap().remove("specVersion");
    let file = cli.scratch().join("broken.json");
    std::fs::write(&file, broken.to_string()).unwrap();
    let status = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/schemas/validate.py"
        ))
        .arg("bom-1.6.schema.json")
        .arg(&file)
        .output()
        .unwrap()
        .status;
    assert!(!status.success());
}

#[test]
fn language_packages_come_from_cargo_lock_go_binaries_and_jars() {
    let jar_dir = tempfile::tempdir().unwrap();
    let jar = jar_dir.path().join("lib.jar");
    let made = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w')\nz.writestr('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\\nImplementation-Title: lib\\n')\nz.writestr('META-INF/maven/org.example/lib/pom.properties', 'groupId=org.example\\nartifactId=lib\\nversion=1.2.3\\n')\nz.close()")
        .arg(&jar)
        .status()
        .unwrap();
    assert!(made.success());
    let runc = std::fs::read("/usr/sbin/runc").expect("Debian's runc (a Go binary)");
    let cli = load(
        vec![TarBuilder::new()
            .dir("app")
            .file(
                "app/Cargo.lock",
                b"version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"myapp\"\nversion = \"0.1.0\"\n",
            )
            .file("app/lib.jar", &std::fs::read(&jar).unwrap())
            .exe("app/runc", &runc)
            .finish()],
        "lang:1",
    );
    let out = cli.run(&["sbom", "--format", "json", "lang:1"]).ok().stdout;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let purls: Vec<&str> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["purl"].as_str().unwrap())
        .collect();
    assert!(purls.contains(&"pkg:cargo/serde@1.0.200"), "{purls:?}");
    assert!(purls.contains(&"pkg:cargo/myapp@0.1.0"), "{purls:?}");
    assert!(
        purls.contains(&"pkg:maven/org.example/lib@1.2.3"),
        "{purls:?}"
    );
    assert!(
        purls.iter().any(
            |p| p.starts_with("pkg:golang/github.com/opencontainers/runc@")
                || p.starts_with("pkg:golang/github.com/")
        ),
        "runc's Go modules: {purls:?}"
    );
}

#[test]
fn a_debootstrap_minbase_image_is_catalogued_and_its_documents_validate_needs_root_and_debootstrap()
{
    let tar = strata_test_support::debian_minbase_tar();
    let cli = Cli::new(BIN);
    cli.run(&["import", tar.to_str().unwrap(), "minbase:12"])
        .ok();
    let out = cli
        .run(&["sbom", "--format", "json", "minbase:12"])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["distro"]["id"], "debian");
    assert_eq!(v["distro"]["version_id"], "12");
    let pkgs = v["packages"].as_array().unwrap();
    // minbase is about 90 packages, all Debian ones, all in the one layer.
    assert!(pkgs.len() >= 70 && pkgs.len() <= 150, "{}", pkgs.len());
    for name in ["bash", "dpkg", "apt", "libc6", "coreutils"] {
        let p = pkgs
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(p["ecosystem"], "deb");
        assert_eq!(p["layer"], 0);
        assert!(p["purl"].as_str().unwrap().contains("distro=debian-12"));
    }
    let licensed = pkgs
        .iter()
        .filter(|p| !p["licenses"].as_array().unwrap().is_empty())
        .count();
    assert!(
        licensed * 2 > pkgs.len(),
        "most packages have a licence: {licensed}"
    );
    let spdx = cli
        .run(&["sbom", "--format", "spdx-json", "minbase:12"])
        .ok()
        .stdout;
    validate("spdx-2.3.schema.json", &spdx, cli.scratch());
    let cdx = cli
        .run(&["sbom", "--format", "cyclonedx-json", "minbase:12"])
        .ok()
        .stdout;
    validate("bom-1.6.schema.json", &cdx, cli.scratch());
}

#[test]
fn rpm_packages_come_from_the_sqlite_database_and_a_broken_one_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rpmdb.sqlite");
    // A header as rpm stores it: index count, data length, index entries
    // (tag, type, offset, count; big endian), then the data.
    let script = r#"
import sqlite3, struct, sys
def header(fields):
    data = b""; index = b""
    for tag, kind, value in fields:
        if kind == 4:
            while len(data) % 4: data += b"\0"
            off = len(data); data += struct.pack(">i", value)
        else:
            off = len(data); data += value.encode() + b"\0"
        index += struct.pack(">IIiI", tag, kind, off, 1)
    return struct.pack(">II", len(fields), len(data)) + index + data
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
db.execute("INSERT INTO Packages (blob) VALUES (?)", (header([(1000, 6, "bash"), (1001, 6, "5.2.26"), (1002, 6, "3.fc40"),
    (1022, 6, "x86_64"), (1014, 6, "GPL-3.0-or-later"), (1044, 6, "bash-5.2.26-3.fc40.src.rpm")]),))
db.execute("INSERT INTO Packages (blob) VALUES (?)", (header([(1000, 6, "openssl-libs"), (1003, 4, 1), (1001, 6, "3.2.1"),
    (1002, 6, "2.fc40"), (1022, 6, "x86_64")]),))
db.execute("INSERT INTO Packages (blob) VALUES (?)", (b"\xff\xff",))
db.commit()
"#;
    let ok = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&db)
        .status()
        .unwrap();
    assert!(ok.success());
    let cli = load(
        vec![
            TarBuilder::new()
                .dir("etc")
                .file("etc/os-release", b"ID=fedora\nVERSION_ID=40\n")
                .dir("usr/lib/sysimage/rpm")
                .file(
                    "usr/lib/sysimage/rpm/rpmdb.sqlite",
                    &std::fs::read(&db).unwrap(),
                )
                .finish(),
        ],
        "fedora:40",
    );
    let out = cli
        .run(&["sbom", "--format", "json", "fedora:40"])
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
            "pkg:rpm/fedora/bash@5.2.26-3.fc40?arch=x86_64&distro=fedora-40",
            "pkg:rpm/fedora/openssl-libs@3.2.1-2.fc40?arch=x86_64&epoch=1&distro=fedora-40"
        ]
    );
    assert_eq!(
        v["packages"][0]["licenses"],
        serde_json::json!(["GPL-3.0-or-later"])
    );
    assert_eq!(v["packages"][1]["version"], "1:3.2.1-2.fc40");

    let broken = load(
        vec![
            TarBuilder::new()
                .dir("var/lib/rpm")
                .file(
                    "var/lib/rpm/rpmdb.sqlite",
                    b"SQLite format 3\0 but not really",
                )
                .finish(),
        ],
        "broken-rpm:1",
    );
    let out = broken.run(&["sbom", "broken-rpm:1"]).ok();
    assert!(
        out.stderr.contains("WARNING: /var/lib/rpm/rpmdb.sqlite:"),
        "{}",
        out.stderr
    );
}
