//! The SQLite metadata database: schema, migrations, connection settings.
//!
//! WAL mode lets any number of `strata` processes read while one writes;
//! `busy_timeout` makes writers queue instead of failing. Every change that
//! must be all-or-nothing (an image with its names, a GC sweep) is one
//! transaction, so a `kill -9` leaves either the old or the new state.
//!
//! Schema version 1 (`PRAGMA user_version`):
//!
//! ```text
//! images(id PK = config digest, manifest, manifest_media_type, manifest_size,
//!        created, created_unix, size, added_unix, parent)
//! names(name PK = full reference with tag or digest, repo, image -> images.id,
//!       is_digest, updated_unix)
//! layers(digest PK = blob digest, diff_id, unpacked_size, tar_size)
//! leases(id PK, pid, pid_start, created_unix)
//! lease_blobs(lease -> leases.id ON DELETE CASCADE, digest)
//! ```
//!
//! Version 2 adds the build cache and the content-hash cache of build
//! contexts:
//!
//! ```text
//! build_cache(key PK = step cache key, layer = blob or NULL, diff_id, size,
//!             created_unix, last_used_unix)
//! file_hashes(path PK = absolute context path, size, mtime_ns, ctime_ns, ino,
//!             digest)
//! ```
//!
//! Version 3 adds containers and volumes:
//!
//! ```text
//! containers(id PK, name UNIQUE, image = config digest, image_manifest,
//!            image_ref, spec = JSON owned by strata-container, created_ns,
//!            status, pid, shim_pid, shim_start, exit_code, started_ns,
//!            finished_ns, restart_count, error)
//! volumes(name PK, created_ns, labels JSON, anonymous)
//! container_volumes(container -> containers.id ON DELETE CASCADE, volume)
//! ```
//!
//! Version 4 adds what a registry server (`strata registry serve`) holds:
//!
//! ```text
//! registry_blobs(repo, digest, size, added_unix; PK repo+digest)
//! registry_manifests(repo, digest, media_type, size, artifact_type, subject,
//!                    pushed_unix; PK repo+digest)
//! registry_tags(repo, tag, digest, pushed_unix, pulled_unix; PK repo+tag)
//! ```

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::Result;

const SCHEMA_VERSION: i64 = 4;

const SCHEMA_V1: &str = "
CREATE TABLE images (
    id TEXT PRIMARY KEY,
    manifest TEXT NOT NULL,
    manifest_media_type TEXT NOT NULL,
    manifest_size INTEGER NOT NULL,
    created TEXT,
    created_unix INTEGER,
    size INTEGER NOT NULL,
    added_unix INTEGER NOT NULL,
    parent TEXT
);
CREATE TABLE names (
    name TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    image TEXT NOT NULL REFERENCES images(id),
    is_digest INTEGER NOT NULL,
    updated_unix INTEGER NOT NULL
);
CREATE INDEX names_image ON names(image);
CREATE TABLE layers (
    digest TEXT PRIMARY KEY,
    diff_id TEXT NOT NULL,
    unpacked_size INTEGER NOT NULL,
    tar_size INTEGER NOT NULL
);
CREATE TABLE leases (
    id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    pid_start INTEGER NOT NULL,
    created_unix INTEGER NOT NULL
);
CREATE TABLE lease_blobs (
    lease TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    PRIMARY KEY (lease, digest)
);
";

const SCHEMA_V2: &str = "
CREATE TABLE build_cache (
    key TEXT PRIMARY KEY,
    layer TEXT,
    diff_id TEXT,
    size INTEGER NOT NULL,
    created_unix INTEGER NOT NULL,
    last_used_unix INTEGER NOT NULL
);
CREATE TABLE file_hashes (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    digest TEXT NOT NULL
);
";

const SCHEMA_V3: &str = "
CREATE TABLE containers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    image TEXT NOT NULL,
    image_manifest TEXT NOT NULL,
    image_ref TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    status TEXT NOT NULL,
    pid INTEGER,
    shim_pid INTEGER,
    shim_start INTEGER,
    exit_code INTEGER,
    started_ns INTEGER,
    finished_ns INTEGER,
    restart_count INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX containers_image ON containers(image);
CREATE TABLE volumes (
    name TEXT PRIMARY KEY,
    created_ns INTEGER NOT NULL,
    labels TEXT NOT NULL,
    anonymous INTEGER NOT NULL
);
CREATE TABLE container_volumes (
    container TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    volume TEXT NOT NULL,
    PRIMARY KEY (container, volume)
);
";

const SCHEMA_V4: &str = "
CREATE TABLE registry_blobs (
    repo TEXT NOT NULL,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    added_unix INTEGER NOT NULL,
    PRIMARY KEY (repo, digest)
);
CREATE INDEX registry_blobs_digest ON registry_blobs(digest);
CREATE TABLE registry_manifests (
    repo TEXT NOT NULL,
    digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    artifact_type TEXT,
    subject TEXT,
    pushed_unix INTEGER NOT NULL,
    PRIMARY KEY (repo, digest)
);
CREATE INDEX registry_manifests_subject ON registry_manifests(repo, subject);
CREATE TABLE registry_tags (
    repo TEXT NOT NULL,
    tag TEXT NOT NULL,
    digest TEXT NOT NULL,
    pushed_unix INTEGER NOT NULL,
    pulled_unix INTEGER,
    PRIMARY KEY (repo, tag)
);
";

/// Opens the database, creating or migrating the schema.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(120))?;
    // Switching a new database to WAL needs an exclusive lock, and SQLite
    // returns BUSY for it at once (no busy handler) while another process
    // does the same: several strata processes opening a fresh store race
    // here. Setup is idempotent, so retry it.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        match setup(&mut conn) {
            Err(crate::StoreError::Db(rusqlite::Error::SqliteFailure(f, _)))
                if f.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other.map(|()| conn),
        }
    }
}

fn setup(conn: &mut Connection) -> Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // In WAL mode NORMAL keeps every commit atomic and the database
    // consistent after a crash of the process (kill -9); only a power loss
    // can drop the latest commits. Blob files are fsynced on their own.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrate(conn)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    // Take the write lock before re-reading, so two processes opening a new
    // store at once do not both create the schema.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(crate::StoreError::InvalidImage(format!(
            "metadata schema version {current} is newer than this strata ({SCHEMA_VERSION})"
        )));
    }
    if current < 1 {
        tx.execute_batch(SCHEMA_V1)?;
    }
    if current < 2 {
        tx.execute_batch(SCHEMA_V2)?;
    }
    if current < 3 {
        tx.execute_batch(SCHEMA_V3)?;
    }
    if current < 4 {
        tx.execute_batch(SCHEMA_V4)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}
