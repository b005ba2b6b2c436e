//! The container lifecycle through the CLI (needs root, runc, overlayfs,
//! busybox-static and tini): detached containers, ps, logs, stop, kill,
//! wait, exec, rm, names, volumes, limits, isolation defaults, and the
//! truth about containers whose shim died. Each test has its own store
//! and removes its containers.

use std::path::Path;

use strata_test_support::{Cli, busybox_full_rootfs};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

fn cli_with_base() -> Cli {
    let cli = Cli::new(BIN);
    let env = [("SOURCE_DATE_EPOCH", "0")];
    let args = ["import", "-c", "VOLUME /anon", "-", "bb:local"];
    cli.run_env(&args, &env, Some(&busybox_full_rootfs())).ok();
    cli
}

/// Removes every container, so no overlay stays mounted in the store.
fn cleanup(cli: &Cli) {
    let ids = cli.run(&["ps", "-a", "-q"]).ok().stdout;
    for id in ids.lines() {
        cli.run(&["rm", "-f", "-v", id]).ok();
    }
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

fn ps_line(cli: &Cli, name: &str) -> String {
    cli.run(&[
        "ps",
        "-a",
        "--format",
        "{{.Names}} {{.Status}}",
        "-f",
        &format!("name={name}"),
    ])
    .ok()
    .stdout
    .trim()
    .to_owned()
}

#[test]
fn detached_container_runs_logs_stops_with_its_stop_signal_and_is_removed() {
    let cli = cli_with_base();
    let script = "echo started; trap 'echo got TERM; exit 7' TERM; while true; do sleep 0.1; done";
    let id = cli
        .run(&["run", "-d", "--name", "web", "bb:local", "sh", "-c", script])
        .ok()
        .stdout;
    let id = id.trim();
    assert_eq!(id.len(), 64, "{id}");
    assert!(
        ps_line(&cli, "web").starts_with("web Up "),
        "{}",
        ps_line(&cli, "web")
    );
    let ps_q = cli.run(&["ps", "-q"]).ok().stdout;
    assert_eq!(ps_q.trim(), &id[..12]);
    // The trap is set once the first line is out.
    for _ in 0..50 {
        if cli.run(&["logs", "web"]).ok().stdout == "started\n" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(cli.run(&["stop", "web"]).ok().stdout, "web\n");
    assert!(ps_line(&cli, "web").starts_with("web Exited (7) "));
    assert_eq!(cli.run(&["logs", "web"]).ok().stdout, "started\ngot TERM\n");
    assert_eq!(
        cli.run(&["logs", "--tail", "1", "web"]).ok().stdout,
        "got TERM\n"
    );
    let state = cli
        .run(&[
            "container",
            "inspect",
            "--format",
            "{{.State.Status}} {{.State.ExitCode}} {{.Name}} {{.Config.Hostname}}",
            "web",
        ])
        .ok()
        .stdout;
    assert_eq!(state, format!("exited 7 /web {}\n", &id[..12]));
    // A stopped container keeps its writable layer until rm.
    assert_eq!(count(&cli.root().join("snapshots-v1/active")), 1);
    assert_eq!(cli.run(&["rm", "web"]).ok().stdout, "web\n");
    assert_eq!(cli.run(&["ps", "-a", "-q"]).ok().stdout, "");
    assert_eq!(count(&cli.root().join("snapshots-v1/active")), 0);
    assert_eq!(count(&cli.root().join("runtime-v1/bundles")), 0);
    let out = cli.run(&["rm", "web"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: No such container: web\n"
    );
}

#[test]
fn names_are_unique_and_a_conflict_leaves_nothing() {
    let cli = cli_with_base();
    cli.run(&["create", "--name", "one", "bb:local", "true"])
        .ok();
    let out = cli
        .run(&["create", "--name", "one", "bb:local", "true"])
        .fails(125);
    assert!(
        out.stderr
            .contains("Conflict. The container name \"/one\" is already in use by container"),
        "{}",
        out.stderr
    );
    assert_eq!(cli.run(&["ps", "-a", "-q"]).ok().stdout.lines().count(), 1);
    assert_eq!(count(&cli.root().join("snapshots-v1/active")), 1);
    assert!(ps_line(&cli, "one").starts_with("one Created"));
    cleanup(&cli);
}

#[test]
fn kill_wait_and_running_rm_follow_docker() {
    let cli = cli_with_base();
    cli.run(&["run", "-d", "--name", "sleeper", "bb:local", "sleep", "60"])
        .ok();
    let out = cli.run(&["rm", "sleeper"]).fails(1);
    assert!(
        out.stderr.contains("You cannot remove a running container"),
        "{}",
        out.stderr
    );
    // As PID 1 without a handler, sleep ignores TERM (as under Docker).
    cli.run(&["kill", "-s", "TERM", "sleeper"]).ok();
    assert!(ps_line(&cli, "sleeper").starts_with("sleeper Up"));
    cli.run(&["kill", "sleeper"]).ok();
    assert_eq!(cli.run(&["wait", "sleeper"]).ok().stdout, "137\n");
    let out = cli.run(&["kill", "sleeper"]).fails(1);
    assert!(out.stderr.contains("is not running"), "{}", out.stderr);
    let out = cli.run(&["kill", "-s", "NOPE", "sleeper"]).fails(1);
    assert!(
        out.stderr.contains("Invalid signal: NOPE"),
        "{}",
        out.stderr
    );
    cli.run(&["run", "-d", "--name", "forced", "bb:local", "sleep", "60"])
        .ok();
    cli.run(&["rm", "-f", "forced"]).ok();
    assert_eq!(ps_line(&cli, "forced"), "");
    cleanup(&cli);
}

#[test]
fn exec_runs_in_the_container_with_its_env_and_dockers_codes() {
    let cli = cli_with_base();
    cli.run(&[
        "run", "-d", "--name", "box", "-e", "FOO=bar", "bb:local", "sleep", "60",
    ])
    .ok();
    let out = cli
        .run(&[
            "exec",
            "-e",
            "X=1",
            "box",
            "sh",
            "-c",
            "echo $FOO $X $HOSTNAME; touch /made-by-exec",
        ])
        .ok();
    let hostname = cli
        .run(&["inspect", "--format", "{{.Config.Hostname}}", "box"])
        .ok()
        .stdout;
    assert_eq!(out.stdout, format!("bar 1 {}", hostname));
    assert_eq!(
        cli.run(&["exec", "-u", "nobody", "box", "id", "-u"])
            .ok()
            .stdout,
        "65534\n"
    );
    cli.run(&["exec", "box", "sh", "-c", "exit 5"]).fails(5);
    cli.run(&["exec", "box", "nosuchcommand"]).fails(126);
    // -d returns at once; the process goes on without us.
    let out = cli
        .run(&["exec", "-d", "box", "sh", "-c", "sleep 0.3; touch /later"])
        .ok();
    assert_eq!(out.stdout, "");
    cli.run(&["exec", "box", "ls", "/later"]).fails(1);
    let mut seen = false;
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if cli.run(&["exec", "box", "ls", "/later"]).code == 0 {
            seen = true;
            break;
        }
    }
    assert!(seen, "exec -d never ran its command");
    let out = cli.run(&["exec", "-d", "box", "nosuchcommand"]).fails(126);
    assert!(
        out.stderr.contains("executable file not found"),
        "{}",
        out.stderr
    );
    cli.run(&["stop", "-t", "0", "box"]).ok();
    let out = cli.run(&["exec", "box", "true"]).fails(1);
    assert!(out.stderr.contains("is not running"), "{}", out.stderr);
    // What exec wrote is in the container's layer, not the image.
    let out = cli
        .run(&["run", "--rm", "bb:local", "ls", "/made-by-exec"])
        .fails(1);
    assert!(out.stderr.contains("No such file"), "{}", out.stderr);
    cleanup(&cli);
}

#[test]
fn named_volumes_outlive_containers_and_anonymous_ones_go_with_rm_v() {
    let cli = cli_with_base();
    // Filled from the image on first use.
    let out = cli
        .run(&[
            "run",
            "--rm",
            "-v",
            "etc:/etc",
            "bb:local",
            "sh",
            "-c",
            "head -1 /etc/passwd; echo kept > /etc/note",
        ])
        .ok();
    assert_eq!(out.stdout, "root:x:0:0:root:/root:/bin/sh\n");
    let out = cli
        .run(&[
            "run",
            "--rm",
            "-v",
            "etc:/etc",
            "bb:local",
            "cat",
            "/etc/note",
        ])
        .ok();
    assert_eq!(out.stdout, "kept\n");
    assert_eq!(
        cli.run(&["volume", "ls", "-q", "-f", "name=etc"])
            .ok()
            .stdout,
        "etc\n"
    );
    // The image's VOLUME /anon gets an anonymous volume; rm -v removes it,
    // and leaves the named one.
    cli.run(&[
        "create", "--name", "cv", "-v", "etc:/etc", "bb:local", "true",
    ])
    .ok();
    let mounts = cli
        .run(&[
            "inspect",
            "--format",
            "{{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}",
            "cv",
        ])
        .ok()
        .stdout;
    assert_eq!(mounts, "volume:/etc volume:/anon \n");
    let before = cli.run(&["volume", "ls", "-q"]).ok().stdout.lines().count();
    assert_eq!(before, 2);
    let out = cli.run(&["volume", "rm", "etc"]).fails(1);
    assert!(out.stderr.contains("volume is in use"), "{}", out.stderr);
    cli.run(&["rm", "-v", "cv"]).ok();
    assert_eq!(cli.run(&["volume", "ls", "-q"]).ok().stdout, "etc\n");
    cli.run(&["volume", "rm", "etc"]).ok();
    assert_eq!(cli.run(&["volume", "ls", "-q"]).ok().stdout, "");
}

#[test]
fn bind_mounts_read_only_mounts_and_tmpfs() {
    let cli = cli_with_base();
    let host = cli.scratch().join("shared");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("in"), "from host\n").unwrap();
    let bind = format!("{}:/h", host.display());
    let out = cli
        .run(&[
            "run",
            "--rm",
            "-v",
            &bind,
            "bb:local",
            "sh",
            "-c",
            "cat /h/in; echo back > /h/out",
        ])
        .ok();
    assert_eq!(out.stdout, "from host\n");
    assert_eq!(std::fs::read_to_string(host.join("out")).unwrap(), "back\n");
    let ro = format!("{}:/h:ro", host.display());
    let out = cli
        .run(&["run", "--rm", "-v", &ro, "bb:local", "touch", "/h/x"])
        .fails(1);
    assert!(
        out.stderr.contains("Read-only file system"),
        "{}",
        out.stderr
    );
    let out = cli
        .run(&[
            "run",
            "--rm",
            "--tmpfs",
            "/scratch",
            "bb:local",
            "sh",
            "-c",
            "grep ' /scratch ' /proc/mounts | cut -d' ' -f3",
        ])
        .ok();
    assert_eq!(out.stdout, "tmpfs\n");
    let out = cli
        .run(&["run", "--rm", "--read-only", "bb:local", "touch", "/x"])
        .fails(1);
    assert!(
        out.stderr.contains("Read-only file system"),
        "{}",
        out.stderr
    );
}

#[test]
fn isolation_defaults_limits_and_init() {
    let cli = cli_with_base();
    let out = cli
        .run(&["run", "--rm", "bb:local", "sh", "-c", "grep -E '^(NoNewPrivs|CapEff)' /proc/self/status; hostname; cat /proc/1/cmdline | tr '\\0' ' '"])
        .ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0], "CapEff:\t00000000a80425fb",
        "Docker's default capabilities"
    );
    assert_eq!(lines[1], "NoNewPrivs:\t1");
    assert_eq!(lines[2].len(), 12, "the short container ID");
    assert!(lines[3].starts_with("sh -c"), "{}", lines[3]);
    let out = cli
        .run(&[
            "run",
            "--rm",
            "--security-opt",
            "no-new-privileges=false",
            "--cap-drop",
            "ALL",
            "bb:local",
            "grep",
            "-E",
            "^(NoNewPrivs|CapEff)",
            "/proc/self/status",
        ])
        .ok();
    assert_eq!(out.stdout, "CapEff:\t0000000000000000\nNoNewPrivs:\t0\n");
    let out = cli
        .run(&[
            "run",
            "--rm",
            "--memory",
            "67108864",
            "--pids-limit",
            "20",
            "--cpus",
            "0.5",
            "bb:local",
            "cat",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/pids/pids.max",
            "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
        ])
        .ok();
    assert_eq!(out.stdout, "67108864\n20\n50000\n");
    let out = cli
        .run(&[
            "run",
            "--rm",
            "--init",
            "bb:local",
            "cat",
            "/proc/1/cmdline",
        ])
        .ok();
    assert!(
        out.stdout.starts_with("/sbin/docker-init\0--\0cat"),
        "{:?}",
        out.stdout
    );
}

#[test]
fn ps_tells_the_truth_after_the_shim_and_container_die() {
    let cli = cli_with_base();
    cli.run(&["run", "-d", "--name", "victim", "bb:local", "sleep", "60"])
        .ok();
    let pid = cli
        .run(&["inspect", "--format", "{{.State.Pid}}", "victim"])
        .ok()
        .stdout;
    let pid: i32 = pid.trim().parse().unwrap();
    // Kill the shim (the container's parent), then the container.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ppid: i32 = stat[stat.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    std::process::Command::new("kill")
        .args(["-9", &ppid.to_string(), &pid.to_string()])
        .status()
        .unwrap();
    let mut line = String::new();
    for _ in 0..100 {
        line = ps_line(&cli, "victim");
        if line.starts_with("victim Exited") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(line.starts_with("victim Exited ("), "{line}");
    assert_eq!(cli.run(&["ps", "-q"]).ok().stdout, "");
    cli.run(&["rm", "victim"]).ok();
    assert_eq!(count(&cli.root().join("runtime-v1/bundles")), 0);
}

#[test]
fn containers_share_image_layers_and_disk_grows_only_by_what_they_write() {
    let cli = cli_with_base();
    for i in 0..5 {
        let name = format!("c{i}");
        cli.run(&[
            "run",
            "--name",
            &name,
            "bb:local",
            "sh",
            "-c",
            "echo x > /f",
        ])
        .ok();
    }
    let snapshots = cli.root().join("snapshots-v1");
    assert_eq!(
        count(&snapshots.join("committed")),
        1,
        "one unpacked image layer"
    );
    let du = |p: &Path| -> u64 {
        let out = std::process::Command::new("du")
            .args(["-sk"])
            .arg(p)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let image_kb = du(&snapshots.join("committed"));
    let layers_kb = du(&snapshots.join("active"));
    assert!(image_kb > 1000, "busybox is over 1 MB: {image_kb}");
    assert!(
        layers_kb < 5 * 40,
        "five writable layers hold only /f: {layers_kb} KiB"
    );
    cleanup(&cli);
}

#[test]
fn tty_gives_the_container_a_terminal_with_or_without_one_here() {
    let cli = cli_with_base();
    // No terminal here: the container still has one (CRLF line ends are
    // its line discipline at work), and its exit code comes back.
    let out = cli
        .run(&[
            "run",
            "--rm",
            "-t",
            "bb:local",
            "sh",
            "-c",
            "tty; echo $TERM; exit 3",
        ])
        .fails(3);
    assert_eq!(out.stdout, "/dev/pts/0\r\nxterm\r\n");
    // -i with -t needs a terminal to read from, as Docker says.
    let out = cli
        .run_stdin(&["run", "--rm", "-it", "bb:local", "true"], Some(b""))
        .fails(1);
    assert_eq!(out.stderr, "the input device is not a TTY\n");
    assert_eq!(cli.run(&["ps", "-a", "-q"]).ok().stdout, "");
    // Detached: the terminal's output is the log; exec -t gets its own.
    cli.run(&[
        "run",
        "-dt",
        "--name",
        "dt",
        "bb:local",
        "sh",
        "-c",
        "echo out; echo err >&2; sleep 60",
    ])
    .ok();
    let mut logs = String::new();
    for _ in 0..50 {
        logs = cli.run(&["logs", "dt"]).ok().stdout;
        if logs.contains("err") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(logs, "out\r\nerr\r\n");
    let out = cli
        .run(&["exec", "-t", "dt", "sh", "-c", "tty; exit 4"])
        .fails(4);
    assert_eq!(out.stdout, "/dev/pts/1\r\n");
    let out = cli.run(&["exec", "-t", "dt", "nosuch"]).fails(126);
    assert!(
        out.stderr.contains("executable file not found"),
        "{}",
        out.stderr
    );
    cleanup(&cli);
}

#[test]
fn interactive_tty_is_raw_resizable_and_restored_like_dockers() {
    use std::time::Duration;
    let cli = cli_with_base();
    let pty = strata_test_support::Pty::open(30, 100);
    let before = pty.settings();
    let mut child = pty.spawn(&mut cli.command(&["run", "--rm", "-it", "bb:local", "sh"]));
    let shown = pty.read_until(Duration::from_secs(20), |s| s.contains("# "));
    assert!(shown.contains("# "), "no prompt: {shown:?}");
    pty.type_in("stty size\r");
    let shown = pty.read_until(Duration::from_secs(10), |s| s.contains("30 100"));
    assert!(shown.contains("30 100\r\n"), "{shown:?}");
    // A new size reaches the container when strata gets SIGWINCH.
    pty.resize(40, 120);
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGWINCH).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    pty.type_in("stty size\r");
    let shown = pty.read_until(Duration::from_secs(10), |s| s.contains("40 120"));
    assert!(shown.contains("40 120\r\n"), "{shown:?}");
    // Ctrl-C is a key for the container's terminal, not a signal to us.
    pty.type_in("sleep 30\r");
    std::thread::sleep(Duration::from_millis(300));
    pty.type_in("\x03");
    let shown = pty.read_until(Duration::from_secs(10), |s| s.contains("^C"));
    assert!(shown.contains("^C"), "{shown:?}");
    pty.type_in("exit 3\r");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
    let after = pty.settings();
    assert_eq!(
        after.local_modes, before.local_modes,
        "raw mode was not undone"
    );
    assert_eq!(after.input_modes, before.input_modes);
    assert_eq!(cli.run(&["ps", "-a", "-q"]).ok().stdout, "");
}

/// The names in a tar stream, in order.
fn tar_names(bytes: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(bytes);
    archive
        .entries()
        .expect("a tar")
        .map(|e| {
            e.expect("an entry")
                .path()
                .expect("a path")
                .display()
                .to_string()
        })
        .collect()
}

#[test]
fn cp_copies_both_ways_into_running_and_stopped_containers_and_their_volumes() {
    let cli = cli_with_base();
    let host = cli.scratch().join("host");
    std::fs::create_dir_all(host.join("dir/sub")).unwrap();
    std::fs::write(host.join("note"), "from the host\n").unwrap();
    std::fs::write(host.join("dir/sub/deep"), "deep\n").unwrap();
    let note = host.join("note");
    let note = note.to_str().unwrap();
    let dir = host.join("dir");
    let dir = dir.to_str().unwrap();

    // A running container: files land in its root and in its volume.
    cli.run(&[
        "run",
        "-d",
        "--name",
        "live",
        "-v",
        "data:/data",
        "bb:local",
        "sleep",
        "60",
    ])
    .ok();
    cli.run(&["cp", note, "live:/tmp/"]).ok();
    cli.run(&["cp", dir, "live:/data/copied"]).ok();
    let seen = cli
        .run(&["exec", "live", "cat", "/tmp/note", "/data/copied/sub/deep"])
        .ok()
        .stdout;
    assert_eq!(seen, "from the host\ndeep\n");
    // Out again, as a directory and as a tar stream.
    let out = cli.scratch().join("out");
    cli.run(&["cp", "live:/data/copied", out.to_str().unwrap()])
        .ok();
    assert_eq!(
        std::fs::read_to_string(out.join("sub/deep")).unwrap(),
        "deep\n"
    );
    let tar = cli
        .command(&["cp", "live:/data/copied/sub", "-"])
        .output()
        .unwrap();
    assert!(
        tar.status.success(),
        "{}",
        String::from_utf8_lossy(&tar.stderr)
    );
    assert_eq!(tar_names(&tar.stdout), ["sub/", "sub/deep"]);
    cli.run(&["stop", "-t", "0", "live"]).ok();

    // Stopped: its writable layer and its volume are still reachable, and
    // what goes in is there when it starts again.
    cli.run(&["cp", "live:/tmp/note", host.join("back").to_str().unwrap()])
        .ok();
    assert_eq!(
        std::fs::read_to_string(host.join("back")).unwrap(),
        "from the host\n"
    );
    cli.run(&["cp", note, "live:/data/second"]).ok();
    cli.run(&["cp", note, "live:/etc/motd"]).ok();
    let out = cli
        .run(&[
            "run",
            "--rm",
            "-v",
            "data:/data",
            "bb:local",
            "cat",
            "/data/second",
        ])
        .ok();
    assert_eq!(out.stdout, "from the host\n");
    let changes = cli.run(&["diff", "live"]).ok().stdout;
    assert!(changes.contains("A /etc/motd"), "{changes}");
    assert!(
        !changes.contains("/data"),
        "volumes are not the layer: {changes}"
    );
    // The stopped container's mounts lived in cp's own mount namespace.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(cli.root().to_str().unwrap()),
        "a mount was left behind:\n{mounts}"
    );
    cli.run(&["start", "live"]).ok();
    let seen = cli.run(&["exec", "live", "cat", "/etc/motd"]).ok().stdout;
    assert_eq!(seen, "from the host\n");
    cleanup(&cli);
    cli.run(&["volume", "rm", "data"]).ok();
}

#[test]
fn cp_errors_are_dockers_and_hostile_streams_stay_inside() {
    let cli = cli_with_base();
    cli.run(&["create", "--name", "box", "bb:local", "true"])
        .ok();
    let out = cli.run(&["cp", "box:/nope", "/tmp/x"]).fails(1);
    assert_eq!(out.stderr, "Error: No such container:path: box:/nope\n");
    let out = cli.run(&["cp", "/etc/hostname", "/tmp/x"]).fails(1);
    assert_eq!(out.stderr, "must specify at least one container source\n");
    let out = cli.run(&["cp", "box:/a", "box:/b"]).fails(1);
    assert_eq!(out.stderr, "copying between containers is not supported\n");
    let out = cli.run(&["cp", "ghost:/a", "/tmp/x"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: No such container: ghost\n"
    );

    // A tar whose entries climb out is refused, and nothing lands outside.
    let mut evil = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(4);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    header.as_gnu_mut().unwrap().name[..9].copy_from_slice(b"../escape");
    header.set_cksum();
    evil.append(&header, &b"evil"[..]).unwrap();
    let evil = evil.into_inner().unwrap();
    let out = cli
        .run_stdin(&["cp", "-", "box:/tmp"], Some(&evil))
        .fails(1);
    assert!(out.stderr.contains("is outside of"), "{}", out.stderr);
    let escaped = cli.run(&["cp", "box:/escape", "-"]).fails(1);
    assert!(
        escaped.stderr.contains("No such container:path"),
        "{}",
        escaped.stderr
    );
    cleanup(&cli);
}

#[test]
fn container_prune_filters_by_label_and_age() {
    let cli = cli_with_base();
    let a = cli
        .run(&["create", "--label", "tier=web", "bb:local", "true"])
        .ok()
        .stdout;
    let b = cli.run(&["create", "bb:local", "true"]).ok().stdout;
    let out = cli
        .run(&["container", "prune", "-f", "--filter", "until=1h"])
        .ok();
    assert_eq!(out.stdout, "Total reclaimed space: 0B\n");
    let out = cli
        .run(&["container", "prune", "-f", "--filter", "label!=tier=web"])
        .ok();
    assert!(out.stdout.contains(b.trim()), "{}", out.stdout);
    assert!(!out.stdout.contains(a.trim()), "{}", out.stdout);
    let out = cli
        .run(&["container", "prune", "-f", "--filter", "colour=red"])
        .fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: invalid filter 'colour'\n"
    );
    let out = cli
        .run(&["container", "prune", "-f", "--filter", "label=tier"])
        .ok();
    assert!(out.stdout.contains(a.trim()), "{}", out.stdout);
    assert_eq!(cli.run(&["ps", "-a", "-q"]).ok().stdout, "");
}

#[test]
fn restart_policies_restart_until_their_limit_or_a_user_stop() {
    let cli = cli_with_base();
    cli.run(&[
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        "bb:local",
        "sh",
        "-c",
        "echo run; exit 3",
    ])
    .ok();
    let mut state = String::new();
    for _ in 0..100 {
        state = cli
            .run(&[
                "inspect",
                "-f",
                "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}",
                "flaky",
            ])
            .ok()
            .stdout;
        if state == "2 exited 3\n" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(state, "2 exited 3\n");
    assert_eq!(cli.run(&["logs", "flaky"]).ok().stdout, "run\nrun\nrun\n");

    // Attached: strata returns the first exit's code while the policy
    // keeps restarting; a user's stop ends it for good.
    let out = cli
        .run(&[
            "run",
            "--name",
            "always",
            "--restart",
            "always",
            "bb:local",
            "sh",
            "-c",
            "echo hi; exit 4",
        ])
        .fails(4);
    assert_eq!(out.stdout, "hi\n");
    let mut count = 0;
    for _ in 0..100 {
        count = cli
            .run(&["inspect", "-f", "{{.RestartCount}}", "always"])
            .ok()
            .stdout
            .trim()
            .parse()
            .unwrap();
        if count >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(count >= 2, "restarted {count} times");
    cli.run(&["stop", "always"]).ok();
    let before = cli
        .run(&[
            "inspect",
            "-f",
            "{{.RestartCount}} {{.State.Status}}",
            "always",
        ])
        .ok()
        .stdout;
    assert!(before.ends_with(" exited\n"), "{before}");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let after = cli
        .run(&[
            "inspect",
            "-f",
            "{{.RestartCount}} {{.State.Status}}",
            "always",
        ])
        .ok()
        .stdout;
    assert_eq!(before, after, "it restarted after a stop");

    let out = cli
        .run(&["run", "--rm", "--restart", "always", "bb:local", "true"])
        .fails(125);
    assert!(
        out.stderr
            .contains("Conflicting options: --restart and --rm"),
        "{}",
        out.stderr
    );
    let out = cli
        .run(&["run", "--restart", "on-failure:x", "bb:local", "true"])
        .fails(125);
    assert!(
        out.stderr
            .contains("maximum retry count must be an integer"),
        "{}",
        out.stderr
    );
    assert_eq!(cli.run(&["ps", "-a", "-q"]).ok().stdout.lines().count(), 2);
    cleanup(&cli);
}
