//! The user's terminal, as Docker's CLI handles it for `-t`: is it one,
//! how big is it, and raw mode while a container reads it.

use std::os::fd::AsFd;

use rustix::termios::{self, OptionalActions, Termios};

/// Whether `fd` is a terminal.
pub(crate) fn is_terminal(fd: impl AsFd) -> bool {
    termios::isatty(fd)
}

/// The size (rows, columns) of the terminal on standard output, if it
/// is one (Docker sizes the container's terminal after it).
pub(crate) fn size() -> Option<(u16, u16)> {
    let stdout = std::io::stdout();
    if !termios::isatty(&stdout) {
        return None;
    }
    let size = termios::tcgetwinsize(&stdout).ok()?;
    (size.ws_row > 0 && size.ws_col > 0).then_some((size.ws_row, size.ws_col))
}

/// Standard input in raw mode while this lives: every key, Ctrl-C
/// included, goes to the container's terminal, which echoes and
/// interprets it itself. Restored on drop.
pub(crate) struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// Puts standard input in raw mode, if it is a terminal.
    pub(crate) fn enter() -> Option<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(&stdin, OptionalActions::Now, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &self.saved);
    }
}
