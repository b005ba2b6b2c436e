//! Debian's `docker-registry` (CNCF Distribution) on a free 127.0.0.1
//! port, storing in a temp dir, stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Distribution registry.
pub struct Distribution {
    child: Child,
    dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    pub host: String,
}

impl Distribution {
    /// Starts one; panics with its log if it does not answer `/v2/`.
    pub fn start() -> Distribution {
        Distribution::start_with(None, None)
    }

    /// Starts one serving HTTPS with the PEM certificate and key at
    /// `cert` and `key`.
    pub fn start_with_tls(cert: &Path, key: &Path) -> Distribution {
        Distribution::start_with(None, Some((cert, key)))
    }

    /// Starts one that wants Basic credentials `user`/`password`
    /// (htpasswd with bcrypt).
    pub fn start_with_htpasswd(user: &str, password: &str) -> Distribution {
        Distribution::start_with(Some((user, password)), None)
    }

    fn start_with(login: Option<(&str, &str)>, tls: Option<(&Path, &Path)>) -> Distribution {
        let dir = tempfile::Builder::new()
            .prefix("strata-distribution-")
            .tempdir()
            .expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        let mut text = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            dir.path().join("data").display()
        );
        if let Some((cert, key)) = tls {
            text.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ));
        }
        if let Some((user, password)) = login {
            let hash = bcrypt::hash(password, 4).expect("bcrypt");
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, format!("{user}:{hash}\n")).expect("write htpasswd");
            text.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: strata-test\n    path: {}\n",
                file.display()
            ));
        }
        std::fs::write(&config, text).expect("write config");
        let log = std::fs::File::create(dir.path().join("log")).expect("log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("tests need Debian's docker-registry (apt-get install docker-registry)");
        let reg = Distribution { child, dir, host };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&reg.host).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not start: {}",
                std::fs::read_to_string(reg.dir.path().join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        reg
    }

    /// Where it keeps blob `hex`'s bytes (to corrupt them in tests).
    pub fn blob_data(&self, hex: &str) -> PathBuf {
        self.data()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Its storage root.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Its directory (config, log, data).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
