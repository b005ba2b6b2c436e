//! Which process owns a temporary or active directory, so `prune` can tell
//! a directory in use from one left by a process that died.
//!
//! A process is named by its pid and its start time (field 22 of
//! `/proc/<pid>/stat`, in clock ticks since boot): a pid reused by a later
//! process has a different start time, so it never keeps a dead owner's
//! directories alive.

use std::sync::OnceLock;

/// A process identity: pid and start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Owner {
    pid: u32,
    start: u64,
}

impl Owner {
    /// The current process.
    pub(crate) fn current() -> Owner {
        static ME: OnceLock<Owner> = OnceLock::new();
        *ME.get_or_init(|| {
            let pid = std::process::id();
            // /proc is always there on the Linux hosts we run on; without it a
            // start time of 0 still identifies us while we live.
            let start = start_time(pid).unwrap_or(0);
            Owner { pid, start }
        })
    }

    /// `"<pid>.<start>"`, used as a name prefix under `tmp/`.
    pub(crate) fn token(self) -> String {
        format!("{}.{}", self.pid, self.start)
    }

    /// Parses the start of a name written by [`Owner::token`]
    /// (`<pid>.<start>` followed by `.` and anything, or the end).
    pub(crate) fn parse(name: &str) -> Option<Owner> {
        let mut parts = name.splitn(3, '.');
        let pid = parts.next()?.parse().ok()?;
        let start = parts.next()?.parse().ok()?;
        Some(Owner { pid, start })
    }

    /// The contents of an active snapshot's `owner` file.
    pub(crate) fn file_contents(self) -> String {
        format!("{} {}\n", self.pid, self.start)
    }

    /// Parses an `owner` file.
    pub(crate) fn parse_file(text: &str) -> Option<Owner> {
        let mut it = text.split_whitespace();
        let pid = it.next()?.parse().ok()?;
        let start = it.next()?.parse().ok()?;
        Some(Owner { pid, start })
    }

    /// True while the process runs.
    pub(crate) fn is_alive(self) -> bool {
        if self == Owner::current() {
            return true;
        }
        match start_time(self.pid) {
            Some(start) => start == self.start || self.start == 0,
            None => false,
        }
    }
}

/// Field 22 of `/proc/<pid>/stat`. The command name (field 2) may contain
/// spaces and parentheses, so fields are counted after the last `)`.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    // After ')' come fields 3 (state), 4, …; field 22 is index 19.
    after.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_process_is_alive_and_round_trips() {
        let me = Owner::current();
        assert!(me.start > 0);
        assert!(me.is_alive());
        assert_eq!(Owner::parse(&format!("{}.xyz", me.token())), Some(me));
        assert_eq!(Owner::parse_file(&me.file_contents()), Some(me));
    }

    #[test]
    fn a_reused_pid_is_not_alive() {
        let me = Owner::current();
        let impostor = Owner {
            pid: me.pid,
            start: me.start + 1,
        };
        // Not `current()`, and the start time differs.
        assert!(!impostor.is_alive());
        assert!(
            !Owner {
                pid: u32::MAX - 1,
                start: 1
            }
            .is_alive()
        );
        assert_eq!(Owner::parse("garbage"), None);
    }
}
