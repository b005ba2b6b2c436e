//! A private Docker daemon for interop tests (needs root and Debian's
//! `docker.io`): its own data root, exec root, pidfile and socket, no
//! bridge and no iptables, stopped and removed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli::Output;

/// A running `dockerd`.
pub struct DockerDaemon {
    dir: tempfile::TempDir,
    child: Child,
}

fn client_binary() -> &'static str {
    // Debian's client matches Debian's daemon; a newer client also works.
    if Path::new("/usr/bin/docker").exists() {
        "/usr/bin/docker"
    } else {
        "docker"
    }
}

impl DockerDaemon {
    /// Starts a daemon and waits until it answers. Panics with the daemon
    /// log when it does not come up within 60 seconds.
    pub fn start() -> DockerDaemon {
        let dir = tempfile::Builder::new()
            .prefix("strata-dockerd-")
            .tempdir()
            .expect("temp dir");
        let p = |s: &str| dir.path().join(s);
        let log = std::fs::File::create(p("dockerd.log")).expect("log file");
        let child = Command::new("dockerd")
            .args(["--iptables=false", "--bridge=none", "--ip-masq=false"])
            .arg("--data-root")
            .arg(p("data"))
            .arg("--exec-root")
            .arg(p("exec"))
            .arg("--pidfile")
            .arg(p("dockerd.pid"))
            .arg("--host")
            .arg(format!("unix://{}", p("docker.sock").display()))
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("tests need dockerd (apt-get install docker.io) and root");
        let d = DockerDaemon { dir, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if d.docker(&["version"]).code == 0 {
                return d;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let log = std::fs::read_to_string(d.dir.path().join("dockerd.log")).unwrap_or_default();
        panic!("dockerd did not start:\n{log}");
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    /// A docker client command bound to this daemon.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(client_binary());
        c.args(args)
            .env("DOCKER_HOST", format!("unix://{}", self.socket().display()))
            .env("DOCKER_CONFIG", self.dir.path().join("client"))
            .env("DOCKER_BUILDKIT", "0");
        c
    }

    /// Runs the docker client with `input` on its standard input.
    pub fn docker_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running docker");
        if let Some(mut stdin) = child.stdin.take() {
            // A client that exits early closes its end: its exit code says why.
            let _ = stdin.write_all(input);
        }
        let out = child.wait_with_output().expect("waiting for docker");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs the docker client.
    pub fn docker(&self, args: &[&str]) -> Output {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("running docker");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Drop for DockerDaemon {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Anything the daemon left mounted under its root must go before
        // the directory can be removed.
        if let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") {
            let root = self.dir.path().to_string_lossy().into_owned();
            let mut points: Vec<&str> = mounts
                .lines()
                .filter_map(|l| l.split_whitespace().nth(1))
                .filter(|m| m.starts_with(&root))
                .collect();
            points.sort_by_key(|m| std::cmp::Reverse(m.len()));
            for m in points {
                let _ = Command::new("umount").args(["-l", m]).status();
            }
        }
    }
}
