//! Container and volume records. The store keeps who exists, their names
//! (unique, enforced by the database so concurrent `strata` processes
//! cannot both take one), their images and their lifecycle state; the
//! container crate owns what the `spec` JSON means.
//!
//! A container keeps its image's blobs alive (GC roots), even if the image
//! was force-removed. Whether a container marked running really is, is
//! told by its shim's pid and start time (see [`ContainerRecord::shim_alive`]).

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use strata_core::Digest;

use crate::error::{Result, StoreError};
use crate::lease::owner_alive;
use crate::store::Store;

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerStatus {
    /// Made, never started.
    Created,
    /// Its shim reported it started.
    Running,
    /// It ended and its shim will start it again (`--restart`).
    Restarting,
    /// It ended (or its shim died).
    Exited,
    /// Removal started and failed half way.
    Dead,
}

impl ContainerStatus {
    /// Docker's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerStatus::Created => "created",
            ContainerStatus::Running => "running",
            ContainerStatus::Restarting => "restarting",
            ContainerStatus::Exited => "exited",
            ContainerStatus::Dead => "dead",
        }
    }

    fn parse(s: &str) -> ContainerStatus {
        match s {
            "created" => ContainerStatus::Created,
            "running" => ContainerStatus::Running,
            "restarting" => ContainerStatus::Restarting,
            "exited" => ContainerStatus::Exited,
            _ => ContainerStatus::Dead,
        }
    }
}

/// One container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRecord {
    /// 64 hex characters.
    pub id: String,
    /// Its unique name (without Docker's leading `/`).
    pub name: String,
    /// The image ID (config digest).
    pub image: Digest,
    /// The image's manifest (a GC root while the container exists).
    pub image_manifest: Digest,
    /// The image as the user named it.
    pub image_ref: String,
    /// The container's configuration, JSON owned by the container crate.
    pub spec: String,
    /// Creation time, Unix nanoseconds.
    pub created_ns: i64,
    /// Lifecycle state as last recorded.
    pub status: ContainerStatus,
    /// The container's init process while running.
    pub pid: Option<u32>,
    /// The supervising shim: pid and start time.
    pub shim: Option<(u32, u64)>,
    /// Exit code once exited.
    pub exit_code: Option<i32>,
    /// Last start, Unix nanoseconds.
    pub started_ns: Option<i64>,
    /// Last exit, Unix nanoseconds.
    pub finished_ns: Option<i64>,
    /// Times it was restarted.
    pub restart_count: u32,
    /// Why the last start failed, if it did.
    pub error: Option<String>,
}

impl ContainerRecord {
    /// Whether the recorded shim process still runs.
    pub fn shim_alive(&self) -> bool {
        self.shim
            .is_some_and(|(pid, start)| owner_alive(i64::from(pid), start as i64))
    }

    /// Running as recorded and its shim alive.
    pub fn is_running(&self) -> bool {
        self.status == ContainerStatus::Running && self.shim_alive()
    }

    /// Running or waiting to restart: a shim is responsible for it.
    pub fn is_up(&self) -> bool {
        matches!(
            self.status,
            ContainerStatus::Running | ContainerStatus::Restarting
        )
    }

    /// The first 12 characters of the ID.
    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }
}

/// A named volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRecord {
    /// Its name.
    pub name: String,
    /// Creation time, Unix nanoseconds.
    pub created_ns: i64,
    /// Labels, a JSON object.
    pub labels: String,
    /// Made for one container (removed with it by `rm -v`).
    pub anonymous: bool,
}

const COLUMNS: &str = "id, name, image, image_manifest, image_ref, spec, created_ns, status, pid, shim_pid, shim_start, exit_code, started_ns, finished_ns, restart_count, error";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ContainerRecord> {
    let digest = |i: usize| -> rusqlite::Result<Digest> {
        let s: String = r.get(i)?;
        s.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let shim_pid: Option<i64> = r.get(9)?;
    let shim_start: Option<i64> = r.get(10)?;
    Ok(ContainerRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        image: digest(2)?,
        image_manifest: digest(3)?,
        image_ref: r.get(4)?,
        spec: r.get(5)?,
        created_ns: r.get(6)?,
        status: ContainerStatus::parse(&r.get::<_, String>(7)?),
        pid: r.get::<_, Option<i64>>(8)?.map(|p| p as u32),
        shim: shim_pid.zip(shim_start).map(|(p, s)| (p as u32, s as u64)),
        exit_code: r.get::<_, Option<i64>>(11)?.map(|c| c as i32),
        started_ns: r.get(12)?,
        finished_ns: r.get(13)?,
        restart_count: r.get::<_, i64>(14)? as u32,
        error: r.get(15)?,
    })
}

fn vol_from_row(r: &Row<'_>) -> rusqlite::Result<VolumeRecord> {
    Ok(VolumeRecord {
        name: r.get(0)?,
        created_ns: r.get(1)?,
        labels: r.get(2)?,
        anonymous: r.get::<_, i64>(3)? != 0,
    })
}

impl Store {
    /// Records a new container and the volumes it uses. A taken name is
    /// Docker's conflict.
    pub fn container_create(&self, rec: &ContainerRecord, volumes: &[String]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let holder: Option<String> = tx
            .query_row(
                "SELECT id FROM containers WHERE name = ?1",
                [&rec.name],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(other) = holder {
            return Err(StoreError::Conflict(format!(
                "Conflict. The container name \"/{}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name.",
                rec.name
            )));
        }
        tx.execute(
            &format!("INSERT INTO containers ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"),
            params![
                rec.id, rec.name, rec.image.to_string(), rec.image_manifest.to_string(), rec.image_ref, rec.spec,
                rec.created_ns, rec.status.as_str(), rec.pid, rec.shim.map(|s| s.0), rec.shim.map(|s| s.1 as i64),
                rec.exit_code, rec.started_ns, rec.finished_ns, rec.restart_count, rec.error,
            ],
        )?;
        for v in volumes {
            tx.execute(
                "INSERT OR IGNORE INTO container_volumes (container, volume) VALUES (?1, ?2)",
                params![rec.id, v],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every container, newest first.
    pub fn containers(&self) -> Result<Vec<ContainerRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM containers ORDER BY created_ns DESC, id"
        ))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The container a user means: a full ID, a name (with or without the
    /// leading `/`), or a unique ID prefix, in Docker's order.
    pub fn container_find(&self, input: &str) -> Result<ContainerRecord> {
        let not_found = || StoreError::ContainerNotFound(input.to_owned());
        let conn = self.conn();
        let q = |sql: &str, arg: &str| -> rusqlite::Result<Vec<ContainerRecord>> {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM containers WHERE {sql} LIMIT 2"
            ))?;
            let rows = stmt.query_map([arg], from_row)?;
            rows.collect()
        };
        if let Some(r) = q("id = ?1", input)?.pop() {
            return Ok(r);
        }
        if let Some(r) = q("name = ?1", input.trim_start_matches('/'))?.pop() {
            return Ok(r);
        }
        if input.is_empty() || !input.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let mut found = q("id LIKE ?1", &format!("{}%", input.to_ascii_lowercase()))?;
        match found.len() {
            1 => Ok(found.pop().expect("one")),
            0 => Err(not_found()),
            _ => Err(StoreError::Conflict(format!(
                "multiple containers found with provided prefix: {input}"
            ))),
        }
    }

    /// Changes a container's record in one transaction.
    pub fn container_update(
        &self,
        id: &str,
        change: impl FnOnce(&mut ContainerRecord),
    ) -> Result<ContainerRecord> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut rec = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM containers WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::ContainerNotFound(id.to_owned()))?;
        change(&mut rec);
        tx.execute(
            "UPDATE containers SET name = ?2, spec = ?3, status = ?4, pid = ?5, shim_pid = ?6, shim_start = ?7, exit_code = ?8,
             started_ns = ?9, finished_ns = ?10, restart_count = ?11, error = ?12 WHERE id = ?1",
            params![
                id, rec.name, rec.spec, rec.status.as_str(), rec.pid, rec.shim.map(|s| s.0), rec.shim.map(|s| s.1 as i64),
                rec.exit_code, rec.started_ns, rec.finished_ns, rec.restart_count, rec.error,
            ],
        )?;
        tx.commit()?;
        Ok(rec)
    }

    /// Deletes a container's record (its volume links go with it).
    pub fn container_delete(&self, id: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM containers WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Containers made from an image.
    pub fn containers_using(&self, image: &Digest) -> Result<Vec<ContainerRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM containers WHERE image = ?1 ORDER BY created_ns DESC"
        ))?;
        let rows = stmt.query_map([image.to_string()], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The volumes a container uses.
    pub fn container_volumes(&self, id: &str) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT volume FROM container_volumes WHERE container = ?1 ORDER BY volume")?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Creates a volume; an existing one is returned as it is.
    pub fn volume_create(
        &self,
        name: &str,
        labels: &str,
        anonymous: bool,
        now_ns: i64,
    ) -> Result<VolumeRecord> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO volumes (name, created_ns, labels, anonymous) VALUES (?1, ?2, ?3, ?4)",
            params![name, now_ns, labels, anonymous],
        )?;
        Ok(conn.query_row(
            "SELECT name, created_ns, labels, anonymous FROM volumes WHERE name = ?1",
            [name],
            vol_from_row,
        )?)
    }

    /// One volume.
    pub fn volume(&self, name: &str) -> Result<Option<VolumeRecord>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT name, created_ns, labels, anonymous FROM volumes WHERE name = ?1",
                [name],
                vol_from_row,
            )
            .optional()?)
    }

    /// Every volume, by name.
    pub fn volumes(&self) -> Result<Vec<VolumeRecord>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT name, created_ns, labels, anonymous FROM volumes ORDER BY name")?;
        let rows = stmt.query_map([], vol_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The containers that use a volume.
    pub fn volume_users(&self, name: &str) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT container FROM container_volumes WHERE volume = ?1 ORDER BY container",
        )?;
        let rows = stmt.query_map([name], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Deletes a volume record unless a container uses it (Docker's
    /// "volume is in use" conflict). The caller removes its data.
    pub fn volume_delete(&self, name: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let users: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT container FROM container_volumes WHERE volume = ?1 ORDER BY container",
            )?;
            let rows = stmt.query_map([name], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if !users.is_empty() {
            return Err(StoreError::Conflict(format!(
                "remove {name}: volume is in use - [{}]",
                users.join(", ")
            )));
        }
        let n = tx.execute("DELETE FROM volumes WHERE name = ?1", [name])?;
        tx.commit()?;
        if n == 0 {
            return Err(StoreError::VolumeNotFound(name.to_owned()));
        }
        Ok(())
    }
}
