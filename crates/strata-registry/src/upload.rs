//! Upload sessions: a partial blob in the store's ingest area, held by a
//! lease, between `POST .../blobs/uploads/` and the final `PUT`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use strata_store::{BlobWriter, Lease, Store};

/// One upload in progress.
pub(crate) struct Session {
    pub(crate) repo: String,
    pub(crate) lease: Lease,
    pub(crate) writer: BlobWriter,
    touched: Instant,
}

impl Session {
    /// Bytes received so far.
    pub(crate) fn offset(&self) -> u64 {
        self.writer.len()
    }
}

/// A session shared between the requests that use it.
pub(crate) type Shared = Arc<tokio::sync::Mutex<Session>>;

/// The sessions of one server, by ID.
#[derive(Default)]
pub(crate) struct Sessions {
    /// Session ID to its repository (fixed at creation) and state.
    map: Mutex<HashMap<String, (String, Shared)>>,
}

impl Sessions {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Shared)>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Open sessions.
    pub(crate) fn len(&self) -> usize {
        self.map().len()
    }

    /// Starts a session for `repo`; returns its ID.
    pub(crate) fn start(&self, store: &Store, repo: &str) -> strata_store::Result<String> {
        let mut lease = Lease::new(store)?;
        let writer = BlobWriter::new(&mut lease)?;
        let id = random_id();
        let session = Session {
            repo: repo.to_owned(),
            lease,
            writer,
            touched: Instant::now(),
        };
        self.map().insert(
            id.clone(),
            (repo.to_owned(), Arc::new(tokio::sync::Mutex::new(session))),
        );
        Ok(id)
    }

    /// The session `id` if it belongs to `repo`.
    pub(crate) fn get(&self, repo: &str, id: &str) -> Option<Shared> {
        let map = self.map();
        let (owner, s) = map.get(id)?;
        (owner == repo).then(|| s.clone())
    }

    /// Ends a session (finished, cancelled or failed). Dropping the last
    /// reference removes its partial file and releases its lease.
    pub(crate) fn remove(&self, id: &str) -> Option<Shared> {
        self.map().remove(id).map(|(_, s)| s)
    }

    /// Drops sessions idle longer than `timeout`.
    pub(crate) fn expire(&self, timeout: Duration) {
        self.map().retain(|_, (_, s)| match s.try_lock() {
            Ok(g) => g.touched.elapsed() < timeout,
            Err(_) => true,
        });
    }
}

impl Session {
    /// Marks the session as used now.
    pub(crate) fn touch(&mut self) {
        self.touched = Instant::now();
    }
}

fn random_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let a: u128 = rng.random();
    format!("{a:032x}")
}
