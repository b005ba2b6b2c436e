//! `strata build` as a user sees it (needs root, runc, overlayfs and
//! busybox-static): reproducible image IDs, the layer cache, failures,
//! secrets, mounts, networks, contexts from stdin, parse errors.

use std::path::Path;

use strata_test_support::{Cli, busybox_full_rootfs};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

/// A store with `bb:local`, a busybox image with every applet.
fn cli_with_base() -> Cli {
    let cli = Cli::new(BIN);
    let env = [("SOURCE_DATE_EPOCH", "0")];
    cli.run_env(
        &["import", "-", "bb:local"],
        &env,
        Some(&busybox_full_rootfs()),
    )
    .ok();
    cli
}

/// Writes a context directory from (path, content) pairs.
fn context(cli: &Cli, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = cli.scratch().join(name);
    for (path, content) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

fn build(cli: &Cli, ctx: &Path, extra: &[&str]) -> strata_test_support::Output {
    let mut args = vec!["build", "--progress", "plain"];
    args.extend_from_slice(extra);
    args.push(ctx.to_str().unwrap());
    cli.run(&args)
}

fn image_id(cli: &Cli, name: &str) -> String {
    cli.run(&["image", "inspect", "-f", "{{.Id}}", name])
        .ok()
        .stdout
        .trim()
        .to_owned()
}

const APP: &str = "FROM bb:local
ENV GREETING=hello
WORKDIR /app
COPY app/ /app/
RUN echo \"$GREETING from $(pwd)\" > greeting.txt && sha256sum /app/*.txt > sums
CMD [\"cat\", \"/app/greeting.txt\"]
";

#[test]
fn same_inputs_give_the_same_image_id_in_two_stores() {
    let a = cli_with_base();
    let b = cli_with_base();
    let files = [
        ("Dockerfile", APP),
        ("app/one.txt", "1\n"),
        ("app/two.txt", "2\n"),
    ];
    let ctx_a = context(&a, "ctx", &files);
    let ctx_b = context(&b, "other-place", &files);
    // Different file times in the two contexts must not matter.
    std::process::Command::new("touch")
        .args(["-d", "2001-01-01"])
        .arg(ctx_b.join("app/one.txt"))
        .status()
        .unwrap();
    build(&a, &ctx_a, &["-t", "app:1"]).ok();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    build(&b, &ctx_b, &["-t", "app:1"]).ok();
    assert_eq!(image_id(&a, "app:1"), image_id(&b, "app:1"));
    let created = a
        .run(&["image", "inspect", "-f", "{{.Created}}", "app:1"])
        .ok()
        .stdout;
    assert_eq!(created.trim(), "1970-01-01T00:00:00Z");
    // --source-date-epoch changes times, and so the ID.
    build(
        &a,
        &ctx_a,
        &["--source-date-epoch", "1700000000", "-t", "app:2"],
    )
    .ok();
    assert_ne!(image_id(&a, "app:1"), image_id(&a, "app:2"));
    let created = a
        .run(&["image", "inspect", "-f", "{{.Created}}", "app:2"])
        .ok()
        .stdout;
    assert_eq!(created.trim(), "2023-11-14T22:13:20Z");
}

#[test]
fn rebuilds_hit_the_cache_and_an_edit_rebuilds_from_its_copy() {
    let cli = cli_with_base();
    let ctx = context(&cli, "ctx", &[("Dockerfile", APP), ("app/one.txt", "1\n")]);
    let first = build(&cli, &ctx, &["-t", "app"]).ok();
    assert!(!first.stderr.contains("CACHED"), "{}", first.stderr);
    let id = image_id(&cli, "app");
    let again = build(&cli, &ctx, &["-t", "app"]).ok();
    assert_eq!(
        again.stderr.matches("CACHED").count(),
        3,
        "{}",
        again.stderr
    );
    assert_eq!(image_id(&cli, "app"), id);
    // Touching a file (new mtime, same content) still hits the cache.
    std::process::Command::new("touch")
        .arg(ctx.join("app/one.txt"))
        .status()
        .unwrap();
    let touched = build(&cli, &ctx, &["-t", "app"]).ok();
    assert_eq!(
        touched.stderr.matches("CACHED").count(),
        3,
        "{}",
        touched.stderr
    );
    std::fs::write(ctx.join("app/one.txt"), "changed\n").unwrap();
    let edited = build(&cli, &ctx, &["-t", "app"]).ok();
    // WORKDIR still cached; COPY and RUN run again.
    assert_eq!(
        edited.stderr.matches("CACHED").count(),
        1,
        "{}",
        edited.stderr
    );
    assert_ne!(image_id(&cli, "app"), id);
    // --no-cache runs everything and still gives the same ID.
    let fresh = build(&cli, &ctx, &["--no-cache", "-t", "app:fresh"]).ok();
    assert!(!fresh.stderr.contains("CACHED"));
    assert_eq!(image_id(&cli, "app:fresh"), image_id(&cli, "app"));
}

#[test]
fn the_cache_is_shared_by_dockerfiles_with_a_common_prefix() {
    let cli = cli_with_base();
    let prefix = "FROM bb:local\nRUN echo shared > /shared\n";
    let ctx = context(
        &cli,
        "ctx",
        &[
            ("Dockerfile", &format!("{prefix}RUN echo a > /a\n")),
            ("other.Dockerfile", &format!("{prefix}RUN echo b > /b\n")),
        ],
    );
    build(&cli, &ctx, &["-t", "a"]).ok();
    let other = build(
        &cli,
        &ctx,
        &[
            "-f",
            ctx.join("other.Dockerfile").to_str().unwrap(),
            "-t",
            "b",
        ],
    )
    .ok();
    assert_eq!(
        other.stderr.matches("CACHED").count(),
        1,
        "{}",
        other.stderr
    );
}

#[test]
fn a_failing_run_reports_command_code_and_output_and_tags_nothing() {
    let cli = cli_with_base();
    let df = "FROM bb:local\nRUN echo first line && echo to stderr >&2 && exit 3\n";
    let ctx = context(&cli, "ctx", &[("Dockerfile", df)]);
    let out = build(&cli, &ctx, &["-t", "broken"]).fails(1);
    assert!(
        out.stderr
            .contains("did not complete successfully: exit code: 3"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("echo first line && echo to stderr >&2 && exit 3"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("to stderr"), "{}", out.stderr);
    assert_eq!(cli.run(&["images", "-q", "broken"]).ok().stdout, "");
}

#[test]
fn dockerfile_errors_name_file_line_and_column() {
    let cli = cli_with_base();
    let ctx = context(
        &cli,
        "ctx",
        &[("Dockerfile", "FROM bb:local\nRUN true\nFOO bar\n")],
    );
    let out = build(&cli, &ctx, &[]).fails(1);
    assert!(
        out.stderr
            .contains("Dockerfile:3:1: unknown instruction: FOO"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("FOO bar"), "{}", out.stderr);
}

#[test]
fn unneeded_stages_are_skipped_and_target_selects_a_stage() {
    let cli = cli_with_base();
    let df = "FROM bb:local AS broken\nRUN exit 1\nFROM bb:local AS good\nRUN echo good > /g\nFROM good\nRUN echo final > /f\n";
    let ctx = context(&cli, "ctx", &[("Dockerfile", df)]);
    build(&cli, &ctx, &["-t", "final"]).ok();
    build(&cli, &ctx, &["--target", "good", "-t", "good"]).ok();
    let out = build(&cli, &ctx, &["--target", "broken"]).fails(1);
    assert!(out.stderr.contains("exit code: 1"), "{}", out.stderr);
    let out = build(&cli, &ctx, &["--target", "nosuch"]).fails(1);
    assert!(
        out.stderr
            .contains("target stage \"nosuch\" could not be found"),
        "{}",
        out.stderr
    );
}

#[test]
fn secrets_reach_run_but_never_the_image() {
    let cli = cli_with_base();
    // The Dockerfile must not hold the value itself (RUN text is history).
    let df = "FROM bb:local\nRUN --mount=type=secret,id=token wc -c < /run/secrets/token > /used\n";
    let ctx = context(&cli, "ctx", &[("Dockerfile", df)]);
    let secret = cli.scratch().join("token.txt");
    std::fs::write(&secret, "s3cr3t").unwrap();
    let spec = format!("id=token,src={}", secret.display());
    build(&cli, &ctx, &["--secret", &spec, "-t", "sec"]).ok();
    let tar = cli.scratch().join("sec.tar");
    cli.run(&["save", "-o", tar.to_str().unwrap(), "sec"]).ok();
    let bytes = std::fs::read(&tar).unwrap();
    assert!(
        !bytes.windows(6).any(|w| w == b"s3cr3t"),
        "the secret leaked into the image"
    );
    let tree = strata_test_support::image_tree(&bytes);
    let used = tree.files.get("used").expect("/used was written");
    assert_eq!(
        used.content,
        Some(strata_core::Digest::sha256(b"6\n")),
        "the RUN saw the secret"
    );
    assert!(
        !tree.files.keys().any(|k| k.starts_with("run")),
        "{:?}",
        tree.files.keys().collect::<Vec<_>>()
    );
}

#[test]
fn cache_mounts_persist_between_builds_and_stay_out_of_layers() {
    let cli = cli_with_base();
    let df = "FROM bb:local\nRUN --mount=type=cache,target=/cache echo x >> /cache/log && wc -l < /cache/log > /count\n";
    let ctx = context(&cli, "ctx", &[("Dockerfile", df)]);
    build(&cli, &ctx, &["--no-cache", "-t", "c1"]).ok();
    build(&cli, &ctx, &["--no-cache", "-t", "c2"]).ok();
    let tar = cli.scratch().join("c2.tar");
    cli.run(&["save", "-o", tar.to_str().unwrap(), "c2"]).ok();
    let tree = strata_test_support::image_tree(&std::fs::read(&tar).unwrap());
    assert!(!tree.files.contains_key("cache/log"));
    let out = cli
        .run(&["history", "--format", "{{.CreatedBy}}", "c2"])
        .ok();
    assert!(
        out.stdout.contains("--mount") || out.stdout.contains("/cache/log"),
        "{}",
        out.stdout
    );
}

#[test]
fn run_network_none_has_only_loopback() {
    let cli = cli_with_base();
    let df = "FROM bb:local\nRUN --network=none cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' > /ifaces\n";
    let ctx = context(&cli, "ctx", &[("Dockerfile", df)]);
    build(&cli, &ctx, &["-t", "net"]).ok();
    let tar = cli.scratch().join("net.tar");
    cli.run(&["save", "-o", tar.to_str().unwrap(), "net"]).ok();
    let raw = std::fs::read(&tar).unwrap();
    let tree = strata_test_support::image_tree(&raw);
    assert!(tree.files.contains_key("ifaces"));
}

#[test]
fn context_and_dockerfile_from_stdin() {
    let cli = cli_with_base();
    // A bare Dockerfile on stdin: no context.
    let out = cli
        .run_stdin(
            &["build", "-q", "-t", "stdin:df", "-"],
            Some(b"FROM bb:local\nRUN echo hi > /hi\n"),
        )
        .ok();
    assert!(out.stdout.trim().starts_with("sha256:"), "{}", out.stdout);
    // A tarball context on stdin.
    let mut t = strata_test_support::TarBuilder::new();
    t.file("Dockerfile", b"FROM bb:local\nCOPY f.txt /f.txt\n")
        .file("f.txt", b"from tar\n");
    let out = cli
        .run_stdin(&["build", "-q", "-t", "stdin:tar", "-"], Some(&t.finish()))
        .ok();
    assert_eq!(out.stdout.trim(), image_id(&cli, "stdin:tar"));
    // -f - with a directory context.
    let ctx = context(&cli, "ctx", &[("f.txt", "dir\n")]);
    let out = cli
        .run_stdin(
            &["build", "-q", "-f", "-", ctx.to_str().unwrap()],
            Some(b"FROM bb:local\nCOPY f.txt /\n"),
        )
        .ok();
    assert!(out.stdout.starts_with("sha256:"));
}

#[test]
fn iidfile_labels_and_build_args() {
    let cli = cli_with_base();
    let df = "FROM bb:local\nARG NAME=default\nRUN echo $NAME > /name\nLABEL from.arg=$NAME\n";
    let ctx = context(&cli, "ctx", &[("Dockerfile", df)]);
    let iid = cli.scratch().join("iid");
    build(
        &cli,
        &ctx,
        &[
            "--build-arg",
            "NAME=given",
            "--label",
            "extra=yes",
            "--iidfile",
            iid.to_str().unwrap(),
            "-t",
            "args",
        ],
    )
    .ok();
    let id = std::fs::read_to_string(&iid).unwrap();
    assert_eq!(id, image_id(&cli, "args"));
    let labels = cli
        .run(&["image", "inspect", "-f", "{{json .Config.Labels}}", "args"])
        .ok()
        .stdout;
    assert_eq!(labels.trim(), r#"{"extra":"yes","from.arg":"given"}"#);
}

#[test]
fn builder_prune_empties_the_cache() {
    let cli = cli_with_base();
    let ctx = context(
        &cli,
        "ctx",
        &[("Dockerfile", "FROM bb:local\nRUN echo x > /x\n")],
    );
    build(&cli, &ctx, &["-t", "p"]).ok();
    cli.run(&["rmi", "p"]).ok();
    let out = cli.run(&["builder", "prune", "-a", "-f"]).ok();
    assert!(
        out.stdout.starts_with("Deleted build cache objects:\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Total reclaimed space: "),
        "{}",
        out.stdout
    );
    let again = build(&cli, &ctx, &["-t", "p"]).ok();
    assert!(!again.stderr.contains("CACHED"), "{}", again.stderr);
}

/// Serves `body` over HTTP on 127.0.0.1 (port chosen by the kernel) for
/// as many requests as come; returns the base URL.
fn serve(body: &'static [u8]) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = c.write_all(head.as_bytes());
            let _ = c.write_all(body);
        }
    });
    format!("http://{addr}")
}

fn tree_of(cli: &Cli, image: &str) -> strata_test_support::ImageTree {
    let tar = cli
        .scratch()
        .join(format!("{}.tar", image.replace([':', '/'], "_")));
    cli.run(&["save", "-o", tar.to_str().unwrap(), image]).ok();
    strata_test_support::image_tree(&std::fs::read(&tar).unwrap())
}

#[test]
fn add_url_downloads_and_checks_the_checksum() {
    let cli = cli_with_base();
    let url = serve(b"downloaded\n");
    let good = strata_core::Digest::sha256(b"downloaded\n");
    let df = format!("FROM bb:local\nADD --checksum={good} {url}/files/data.txt /dl/\n");
    let ctx = context(&cli, "ctx", &[("Dockerfile", &df)]);
    build(&cli, &ctx, &["-t", "url"]).ok();
    let f = tree_of(&cli, "url").files["dl/data.txt"].clone();
    assert_eq!(f.content, Some(good));
    assert_eq!(f.mode, 0o600, "Docker gives downloaded files mode 0600");
    let bad = format!(
        "FROM bb:local\nADD --checksum=sha256:{} {url}/x /x\n",
        "0".repeat(64)
    );
    std::fs::write(ctx.join("Dockerfile"), bad).unwrap();
    let out = build(&cli, &ctx, &[]).fails(1);
    assert!(out.stderr.contains("digest mismatch"), "{}", out.stderr);
}

#[test]
fn copy_parents_exclude_and_from_an_image() {
    let cli = cli_with_base();
    let df = "FROM bb:local\n\
              COPY --parents a/b/one.txt a/c/two.txt /keep/\n\
              COPY --exclude=*.log logs/ /nolog/\n\
              COPY --from=bb:local /etc/passwd /from-image/passwd\n";
    let files = [
        ("Dockerfile", df),
        ("a/b/one.txt", "1"),
        ("a/c/two.txt", "2"),
        ("logs/x.log", "x"),
        ("logs/keep.txt", "k"),
    ];
    let ctx = context(&cli, "ctx", &files);
    build(&cli, &ctx, &["-t", "cp"]).ok();
    let tree = tree_of(&cli, "cp");
    for p in [
        "keep/a/b/one.txt",
        "keep/a/c/two.txt",
        "nolog/keep.txt",
        "from-image/passwd",
    ] {
        assert!(
            tree.files.contains_key(p),
            "{p} missing: {:?}",
            tree.files.keys().collect::<Vec<_>>()
        );
    }
    assert!(!tree.files.contains_key("nolog/x.log"));
}

#[test]
fn platform_and_proxy_args() {
    let cli = cli_with_base();
    let df = "FROM bb:local\nARG TARGETARCH\nRUN echo \"$TARGETARCH $HTTP_PROXY\" > /args\n";
    let ctx = context(&cli, "ctx", &[("Dockerfile", df)]);
    build(
        &cli,
        &ctx,
        &[
            "--build-arg",
            "HTTP_PROXY=http://proxy.invalid:3128",
            "-t",
            "pa",
        ],
    )
    .ok();
    let tree = tree_of(&cli, "pa");
    let arch = strata_core::Platform::host().normalized().architecture;
    let want =
        strata_core::Digest::sha256(format!("{arch} http://proxy.invalid:3128\n").as_bytes());
    assert_eq!(tree.files["args"].content, Some(want));
    // The proxy reaches RUN but neither history nor the cache key.
    let history = cli
        .run(&["history", "--no-trunc", "--format", "{{.CreatedBy}}", "pa"])
        .ok()
        .stdout;
    assert!(!history.contains("proxy.invalid"), "{history}");
    let again = build(
        &cli,
        &ctx,
        &[
            "--build-arg",
            "HTTP_PROXY=http://other.invalid",
            "-t",
            "pa2",
        ],
    )
    .ok();
    assert!(again.stderr.contains("CACHED"), "{}", again.stderr);
}
