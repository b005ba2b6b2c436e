//! The process in the container: output streaming, exit statuses, its
//! environment, identity, host name and network. Real runc (`root_*`).

mod common;

use std::time::Duration;

use common::{env, id, run, try_run};
use strata_runtime::{Error, ExitStatus, Mount, Network, Stream};

fn bind_rootfs(env: &common::Env) -> Vec<Mount> {
    vec![Mount::bind(env.lower.display().to_string(), "/", false)]
}

#[test]
fn root_stdout_and_stderr_are_streamed_as_they_arrive() {
    let env = env(&[]);
    let rootfs = bind_rootfs(&env);
    let id = id("stream");
    let req = env.request(
        &id,
        &rootfs,
        "echo out; echo err >&2; busybox sleep 1; echo late",
    );
    let ran = run(&req);
    assert_eq!(ran.status, ExitStatus::Exited(0));
    assert_eq!(ran.stdout, "out\nlate\n");
    assert_eq!(ran.stderr, "err\n");
    let first = ran.chunks.first().unwrap().1;
    let last = ran.chunks.last().unwrap();
    assert_eq!((last.0, last.2.as_str()), (Stream::Stdout, "late\n"));
    assert!(
        last.1.duration_since(first) >= Duration::from_millis(800),
        "output arrived in one piece at the end: {:?}",
        ran.chunks
    );
    common::assert_clean(&env.state, &id);
}

#[test]
fn root_exit_codes_and_signals() {
    let env = env(&[]);
    let rootfs = bind_rootfs(&env);
    for (script, want) in [
        ("true", ExitStatus::Exited(0)),
        ("exit 3", ExitStatus::Exited(3)),
        ("nosuch-command", ExitStatus::Exited(127)),
    ] {
        let id = id("exit");
        let ran = run(&env.request(&id, &rootfs, script));
        assert_eq!(ran.status, want, "{script}: {ran:?}");
        common::assert_clean(&env.state, &id);
    }

    // Killed from outside, as `docker kill` would: runc reports 137.
    let id = id("signal");
    let req = env.request(&id, &rootfs, "echo ready; exec busybox sleep 60");
    let state = env.state.clone();
    let killer_id = id.clone();
    let killer = std::thread::spawn(move || {
        let state_file = state.join("runc").join(&killer_id).join("state.json");
        for _ in 0..200 {
            if state_file.exists() {
                std::thread::sleep(Duration::from_millis(200));
                let out = std::process::Command::new("runc")
                    .arg("--root")
                    .arg(state.join("runc"))
                    .args(["kill", &killer_id, "KILL"])
                    .output()
                    .unwrap();
                return out.status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    });
    let ran = run(&req);
    assert!(killer.join().unwrap(), "runc kill failed");
    assert_eq!(ran.status, ExitStatus::Signaled(9), "{ran:?}");
    assert_eq!(ran.status.code(), Some(137));
    common::assert_clean(&env.state, &id);
}

#[test]
fn root_commands_that_cannot_run_get_dockers_codes() {
    let env = env(&[("data.txt", b"not a program\n")]);
    let rootfs = bind_rootfs(&env);
    for (args, code, message) in [
        (vec!["nosuch"], 127, "executable file not found"),
        (vec!["/bin/nosuch"], 127, "no such file or directory"),
        (vec!["/data.txt"], 126, "permission denied"),
    ] {
        let id = id("noexec");
        let mut req = env.request(&id, &rootfs, "");
        req.process.args = args.iter().map(|a| (*a).to_owned()).collect();
        let ran = run(&req);
        assert_eq!(ran.status, ExitStatus::Exited(code), "{args:?}: {ran:?}");
        assert!(ran.stderr.contains(message), "{args:?}: {:?}", ran.stderr);
        common::assert_clean(&env.state, &id);
    }
}

#[test]
fn root_env_cwd_and_user() {
    let env = env(&[]);
    let rootfs = bind_rootfs(&env);
    let id = id("user");
    let mut req = env.request(
        &id,
        &rootfs,
        "echo \"$FOO|$HOME\"; pwd; busybox id -u; busybox id -g; busybox id -G; busybox env | busybox sort",
    );
    req.process.env = vec!["PATH=/bin".into(), "FOO=bar baz".into()];
    req.process.cwd = "/work/dir".into();
    req.process.uid = 1000;
    req.process.gid = 1001;
    req.process.additional_gids = vec![10, 20];
    let ran = run(&req);
    assert_eq!(ran.status, ExitStatus::Exited(0), "{ran:?}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    // runc sets HOME when it is not given (from /etc/passwd, else /), as
    // Docker does.
    assert_eq!(
        lines[..5],
        ["bar baz|/", "/work/dir", "1000", "1001", "1001 10 20"]
    );
    // Exactly the given variables, plus HOME and what sh itself sets.
    for line in &lines[5..] {
        let name = line.split('=').next().unwrap();
        assert!(
            ["PATH", "FOO", "HOME", "PWD", "SHLVL"].contains(&name),
            "unexpected {line}"
        );
    }
    common::assert_clean(&env.state, &id);
}

#[test]
fn root_hostname_and_generated_etc_files() {
    let env = env(&[]);
    let rootfs = bind_rootfs(&env);
    let id = id("etc");
    let script = "busybox hostname; cat /etc/hostname /etc/hosts /etc/resolv.conf; \
                  echo x >> /etc/hosts || echo read-only; cat /proc/self/cgroup";
    let ran = run(&env.request(&id, &rootfs, script));
    assert_eq!(ran.status, ExitStatus::Exited(0), "{ran:?}");
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let want = format!(
        "strata-test\nstrata-test\n127.0.0.1\tlocalhost strata-test\n::1\tlocalhost ip6-localhost ip6-loopback\n{host_resolv}read-only\n"
    );
    assert!(ran.stdout.starts_with(&want), "{}", ran.stdout);
    assert!(
        ran.stdout.contains(&format!("/strata/{id}")),
        "cgroup: {}",
        ran.stdout
    );
    common::assert_clean(&env.state, &id);
}

#[test]
fn root_network_none_has_only_loopback_and_host_sees_the_hosts() {
    let env = env(&[]);
    let rootfs = bind_rootfs(&env);
    let mut host: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    host.sort();
    for (network, want) in [
        (Network::None, vec!["lo".to_owned()]),
        (Network::Host, host),
    ] {
        let id = id("net");
        let mut req = env.request(
            &id,
            &rootfs,
            "ls /sys/class/net; busybox ip -o link show up",
        );
        req.network = network;
        let ran = run(&req);
        assert_eq!(ran.status, ExitStatus::Exited(0), "{ran:?}");
        let mut lines = ran.stdout.lines();
        let names: Vec<String> = lines
            .by_ref()
            .take(want.len())
            .flat_map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        assert_eq!(names, want, "{network:?}: {}", ran.stdout);
        if network == Network::None {
            let up: Vec<&str> = lines.collect();
            assert_eq!(up.len(), 1, "{up:?}");
            assert!(up[0].starts_with("1: lo:"), "loopback is up: {up:?}");
        }
        common::assert_clean(&env.state, &id);
    }
}

#[test]
fn a_missing_runtime_is_named_before_anything_happens() {
    let env = env(&[]);
    let rootfs = bind_rootfs(&env);
    let mut req = env.request("missing-runtime", &rootfs, "true");
    req.runtime = "strata-no-such-runc";
    let err = try_run(&req).unwrap_err();
    assert!(matches!(err, Error::RuntimeNotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("\"strata-no-such-runc\""), "{err}");
    assert!(!env.state.exists());
}
