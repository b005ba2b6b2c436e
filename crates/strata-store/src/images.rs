//! Image records and the names (tags and digest references) that point at
//! them. An image is identified, as in Docker, by its config digest.

use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior, params};
use strata_core::reference::{self, AnyReference};
use strata_core::{
    Descriptor, Digest, ImageConfig, ImageManifest, MediaType, Raw, Reference, Timestamp,
};

use crate::error::{Result, StoreError};
use crate::layer::LayerScan;
use crate::lease::Lease;
use crate::store::{Store, now_unix};

/// One image in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    /// The config digest (Docker's image ID).
    pub id: Digest,
    /// The manifest this image is stored and shipped as.
    pub manifest: Descriptor,
    /// `created` from the config, as written there.
    pub created: Option<String>,
    /// `created` as Unix seconds, when it parses.
    pub created_unix: Option<i64>,
    /// Docker's size: the unpacked size of all layers.
    pub size: u64,
    /// When the image entered this store.
    pub added_unix: i64,
    /// The image this one was built on, when known.
    pub parent: Option<Digest>,
}

/// A tag or digest reference pointing at an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRecord {
    /// The full reference, with a tag or a digest.
    pub reference: Reference,
    /// The image ID it points at.
    pub image: Digest,
    /// When it was last set (Docker's `LastTagTime`).
    pub updated_unix: i64,
}

impl NameRecord {
    /// True for `repo:tag` names, false for `repo@digest`.
    pub fn is_tag(&self) -> bool {
        self.reference.digest().is_none()
    }
}

/// Stored facts about a layer blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// sha256 of the uncompressed tar.
    pub diff_id: Digest,
    /// Docker's unpacked size.
    pub unpacked_size: u64,
    /// Uncompressed tar length.
    pub tar_size: u64,
}

/// What [`Store::commit_image`] needs beyond the blobs themselves.
pub struct NewImage<'a> {
    /// The stored manifest blob.
    pub manifest: Descriptor,
    /// The stored config blob.
    pub config: &'a Raw<ImageConfig>,
    /// Each layer blob with what a scan found.
    pub layers: &'a [(Digest, LayerScan)],
    /// Names to point at the image.
    pub names: &'a [Reference],
    /// The image it was built on.
    pub parent: Option<Digest>,
}

/// A name that moved away from another image when an image was committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedName {
    /// The name.
    pub reference: Reference,
    /// The image it pointed at before.
    pub from: Digest,
}

const IMAGE_COLUMNS: &str = "id, manifest, manifest_media_type, manifest_size, created, created_unix, size, added_unix, parent";

fn image_from_row(row: &Row<'_>) -> rusqlite::Result<ImageRecord> {
    let digest = |i: usize| -> rusqlite::Result<Digest> {
        let s: String = row.get(i)?;
        s.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let parent: Option<String> = row.get(8)?;
    Ok(ImageRecord {
        id: digest(0)?,
        manifest: Descriptor::new(
            MediaType::new(row.get::<_, String>(2)?),
            digest(1)?,
            row.get::<_, i64>(3)? as u64,
        ),
        created: row.get(4)?,
        created_unix: row.get(5)?,
        size: row.get::<_, i64>(6)? as u64,
        added_unix: row.get(7)?,
        parent: parent.and_then(|p| p.parse().ok()),
    })
}

fn name_from_row(row: &Row<'_>) -> rusqlite::Result<Option<NameRecord>> {
    let name: String = row.get(0)?;
    let image: String = row.get(1)?;
    // A row we cannot parse would be a bug or a newer writer; skip it rather
    // than make every listing fail.
    let (Ok(reference), Ok(image)) = (name.parse::<Reference>(), image.parse::<Digest>()) else {
        return Ok(None);
    };
    Ok(Some(NameRecord {
        reference,
        image,
        updated_unix: row.get(2)?,
    }))
}

impl Store {
    /// Every image, newest first (by creation time, then by arrival).
    pub fn images(&self) -> Result<Vec<ImageRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {IMAGE_COLUMNS} FROM images ORDER BY created_unix DESC, rowid DESC"
        ))?;
        let rows = stmt.query_map([], image_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One image by exact ID.
    pub fn image(&self, id: &Digest) -> Result<Option<ImageRecord>> {
        let conn = self.conn();
        let rec = conn
            .query_row(
                &format!("SELECT {IMAGE_COLUMNS} FROM images WHERE id = ?1"),
                [id.to_string()],
                image_from_row,
            )
            .optional()?;
        Ok(rec)
    }

    /// Every name, sorted.
    pub fn names(&self) -> Result<Vec<NameRecord>> {
        self.query_names(
            "SELECT name, image, updated_unix FROM names ORDER BY name",
            [],
        )
    }

    /// The names pointing at one image, sorted.
    pub fn names_of(&self, id: &Digest) -> Result<Vec<NameRecord>> {
        self.query_names(
            "SELECT name, image, updated_unix FROM names WHERE image = ?1 ORDER BY name",
            [id.to_string()],
        )
    }

    fn query_names<P: rusqlite::Params>(&self, sql: &str, p: P) -> Result<Vec<NameRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map(p, name_from_row)?;
        let all: Vec<Option<NameRecord>> = rows.collect::<rusqlite::Result<_>>()?;
        Ok(all.into_iter().flatten().collect())
    }

    /// The image a name points at.
    pub fn lookup_name(&self, reference: &Reference) -> Result<Option<Digest>> {
        let key = name_key(reference);
        let conn = self.conn();
        let id: Option<String> = conn
            .query_row("SELECT image FROM names WHERE name = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(id.and_then(|s| s.parse().ok()))
    }

    /// Finds the image a user means, in Docker's order: a full ID or
    /// `sha256:` digest; then a name (a missing tag means `latest`; a digest
    /// wins over a tag); then a unique prefix of an image ID.
    /// A name that matches nothing is reported as Docker's daemon does, in
    /// its familiar form with the default tag (`No such image: x:latest`).
    pub fn resolve(&self, input: &str) -> Result<ImageRecord> {
        let shown = match reference::parse_any(input) {
            Ok(AnyReference::Named(r)) if r.digest().is_none() => {
                r.with_default_tag().familiar_string()
            }
            _ => input.to_owned(),
        };
        let not_found = || StoreError::ImageNotFound(shown.clone());
        let parsed = reference::parse_any(input).map_err(|e| StoreError::Reference {
            input: input.to_owned(),
            err: e,
        })?;
        match parsed {
            AnyReference::Digest(d) => return self.image(&d)?.ok_or_else(not_found),
            AnyReference::Named(r) => {
                let key = match r.digest() {
                    Some(d) => r.with_digest(d.clone()),
                    None => r.with_default_tag(),
                };
                if let Some(id) = self.lookup_name(&key)?
                    && let Some(rec) = self.image(&id)?
                {
                    return Ok(rec);
                }
            }
        }
        match self.search_id_prefix(input)? {
            Some(rec) => Ok(rec),
            None => Err(not_found()),
        }
    }

    fn search_id_prefix(&self, input: &str) -> Result<Option<ImageRecord>> {
        let prefix = input.strip_prefix("sha256:").unwrap_or(input);
        if prefix.is_empty() || prefix.len() > 64 || !prefix.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Ok(None);
        }
        let pattern = format!("sha256:{}%", prefix.to_ascii_lowercase());
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {IMAGE_COLUMNS} FROM images WHERE id LIKE ?1 LIMIT 2"
        ))?;
        let found: Vec<ImageRecord> = stmt
            .query_map([pattern], image_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.into_iter().next()),
            _ => Err(StoreError::Ambiguous(input.to_owned())),
        }
    }

    /// The image's manifest, as stored.
    pub fn manifest(&self, rec: &ImageRecord) -> Result<Raw<ImageManifest>> {
        let bytes = self.read_blob(&rec.manifest.digest)?;
        Raw::parse(bytes)
            .map_err(|e| StoreError::json(format!("manifest {}", rec.manifest.digest), e))
    }

    /// The image's config, as stored.
    pub fn config(&self, rec: &ImageRecord) -> Result<Raw<ImageConfig>> {
        let bytes = self.read_blob(&rec.id)?;
        Raw::parse(bytes).map_err(|e| StoreError::json(format!("config {}", rec.id), e))
    }

    /// What the store knows of a layer blob.
    pub fn layer_info(&self, blob: &Digest) -> Result<Option<LayerInfo>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT diff_id, unpacked_size, tar_size FROM layers WHERE digest = ?1",
                [blob.to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()?;
        Ok(row.and_then(|(d, u, t)| {
            Some(LayerInfo {
                diff_id: d.parse().ok()?,
                unpacked_size: u as u64,
                tar_size: t as u64,
            })
        }))
    }

    /// Records an image whose blobs are all stored (and protected by
    /// `lease`), and points `names` at it, in one transaction. An image
    /// that already exists keeps its manifest; its names are updated.
    pub fn commit_image(
        &self,
        _lease: &Lease,
        new: NewImage<'_>,
    ) -> Result<(ImageRecord, Vec<MovedName>)> {
        for d in std::iter::once(&new.manifest.digest)
            .chain(std::iter::once(new.config.digest()))
            .chain(new.layers.iter().map(|(d, _)| d))
        {
            if !self.has_blob(d) {
                return Err(StoreError::BlobNotFound(d.clone()));
            }
        }
        let id = new.config.digest().clone();
        let created = new.config.value().created.clone();
        let created_unix = created
            .as_deref()
            .and_then(|c| c.parse::<Timestamp>().ok())
            .map(Timestamp::unix_secs);
        let size: u64 = new.layers.iter().map(|(_, s)| s.unpacked_size).sum();
        let now = now_unix();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (blob, scan) in new.layers {
            tx.execute(
                "INSERT OR REPLACE INTO layers (digest, diff_id, unpacked_size, tar_size) VALUES (?1, ?2, ?3, ?4)",
                params![blob.to_string(), scan.diff_id.to_string(), scan.unpacked_size as i64, scan.tar_size as i64],
            )?;
        }
        tx.execute(
            "INSERT OR IGNORE INTO images (id, manifest, manifest_media_type, manifest_size, created, created_unix, size, added_unix, parent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id.to_string(),
                new.manifest.digest.to_string(),
                new.manifest.media_type.as_str(),
                new.manifest.size as i64,
                created,
                created_unix,
                size as i64,
                now,
                new.parent.as_ref().map(|p| p.to_string()),
            ],
        )?;
        let mut moved = Vec::new();
        for name in new.names {
            if let Some(from) = set_name_tx(&tx, name, &id, now)? {
                moved.push(MovedName {
                    reference: name.clone(),
                    from,
                });
            }
        }
        let rec = tx.query_row(
            &format!("SELECT {IMAGE_COLUMNS} FROM images WHERE id = ?1"),
            [id.to_string()],
            image_from_row,
        )?;
        tx.commit()?;
        Ok((rec, moved))
    }

    /// Points `name` (a tag or digest reference) at `image`. Returns the
    /// image it pointed at before, if it moved.
    pub fn set_name(&self, name: &Reference, image: &Digest) -> Result<Option<Digest>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: bool = tx
            .query_row(
                "SELECT 1 FROM images WHERE id = ?1",
                [image.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !exists {
            return Err(StoreError::ImageNotFound(image.to_string()));
        }
        let prev = set_name_tx(&tx, name, image, now_unix())?;
        tx.commit()?;
        Ok(prev)
    }

    /// Removes a name. Returns whether it existed.
    pub fn remove_name(&self, name: &Reference) -> Result<bool> {
        let n = self
            .conn()
            .execute("DELETE FROM names WHERE name = ?1", [name_key(name)])?;
        Ok(n > 0)
    }

    /// Deletes an image record and every name pointing at it. Blobs stay
    /// until [`Store::gc`].
    pub fn delete_image_record(&self, id: &Digest) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM names WHERE image = ?1", [id.to_string()])?;
        tx.execute("DELETE FROM images WHERE id = ?1", [id.to_string()])?;
        tx.commit()?;
        Ok(())
    }
}

/// The key a name is stored under: the full reference with either a tag or
/// a digest (a digest wins, as in Docker's reference store).
fn name_key(r: &Reference) -> String {
    match r.digest() {
        Some(d) => r.with_digest(d.clone()).to_string(),
        None => r.clone().with_default_tag().to_string(),
    }
}

fn set_name_tx(
    tx: &Transaction<'_>,
    name: &Reference,
    image: &Digest,
    now: i64,
) -> Result<Option<Digest>> {
    let key = name_key(name);
    let prev: Option<String> = tx
        .query_row("SELECT image FROM names WHERE name = ?1", [&key], |r| {
            r.get(0)
        })
        .optional()?;
    tx.execute(
        "INSERT OR REPLACE INTO names (name, repo, image, is_digest, updated_unix) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![key, name.name(), image.to_string(), name.digest().is_some(), now],
    )?;
    Ok(prev
        .and_then(|p| p.parse::<Digest>().ok())
        .filter(|p| p != image))
}
