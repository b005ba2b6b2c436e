//! `push` and `pull` against a real registry: Debian's `docker-registry`
//! (CNCF Distribution) on 127.0.0.1 (needs the package; root only for
//! the `run` at the end).

use strata_test_support::{Cli, Distribution, busybox_full_rootfs};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

fn cli_with(image: &str) -> Cli {
    let cli = Cli::new(BIN);
    let env = [("SOURCE_DATE_EPOCH", "0")];
    cli.run_env(&["import", "-", image], &env, Some(&busybox_full_rootfs()))
        .ok();
    cli
}

#[test]
fn push_then_pull_keeps_digests_and_moves_only_missing_blobs() {
    let reg = Distribution::start();
    let name = format!("{}/team/bb:1", reg.host);
    let a = cli_with(&name);
    let id = a.run(&["images", "-q", "--no-trunc", &name]).ok().stdout;

    let out = a.run(&["push", &name]).ok().stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!("The push refers to repository [{}/team/bb]", reg.host)
    );
    assert!(lines.iter().any(|l| l.ends_with(": Pushed")), "{out}");
    let last = lines.last().unwrap();
    assert!(
        last.starts_with("1: digest: sha256:") && last.contains(" size: "),
        "{out}"
    );
    let digest = last.split(' ').nth(2).unwrap().to_owned();
    // Again: the registry has every blob.
    let again = a.run(&["push", &name]).ok().stdout;
    assert!(again.contains(": Layer already exists"), "{again}");
    assert!(!again.contains(": Pushed"), "{again}");
    assert!(again.ends_with(&format!(
        "1: digest: {digest} size: {}\n",
        last.rsplit(' ').next().unwrap()
    )));

    // Another store pulls the same image, by tag then by digest.
    let b = Cli::new(BIN);
    let out = b.run(&["pull", &name]).ok().stdout;
    assert!(out.starts_with("1: Pulling from team/bb\n"), "{out}");
    assert!(out.contains(": Pull complete\n"), "{out}");
    assert!(
        out.ends_with(&format!(
            "Digest: {digest}\nStatus: Downloaded newer image for {name}\n{name}\n"
        )),
        "{out}"
    );
    assert_eq!(
        b.run(&["images", "-q", "--no-trunc", &name]).ok().stdout,
        id
    );
    let out = b.run(&["pull", &name]).ok().stdout;
    assert!(
        out.contains(&format!("Status: Image is up to date for {name}\n")),
        "{out}"
    );
    let by_digest = format!("{}/team/bb@{digest}", reg.host);
    let c = Cli::new(BIN);
    let out = c.run(&["pull", "-q", &by_digest]).ok().stdout;
    assert_eq!(out, format!("{by_digest}\n"));
    assert_eq!(c.run(&["images", "-q", "--no-trunc"]).ok().stdout, id);
    let digests = c
        .run(&["images", "--digests", "--format", "{{.Digest}}"])
        .ok()
        .stdout;
    assert_eq!(digests.trim(), digest);
}

#[test]
fn pull_refuses_unknown_names_and_corrupt_blobs_and_records_nothing() {
    let reg = Distribution::start();
    let name = format!("{}/bb:1", reg.host);
    let a = cli_with(&name);
    a.run(&["push", &name]).ok();
    let b = Cli::new(BIN);
    let out = b.run(&["pull", &format!("{}/nope", reg.host)]).fails(1);
    assert!(out.stderr.contains("manifest unknown"), "{}", out.stderr);

    // Flip bytes of the layer the registry serves: the digest check
    // refuses it and the store stays empty.
    let layer_blob = std::fs::read_dir(reg.data().join("docker/registry/v2/blobs/sha256"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path().join("data"))
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .unwrap();
    let mut bytes = std::fs::read(&layer_blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&layer_blob, bytes).unwrap();
    let out = b.run(&["pull", &name]).fails(1);
    assert!(out.stderr.contains("refused"), "{}", out.stderr);
    assert_eq!(b.run(&["images", "-q"]).ok().stdout, "");
}

#[test]
fn pulled_image_runs_needs_root() {
    let reg = Distribution::start();
    let name = format!("{}/runme:latest", reg.host);
    let a = cli_with(&name);
    a.run(&["push", &name]).ok();
    let b = Cli::new(BIN);
    b.run(&["pull", "-q", &name]).ok();
    let out = b
        .run(&["run", "--rm", &name, "echo", "pulled and ran"])
        .ok();
    assert_eq!(out.stdout, "pulled and ran\n");
}

#[test]
fn login_stores_credentials_that_push_and_pull_then_use() {
    let reg = Distribution::start_with_htpasswd("alice", "s3cret");
    let name = format!("{}/private/bb:1", reg.host);
    let a = cli_with(&name);
    let docker_config = a.scratch().join("docker-config");
    let dc = docker_config.to_str().unwrap();
    let env = [("DOCKER_CONFIG", dc)];

    let out = a.run_env(&["push", &name], &env, None).fails(1);
    assert!(out.stderr.contains("log in first"), "{}", out.stderr);
    let out = a
        .run_env(
            &["login", "-u", "alice", "--password-stdin", &reg.host],
            &env,
            Some(b"wrong\n"),
        )
        .fails(1);
    assert!(
        out.stderr.contains("incorrect username or password"),
        "{}",
        out.stderr
    );
    assert!(!docker_config.join("config.json").exists());
    let out = a
        .run_env(
            &["login", "-u", "alice", "--password-stdin", &reg.host],
            &env,
            Some(b"s3cret\n"),
        )
        .ok();
    assert_eq!(out.stdout, "Login Succeeded\n");
    let config = std::fs::read_to_string(docker_config.join("config.json")).unwrap();
    assert!(config.contains(&reg.host), "{config}");
    a.run_env(&["push", &name], &env, None).ok();
    let b = Cli::new(BIN);
    b.run_env(&["pull", "-q", &name], &env, None).ok();
    let out = a.run_env(&["logout", &reg.host], &env, None).ok();
    assert_eq!(
        out.stdout,
        format!("Removing login credentials for {}\n", reg.host)
    );
    let c = Cli::new(BIN);
    let out = c.run_env(&["pull", &name], &env, None).fails(1);
    assert!(out.stderr.contains("log in first"), "{}", out.stderr);
}
