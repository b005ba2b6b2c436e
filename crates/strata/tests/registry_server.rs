//! `strata registry serve` against real clients on 127.0.0.1: strata's own
//! client, Docker (needs root and dockerd), skopeo and podman (Debian's
//! packages). Digests must survive every round trip.

use std::process::Command;

use strata_test_support::{Cli, DockerDaemon, StrataRegistry, busybox_full_rootfs};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

fn image_id(cli: &Cli, name: &str) -> String {
    cli.run(&["images", "-q", "--no-trunc", name])
        .ok()
        .stdout
        .trim()
        .to_owned()
}

#[track_caller]
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn strata_client_and_server_round_trip_keeps_digests_and_stores_blobs_once() {
    let reg = StrataRegistry::start(BIN, None);
    let name = format!("{}/team/bb:1", reg.host);
    let a = Cli::with_busybox(BIN, &name);
    let out = a.run(&["push", &name]).ok().stdout;
    assert!(out.contains(": Pushed\n"), "{out}");
    let digest = out
        .lines()
        .last()
        .unwrap()
        .split(' ')
        .nth(2)
        .unwrap()
        .to_owned();
    let again = a.run(&["push", &name]).ok().stdout;
    assert!(again.contains(": Layer already exists\n"), "{again}");

    // The same image under a second repository: no new blob files.
    let other = format!("{}/team/copy:1", reg.host);
    a.run(&["tag", &name, &other]).ok();
    let files = reg.blob_files();
    a.run(&["push", &other]).ok();
    assert_eq!(reg.blob_files(), files);

    let b = Cli::new(BIN);
    let out = b.run(&["pull", &name]).ok().stdout;
    assert!(out.contains(&format!("Digest: {digest}\n")), "{out}");
    assert_eq!(image_id(&b, &name), image_id(&a, &name));
    let by_digest = format!("{}/team/copy@{digest}", reg.host);
    let out = b.run(&["pull", &by_digest]).ok().stdout;
    assert!(out.contains("Status: Downloaded newer image"), "{out}");
    // The server logged each request.
    assert!(
        reg.log()
            .contains("method=PUT path=/v2/team/bb/manifests/1 status=201"),
        "{}",
        reg.log()
    );
}

#[test]
fn registry_gc_command_reports_and_frees_only_unreferenced_blobs() {
    let reg = StrataRegistry::start(BIN, Some("[gc]\ngrace = \"0s\"\n"));
    let name = format!("{}/gc/app:1", reg.host);
    let a = Cli::with_busybox(BIN, &name);
    a.run(&["push", &name]).ok();
    // An orphan: a blob uploaded in one POST and named by no manifest.
    let data = b"orphan bytes";
    let d = format!("sha256:{}", sha256_hex(data));
    let status = reqwest::blocking::Client::new()
        .post(format!(
            "http://{}/v2/gc/app/blobs/uploads/?digest={d}",
            reg.host
        ))
        .body(data.to_vec())
        .send()
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 201);
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let root = reg.store();
    let gc = |extra: &[&str]| {
        let mut args = vec!["--root", root.to_str().unwrap(), "registry", "gc"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--config", "/dev/null"]);
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // The default grace (an hour) keeps a fresh orphan.
    let out = gc(&["--dry-run"]);
    assert!(!out.contains(&d), "{out}");
    let cfg = reg.dir().join("gc.toml");
    std::fs::write(&cfg, "[gc]\ngrace = \"0s\"\n").unwrap();
    let gc0 = |dry: bool| {
        let mut args = vec![
            "--root",
            root.to_str().unwrap(),
            "registry",
            "gc",
            "--config",
            cfg.to_str().unwrap(),
        ];
        if dry {
            args.push("--dry-run");
        }
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let out = gc0(true);
    assert!(out.contains(&format!("would unlink gc/app@{d}\n")), "{out}");
    assert!(out.contains(&format!("would delete {d} (12B)\n")), "{out}");
    assert!(out.ends_with("Would reclaim: 12B\n"), "{out}");
    let files = reg.blob_files();
    let out = gc0(false);
    assert!(out.contains(&format!("deleted {d} (12B)\n")), "{out}");
    assert_eq!(reg.blob_files(), files - 1);
    // The pushed image still pulls, while the server kept serving.
    let b = Cli::new(BIN);
    b.run(&["pull", &name]).ok();
    assert_eq!(image_id(&b, &name), image_id(&a, &name));
}

fn sha256_hex(data: &[u8]) -> String {
    strata_core::Digest::sha256(data).hex().to_owned()
}

#[test]
fn skopeo_copies_to_and_from_the_strata_registry_with_digests_kept() {
    let reg = StrataRegistry::start(BIN, None);
    let a = Cli::with_busybox(BIN, "example/app:1");
    let tar = a.scratch().join("app.oci.tar");
    a.run(&[
        "save",
        "--format",
        "oci",
        "-o",
        tar.to_str().unwrap(),
        "example/app:1",
    ])
    .ok();
    let digest = a
        .run(&[
            "image",
            "inspect",
            "-f",
            "{{.Descriptor.digest}}",
            "example/app:1",
        ])
        .ok()
        .stdout
        .trim()
        .to_owned();
    let dest = format!("docker://{}/sk/app:1", reg.host);
    run(Command::new("skopeo").args([
        "copy",
        // Otherwise skopeo gzips strata's uncompressed layers on the way.
        "--preserve-digests",
        "--dest-tls-verify=false",
        &format!("oci-archive:{}", tar.display()),
        &dest,
    ]));
    let inspect = run(Command::new("skopeo").args(["inspect", "--tls-verify=false", &dest]));
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(v["Digest"], digest);
    let tags = run(Command::new("skopeo").args([
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{}/sk/app", reg.host),
    ]));
    let v: serde_json::Value = serde_json::from_str(&tags).unwrap();
    assert_eq!(v["Tags"], serde_json::json!(["1"]));

    // Back out to an OCI layout, and strata pulls what skopeo pushed.
    let layout = a.scratch().join("layout");
    run(Command::new("skopeo").args([
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        &dest,
        &format!("oci:{}:1", layout.display()),
    ]));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], digest);
    let b = Cli::new(BIN);
    let name = format!("{}/sk/app:1", reg.host);
    let out = b.run(&["pull", &name]).ok().stdout;
    assert!(out.contains(&format!("Digest: {digest}\n")), "{out}");
    assert_eq!(image_id(&b, &name), image_id(&a, "example/app:1"));
}

#[test]
fn podman_pulls_from_the_strata_registry() {
    let reg = StrataRegistry::start(BIN, None);
    let name = format!("{}/pm/app:1", reg.host);
    let a = Cli::with_busybox(BIN, &name);
    a.run(&["push", &name]).ok();
    let dir = tempfile::tempdir().unwrap();
    let podman = |args: &[&str]| {
        let mut c = Command::new("podman");
        c.arg("--root")
            .arg(dir.path().join("root"))
            .arg("--runroot")
            .arg(dir.path().join("run"))
            .args(["--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"])
            .args(args);
        run(&mut c)
    };
    podman(&["pull", "--tls-verify=false", &name]);
    let id = podman(&["image", "inspect", "--format", "{{.Id}}", &name]);
    assert_eq!(
        format!("sha256:{}", id.trim()),
        image_id(&a, &name),
        "podman computes the same image ID"
    );
}

#[test]
fn docker_pushes_to_and_pulls_from_the_strata_registry_needs_root_and_dockerd() {
    let reg = StrataRegistry::start(BIN, None);
    let docker = DockerDaemon::start();
    let name = format!("{}/dk/app:1", reg.host);
    let out = docker.docker_stdin(&["import", "-", &name], &busybox_full_rootfs());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let id = docker
        .docker(&["image", "inspect", "-f", "{{.Id}}", &name])
        .stdout
        .trim()
        .to_owned();
    let out = docker.docker(&["push", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains(": Pushed"), "{}", out.stdout);
    let digest = out
        .stdout
        .lines()
        .find_map(|l| l.split("digest: ").nth(1))
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    // Again: every layer is there.
    let out = docker.docker(&["push", &name]);
    assert!(
        out.stdout.contains("Layer already exists"),
        "{}",
        out.stdout
    );

    // Docker pulls it back after forgetting it.
    assert_eq!(docker.docker(&["rmi", &name]).code, 0);
    let out = docker.docker(&["pull", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!("Digest: {digest}")),
        "{}",
        out.stdout
    );
    assert_eq!(
        docker
            .docker(&["image", "inspect", "-f", "{{.Id}}", &name])
            .stdout
            .trim(),
        id
    );

    // strata pulls what Docker pushed (gzip layers) with the same image ID,
    // and Docker pulls what strata pushed.
    let b = Cli::new(BIN);
    let out = b.run(&["pull", &name]).ok().stdout;
    assert!(out.contains(&format!("Digest: {digest}\n")), "{out}");
    assert_eq!(image_id(&b, &name), id);
    let mine = format!("{}/dk/strata:1", reg.host);
    let c = Cli::with_busybox(BIN, &mine);
    c.run(&["push", &mine]).ok();
    let out = docker.docker(&["pull", &mine]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        docker
            .docker(&["image", "inspect", "-f", "{{.Id}}", &mine])
            .stdout
            .trim(),
        image_id(&c, &mine)
    );
    let out = docker.docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        &mine,
        "cat",
        "/etc/hostname",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

/// A registry with users alice (group devs) and bob, and rules: devs
/// push to team/**, everyone signed in pulls team/**, anonymous pulls
/// public/*; `token` switches Docker's token protocol on.
fn auth_registry(token: bool) -> (StrataRegistry, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    std::fs::write(&htpasswd, format!("alice:{hash}\nbob:{hash}\n")).unwrap();
    let config = format!(
        "[auth]\nhtpasswd = {:?}\ngroups = {{ devs = [\"alice\"] }}\n{}\n\
         [[auth.rule]]\nrepos = \"team/**\"\nsubjects = [\"group:devs\"]\nactions = [\"pull\", \"push\", \"delete\"]\n\
         [[auth.rule]]\nrepos = \"team/**\"\nsubjects = [\"*\"]\nactions = [\"pull\"]\n\
         [[auth.rule]]\nrepos = \"public/*\"\nsubjects = [\"group:devs\"]\nactions = [\"pull\", \"push\"]\n\
         [[auth.rule]]\nrepos = \"public/*\"\nsubjects = [\"anonymous\", \"*\"]\nactions = [\"pull\"]\n",
        htpasswd.to_str().unwrap(),
        if token {
            "token = { expiry = \"5m\" }"
        } else {
            ""
        }
    );
    (StrataRegistry::start(BIN, Some(&config)), dir)
}

fn login(cli: &Cli, env: &[(&str, &str)], host: &str, user: &str, password: &str) -> Output {
    cli.run_env(
        &["login", "-u", user, "--password-stdin", host],
        env,
        Some(format!("{password}\n").as_bytes()),
    )
}

fn auth_rules_hold_for(token: bool) {
    let (reg, _dir) = auth_registry(token);
    let team = format!("{}/team/app:1", reg.host);
    let public = format!("{}/public/app:1", reg.host);
    let a = Cli::with_busybox(BIN, &team);
    a.run(&["tag", &team, &public]).ok();
    let cfg = a.scratch().join("alice-config");
    let alice = [("DOCKER_CONFIG", cfg.to_str().unwrap())];
    let cfg_b = a.scratch().join("bob-config");
    let bob = [("DOCKER_CONFIG", cfg_b.to_str().unwrap())];
    let none = a.scratch().join("no-config");
    let anon = [("DOCKER_CONFIG", none.to_str().unwrap())];

    // Nobody signed in: refused, and nothing stored.
    let out = a.run_env(&["push", &team], &anon, None).fails(1);
    assert!(out.stderr.contains("log in first"), "{}", out.stderr);
    let out = login(&a, &alice, &reg.host, "alice", "wrong").fails(1);
    assert!(
        out.stderr.contains("incorrect username or password"),
        "{}",
        out.stderr
    );
    let files = reg.blob_files();
    assert_eq!(files, 0, "refused requests stored nothing");

    login(&a, &alice, &reg.host, "alice", "s3cret").ok();
    a.run_env(&["push", &team], &alice, None).ok();
    a.run_env(&["push", &public], &alice, None).ok();
    // bob may pull team/** but not push there.
    login(&a, &bob, &reg.host, "bob", "s3cret").ok();
    let b = Cli::new(BIN);
    b.run_env(&["pull", "-q", &team], &bob, None).ok();
    let other = format!("{}/team/bobs:1", reg.host);
    a.run(&["tag", &team, &other]).ok();
    let out = a.run_env(&["push", &other], &bob, None).fails(1);
    assert!(
        out.stderr.contains("denied") || out.stderr.contains("log in first"),
        "{}",
        out.stderr
    );
    // Anonymous pulls public/* only.
    let c = Cli::new(BIN);
    c.run_env(&["pull", "-q", &public], &anon, None).ok();
    let out = c.run_env(&["pull", &team], &anon, None).fails(1);
    assert!(out.stderr.contains("log in first"), "{}", out.stderr);
}

use strata_test_support::Output;

#[test]
fn basic_auth_and_access_rules_decide_who_pulls_and_pushes_what() {
    auth_rules_hold_for(false);
}

#[test]
fn token_auth_issues_scoped_tokens_that_rules_cut_down() {
    auth_rules_hold_for(true);
}

#[test]
fn docker_logs_in_pushes_and_pulls_with_token_auth_needs_root_and_dockerd() {
    let (reg, _dir) = auth_registry(true);
    let docker = DockerDaemon::start();
    let name = format!("{}/team/dk:1", reg.host);
    let out = docker.docker_stdin(&["import", "-", &name], &busybox_full_rootfs());
    assert_eq!(out.code, 0, "{}", out.stderr);
    // (Refusals without a login are tested with strata's client: Docker
    // retries a refused push for a minute.)
    let out = docker.docker_stdin(
        &["login", "-u", "alice", "--password-stdin", &reg.host],
        b"s3cret\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = docker.docker(&["push", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(docker.docker(&["rmi", &name]).code, 0);
    let out = docker.docker(&["pull", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        reg.log().contains("path=/token status=200"),
        "{}",
        reg.log()
    );
}

#[test]
fn metrics_count_requests_and_the_access_log_can_be_json() {
    let reg = StrataRegistry::start_with_args(BIN, None, &["--log-format", "json"]);
    let name = format!("{}/m/app:1", reg.host);
    let a = Cli::with_busybox(BIN, &name);
    a.run(&["push", &name]).ok();
    let text = reqwest::blocking::get(format!("http://{}/metrics", reg.host))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        text.contains(
            "strata_registry_requests_total{method=\"PUT\",route=\"manifest\",status=\"201\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("# TYPE strata_registry_request_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("strata_registry_uploads_in_progress 0\n"),
        "{text}"
    );
    let log = reg.log();
    let put = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["fields"]["path"] == "/v2/m/app/manifests/1")
        .unwrap_or_else(|| panic!("no JSON access line for the manifest PUT:\n{log}"));
    assert_eq!(put["fields"]["method"], "PUT");
    assert_eq!(put["fields"]["status"], 201);
    assert!(
        put["fields"]["remote"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert!(put["timestamp"].is_string());
}

#[test]
fn tls_serves_https_that_skopeo_trusts_with_the_ca_and_refuses_without() {
    let dir = tempfile::tempdir().unwrap();
    let p = |s: &str| dir.path().join(s).to_str().unwrap().to_owned();
    run(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        &p("key.pem"),
        "-out",
        &p("cert.pem"),
    ]));
    let certs = dir.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::copy(p("cert.pem"), certs.join("ca.crt")).unwrap();
    let config = format!(
        "[tls]\ncert = {:?}\nkey = {:?}\n",
        p("cert.pem"),
        p("key.pem")
    );
    let reg = StrataRegistry::start(BIN, Some(&config));

    let a = Cli::with_busybox(BIN, "example/app:1");
    let tar = a.scratch().join("app.oci.tar");
    a.run(&[
        "save",
        "--format",
        "oci",
        "-o",
        tar.to_str().unwrap(),
        "example/app:1",
    ])
    .ok();
    let dest = format!("docker://{}/tls/app:1", reg.host);
    run(Command::new("skopeo").args([
        "copy",
        "--preserve-digests",
        "--dest-cert-dir",
        certs.to_str().unwrap(),
        &format!("oci-archive:{}", tar.display()),
        &dest,
    ]));
    let inspect =
        run(Command::new("skopeo").args(["inspect", "--cert-dir", certs.to_str().unwrap(), &dest]));
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    let digest = a
        .run(&[
            "image",
            "inspect",
            "-f",
            "{{.Descriptor.digest}}",
            "example/app:1",
        ])
        .ok()
        .stdout;
    assert_eq!(v["Digest"], digest.trim());
    // Without the CA the certificate is not trusted; plain HTTP gets nothing.
    let out = Command::new("skopeo")
        .args(["inspect", &dest])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("certificate"), "{err}");
    let plain = reqwest::blocking::get(format!("http://{}/v2/", reg.host));
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
}

#[test]
fn s3_storage_keeps_layers_in_the_bucket_once_and_gc_sweeps_it_needs_moto() {
    let s3 = strata_test_support::S3Server::start("reg");
    let config = format!(
        "[storage]\ns3 = {{ bucket = \"reg\", endpoint = \"{}\", prefix = \"strata\", \
         access_key_id = \"test\", secret_access_key = \"test\" }}\n[gc]\ngrace = \"0s\"\n",
        s3.endpoint
    );
    let reg = StrataRegistry::start(BIN, Some(&config));
    let name = format!("{}/s3/app:1", reg.host);
    let a = Cli::with_busybox(BIN, &name);
    a.run(&["push", &name]).ok();
    let other = format!("{}/s3/copy:1", reg.host);
    a.run(&["tag", &name, &other]).ok();
    a.run(&["push", &other]).ok();
    let keys = s3.keys("reg");
    // The layer and the config, once each for two repositories.
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys.iter().all(|k| k.starts_with("strata/blobs/sha256/")),
        "{keys:?}"
    );
    // Only the manifest is in the local store.
    assert_eq!(reg.blob_files(), 1);

    let b = Cli::new(BIN);
    b.run(&["pull", &name]).ok();
    assert_eq!(image_id(&b, &name), image_id(&a, &name));
    let layer = keys
        .iter()
        .map(|k| k.rsplit('/').next().unwrap())
        .find(|h| {
            let r =
                reqwest::blocking::get(format!("http://{}/v2/s3/app/blobs/sha256:{h}", reg.host))
                    .unwrap();
            r.content_length().unwrap_or(0) > 100_000
        });
    let layer = layer.expect("the layer");
    let r = reqwest::blocking::Client::new()
        .get(format!(
            "http://{}/v2/s3/app/blobs/sha256:{layer}",
            reg.host
        ))
        .header("range", "bytes=10-19")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(r.bytes().unwrap().len(), 10);

    // An orphan goes to the bucket, and GC takes it out again.
    let data = b"orphan in the bucket";
    let d = format!("sha256:{}", sha256_hex(data));
    let status = reqwest::blocking::Client::new()
        .post(format!(
            "http://{}/v2/s3/app/blobs/uploads/?digest={d}",
            reg.host
        ))
        .body(data.to_vec())
        .send()
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 201);
    assert_eq!(s3.keys("reg").len(), 3);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let cfg = reg.dir().join("config.toml");
    let out = Command::new(BIN)
        .args([
            "--root",
            reg.store().to_str().unwrap(),
            "registry",
            "gc",
            "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("deleted {d} (20B)")), "{stdout}");
    assert_eq!(s3.keys("reg").len(), 2);
    b.run(&["pull", &other]).ok();
}
