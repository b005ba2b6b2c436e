//! Docker's pull and push progress. Without a terminal, one line per
//! layer step (`<id>: Pull complete`). On a terminal, one line per layer,
//! redrawn in place as it changes, with a bar while bytes move:
//!
//! ```text
//! 61f597a3e0f0: Downloading [=======>                                           ]  1.2MB/3.4MB
//! ```
//!
//! A line is redrawn by moving the cursor up to it (`ESC[nA`), clearing
//! it (`ESC[2K`) and moving back down (`ESC[nB`), as Docker's CLI does.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use strata_core::Digest;
use strata_format::units::human_size;
use strata_registry_client::Event;

/// Docker draws the bar only on terminals wider than this.
const BAR_MIN_WIDTH: u16 = 110;

/// Which way the bytes go (the word on the bar line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Pull,
    Push,
}

/// Prints transfer events to standard output.
pub(crate) struct TransferProgress {
    quiet: bool,
    /// Redraw in place (standard output is a terminal).
    tty: bool,
    bar: bool,
    direction: Direction,
    /// The layer IDs in the order their lines were printed.
    lines: Mutex<Vec<String>>,
    /// When each layer's bar was last drawn (bars are redrawn at most
    /// every [`REDRAW`]).
    drawn: Mutex<HashMap<Digest, Instant>>,
}

/// The shortest time between two draws of one bar.
const REDRAW: Duration = Duration::from_millis(100);

impl TransferProgress {
    /// Progress for one image's transfer.
    pub(crate) fn new(direction: Direction, quiet: bool) -> TransferProgress {
        let tty = crate::commands::terminal::is_terminal(std::io::stdout());
        let width = crate::commands::terminal::size().map(|(_, cols)| cols);
        TransferProgress {
            quiet,
            tty,
            bar: width.is_none_or(|w| w > BAR_MIN_WIDTH),
            direction,
            lines: Mutex::new(Vec::new()),
            drawn: Mutex::new(HashMap::new()),
        }
    }

    /// Shows `e`.
    pub(crate) fn event(&self, e: Event) {
        if self.quiet {
            return;
        }
        let (d, text) = match &e {
            Event::AlreadyExists(d) => (d, "Already exists".to_owned()),
            Event::Downloading(d) => (d, "Pulling fs layer".to_owned()),
            Event::PullComplete(d) => (d, "Pull complete".to_owned()),
            Event::LayerAlreadyExists(d) => (d, "Layer already exists".to_owned()),
            Event::Pushing(d) => (d, "Preparing".to_owned()),
            Event::Pushed(d) => (d, "Pushed".to_owned()),
            Event::Mounted(d, from) => (d, format!("Mounted from {from}")),
            Event::Progress(d, current, total) => {
                if !self.tty {
                    return;
                }
                let now = Instant::now();
                let mut drawn = self.drawn.lock().expect("progress times");
                if current < total
                    && drawn
                        .get(d)
                        .is_some_and(|t| now.duration_since(*t) < REDRAW)
                {
                    return;
                }
                drawn.insert(d.clone(), now);
                let verb = match self.direction {
                    Direction::Pull => "Downloading",
                    Direction::Push => "Pushing",
                };
                (d, format!("{verb} {}", self.bar_text(*current, *total)))
            }
        };
        let id = &d.hex()[..12];
        let mut lines = self.lines.lock().expect("progress lines");
        let mut out = std::io::stdout().lock();
        let known = lines.iter().position(|l| l == id);
        let _ = match known {
            Some(i) if self.tty => {
                let up = lines.len() - i;
                write!(out, "\x1b[{up}A\r\x1b[2K{id}: {text}\r\x1b[{up}B")
            }
            _ => {
                if known.is_none() {
                    lines.push(id.to_owned());
                }
                writeln!(out, "{id}: {text}")
            }
        };
        let _ = out.flush();
    }

    /// Docker's `JSONProgress.String()`: a 50-column bar (on wide
    /// terminals) and `current/total`.
    fn bar_text(&self, current: u64, total: u64) -> String {
        if total == 0 {
            return format!("{:>8}", human_size(current as f64));
        }
        let filled = ((current as f64 / total as f64 * 100.0) as usize / 2).min(50);
        let bar = if self.bar {
            format!("[{}>{}] ", "=".repeat(filled), " ".repeat(50 - filled))
        } else {
            String::new()
        };
        if current > total {
            return format!("{bar}{:>8}", human_size(current as f64));
        }
        format!(
            "{bar}{:>8}/{}",
            human_size(current as f64),
            human_size(total as f64)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_look_like_dockers() {
        let p = TransferProgress {
            quiet: false,
            tty: true,
            bar: true,
            direction: Direction::Pull,
            lines: Mutex::new(Vec::new()),
            drawn: Mutex::new(HashMap::new()),
        };
        assert_eq!(
            p.bar_text(1_200_000, 3_400_000),
            format!("[{}>{}]    1.2MB/3.4MB", "=".repeat(17), " ".repeat(33))
        );
        assert_eq!(
            p.bar_text(3_400_000, 3_400_000),
            format!("[{}>]    3.4MB/3.4MB", "=".repeat(50))
        );
        assert_eq!(p.bar_text(512, 0), "    512B");
        let narrow = TransferProgress { bar: false, ..p };
        assert_eq!(narrow.bar_text(0, 1000), "      0B/1kB");
    }
}
