//! Tests of `config.json` generation: a snapshot of a whole document, and
//! one table per rule. Run with `STRATA_UPDATE_SNAPSHOTS=1` to rewrite the
//! snapshot after an intended change (and review the diff).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;
use crate::request::Process;

const STATE: &str = "/var/lib/strata/runtime-v1";

fn overlay() -> Vec<Mount> {
    vec![Mount {
        destination: "/".into(),
        kind: "overlay".into(),
        source: "overlay".into(),
        options: vec![
            "lowerdir=/s/1/fs:/s/0/fs".into(),
            "upperdir=/s/run-1/fs".into(),
            "workdir=/s/run-1/work".into(),
        ],
    }]
}

fn request<'a>(rootfs: &'a [Mount], mounts: &'a [Mount]) -> RunRequest<'a> {
    RunRequest {
        id: "build-1",
        state_dir: Path::new(STATE),
        rootfs,
        mounts,
        process: Process {
            args: vec!["/bin/sh".into(), "-c".into(), "echo hi".into()],
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            cwd: "/src".into(),
            uid: 1000,
            gid: 1000,
            additional_gids: vec![10],
        },
        network: Network::None,
        hostname: "buildkitsandbox",
        readonly_rootfs: false,
        runtime: "runc",
    }
}

fn json(req: &RunRequest<'_>) -> Value {
    let bundle = Bundle::new(req.state_dir, req.id);
    let bytes = to_json(&spec(req, &bundle, &Profile::default()).unwrap(), req.id).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn destinations(v: &Value) -> Vec<String> {
    v["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["destination"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn config_json_snapshot() {
    let rootfs = overlay();
    let mounts = [
        Mount::bind("/var/lib/strata/cache/go", "/root/.cache/go-build", false),
        Mount::bind("/tmp/secret-token", "/run/secrets/token", true),
        Mount::tmpfs("/tmp", &["size=1m"]),
    ];
    let req = request(&rootfs, &mounts);
    let bundle = Bundle::new(req.state_dir, req.id);
    let got = to_json(&spec(&req, &bundle, &Profile::default()).unwrap(), req.id).unwrap();
    // Deterministic: capability sets are HashSets inside oci-spec.
    for _ in 0..5 {
        assert_eq!(
            to_json(&spec(&req, &bundle, &Profile::default()).unwrap(), req.id).unwrap(),
            got
        );
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/config.json");
    if std::env::var_os("STRATA_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        String::from_utf8(got).unwrap(),
        want,
        "config.json changed; rerun with STRATA_UPDATE_SNAPSHOTS=1 and review testdata/config.json"
    );
}

#[test]
fn network_host_shares_the_namespace_and_none_gets_one() {
    let rootfs = overlay();
    let mut req = request(&rootfs, &[]);
    let types = |v: &Value| -> Vec<String> {
        v["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        types(&json(&req)),
        ["pid", "ipc", "uts", "mount", "network"]
    );
    req.network = Network::Host;
    assert_eq!(types(&json(&req)), ["pid", "ipc", "uts", "mount"]);
}

#[test]
fn request_mounts_replace_standard_ones_and_sort_parents_first() {
    let rootfs = overlay();
    let mounts = [
        Mount::tmpfs("/dev/shm/", &["size=1g"]),
        Mount {
            destination: "/a/b".into(),
            kind: "bind".into(),
            source: "/host/b".into(),
            options: vec![],
        },
        Mount::tmpfs("/a", &[]),
        Mount::bind("/host/hosts", "/etc/hosts", true),
    ];
    let v = json(&request(&rootfs, &mounts));
    assert_eq!(
        destinations(&v),
        [
            "/proc",
            "/dev",
            "/dev/pts",
            "/dev/mqueue",
            "/sys",
            "/sys/fs/cgroup",
            "/etc/resolv.conf",
            "/etc/hostname",
            "/a",
            "/dev/shm",
            "/a/b",
            "/etc/hosts",
        ]
    );
    let mounts = v["mounts"].as_array().unwrap();
    assert_eq!(mounts[9]["options"], serde_json::json!(["size=1g"]));
    assert_eq!(
        mounts[10]["options"],
        serde_json::json!(["rbind"]),
        "a bind needs rbind"
    );

    let dev = [Mount::tmpfs("/dev", &[])];
    let v = json(&request(&rootfs, &dev));
    assert!(!destinations(&v).iter().any(|d| d.starts_with("/dev/")));
}

#[test]
fn process_and_root_follow_the_request() {
    let rootfs = overlay();
    let mut req = request(&rootfs, &[]);
    req.readonly_rootfs = true;
    req.process.additional_gids.clear();
    let v = json(&req);
    assert_eq!(
        v["root"],
        serde_json::json!({"path": "rootfs", "readonly": true})
    );
    assert_eq!(
        v["process"]["user"],
        serde_json::json!({"uid": 1000, "gid": 1000})
    );
    assert_eq!(v["process"]["noNewPrivileges"], false);
    assert!(v["process"].get("rlimits").is_none(), "never raise a limit");
    assert_eq!(v["linux"]["cgroupsPath"], "/strata/build-1");
    assert_eq!(v["hostname"], "buildkitsandbox");
    assert!(v.get("annotations").is_none());
}

#[test]
fn validate_rejects_what_runc_would_misread() {
    let rootfs = overlay();
    let nested = [overlay()[0].clone(), Mount::bind("/h", "/usr", true)];
    let not_root = [Mount::bind("/h", "/usr", true)];
    let relative = [Mount::tmpfs("tmp", &[])];
    let nul = [Mount::tmpfs("/tmp\0", &[])];
    assert!(validate(&request(&rootfs, &[])).is_ok());
    assert!(validate(&request(&nested, &[])).is_ok());
    let cases: Vec<(RunRequest<'_>, &str)> = vec![
        (
            RunRequest {
                id: "a/b",
                ..request(&rootfs, &[])
            },
            "the id must be",
        ),
        (
            RunRequest {
                id: "..",
                ..request(&rootfs, &[])
            },
            "the id must be",
        ),
        (
            RunRequest {
                id: "",
                ..request(&rootfs, &[])
            },
            "the id must be",
        ),
        (request(&[], &[]), "no rootfs mounts"),
        (
            request(&not_root, &[]),
            "the first rootfs mount must be at /",
        ),
        (request(&rootfs, &relative), "is not an absolute path"),
        (request(&rootfs, &nul), "is not an absolute path"),
        (
            RunRequest {
                hostname: "a b",
                ..request(&rootfs, &[])
            },
            "invalid host name",
        ),
    ];
    for (req, want) in cases {
        let err = validate(&req).unwrap_err().to_string();
        assert!(err.contains(want), "{err:?} should contain {want:?}");
    }
    let mut req = request(&rootfs, &[]);
    req.process.args.clear();
    assert!(
        validate(&req)
            .unwrap_err()
            .to_string()
            .contains("no command")
    );
    req.process.args.push("true".into());
    req.process.cwd = "src".into();
    assert!(
        validate(&req)
            .unwrap_err()
            .to_string()
            .contains("working directory")
    );
}

#[test]
fn clean_normalizes_absolute_paths() {
    let table = [
        ("/", Some("/")),
        ("//a//b/", Some("/a/b")),
        ("/a/./b", Some("/a/b")),
        ("/a/../b", Some("/b")),
        ("/../../b/..", Some("/")),
        ("a", None),
        ("", None),
    ];
    for (input, want) in table {
        assert_eq!(clean(input).as_deref(), want, "{input:?}");
    }
}
