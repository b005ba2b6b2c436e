//! Build progress as events. The builder never prints: the CLI turns these
//! into BuildKit-style plain output (`#5 [stage 2/4] RUN make`, `#5 CACHED`,
//! `#5 DONE 0.3s`) or a quiet run.

/// A numbered unit of work shown to the user.
pub type StepId = u32;

/// Which output stream a `RUN` line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Something that happened during a build.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// A step started; `name` is e.g. `[stage-1 2/5] COPY app/ /app/`.
    Start {
        /// Its number.
        id: StepId,
        /// How it is shown.
        name: &'a str,
    },
    /// The step's result came from the cache.
    Cached {
        /// Its number.
        id: StepId,
    },
    /// Output of a `RUN` step.
    Output {
        /// Its number.
        id: StepId,
        /// Seconds since the step started.
        elapsed: f64,
        /// Which stream.
        stream: Stream,
        /// The bytes (not necessarily whole lines).
        data: &'a [u8],
    },
    /// A note on a step (`writing image sha256:… done`).
    Note {
        /// Its number.
        id: StepId,
        /// The text.
        text: &'a str,
    },
    /// The step finished.
    Done {
        /// Its number.
        id: StepId,
        /// How long it took.
        seconds: f64,
    },
    /// The step failed.
    Error {
        /// Its number.
        id: StepId,
        /// Why.
        message: &'a str,
    },
    /// A warning about the Dockerfile or the build.
    Warning {
        /// The text.
        text: &'a str,
    },
}

/// Receives build events (from several threads when stages run in parallel).
pub trait Progress: Sync {
    /// Handles one event.
    fn event(&self, event: &Event<'_>);
}

/// Discards events.
pub struct Silent;

impl Progress for Silent {
    fn event(&self, _: &Event<'_>) {}
}
