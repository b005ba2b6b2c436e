//! `strata registry serve` as a child process on a free 127.0.0.1 port,
//! over its own temp store, stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running strata registry.
pub struct StrataRegistry {
    child: Child,
    dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    pub host: String,
}

impl StrataRegistry {
    /// Starts `bin registry serve` with an optional TOML config; panics
    /// with its log if it does not come up.
    pub fn start(bin: &str, config: Option<&str>) -> StrataRegistry {
        StrataRegistry::start_with_args(bin, config, &[])
    }

    /// [`StrataRegistry::start`] with more `registry serve` arguments.
    pub fn start_with_args(bin: &str, config: Option<&str>, args: &[&str]) -> StrataRegistry {
        let dir = tempfile::Builder::new()
            .prefix("strata-registry-")
            .tempdir()
            .expect("temp dir");
        let log = dir.path().join("log");
        let mut cmd = Command::new(bin);
        cmd.arg("--root").arg(dir.path().join("store")).args([
            "registry",
            "serve",
            "--addr",
            "127.0.0.1:0",
        ]);
        cmd.args(args);
        if let Some(text) = config {
            let file = dir.path().join("config.toml");
            std::fs::write(&file, text).expect("write config");
            cmd.arg("--config").arg(file);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("starting strata registry serve");
        let mut reg = StrataRegistry {
            child,
            dir,
            host: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(rest) = text.split("listening on http://").nth(1) {
                reg.host = rest.split_whitespace().next().unwrap_or("").to_owned();
                return reg;
            }
            if let Ok(Some(status)) = reg.child.try_wait() {
                panic!("strata registry exited with {status}: {text}");
            }
            assert!(
                Instant::now() < deadline,
                "strata registry did not start: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The store root it serves.
    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// Its log (the access log and errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// The directory holding its store and files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Number of blob files in its store.
    pub fn blob_files(&self) -> usize {
        std::fs::read_dir(self.store().join("blobs-v1/sha256"))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

impl Drop for StrataRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
