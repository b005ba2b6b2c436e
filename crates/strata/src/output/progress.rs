//! BuildKit's plain progress format on standard error:
//!
//! ```text
//! #3 [2/4] RUN echo hi
//! #3 0.112 hi
//! #3 DONE 0.3s
//! ```
//!
//! Stages run in parallel, so lines of different steps interleave; each line
//! carries its step number, and partial output lines are held until their
//! newline arrives.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

use strata_builder::{Event, Progress, StepId, Stream};

/// Unfinished output lines by (step, is-stderr): when the line started and
/// its bytes so far.
type Partial = HashMap<(StepId, bool), (f64, Vec<u8>)>;

/// Writes plain progress to standard error.
#[derive(Default)]
pub(crate) struct PlainProgress {
    partial: Mutex<Partial>,
}

impl PlainProgress {
    fn flush(&self, id: StepId, out: &mut impl Write, partial: &mut Partial) {
        for stream in [false, true] {
            if let Some((t, rest)) = partial.remove(&(id, stream))
                && !rest.is_empty()
            {
                let _ = writeln!(out, "#{id} {t:.3} {}", String::from_utf8_lossy(&rest));
            }
        }
    }
}

impl Progress for PlainProgress {
    fn event(&self, event: &Event<'_>) {
        let mut partial = self.partial.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = std::io::stderr().lock();
        match event {
            Event::Start { id, name } => {
                let _ = writeln!(out, "\n#{id} {name}");
            }
            Event::Cached { id } => {
                let _ = writeln!(out, "#{id} CACHED");
            }
            Event::Output {
                id,
                elapsed,
                stream,
                data,
            } => {
                let entry = partial
                    .entry((*id, *stream == Stream::Stderr))
                    .or_insert((*elapsed, Vec::new()));
                entry.1.extend_from_slice(data);
                while let Some(pos) = entry.1.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = entry.1.drain(..=pos).collect();
                    let _ = writeln!(
                        out,
                        "#{id} {:.3} {}",
                        entry.0,
                        String::from_utf8_lossy(&line[..line.len() - 1])
                    );
                    entry.0 = *elapsed;
                }
            }
            Event::Note { id, text } => {
                let _ = writeln!(out, "#{id} {text}");
            }
            Event::Done { id, seconds } => {
                self.flush(*id, &mut out, &mut partial);
                let _ = writeln!(out, "#{id} DONE {seconds:.1}s");
            }
            Event::Error { id, message } => {
                self.flush(*id, &mut out, &mut partial);
                let _ = writeln!(out, "#{id} ERROR: {message}");
            }
            Event::Warning { text } => {
                let _ = writeln!(out, "WARNING: {text}");
            }
        }
    }
}
