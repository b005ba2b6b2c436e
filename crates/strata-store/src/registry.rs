//! What a registry server keeps in the store: which blobs and manifests each
//! repository holds, and its tags.
//!
//! Blob bytes live once in the store's blob directory however many
//! repositories link them; these tables only record links, so a blob pushed
//! to ten repositories is stored once. Every linked blob and every manifest
//! is a GC root of the store ([`Store::gc`]); [`Store::registry_gc`] first
//! drops the links no manifest of the repository refers to.
//!
//! Putting a manifest checks that every blob it names is linked in the
//! repository and records it in one write transaction, and unlinking
//! orphans runs in one too: a collection either finishes before a manifest
//! is put (and then the put finds the blob gone and refuses it) or starts
//! after (and then the manifest keeps the blob). A blob uploaded but not yet
//! named by a manifest is kept for a grace period.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use strata_core::{Digest, ImageManifest, ManifestKind, ManifestProbe};

use crate::error::{Result, StoreError};
use crate::store::{Store, now_unix};

/// A manifest held by a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryManifest {
    /// Repository path, e.g. `team/app`.
    pub repo: String,
    /// Digest of the manifest bytes.
    pub digest: Digest,
    /// Its media type (the `Content-Type` it was put with).
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// `artifactType`, or the config's media type for an image manifest.
    pub artifact_type: Option<String>,
    /// The manifest it refers to (`subject`), for the referrers API.
    pub subject: Option<Digest>,
    /// When it was put.
    pub pushed_unix: i64,
}

/// A tag of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryTag {
    /// Repository path.
    pub repo: String,
    /// The tag.
    pub tag: String,
    /// The manifest it names.
    pub digest: Digest,
    /// When it was last set.
    pub pushed_unix: i64,
    /// When it was last pulled (resolved), if ever.
    pub pulled_unix: Option<i64>,
}

/// Why a manifest was not put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutRefusal {
    /// A blob it names is not in the repository.
    BlobUnknown(Digest),
    /// A manifest an index names is not in the repository.
    ManifestUnknown(Digest),
}

impl Store {
    /// The size of `digest` if it is linked in `repo`.
    pub fn registry_blob(&self, repo: &str, digest: &Digest) -> Result<Option<u64>> {
        let size: Option<i64> = self
            .conn()
            .query_row(
                "SELECT size FROM registry_blobs WHERE repo = ?1 AND digest = ?2",
                params![repo, digest.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(size.map(|s| s as u64))
    }

    /// Links a blob the store holds into `repo`.
    pub fn registry_link_blob(&self, repo: &str, digest: &Digest, size: u64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO registry_blobs (repo, digest, size, added_unix) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (repo, digest) DO UPDATE SET added_unix = excluded.added_unix",
            params![repo, digest.to_string(), size as i64, now_unix()],
        )?;
        Ok(())
    }

    /// Removes a blob's link from `repo`. False if it was not linked.
    pub fn registry_unlink_blob(&self, repo: &str, digest: &Digest) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM registry_blobs WHERE repo = ?1 AND digest = ?2",
            params![repo, digest.to_string()],
        )?;
        Ok(n > 0)
    }

    /// Records a manifest (whose bytes are already a blob of the store) in
    /// its repository, after checking that everything it names is there;
    /// then points `tag` at it. One transaction.
    pub fn registry_put_manifest(
        &self,
        m: &RegistryManifest,
        blobs: &[Digest],
        manifests: &[Digest],
        tag: Option<&str>,
    ) -> Result<std::result::Result<(), PutRefusal>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for b in blobs {
            let linked: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM registry_blobs WHERE repo = ?1 AND digest = ?2",
                    params![m.repo, b.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if linked.is_none() {
                return Ok(Err(PutRefusal::BlobUnknown(b.clone())));
            }
        }
        for d in manifests {
            let known: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM registry_manifests WHERE repo = ?1 AND digest = ?2",
                    params![m.repo, d.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if known.is_none() {
                return Ok(Err(PutRefusal::ManifestUnknown(d.clone())));
            }
        }
        tx.execute(
            "INSERT INTO registry_manifests
                 (repo, digest, media_type, size, artifact_type, subject, pushed_unix)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (repo, digest) DO UPDATE SET
                 media_type = excluded.media_type, pushed_unix = excluded.pushed_unix",
            params![
                m.repo,
                m.digest.to_string(),
                m.media_type,
                m.size as i64,
                m.artifact_type,
                m.subject.as_ref().map(Digest::to_string),
                m.pushed_unix
            ],
        )?;
        if let Some(tag) = tag {
            tx.execute(
                "INSERT INTO registry_tags (repo, tag, digest, pushed_unix, pulled_unix)
                 VALUES (?1, ?2, ?3, ?4, NULL)
                 ON CONFLICT (repo, tag) DO UPDATE SET
                     digest = excluded.digest, pushed_unix = excluded.pushed_unix",
                params![m.repo, tag, m.digest.to_string(), m.pushed_unix],
            )?;
        }
        tx.commit()?;
        Ok(Ok(()))
    }

    /// A manifest of `repo` by digest.
    pub fn registry_manifest(
        &self,
        repo: &str,
        digest: &Digest,
    ) -> Result<Option<RegistryManifest>> {
        self.conn()
            .query_row(
                "SELECT repo, digest, media_type, size, artifact_type, subject, pushed_unix
                 FROM registry_manifests WHERE repo = ?1 AND digest = ?2",
                params![repo, digest.to_string()],
                manifest_row,
            )
            .optional()?
            .transpose()
    }

    /// The manifest a tag names.
    pub fn registry_tag(&self, repo: &str, tag: &str) -> Result<Option<RegistryManifest>> {
        self.conn()
            .query_row(
                "SELECT m.repo, m.digest, m.media_type, m.size, m.artifact_type, m.subject,
                        m.pushed_unix
                 FROM registry_tags t JOIN registry_manifests m
                      ON m.repo = t.repo AND m.digest = t.digest
                 WHERE t.repo = ?1 AND t.tag = ?2",
                params![repo, tag],
                manifest_row,
            )
            .optional()?
            .transpose()
    }

    /// Notes that a tag was pulled. Written at most once a minute per tag,
    /// so pulls do not turn into a write each.
    pub fn registry_tag_pulled(&self, repo: &str, tag: &str) -> Result<()> {
        let now = now_unix();
        self.conn().execute(
            "UPDATE registry_tags SET pulled_unix = ?3
             WHERE repo = ?1 AND tag = ?2 AND (pulled_unix IS NULL OR pulled_unix < ?3 - 60)",
            params![repo, tag, now],
        )?;
        Ok(())
    }

    /// Tags of `repo` in lexical order after `last`, at most `n`.
    /// `None` when the repository has no manifests at all.
    pub fn registry_tags(
        &self,
        repo: &str,
        last: Option<&str>,
        n: Option<usize>,
    ) -> Result<Option<Vec<String>>> {
        if !self.registry_repo_exists(repo)? {
            return Ok(None);
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT tag FROM registry_tags WHERE repo = ?1 AND tag > ?2 ORDER BY tag LIMIT ?3",
        )?;
        let limit = n.map_or(-1, |n| n as i64);
        let rows = stmt.query_map(params![repo, last.unwrap_or(""), limit], |r| r.get(0))?;
        Ok(Some(rows.collect::<rusqlite::Result<_>>()?))
    }

    /// Every tag of every repository, with its times (for retention).
    pub fn registry_all_tags(&self) -> Result<Vec<RegistryTag>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT repo, tag, digest, pushed_unix, pulled_unix FROM registry_tags
             ORDER BY repo, tag",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (repo, tag, digest, pushed_unix, pulled_unix) = row?;
            out.push(RegistryTag {
                repo,
                tag,
                digest: parse_digest(&digest)?,
                pushed_unix,
                pulled_unix,
            });
        }
        Ok(out)
    }

    /// Every manifest of every repository.
    pub fn registry_all_manifests(&self) -> Result<Vec<RegistryManifest>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT repo, digest, media_type, size, artifact_type, subject, pushed_unix
             FROM registry_manifests ORDER BY repo, pushed_unix, digest",
        )?;
        let rows = stmt.query_map([], manifest_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Whether `repo` holds any manifest or blob.
    pub fn registry_repo_exists(&self, repo: &str) -> Result<bool> {
        let conn = self.conn();
        let found: Option<i64> = conn
            .query_row(
                "SELECT 1 FROM registry_manifests WHERE repo = ?1
                 UNION ALL SELECT 1 FROM registry_blobs WHERE repo = ?1 LIMIT 1",
                params![repo],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.is_some())
    }

    /// Repositories holding a manifest, in lexical order after `last`, at
    /// most `n`.
    pub fn registry_repositories(
        &self,
        last: Option<&str>,
        n: Option<usize>,
    ) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT DISTINCT repo FROM registry_manifests WHERE repo > ?1 ORDER BY repo LIMIT ?2",
        )?;
        let limit = n.map_or(-1, |n| n as i64);
        let rows = stmt.query_map(params![last.unwrap_or(""), limit], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Manifests of `repo` whose subject is `subject`, oldest first.
    pub fn registry_referrers(
        &self,
        repo: &str,
        subject: &Digest,
    ) -> Result<Vec<RegistryManifest>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT repo, digest, media_type, size, artifact_type, subject, pushed_unix
             FROM registry_manifests WHERE repo = ?1 AND subject = ?2
             ORDER BY pushed_unix, digest",
        )?;
        let rows = stmt.query_map(params![repo, subject.to_string()], manifest_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Deletes a manifest and every tag naming it. False if unknown.
    pub fn registry_delete_manifest(&self, repo: &str, digest: &Digest) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let d = digest.to_string();
        tx.execute(
            "DELETE FROM registry_tags WHERE repo = ?1 AND digest = ?2",
            params![repo, d],
        )?;
        let n = tx.execute(
            "DELETE FROM registry_manifests WHERE repo = ?1 AND digest = ?2",
            params![repo, d],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    /// Deletes a tag (not the manifest). False if unknown.
    pub fn registry_delete_tag(&self, repo: &str, tag: &str) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM registry_tags WHERE repo = ?1 AND tag = ?2",
            params![repo, tag],
        )?;
        Ok(n > 0)
    }

    /// Deletes a tag only if it still names `digest` and was pushed at
    /// `pushed_unix` (retention must not drop a tag pushed again since it
    /// decided). False if it changed or is gone.
    pub fn registry_delete_tag_if(
        &self,
        repo: &str,
        tag: &str,
        digest: &Digest,
        pushed_unix: i64,
    ) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM registry_tags
             WHERE repo = ?1 AND tag = ?2 AND digest = ?3 AND pushed_unix = ?4",
            params![repo, tag, digest.to_string(), pushed_unix],
        )?;
        Ok(n > 0)
    }

    /// Deletes a manifest only if no tag names it. False otherwise.
    pub fn registry_delete_untagged_manifest(&self, repo: &str, digest: &Digest) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM registry_manifests
             WHERE repo = ?1 AND digest = ?2
               AND NOT EXISTS (SELECT 1 FROM registry_tags WHERE repo = ?1 AND digest = ?2)",
            params![repo, digest.to_string()],
        )?;
        Ok(n > 0)
    }

    /// Every blob a registry repository links or a live operation has
    /// protected: what a registry keeping its blobs outside the store
    /// must not delete.
    pub fn registry_kept_blobs(&self) -> Result<std::collections::BTreeSet<Digest>> {
        let conn = self.conn();
        let mut out = std::collections::BTreeSet::new();
        {
            let mut stmt = conn.prepare("SELECT DISTINCT digest FROM registry_blobs")?;
            for d in stmt.query_map([], |r| r.get::<_, String>(0))? {
                out.insert(parse_digest(&d?)?);
            }
        }
        let mut stmt = conn.prepare(
            "SELECT l.pid, l.pid_start, b.digest FROM lease_blobs b JOIN leases l ON l.id = b.lease",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (pid, start, d) = row?;
            if crate::lease::owner_alive(pid, start) {
                out.insert(parse_digest(&d)?);
            }
        }
        Ok(out)
    }

    /// Links `digest` into `repo` if `from` has it (a cross-repository
    /// mount), in one statement so a collection cannot come in between.
    pub fn registry_mount_blob(&self, repo: &str, from: &str, digest: &Digest) -> Result<bool> {
        let n = self.conn().execute(
            "INSERT INTO registry_blobs (repo, digest, size, added_unix)
             SELECT ?1, digest, size, ?4 FROM registry_blobs WHERE repo = ?2 AND digest = ?3
             ON CONFLICT (repo, digest) DO UPDATE SET added_unix = excluded.added_unix",
            params![repo, from, digest.to_string(), now_unix()],
        )?;
        Ok(n > 0)
    }
}

/// Inside a GC transaction: the `(repository, blob)` links that no manifest
/// of their repository names and that are older than `grace_secs`; deleted
/// unless `dry_run`.
pub(crate) fn orphan_links(
    store: &Store,
    tx: &rusqlite::Transaction<'_>,
    grace_secs: i64,
    dry_run: bool,
) -> Result<Vec<(String, Digest)>> {
    let manifests: Vec<(String, String)> = {
        let mut stmt = tx.prepare("SELECT repo, digest FROM registry_manifests")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut used = std::collections::BTreeSet::new();
    for (repo, digest) in manifests {
        let digest = parse_digest(&digest)?;
        // A manifest we cannot read keeps every link of its repository:
        // we cannot know what it names.
        let Ok(bytes) = store.read_blob(&digest) else {
            return Ok(Vec::new());
        };
        for b in referenced_blobs(&bytes) {
            used.insert((repo.clone(), b));
        }
    }
    let links: Vec<(String, String, i64)> = {
        let mut stmt = tx.prepare("SELECT repo, digest, added_unix FROM registry_blobs")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let cutoff = now_unix() - grace_secs;
    let mut out = Vec::new();
    for (repo, digest, added) in links {
        let d = parse_digest(&digest)?;
        if added > cutoff || used.contains(&(repo.clone(), d.clone())) {
            continue;
        }
        if !dry_run {
            tx.execute(
                "DELETE FROM registry_blobs WHERE repo = ?1 AND digest = ?2",
                params![repo, digest],
            )?;
        }
        out.push((repo, d));
    }
    out.sort();
    Ok(out)
}

/// The blobs (config and layers) an image manifest names; nothing for an
/// index or anything unparsable.
pub fn referenced_blobs(bytes: &[u8]) -> Vec<Digest> {
    let Ok(probe) = serde_json::from_slice::<ManifestProbe>(bytes) else {
        return Vec::new();
    };
    match probe.kind() {
        Some(ManifestKind::Manifest) => match serde_json::from_slice::<ImageManifest>(bytes) {
            Ok(m) => std::iter::once(m.config.digest)
                .chain(m.layers.into_iter().map(|l| l.digest))
                .collect(),
            Err(_) => Vec::new(),
        },
        // An index's children are manifests, kept by their own rows.
        Some(ManifestKind::Index) | None => Vec::new(),
    }
}

type ManifestRow = Result<RegistryManifest>;

fn manifest_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ManifestRow> {
    let repo: String = r.get(0)?;
    let digest: String = r.get(1)?;
    let media_type: String = r.get(2)?;
    let size: i64 = r.get(3)?;
    let artifact_type: Option<String> = r.get(4)?;
    let subject: Option<String> = r.get(5)?;
    let pushed_unix: i64 = r.get(6)?;
    Ok((|| {
        Ok(RegistryManifest {
            repo,
            digest: parse_digest(&digest)?,
            media_type,
            size: size as u64,
            artifact_type,
            subject: subject.as_deref().map(parse_digest).transpose()?,
            pushed_unix,
        })
    })())
}

fn parse_digest(s: &str) -> Result<Digest> {
    s.parse()
        .map_err(|e| StoreError::InvalidImage(format!("registry metadata: {e}")))
}
