//! Docker's image management rules: tag, untag-versus-delete, prune, and
//! which images a `save` of some names means.
//!
//! `rmi NAME` removes that name; the image goes only when no name is left.
//! Removing a tag also removes digest names of the same repository when no
//! other tag of it remains. `rmi ID` deletes the image when all its names are
//! in one repository (at most one tag); otherwise it needs `-f`. The output
//! records are Docker's `Untagged:` / `Deleted:` lines, the deleted layers
//! given as chain IDs, top layer first.

use std::collections::BTreeSet;

use strata_core::reference::{self, AnyReference};
use strata_core::{Digest, Reference, chain_ids};

use crate::error::{Result, StoreError};
use crate::images::{ImageRecord, NameRecord};
use crate::store::Store;

/// One line of `rmi` / `image prune` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteRecord {
    /// A name was removed.
    Untagged(Reference),
    /// An image (its ID) or layer (its chain ID) was deleted.
    Deleted(Digest),
}

/// The outcome of `image prune`.
#[derive(Debug, Clone, Default)]
pub struct PruneReport {
    /// What was untagged and deleted.
    pub records: Vec<DeleteRecord>,
    /// Bytes freed on disk.
    pub reclaimed: u64,
}

fn is_id_prefix(id: &Digest, input: &str) -> bool {
    let full = id.to_string();
    full.starts_with(input) || id.hex().starts_with(input)
}

/// Docker's `isSingleReference`: at most one tag, and every digest name in
/// the same repository as it.
fn is_single_reference(refs: &[NameRecord]) -> bool {
    if refs.len() <= 1 {
        return refs.len() == 1;
    }
    let tags: Vec<&NameRecord> = refs.iter().filter(|r| r.is_tag()).collect();
    if tags.len() > 1 {
        return false;
    }
    let repo = tags.first().copied().unwrap_or(&refs[0]).reference.name();
    let digest_repos: BTreeSet<String> = refs
        .iter()
        .filter(|r| !r.is_tag())
        .map(|r| r.reference.name())
        .collect();
    digest_repos.len() == 1 && digest_repos.contains(&repo)
}

fn short(id: &Digest) -> &str {
    id.short()
}

impl Store {
    /// `docker tag`: points `target` at the image `source` names.
    pub fn tag(&self, source: &str, target: &str) -> Result<Reference> {
        let image = self.resolve(source)?;
        let r = Reference::parse_normalized(target).map_err(|err| StoreError::Reference {
            input: target.to_owned(),
            err,
        })?;
        if r.digest().is_some() {
            return Err(StoreError::Conflict(
                "refusing to create a tag with a digest reference".into(),
            ));
        }
        if r.familiar_name() == "sha256" {
            return Err(StoreError::Conflict(
                "refusing to create an ambiguous tag using digest algorithm as name".into(),
            ));
        }
        let r = r.with_default_tag();
        self.set_name(&r, &image.id)?;
        Ok(r)
    }

    /// `docker rmi` of one argument. Blobs are freed by a later [`Store::gc`].
    pub fn remove_image(&self, input: &str, force: bool) -> Result<Vec<DeleteRecord>> {
        let image = self.resolve(input)?;
        let mut records = Vec::new();
        if !is_id_prefix(&image.id, input) {
            // Untagging the last name of an image a container uses would
            // leave it dangling, so that needs -f.
            if !force
                && is_single_reference(&self.names_of(&image.id)?)
                && let Some(c) = self.containers_using(&image.id)?.first()
            {
                return Err(StoreError::Conflict(format!(
                    "conflict: unable to remove repository reference \"{input}\" (must force) - container {} is using its referenced image {}",
                    c.short_id(),
                    short(&image.id)
                )));
            }
            let named = match reference::parse_any(input) {
                Ok(AnyReference::Named(r)) => r,
                _ => return Err(StoreError::ImageNotFound(input.to_owned())),
            };
            let name = match named.digest() {
                Some(d) => named.with_digest(d.clone()),
                None => named.with_default_tag(),
            };
            self.remove_name(&name)?;
            records.push(DeleteRecord::Untagged(name.clone()));
            let mut refs = self.names_of(&image.id)?;
            if name.digest().is_none() {
                let repo = name.name();
                let tag_left = refs
                    .iter()
                    .any(|r| r.is_tag() && r.reference.name() == repo);
                if !tag_left {
                    for r in refs
                        .iter()
                        .filter(|r| !r.is_tag() && r.reference.name() == repo)
                    {
                        self.remove_name(&r.reference)?;
                        records.push(DeleteRecord::Untagged(r.reference.clone()));
                    }
                    refs = self.names_of(&image.id)?;
                }
            }
            if !refs.is_empty() {
                return Ok(records);
            }
        } else {
            let refs = self.names_of(&image.id)?;
            if is_single_reference(&refs) {
                // Names do not stop an ID removal here; containers do.
                self.check_conflicts(&image, !force, false)?;
                for r in refs {
                    self.remove_name(&r.reference)?;
                    records.push(DeleteRecord::Untagged(r.reference));
                }
            }
        }
        self.delete_helper(&image, force, &mut records)?;
        Ok(records)
    }

    /// Docker's delete conflicts. Hard ones (a child image, a running
    /// container) hold even with -f; soft ones (other names, a stopped
    /// container) only when `soft` is set, names only when `names` is.
    fn check_conflicts(&self, image: &ImageRecord, soft: bool, names: bool) -> Result<()> {
        let conflict = |hard: bool, why: String| {
            let how = if hard {
                "cannot be forced"
            } else {
                "must be forced"
            };
            Err(StoreError::Conflict(format!(
                "conflict: unable to delete {} ({how}) - {why}",
                short(&image.id)
            )))
        };
        let has_child = self
            .images()?
            .iter()
            .any(|i| i.parent.as_ref() == Some(&image.id));
        if has_child {
            return conflict(true, "image has dependent child images".into());
        }
        let users = self.containers_using(&image.id)?;
        if let Some(c) = users.iter().find(|c| c.is_running()) {
            return conflict(
                true,
                format!("image is being used by running container {}", c.short_id()),
            );
        }
        if soft && names && !self.names_of(&image.id)?.is_empty() {
            return conflict(false, "image is referenced in multiple repositories".into());
        }
        if soft && let Some(c) = users.first() {
            return conflict(
                false,
                format!("image is being used by stopped container {}", c.short_id()),
            );
        }
        Ok(())
    }

    fn delete_helper(
        &self,
        image: &ImageRecord,
        force: bool,
        records: &mut Vec<DeleteRecord>,
    ) -> Result<()> {
        self.check_conflicts(image, !force, true)?;
        let refs = self.names_of(&image.id)?;
        for r in refs {
            self.remove_name(&r.reference)?;
            records.push(DeleteRecord::Untagged(r.reference));
        }
        let freed = self.freed_chains(image)?;
        self.delete_image_record(&image.id)?;
        records.push(DeleteRecord::Deleted(image.id.clone()));
        records.extend(freed.into_iter().map(DeleteRecord::Deleted));
        Ok(())
    }

    /// Chain IDs of `image` that no other image uses, top layer first.
    fn freed_chains(&self, image: &ImageRecord) -> Result<Vec<Digest>> {
        let mine = chain_ids(&self.config(image)?.rootfs.diff_ids);
        let mut others = BTreeSet::new();
        for other in self.images()? {
            if other.id != image.id
                && let Ok(c) = self.config(&other)
            {
                others.extend(chain_ids(&c.rootfs.diff_ids));
            }
        }
        let mut seen = BTreeSet::new();
        Ok(mine
            .into_iter()
            .rev()
            .filter(|c| !others.contains(c) && seen.insert(c.clone()))
            .collect())
    }

    /// Whether an image has no tag (Docker's "dangling").
    pub fn is_dangling(&self, id: &Digest) -> Result<bool> {
        Ok(!self.names_of(id)?.iter().any(NameRecord::is_tag))
    }

    /// `docker image prune [-a]`: removes dangling images, or with `all`
    /// every image, then collects freed blobs.
    pub fn prune_images(&self, all: bool) -> Result<PruneReport> {
        let mut report = PruneReport::default();
        let images = self.images()?;
        let parents: BTreeSet<Digest> = images.iter().filter_map(|i| i.parent.clone()).collect();
        for image in &images {
            let names = self.names_of(&image.id)?;
            let dangling = !names.iter().any(NameRecord::is_tag);
            if !all && (!dangling || parents.contains(&image.id)) {
                continue;
            }
            // An image a container was made from is in use.
            if !self.containers_using(&image.id)?.is_empty() {
                continue;
            }
            let result = if names.is_empty() {
                self.remove_image(image.id.hex(), false)
            } else {
                let mut recs = Vec::new();
                for n in names {
                    match self.remove_image(&n.reference.to_string(), false) {
                        Ok(r) => recs.extend(r),
                        Err(e) => return Err(e),
                    }
                }
                Ok(recs)
            };
            match result {
                Ok(r) => report.records.extend(r),
                // A conflict (a child image appeared) skips this image, as
                // Docker does.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        report.reclaimed = self.gc(false)?.freed_bytes();
        Ok(report)
    }

    /// The images a `save` of `args` means, with the names to record: a
    /// repository without tag means all its tags; an ID means no names.
    pub fn resolve_for_save(&self, args: &[String]) -> Result<Vec<(ImageRecord, Vec<Reference>)>> {
        let mut out: Vec<(ImageRecord, Vec<Reference>)> = Vec::new();
        let mut add = |image: ImageRecord, name: Option<Reference>| {
            let pos = match out.iter().position(|(i, _)| i.id == image.id) {
                Some(p) => p,
                None => {
                    out.push((image, Vec::new()));
                    out.len() - 1
                }
            };
            if let Some(n) = name
                && !out[pos].1.contains(&n)
            {
                out[pos].1.push(n);
            }
        };
        for arg in args {
            match reference::parse_any(arg) {
                Ok(AnyReference::Named(r)) if r.tag().is_none() && r.digest().is_none() => {
                    let repo = r.name();
                    let tagged: Vec<NameRecord> = self
                        .names()?
                        .into_iter()
                        .filter(|n| n.is_tag() && n.reference.name() == repo)
                        .collect();
                    if tagged.is_empty() {
                        // Docker searches IDs here and names the input as typed.
                        let image = self.resolve(arg).map_err(|e| match e {
                            StoreError::ImageNotFound(_) => StoreError::ImageNotFound(arg.clone()),
                            e => e,
                        })?;
                        add(image, None);
                    }
                    for n in tagged {
                        let image = self
                            .image(&n.image)?
                            .ok_or_else(|| StoreError::ImageNotFound(arg.clone()))?;
                        add(image, Some(n.reference));
                    }
                }
                Ok(AnyReference::Named(r)) => {
                    let image = self.resolve(arg)?;
                    let by_id = is_id_prefix(&image.id, arg);
                    let name = r.tag().and_then(|t| r.with_tag(t).ok());
                    add(image, name.filter(|_| !by_id));
                }
                _ => add(self.resolve(arg)?, None),
            }
        }
        Ok(out)
    }
}
