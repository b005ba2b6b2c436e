//! What pull and push share: progress events and the worker loop.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use strata_core::Digest;

use crate::error::{Error, Result};

/// What a transfer reports as it goes (the CLI prints Docker's lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Pull: the layer is already in the store.
    AlreadyExists(Digest),
    /// Pull: the layer's download started.
    Downloading(Digest),
    /// Pull: the layer is stored and verified.
    PullComplete(Digest),
    /// Push: the registry has the blob already.
    LayerAlreadyExists(Digest),
    /// Push: the blob's upload started.
    Pushing(Digest),
    /// Push: the blob is uploaded.
    Pushed(Digest),
    /// Pull or push: this many bytes of the blob of this size moved so
    /// far (a download or an upload in progress).
    Progress(Digest, u64, u64),
    /// Push: the registry mounted the blob from this other repository
    /// (its path) of the same registry.
    Mounted(Digest, String),
}

/// Runs `work` on every item, `parallel` threads at a time; stops taking
/// new items after the first error, which it returns.
pub(crate) fn in_parallel<T: Sync>(
    items: &[T],
    parallel: usize,
    work: impl Fn(usize, &T) -> Result<()> + Sync,
) -> Result<()> {
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { return };
                    if failed.lock().expect("failure slot").is_some() {
                        return;
                    }
                    if let Err(e) = work(i, item) {
                        failed.lock().expect("failure slot").get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    match failed.into_inner().expect("failure slot") {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
