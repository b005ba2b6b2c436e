//! A container's terminal (`-t`): runc makes the pseudo-terminal and hands
//! us its master end over a unix socket (`--console-socket`); [`relay`]
//! then moves bytes between it, our input and the caller's output, and
//! resizes it on request.

use std::io::{self, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use rustix::event::{PollFd, PollFlags};
use rustix::io::Errno;
use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
use rustix::termios::Winsize;

use crate::request::Stream;

/// The socket runc sends the terminal's master end to. It lives in a
/// fresh directory under the system's temp dir: a socket path must fit
/// in 108 bytes, which a bundle path may not.
pub(crate) struct ConsoleSocket {
    dir: tempfile::TempDir,
    listener: UnixListener,
}

impl ConsoleSocket {
    /// Listens on a new socket.
    pub(crate) fn new() -> io::Result<ConsoleSocket> {
        let dir = tempfile::Builder::new()
            .prefix("strata-console-")
            .tempdir()?;
        let listener = UnixListener::bind(dir.path().join("c"))?;
        listener.set_nonblocking(true)?;
        Ok(ConsoleSocket { dir, listener })
    }

    /// The path to give runc.
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("c")
    }

    /// The master end runc sent; call once `runc create` has succeeded
    /// (it sends before it exits).
    pub(crate) fn receive(&self) -> io::Result<OwnedFd> {
        let (stream, _) = self
            .listener
            .accept()
            .map_err(|e| io::Error::new(e.kind(), format!("runc sent no terminal: {e}")))?;
        stream.set_nonblocking(false)?;
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let mut name = [0u8; 4096];
        rustix::net::recvmsg(
            &stream,
            &mut [IoSliceMut::new(&mut name)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        )?;
        let mut master = None;
        for message in control.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = message {
                for fd in fds {
                    master.get_or_insert(fd);
                }
            }
        }
        master.ok_or_else(|| io::Error::other("runc's console message held no descriptor"))
    }
}

/// Sets the terminal's size (rows, columns).
pub(crate) fn set_size(master: BorrowedFd<'_>, (rows, cols): (u16, u16)) -> io::Result<()> {
    let size = Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    Ok(rustix::termios::tcsetwinsize(master, size)?)
}

/// Moves bytes until the terminal closes (every process holding it has
/// exited): what the container writes goes to `output` as stdout, what
/// `stdin` gives goes to the container (stdin's end stops only that), and
/// each `ROWS COLS` line read from `resize` resizes the terminal. Input
/// waits while the terminal cannot take more, so a container that writes
/// without reading never blocks us.
pub(crate) fn relay(
    master: &OwnedFd,
    mut stdin: Option<OwnedFd>,
    mut resize: Option<OwnedFd>,
    output: &mut dyn FnMut(Stream, &[u8]),
) -> io::Result<()> {
    rustix::fs::fcntl_setfl(master, rustix::fs::OFlags::NONBLOCK)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut lines: Vec<u8> = Vec::new();
    loop {
        let mut master_events = PollFlags::IN;
        if !pending.is_empty() {
            master_events |= PollFlags::OUT;
        }
        let mut fds = vec![PollFd::new(master, master_events)];
        let stdin_at = match (&stdin, pending.is_empty()) {
            (Some(fd), true) => {
                fds.push(PollFd::new(fd, PollFlags::IN));
                Some(fds.len() - 1)
            }
            _ => None,
        };
        let resize_at = resize.as_ref().map(|fd| {
            fds.push(PollFd::new(fd, PollFlags::IN));
            fds.len() - 1
        });
        match rustix::event::poll(&mut fds, None) {
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<PollFlags> = fds.iter().map(|f| f.revents()).collect();
        drop(fds);

        let master_ready = ready[0];
        if master_ready.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
            match rustix::io::read(master, &mut buf) {
                Ok(0) | Err(Errno::IO) => return Ok(()), // the last holder closed it
                Ok(n) => output(Stream::Stdout, &buf[..n]),
                Err(Errno::AGAIN | Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if master_ready.contains(PollFlags::OUT) && !pending.is_empty() {
            match rustix::io::write(master, &pending) {
                Ok(n) => {
                    pending.drain(..n);
                }
                Err(Errno::AGAIN | Errno::INTR) => {}
                Err(Errno::IO) => pending.clear(),
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(i) = stdin_at
            && !ready[i].is_empty()
            && let Some(fd) = &stdin
        {
            match rustix::io::read(fd, &mut buf) {
                Ok(0) => stdin = None,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
                Err(Errno::AGAIN | Errno::INTR) => {}
                Err(_) => stdin = None,
            }
        }
        if let Some(i) = resize_at
            && !ready[i].is_empty()
            && let Some(fd) = &resize
        {
            match rustix::io::read(fd, &mut buf) {
                Ok(0) => resize = None,
                Ok(n) => {
                    lines.extend_from_slice(&buf[..n]);
                    apply_resizes(master.as_fd(), &mut lines);
                }
                Err(Errno::AGAIN | Errno::INTR) => {}
                Err(_) => resize = None,
            }
        }
    }
}

/// Applies every complete `ROWS COLS` line in `lines` and keeps the rest.
fn apply_resizes(master: BorrowedFd<'_>, lines: &mut Vec<u8>) {
    while let Some(end) = lines.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = lines.drain(..=end).collect();
        if let Some(size) = parse_size(&String::from_utf8_lossy(&line)) {
            let _ = set_size(master, size);
        }
    }
}

/// `ROWS COLS` (or `ROWS,COLS`) as numbers.
pub fn parse_size(text: &str) -> Option<(u16, u16)> {
    let mut parts = text.trim().split([' ', ',']).filter(|p| !p.is_empty());
    let rows = parts.next()?.parse().ok()?;
    let cols = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((rows, cols))
}

/// Writes a resize request for [`relay`] to `fifo` (a named pipe the
/// relaying process reads); a fifo nobody reads is no error.
pub fn request_resize(fifo: &Path, (rows, cols): (u16, u16)) -> io::Result<()> {
    let fd = match rustix::fs::open(
        fifo,
        rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NXIO | Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    rustix::io::write(&fd, format!("{rows} {cols}\n").as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_from_lines_and_flags() {
        assert_eq!(parse_size("24 80\n"), Some((24, 80)));
        assert_eq!(parse_size("50,132"), Some((50, 132)));
        assert_eq!(parse_size("24"), None);
        assert_eq!(parse_size("24 80 1"), None);
        assert_eq!(parse_size("x 80"), None);
    }

    #[test]
    fn relay_copies_output_input_and_resizes_a_real_pty() {
        // A pty of our own stands in for runc's: we play the container on
        // the other end.
        let master =
            rustix::pty::openpt(rustix::pty::OpenptFlags::RDWR | rustix::pty::OpenptFlags::NOCTTY)
                .unwrap();
        rustix::pty::grantpt(&master).unwrap();
        rustix::pty::unlockpt(&master).unwrap();
        let name = rustix::pty::ptsname(&master, Vec::new()).unwrap();
        let slave = rustix::fs::open(
            name.as_c_str(),
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        let mut raw = rustix::termios::tcgetattr(&slave).unwrap();
        raw.make_raw();
        rustix::termios::tcsetattr(&slave, rustix::termios::OptionalActions::Now, &raw).unwrap();
        let (in_r, in_w) = rustix::pipe::pipe().unwrap();
        let (rs_r, rs_w) = rustix::pipe::pipe().unwrap();
        rustix::io::write(&in_w, b"typed").unwrap();
        drop(in_w);
        rustix::io::write(&rs_w, b"33 101\n").unwrap();
        drop(rs_w);

        let container = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0u8; 16];
            while got.len() < 5 {
                let n = rustix::io::read(&slave, &mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            // The resize line was applied before or while we read.
            let mut size = rustix::termios::tcgetwinsize(&slave).unwrap();
            for _ in 0..100 {
                if size.ws_row == 33 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
                size = rustix::termios::tcgetwinsize(&slave).unwrap();
            }
            rustix::io::write(&slave, b"echo:").unwrap();
            rustix::io::write(&slave, &got).unwrap();
            (size.ws_row, size.ws_col)
        });
        let mut out = Vec::new();
        relay(&master, Some(in_r), Some(rs_r), &mut |stream, data| {
            assert_eq!(stream, Stream::Stdout);
            out.extend_from_slice(data);
        })
        .unwrap();
        assert_eq!(container.join().unwrap(), (33, 101));
        assert_eq!(String::from_utf8(out).unwrap(), "echo:typed");
    }
}
