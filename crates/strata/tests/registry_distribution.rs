//! `push` and `pull` against a real registry: Debian's `docker-registry`
//! (CNCF Distribution) on 127.0.0.1 (needs the package; root only for
//! the `run` at the end).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use strata_test_support::{Cli, Distribution, HttpStub, Pty, StubReply, StubRequest};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

#[test]
fn push_then_pull_keeps_digests_and_moves_only_missing_blobs() {
    let reg = Distribution::start();
    let name = format!("{}/team/bb:1", reg.host);
    let a = Cli::with_busybox(BIN, &name);
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
    let a = Cli::with_busybox(BIN, &name);
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
    let a = Cli::with_busybox(BIN, &name);
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
    let a = Cli::with_busybox(BIN, &name);
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

/// The final layer lines of a push (between the first line and the
/// digest line, without the `Preparing` ones).
fn layer_lines(out: &str) -> Vec<&str> {
    let lines: Vec<&str> = out.lines().collect();
    lines[1..lines.len() - 1]
        .iter()
        .copied()
        .filter(|l| !l.ends_with(": Preparing"))
        .collect()
}

/// Blob directories in Distribution's storage.
fn stored_blobs(reg: &Distribution) -> usize {
    std::fs::read_dir(reg.data().join("docker/registry/v2/blobs/sha256"))
        .unwrap()
        .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum()
}

#[test]
fn push_mounts_blobs_from_another_repository_of_the_same_registry() {
    let reg = Distribution::start();
    let a = format!("{}/team/a:1", reg.host);
    let b = format!("{}/team/b:1", reg.host);
    let cli = Cli::with_busybox(BIN, &a);
    let first = cli.run(&["push", &a]).ok().stdout;
    let digest_line = first.lines().last().unwrap().to_owned();
    let blobs = stored_blobs(&reg);

    cli.run(&["tag", &a, &b]).ok();
    let out = cli.run(&["push", &b]).ok().stdout;
    let layers = layer_lines(&out);
    assert!(!layers.is_empty(), "{out}");
    for line in &layers {
        let (id, what) = line.split_once(": ").unwrap();
        assert_eq!(id.len(), 12, "{out}");
        assert_eq!(what, "Mounted from team/a", "{out}");
        // Distribution linked the layer into team/b without a new copy.
        let link = reg
            .data()
            .join("docker/registry/v2/repositories/team/b/_layers/sha256");
        let linked: Vec<String> = std::fs::read_dir(&link)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(linked.iter().any(|h| h.starts_with(id)), "{linked:?}");
    }
    assert_eq!(out.lines().last().unwrap(), digest_line, "{out}");
    assert_eq!(stored_blobs(&reg), blobs, "the blobs are stored once");
    // After a push the store has the repository digest, as Docker's has.
    let digests = cli
        .run(&[
            "images",
            "--digests",
            "--format",
            "{{.Repository}} {{.Digest}}",
        ])
        .ok()
        .stdout;
    assert!(
        digests.contains(&format!("{}/team/b sha256:", reg.host)),
        "{digests}"
    );

    // Pulled back from team/b: the same image.
    let other = Cli::new(BIN);
    other.run(&["pull", "-q", &b]).ok();
    assert_eq!(
        other.run(&["images", "-q", "--no-trunc"]).ok().stdout,
        cli.run(&["images", "-q", "--no-trunc", &a]).ok().stdout
    );

    // A store whose other name the registry does not hold: the mount is
    // refused (202), the upload goes on in the session it opened.
    let ghost = format!("{}/ghost/x:1", reg.host);
    let c = format!("{}/team/c:1", reg.host);
    let cli2 = Cli::with_busybox(BIN, &ghost);
    cli2.run(&["tag", &ghost, &c]).ok();
    let out = cli2.run(&["push", &c]).ok().stdout;
    assert!(
        layer_lines(&out).iter().all(|l| l.ends_with(": Pushed")),
        "{out}"
    );
    assert_eq!(
        out.lines().last().unwrap(),
        digest_line,
        "same image, same manifest digest"
    );
}

#[test]
fn push_in_chunks_keeps_digests() {
    let reg = Distribution::start();
    let name = format!("{}/chunked/bb:1", reg.host);
    let a = Cli::with_busybox(BIN, &name);
    let id = a.run(&["images", "-q", "--no-trunc", &name]).ok().stdout;
    let env = [("STRATA_LOG", "strata_registry_client=debug")];
    let out = a
        .run_env(&["push", "--chunk-size", "64KB", &name], &env, None)
        .ok();
    assert!(
        layer_lines(&out.stdout)
            .iter()
            .all(|l| l.ends_with(": Pushed")),
        "{}",
        out.stdout
    );
    let digest = out
        .stdout
        .lines()
        .last()
        .unwrap()
        .split(' ')
        .nth(2)
        .unwrap();
    // Every chunk is at most 64 KiB: the biggest blob took many.
    let biggest = std::fs::read_dir(reg.data().join("docker/registry/v2/blobs/sha256"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| {
            std::fs::metadata(e.unwrap().path().join("data"))
                .unwrap()
                .len()
        })
        .max()
        .unwrap();
    assert!(biggest > 256 * 1024, "a layer of {biggest} bytes");
    let chunks = out.stderr.matches("upload chunk").count() as u64;
    assert!(
        chunks >= biggest.div_ceil(64 * 1024),
        "{chunks} chunks:\n{}",
        out.stderr
    );

    let b = Cli::new(BIN);
    let out = b.run(&["pull", &name]).ok().stdout;
    assert!(out.contains(&format!("Digest: {digest}\n")), "{out}");
    assert_eq!(
        b.run(&["images", "-q", "--no-trunc", &name]).ok().stdout,
        id
    );
}

/// How the stub in front of a Distribution's storage serves the biggest blob.
#[derive(Clone, Copy)]
enum Cut {
    /// Cut the first download half-way, honour ranges after.
    Once,
    /// Cut the first download half-way, ignore ranges (send it whole).
    OnceIgnoringRanges,
    /// Cut every download half-way.
    Always,
}

/// A registry serving `reg`'s stored repositories read-only, cutting the
/// biggest blob's downloads short as `cut` says.
fn flaky_mirror(reg: &Distribution, cut: Cut) -> HttpStub {
    let v2 = reg.data().join("docker/registry/v2");
    let blob = {
        let v2 = v2.clone();
        move |hex: &str| {
            std::fs::read(
                v2.join("blobs/sha256")
                    .join(&hex[..2])
                    .join(hex)
                    .join("data"),
            )
        }
    };
    let biggest = std::fs::read_dir(v2.join("blobs/sha256"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .max_by_key(|p| std::fs::metadata(p.join("data")).unwrap().len())
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let served = Arc::new(AtomicUsize::new(0));
    HttpStub::start(move |req: &StubRequest| {
        let path = req.path.strip_prefix("/v2/").unwrap_or("");
        if path.is_empty() {
            return StubReply::new(200, "{}");
        }
        if let Some((repo, reference)) = path.split_once("/manifests/") {
            let hex = match reference.strip_prefix("sha256:") {
                Some(h) => h.to_owned(),
                None => match std::fs::read_to_string(v2.join(format!(
                    "repositories/{repo}/_manifests/tags/{reference}/current/link"
                ))) {
                    Ok(link) => link.trim().trim_start_matches("sha256:").to_owned(),
                    Err(_) => return StubReply::new(404, ""),
                },
            };
            let bytes = blob(&hex).unwrap();
            let media_type =
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["mediaType"]
                    .as_str()
                    .unwrap()
                    .to_owned();
            return StubReply::new(200, bytes).header("Content-Type", media_type);
        }
        let Some((_, digest)) = path.split_once("/blobs/") else {
            return StubReply::new(404, "");
        };
        let hex = digest.trim_start_matches("sha256:");
        let Ok(bytes) = blob(hex) else {
            return StubReply::new(404, "");
        };
        if hex != biggest || req.method == "HEAD" {
            return StubReply::new(200, bytes);
        }
        let n = served.fetch_add(1, Ordering::SeqCst);
        let range = req
            .header("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|r| r.parse::<usize>().ok());
        let len = bytes.len();
        let mut reply = match (range, cut) {
            (Some(from), Cut::Once | Cut::Always) => StubReply::new(206, bytes[from..].to_vec())
                .header("Content-Range", format!("bytes {from}-{}/{len}", len - 1)),
            _ => StubReply::new(200, bytes),
        };
        if n == 0 || matches!(cut, Cut::Always) {
            reply.cut_after = Some(reply.body.len() / 2);
        }
        reply
    })
}

#[test]
fn pull_resumes_a_cut_download_with_a_range_request() {
    let reg = Distribution::start();
    let name = format!("{}/team/bb:1", reg.host);
    let a = Cli::with_busybox(BIN, &name);
    let id = a.run(&["images", "-q", "--no-trunc", &name]).ok().stdout;
    let pushed = a.run(&["push", &name]).ok().stdout;
    let digest = pushed
        .lines()
        .last()
        .unwrap()
        .split(' ')
        .nth(2)
        .unwrap()
        .to_owned();

    let mirror = flaky_mirror(&reg, Cut::Once);
    let via = format!("{}/team/bb:1", mirror.host);
    let b = Cli::new(BIN);
    let out = b.run(&["pull", &via]).ok().stdout;
    assert!(
        out.ends_with(&format!(
            "Digest: {digest}\nStatus: Downloaded newer image for {via}\n{via}\n"
        )),
        "{out}"
    );
    assert_eq!(b.run(&["images", "-q", "--no-trunc", &via]).ok().stdout, id);
    let ranged: Vec<StubRequest> = mirror
        .requests()
        .into_iter()
        .filter(|r| r.header("range").is_some())
        .collect();
    assert_eq!(ranged.len(), 1, "{ranged:?}");
    let from: u64 = ranged[0].header("range").unwrap()["bytes=".len()..]
        .trim_end_matches('-')
        .parse()
        .unwrap();
    assert!(from > 0, "resumed from {from}");

    // A registry that ignores ranges sends the whole blob again: that
    // works too, from zero.
    let mirror = flaky_mirror(&reg, Cut::OnceIgnoringRanges);
    let via = format!("{}/team/bb:1", mirror.host);
    let c = Cli::new(BIN);
    c.run(&["pull", "-q", &via]).ok();
    assert_eq!(c.run(&["images", "-q", "--no-trunc", &via]).ok().stdout, id);

    // Cut every time: five retries, then a clear failure and no image.
    let mirror = flaky_mirror(&reg, Cut::Always);
    let via = format!("{}/team/bb:1", mirror.host);
    let d = Cli::new(BIN);
    let out = d.run(&["pull", &via]).fails(1);
    assert!(
        out.stderr.contains("gave up after 5 retries"),
        "{}",
        out.stderr
    );
    assert_eq!(
        mirror
            .requests()
            .iter()
            .filter(|r| r.header("range").is_some())
            .count(),
        5
    );
    assert_eq!(d.run(&["images", "-q"]).ok().stdout, "");
}

/// The tags Distribution stores for `repo`.
fn registry_tags(reg: &Distribution, repo: &str) -> Vec<String> {
    let dir = reg.data().join(format!(
        "docker/registry/v2/repositories/{repo}/_manifests/tags"
    ));
    let mut tags: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    tags.sort();
    tags
}

#[test]
fn all_tags_push_and_pull_every_tag_of_the_repository() {
    let reg = Distribution::start();
    let repo = format!("{}/multi/bb", reg.host);
    let a = Cli::with_busybox(BIN, &format!("{repo}:1"));
    a.run(&["tag", &format!("{repo}:1"), &format!("{repo}:2")])
        .ok();
    a.run(&["tag", &format!("{repo}:1"), &repo]).ok();
    a.run(&[
        "tag",
        &format!("{repo}:1"),
        &format!("{}/other/x:1", reg.host),
    ])
    .ok();

    let out = a.run(&["push", "-a", &format!("{repo}:1")]).fails(1);
    assert_eq!(out.stderr, "Error: tag can't be used with --all-tags/-a\n");
    assert_eq!(out.stdout, "");

    // Without -a a bare name is `latest` only (Docker 20.10+).
    let out = a.run(&["push", &repo]).ok().stdout;
    assert!(
        out.starts_with(&format!(
            "Using default tag: latest\nThe push refers to repository [{repo}]\n"
        )),
        "{out}"
    );
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("latest: digest: sha256:")
    );
    assert_eq!(registry_tags(&reg, "multi/bb"), ["latest"]);

    let out = a.run(&["push", "--all-tags", &repo]).ok().stdout;
    assert!(
        out.starts_with(&format!("The push refers to repository [{repo}]\n")),
        "{out}"
    );
    let digest_lines: Vec<&str> = out.lines().filter(|l| l.contains(": digest: ")).collect();
    assert_eq!(digest_lines.len(), 3, "{out}");
    for (line, tag) in digest_lines.iter().zip(["1", "2", "latest"]) {
        assert!(
            line.starts_with(&format!("{tag}: digest: sha256:")),
            "{out}"
        );
    }
    assert_eq!(registry_tags(&reg, "multi/bb"), ["1", "2", "latest"]);
    assert!(
        !reg.data()
            .join("docker/registry/v2/repositories/other")
            .exists()
    );

    let b = Cli::new(BIN);
    let out = b.run(&["pull", "-a", &format!("{repo}:2")]).fails(1);
    assert_eq!(out.stderr, "Error: tag can't be used with --all-tags/-a\n");
    let out = b.run(&["pull", "--all-tags", &repo]).ok().stdout;
    // In the registry's order (Distribution's is not sorted).
    let mut pulling: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(": Pulling from "))
        .collect();
    pulling.sort();
    assert_eq!(
        pulling,
        [
            "1: Pulling from multi/bb",
            "2: Pulling from multi/bb",
            "latest: Pulling from multi/bb"
        ],
        "{out}"
    );
    assert_eq!(out.matches("\nDigest: sha256:").count(), 3, "{out}");
    assert!(
        out.ends_with(&format!(
            "Status: Downloaded newer image for {repo}\n{repo}\n"
        )),
        "{out}"
    );
    let tags = b
        .run(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .ok()
        .stdout;
    let mut tags: Vec<&str> = tags.lines().collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            format!("{repo}:1"),
            format!("{repo}:2"),
            format!("{repo}:latest")
        ]
    );
    let out = b.run(&["pull", "-a", &repo]).ok().stdout;
    assert!(
        out.ends_with(&format!("Status: Image is up to date for {repo}\n{repo}\n")),
        "{out}"
    );
    let out = b.run(&["pull", "-a", "-q", &repo]).ok().stdout;
    assert_eq!(out, format!("{repo}\n"));
}

#[test]
fn pull_and_push_draw_progress_bars_on_a_terminal() {
    use std::time::Duration;
    let reg = Distribution::start();
    let name = format!("{}/tty/bb:1", reg.host);
    let a = Cli::with_busybox(BIN, &name);
    let pty = Pty::open(40, 150);
    let mut child = pty.spawn(&mut a.command(&["push", &name]));
    let shown = pty.read_until(Duration::from_secs(30), |s| s.contains(" size: "));
    assert!(child.wait().unwrap().success(), "{shown:?}");
    assert!(shown.contains(": Pushed"), "{shown:?}");
    assert!(
        shown.ends_with("\r\n") && shown.contains("1: digest: sha256:"),
        "{shown:?}"
    );

    let b = Cli::new(BIN);
    let pty = Pty::open(40, 150);
    let mut child = pty.spawn(&mut b.command(&["pull", &name]));
    let shown = pty.read_until(Duration::from_secs(30), |s| {
        s.contains(&format!("\n{name}\r\n"))
    });
    assert!(child.wait().unwrap().success(), "{shown:?}");
    // The layer's line is redrawn in place: up, clear, text, back down.
    assert!(shown.contains(": Downloading ["), "{shown:?}");
    assert!(shown.contains("\x1b[1A\r\x1b[2K"), "{shown:?}");
    assert!(shown.contains(": Pull complete\r\x1b[1B"), "{shown:?}");
    assert!(
        shown.ends_with(&format!(
            "Status: Downloaded newer image for {name}\r\n{name}\r\n"
        )),
        "{shown:?}"
    );
    // Not on a terminal: plain lines only (the other tests' output).
    let out = Cli::new(BIN).run(&["pull", &name]).ok().stdout;
    assert!(
        !out.contains('\x1b') && !out.contains("Downloading"),
        "{out}"
    );
}
