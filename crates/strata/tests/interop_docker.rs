//! Interop with the real Docker engine (needs root, Debian's `docker.io`
//! and busybox-static): images made by Docker load into strata with the
//! same IDs and layers, and images saved by strata load and run in Docker.

use std::io::Write;
use std::process::Stdio;

use strata_test_support::{
    ArchiveImage, Cli, DockerArchive, DockerDaemon, Layout, TarBuilder, busybox_rootfs,
};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

fn pipe_into(mut cmd: std::process::Command, data: &[u8]) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn docker_saved_images_load_into_strata_with_the_same_ids() {
    let docker = DockerDaemon::start();
    let out = pipe_into(
        docker.command(&["import", "-c", "CMD [\"/bin/sh\"]", "-", "bb:base"]),
        &busybox_rootfs(&[]),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second layer made the usual way: run a container and commit it.
    docker
        .docker(&[
            "run",
            "--name",
            "c1",
            "--network",
            "none",
            "bb:base",
            "sh",
            "-c",
            "echo layered > /two && rm /bin/false",
        ])
        .ok();
    docker.docker(&["commit", "c1", "bb:two"]).ok();
    let saved = docker
        .command(&["save", "bb:base", "bb:two"])
        .output()
        .unwrap();
    assert!(saved.status.success());

    let cli = Cli::new(BIN);
    let out = cli.run_stdin(&["load"], Some(&saved.stdout)).ok();
    assert!(
        out.stdout.contains("Loaded image: bb:two\n"),
        "{}",
        out.stdout
    );
    for tag in ["bb:base", "bb:two"] {
        let docker_id = docker
            .docker(&["image", "inspect", "-f", "{{.Id}}", tag])
            .ok()
            .stdout;
        let strata_id = cli
            .run(&["image", "inspect", "-f", "{{.Id}}", tag])
            .ok()
            .stdout;
        assert_eq!(docker_id, strata_id, "{tag}");
        let docker_layers = docker
            .docker(&["image", "inspect", "-f", "{{json .RootFS.Layers}}", tag])
            .ok()
            .stdout;
        let strata_layers = cli
            .run(&["image", "inspect", "-f", "{{json .RootFS.Layers}}", tag])
            .ok()
            .stdout;
        assert_eq!(docker_layers, strata_layers, "{tag}");
        let docker_size = docker
            .docker(&["image", "inspect", "-f", "{{.Size}}", tag])
            .ok()
            .stdout;
        let strata_size = cli
            .run(&["image", "inspect", "-f", "{{.Size}}", tag])
            .ok()
            .stdout;
        assert_eq!(docker_size, strata_size, "Docker's size of {tag}");
    }
    // The two images share the base layer: stored once.
    let layers = cli
        .run(&[
            "image",
            "inspect",
            "-f",
            "{{json .RootFS.Layers}}",
            "bb:two",
        ])
        .ok()
        .stdout;
    assert_eq!(
        serde_json::from_str::<Vec<String>>(&layers).unwrap().len(),
        2
    );
}

#[test]
fn strata_saved_images_load_and_run_in_docker() {
    let docker = DockerDaemon::start();
    let cli = Cli::new(BIN);
    let out = pipe_into(
        cli.command(&[
            "import",
            "-c",
            "CMD [\"/bin/echo\", \"hello from strata\"]",
            "-",
            "strata/hello:1",
        ]),
        &busybox_rootfs(&[]),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A two-layer image whose top layer deletes a file of the base.
    let img = ArchiveImage::new(
        vec![
            busybox_rootfs(&[("etc/greeting", b"hi from layer 1\n")]),
            TarBuilder::new()
                .file("etc/top", b"top layer\n")
                .file("bin/.wh.false", b"")
                .finish(),
        ],
        &["strata/layers:1"],
    );
    let bytes = DockerArchive {
        images: vec![img.clone()],
        layout: Layout::Legacy,
    }
    .build();
    cli.run_stdin(&["load"], Some(&bytes)).ok();

    let saved = cli.scratch().join("out.tar");
    cli.run(&[
        "save",
        "-o",
        saved.to_str().unwrap(),
        "strata/hello:1",
        "strata/layers:1",
    ])
    .ok();
    let out = docker.docker(&["load", "-i", saved.to_str().unwrap()]).ok();
    assert_eq!(
        out.stdout,
        "Loaded image: strata/hello:1\nLoaded image: strata/layers:1\n"
    );

    let run = docker
        .docker(&["run", "--rm", "--network", "none", "strata/hello:1"])
        .ok();
    assert_eq!(run.stdout, "hello from strata\n");
    let run = docker
        .docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            "strata/layers:1",
            "sh",
            "-c",
            "cat /etc/greeting /etc/top; ls /bin/false || echo gone",
        ])
        .ok();
    assert_eq!(run.stdout, "hi from layer 1\ntop layer\ngone\n");
    // Docker computes the same image ID from the config strata wrote.
    let id = docker
        .docker(&["image", "inspect", "-f", "{{.Id}}", "strata/layers:1"])
        .ok()
        .stdout;
    assert_eq!(id.trim(), img.id().to_string());
}

#[test]
fn strata_committed_containers_save_and_run_in_docker() {
    let docker = DockerDaemon::start();
    let cli = Cli::new(BIN);
    let out = pipe_into(
        cli.command(&["import", "-", "strata/base:1"]),
        &busybox_rootfs(&[]),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A change, a deletion, then a commit with a new CMD.
    cli.run(&[
        "run",
        "--name",
        "work",
        "strata/base:1",
        "sh",
        "-c",
        "echo committed > /greeting; busybox rm /bin/false",
    ])
    .ok();
    let diff = cli.run(&["diff", "work"]).ok().stdout;
    assert_eq!(diff, "C /bin\nD /bin/false\nA /greeting\n");
    cli.run(&[
        "commit",
        "-c",
        "CMD [\"cat\", \"/greeting\"]",
        "-m",
        "from a container",
        "work",
        "strata/committed:1",
    ])
    .ok();
    cli.run(&["rm", "work"]).ok();
    let run = cli.run(&["run", "--rm", "strata/committed:1"]).ok();
    assert_eq!(run.stdout, "committed\n");
    let saved = cli.scratch().join("committed.tar");
    cli.run(&["save", "-o", saved.to_str().unwrap(), "strata/committed:1"])
        .ok();
    docker.docker(&["load", "-i", saved.to_str().unwrap()]).ok();
    let run = docker
        .docker(&["run", "--rm", "--network", "none", "strata/committed:1"])
        .ok();
    assert_eq!(run.stdout, "committed\n");
    let run = docker
        .docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            "strata/committed:1",
            "ls",
            "/bin/false",
        ])
        .fails(1);
    assert!(run.stderr.contains("No such file"), "{}", run.stderr);
    let history = docker
        .docker(&["history", "--format", "{{.Comment}}", "strata/committed:1"])
        .ok();
    assert_eq!(history.stdout.lines().next(), Some("from a container"));
}
