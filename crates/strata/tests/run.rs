//! `strata run` in the foreground (needs root, runc, overlayfs and
//! busybox-static): output, exit codes as Docker gives them, isolation
//! basics, and no writable layer left behind.

use strata_test_support::{Cli, busybox_full_rootfs};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

fn cli_with_base() -> Cli {
    let cli = Cli::new(BIN);
    let env = [("SOURCE_DATE_EPOCH", "0")];
    let args = [
        "import",
        "-c",
        "CMD [\"echo\", \"default cmd\"]",
        "-",
        "bb:local",
    ];
    cli.run_env(&args, &env, Some(&busybox_full_rootfs())).ok();
    cli
}

#[test]
fn run_prints_output_and_returns_the_exit_code() {
    let cli = cli_with_base();
    assert_eq!(
        cli.run(&["run", "--rm", "bb:local"]).ok().stdout,
        "default cmd\n"
    );
    let out = cli
        .run(&[
            "run",
            "--rm",
            "bb:local",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 7",
        ])
        .fails(7);
    assert_eq!(out.stdout, "out\n");
    assert_eq!(out.stderr, "err\n");
    cli.run(&["run", "--rm", "bb:local", "nosuchcommand"])
        .fails(127);
    let out = cli.run(&["run", "--rm", "nosuchimage"]).fails(125);
    assert_eq!(
        out.stderr,
        "Unable to find image 'nosuchimage:latest' locally\nError: No such image: nosuchimage:latest\n"
    );
}

#[test]
fn run_applies_env_user_workdir_and_network_none() {
    let cli = cli_with_base();
    let out = cli
        .run(&[
            "run",
            "--rm",
            "-e",
            "A=1",
            "-u",
            "nobody",
            "-w",
            "/tmp",
            "--network",
            "none",
            "bb:local",
            "sh",
            "-c",
            "echo $A $(id -u) $(pwd); cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '",
        ])
        .ok();
    assert_eq!(out.stdout, "1 65534 /tmp\nlo\n");
}

#[test]
fn writes_go_to_a_throwaway_layer() {
    let cli = cli_with_base();
    cli.run(&[
        "run",
        "--rm",
        "bb:local",
        "sh",
        "-c",
        "echo changed > /etc/passwd",
    ])
    .ok();
    let out = cli
        .run(&["run", "--rm", "bb:local", "head", "-1", "/etc/passwd"])
        .ok();
    assert_eq!(out.stdout, "root:x:0:0:root:/root:/bin/sh\n");
    let active = std::fs::read_dir(cli.root().join("snapshots-v1/active"))
        .unwrap()
        .count();
    assert_eq!(active, 0);
}
