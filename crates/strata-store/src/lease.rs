//! Leases: how an in-flight operation keeps GC away from blobs it has
//! written (or found) but not yet tied to an image record.
//!
//! A lease is a row naming the owning process (pid plus its start time, so a
//! reused pid is not mistaken for the owner). Blobs are added to the lease
//! *before* the operation checks whether they exist or renames them into
//! place; GC sweeps inside a write transaction, so it either sees the lease
//! entry or has finished before the blob is looked at. Partial files live in
//! `ingest-v1/<lease-id>/`. When the owner dies (`kill -9`), its lease is
//! dead: GC deletes the row and the directory.

use std::path::PathBuf;

use rand::Rng;
use rusqlite::params;
use strata_core::Digest;

use crate::error::Result;
use crate::store::{Store, now_unix};

/// A live lease; released when dropped.
pub struct Lease {
    store: Store,
    id: String,
    dir: PathBuf,
    dir_made: bool,
    seq: u64,
}

impl Lease {
    /// Takes a new lease owned by this process.
    pub fn new(store: &Store) -> Result<Lease> {
        let id = format!("{:016x}", rand::rng().random::<u64>());
        let (pid, start) = this_process();
        store.conn().execute(
            "INSERT INTO leases (id, pid, pid_start, created_unix) VALUES (?1, ?2, ?3, ?4)",
            params![id, pid, start, now_unix()],
        )?;
        let dir = store.layout().ingest_root().join(&id);
        Ok(Lease {
            store: store.clone(),
            id,
            dir,
            dir_made: false,
            seq: 0,
        })
    }

    /// The lease's ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The store this lease belongs to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Records that this operation needs `digest`; GC will not remove it
    /// while the lease lives. Call before checking that the blob exists.
    pub fn protect(&self, digest: &Digest) -> Result<()> {
        self.store.conn().execute(
            "INSERT OR IGNORE INTO lease_blobs (lease, digest) VALUES (?1, ?2)",
            params![self.id, digest.to_string()],
        )?;
        Ok(())
    }

    /// A fresh path for a partial file of this lease.
    pub(crate) fn temp_path(&mut self) -> Result<PathBuf> {
        if !self.dir_made {
            fs_err::create_dir_all(&self.dir)?;
            self.dir_made = true;
        }
        self.seq += 1;
        Ok(self.dir.join(format!("{}.part", self.seq)))
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Directory first: if we die in between, the row is a dead lease
        // that GC removes; the other order could leave an orphan directory
        // that looks owned.
        if self.dir_made
            && let Err(e) = fs_err::remove_dir_all(&self.dir)
        {
            tracing::warn!("removing ingest directory: {e}");
        }
        let res = self
            .store
            .conn()
            .execute("DELETE FROM leases WHERE id = ?1", params![self.id]);
        if let Err(e) = res {
            tracing::warn!("releasing lease {}: {e}", self.id);
        }
    }
}

/// This process's pid and start time (clock ticks since boot).
fn this_process() -> (i64, i64) {
    let pid = std::process::id();
    (i64::from(pid), process_start(pid).unwrap_or(0))
}

/// The start time of `pid` from `/proc/<pid>/stat`, or `None` if it is gone.
pub fn process_start(pid: u32) -> Option<i64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces or ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    // Fields after the name start at field 3 (state); starttime is field 22.
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the process that took a lease is still running.
pub(crate) fn owner_alive(pid: i64, start: i64) -> bool {
    u32::try_from(pid)
        .ok()
        .and_then(process_start)
        .is_some_and(|s| s == start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_bogus_start_is_not() {
        let (pid, start) = this_process();
        assert!(owner_alive(pid, start));
        assert!(!owner_alive(pid, start + 1));
        assert!(!owner_alive(i64::from(u32::MAX), 0));
    }
}
