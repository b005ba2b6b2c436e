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

/// Standard input's terminal settings changed while this lives,
/// restored on drop.
pub(crate) struct TerminalMode {
    saved: Termios,
}

impl TerminalMode {
    /// Applies `change` to standard input's settings, if it is a terminal.
    fn enter(change: impl FnOnce(&mut Termios)) -> Option<TerminalMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin).ok()?;
        let mut new = saved.clone();
        change(&mut new);
        termios::tcsetattr(&stdin, OptionalActions::Now, &new).ok()?;
        Some(TerminalMode { saved })
    }

    /// Raw mode: every key, Ctrl-C included, goes to the container's
    /// terminal, which echoes and interprets it itself.
    pub(crate) fn raw() -> Option<TerminalMode> {
        TerminalMode::enter(Termios::make_raw)
    }

    /// No echo (a password prompt).
    pub(crate) fn no_echo() -> Option<TerminalMode> {
        TerminalMode::enter(|t| t.local_modes.remove(termios::LocalModes::ECHO))
    }
}

impl Drop for TerminalMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &self.saved);
    }
}
