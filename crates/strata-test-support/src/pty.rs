//! A pseudo-terminal for tests that play a user at a terminal: the
//! command gets the slave end as its standard streams, the test reads and
//! types on the master end.

use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};
use rustix::termios::{self, Termios, Winsize};

/// A pseudo-terminal pair.
pub struct Pty {
    master: OwnedFd,
    slave: OwnedFd,
}

impl Pty {
    /// A new terminal of `rows` by `cols`.
    pub fn open(rows: u16, cols: u16) -> Pty {
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let slave = rustix::fs::open(
            name.as_c_str(),
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY,
            rustix::fs::Mode::empty(),
        )
        .expect("open the slave");
        let pty = Pty { master, slave };
        pty.resize(rows, cols);
        pty
    }

    /// Starts `cmd` with the terminal as its standard input, output and
    /// error.
    pub fn spawn(&self, cmd: &mut Command) -> Child {
        let end = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup the slave"));
        cmd.stdin(end(&self.slave))
            .stdout(end(&self.slave))
            .stderr(end(&self.slave))
            .spawn()
            .expect("spawn on the terminal")
    }

    /// Changes the terminal's size (the kernel signals nobody: the
    /// command has no controlling terminal; send it SIGWINCH yourself).
    pub fn resize(&self, rows: u16, cols: u16) {
        let size = Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        termios::tcsetwinsize(&self.master, size).expect("set the size");
    }

    /// The terminal's current settings (to check raw mode was undone).
    pub fn settings(&self) -> Termios {
        termios::tcgetattr(&self.slave).expect("tcgetattr")
    }

    /// Types `text`.
    pub fn type_in(&self, text: &str) {
        let mut rest = text.as_bytes();
        while !rest.is_empty() {
            let n = rustix::io::write(&self.master, rest).expect("write to the terminal");
            rest = &rest[n..];
        }
    }

    /// Reads what the terminal shows until `done` holds for all of it or
    /// `timeout` passes; returns all of it, lossily as text.
    pub fn read_until(&self, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + timeout;
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !done(&String::from_utf8_lossy(&seen)) {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let wait = rustix::time::Timespec {
                tv_sec: 0,
                tv_nsec: left.min(Duration::from_millis(100)).as_nanos() as i64,
            };
            let mut fds = [PollFd::new(&self.master, PollFlags::IN)];
            if rustix::event::poll(&mut fds, Some(&wait)).unwrap_or(0) == 0 {
                continue;
            }
            match rustix::io::read(&self.master, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&seen).into_owned()
    }
}
