//! The [`Store`] handle: one root directory, one metadata connection.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;

use crate::db;
use crate::error::Result;
use crate::layout::Layout;

/// A content-addressed image store rooted at one directory.
///
/// Cheap to clone; clones share the database connection. Several processes
/// may open the same root at once.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    layout: Layout,
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the store at `root`.
    pub fn open(root: &Path) -> Result<Store> {
        let layout = Layout::new(root);
        layout.init()?;
        let conn = db::open(&layout.db_path())?;
        Ok(Store {
            inner: Arc::new(Inner {
                layout,
                conn: Mutex::new(conn),
            }),
        })
    }

    /// The default root: `/var/lib/strata` for root, otherwise
    /// `$XDG_DATA_HOME/strata` (or `~/.local/share/strata`).
    pub fn default_root() -> PathBuf {
        if rustix::process::geteuid().is_root() {
            return PathBuf::from("/var/lib/strata");
        }
        if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
            return PathBuf::from(x).join("strata");
        }
        let home = std::env::var_os("HOME").unwrap_or_else(|| "/".into());
        PathBuf::from(home).join(".local/share/strata")
    }

    /// Paths of this store.
    pub fn layout(&self) -> &Layout {
        &self.inner.layout
    }

    /// The metadata connection, locked for this thread.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent
        // (an open transaction rolls back on drop), so poisoning is ignored.
        self.inner.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("root", &self.layout().root())
            .finish()
    }
}

/// Seconds since the Unix epoch, now.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
