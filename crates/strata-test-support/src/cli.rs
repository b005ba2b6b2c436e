//! Running the `strata` binary in tests against a private store.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A `strata` binary bound to a temporary store root, removed on drop.
pub struct Cli {
    bin: PathBuf,
    dir: tempfile::TempDir,
}

/// What a run printed and returned.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit code (-1 if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// Panics with the full output unless the exit code was 0.
    #[track_caller]
    pub fn ok(self) -> Output {
        assert_eq!(
            self.code, 0,
            "command failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panics with the full output unless the command failed with `code`.
    #[track_caller]
    pub fn fails(self, code: i32) -> Output {
        assert_eq!(
            self.code, code,
            "unexpected exit code:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl Cli {
    /// A fresh store for the binary at `bin` (use `env!("CARGO_BIN_EXE_strata")`).
    pub fn new(bin: &str) -> Cli {
        Cli {
            bin: PathBuf::from(bin),
            dir: tempfile::Builder::new()
                .prefix("strata-test-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    /// A fresh store holding busybox-static's full root filesystem imported
    /// as `name`, with `SOURCE_DATE_EPOCH=0` so its ID is the same on
    /// every run.
    pub fn with_busybox(bin: &str, name: &str) -> Cli {
        let cli = Cli::new(bin);
        cli.run_env(
            &["import", "-", name],
            &[("SOURCE_DATE_EPOCH", "0")],
            Some(&crate::busybox_full_rootfs()),
        )
        .ok();
        cli
    }

    /// Loads `images` (a docker-archive in the pre-25 layout) into the
    /// store; panics if `load` fails.
    pub fn load_images(&self, images: Vec<crate::ArchiveImage>) -> &Cli {
        let bytes = crate::DockerArchive {
            images,
            layout: crate::Layout::Legacy,
        }
        .build();
        self.run_stdin(&["load"], Some(&bytes)).ok();
        self
    }

    /// The store root.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// A scratch directory for files the test makes.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// A command with the store root set, for custom plumbing.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env("STRATA_ROOT", self.root())
            .env_remove("SOURCE_DATE_EPOCH");
        c
    }

    /// Runs with no standard input.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_stdin(args, None)
    }

    /// Runs with `stdin` piped in (None: /dev/null).
    pub fn run_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        self.run_env(args, &[], stdin)
    }

    /// Runs with extra environment variables and `stdin` piped in.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
        let mut c = self.command(args);
        c.envs(env.iter().copied());
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        c.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = c.spawn().expect("spawning strata");
        if let Some(data) = stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            // A command may exit before reading everything; that is its answer.
            let _ = pipe.write_all(data);
        }
        let out = child.wait_with_output().expect("waiting for strata");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Replaces full digests with `sha256:[DIGEST]` and 12-hex short IDs with
/// `[ID]`, so outputs compare across runs.
pub fn redact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    let mut i = 0;
    while i < b.len() {
        let run = b[i..].iter().take_while(|c| hex(**c)).count();
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if boundary
            && (run == 64 || run == 12)
            && !b.get(i + run).is_some_and(|c| c.is_ascii_alphanumeric())
        {
            out.push_str(if run == 64 { "[DIGEST]" } else { "[ID]" });
            i += run;
        } else if run > 0 {
            out.push_str(&s[i..i + run]);
            i += run;
        } else {
            let ch = s[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}
