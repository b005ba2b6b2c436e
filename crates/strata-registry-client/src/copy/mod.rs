//! `copy`: an image from one place to another, as `skopeo copy` does.
//! Places: a registry (`docker://`), an OCI layout directory (`oci:`), a
//! `docker save` tarball (`docker-archive:`) and the local store
//! (`strata:`). Manifests go as the bytes they are, so digests are kept
//! wherever the destination can hold them; blobs pass through the store's
//! blob storage (verified there, under a lease, left to GC afterwards).
//! Only a `strata:` destination names an image in the store.

mod layout;

use std::path::PathBuf;

use strata_core::media_type::{OCI_INDEX, OCI_MANIFEST};
use strata_core::{
    Descriptor, Digest, ImageIndex, ImageManifest, ManifestKind, ManifestProbe, Platform, Reference,
};
use strata_store::{ExpansionLimit, Lease, Store};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::pull::{fetch, kind, pick_platform, record};
use crate::transfer::in_parallel;
use crate::upload::{UploadOptions, Uploaded};

/// Where an image is, or goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `docker://HOST/REPO[:TAG|@DIGEST]`.
    Registry(Reference),
    /// `oci:DIR[:NAME]`: an OCI image layout directory; NAME is the
    /// `org.opencontainers.image.ref.name` annotation.
    Oci {
        /// The layout directory.
        dir: PathBuf,
        /// The image's name in `index.json`.
        name: Option<String>,
    },
    /// `docker-archive:FILE[:REF]`: a `docker save` tarball.
    DockerArchive {
        /// The tarball.
        file: PathBuf,
        /// The image's tag in it.
        reference: Option<Reference>,
    },
    /// `strata:REF`: the local store.
    Store(Reference),
}

impl std::str::FromStr for Location {
    type Err = Error;

    fn from_str(s: &str) -> Result<Location> {
        let reference = |r: &str| {
            Reference::parse_normalized(r)
                .map_err(|e| Error::Invalid(format!("invalid reference {r:?} in {s:?}: {e}")))
        };
        // `PATH[:REF]`: paths with a colon are not supported, as in skopeo.
        let split = |rest: &str| -> (PathBuf, Option<String>) {
            match rest.split_once(':') {
                Some((p, r)) if !r.is_empty() => (p.into(), Some(r.to_owned())),
                Some((p, _)) => (p.into(), None),
                None => (rest.into(), None),
            }
        };
        if let Some(rest) = s.strip_prefix("docker://") {
            Ok(Location::Registry(reference(rest)?))
        } else if let Some(rest) = s.strip_prefix("strata:") {
            Ok(Location::Store(reference(rest)?))
        } else if let Some(rest) = s.strip_prefix("oci:") {
            let (dir, name) = split(rest);
            Ok(Location::Oci { dir, name })
        } else if let Some(rest) = s.strip_prefix("docker-archive:") {
            let (file, name) = split(rest);
            Ok(Location::DockerArchive {
                file,
                reference: name.as_deref().map(reference).transpose()?,
            })
        } else {
            Err(Error::Invalid(format!(
                "invalid image location {s:?}: expected docker://, oci:, docker-archive: or strata:"
            )))
        }
    }
}

/// `copy`'s settings.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Copy a whole index with every image in it (else the one image for
    /// `platform`).
    pub all: bool,
    /// The platform to take from an index (default: this host's).
    pub platform: Option<Platform>,
    /// Blobs at once.
    pub parallel: usize,
    /// How far compressed layers may expand (a `strata:` destination).
    pub limit: ExpansionLimit,
}

impl Default for CopyOptions {
    fn default() -> CopyOptions {
        CopyOptions {
            all: false,
            platform: None,
            parallel: 3,
            limit: ExpansionLimit::default(),
        }
    }
}

/// What a copy reports (the CLI prints skopeo's lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyEvent {
    /// An index of this many images is copied whole.
    Images(usize),
    /// The `n`th (from 1) of `total` images of an index starts.
    Image(Digest, usize, usize),
    /// A layer: copied, or `skipped` because the destination has it.
    Blob(Digest, bool),
    /// The config: copied or skipped.
    Config(Digest, bool),
    /// The manifest goes to the destination.
    WritingManifest,
}

/// What a copy did.
#[derive(Debug, Clone)]
pub struct Copied {
    /// The digest of the manifest (or index) written.
    pub digest: Digest,
}

/// A manifest or index as bytes.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub(crate) bytes: Vec<u8>,
    pub(crate) media_type: String,
    pub(crate) digest: Digest,
}

impl Manifest {
    /// `bytes`, typed by their own `mediaType`, else `hint`, else by shape.
    pub(crate) fn new(bytes: Vec<u8>, hint: Option<&str>) -> Result<Manifest> {
        let probe: ManifestProbe = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Invalid(format!("the manifest is not JSON: {e}")))?;
        let media_type = match (probe.media_type.as_ref(), hint) {
            (Some(m), _) => m.as_str().to_owned(),
            (None, Some(h)) => h.to_owned(),
            (None, None) => match kind(&bytes)? {
                ManifestKind::Index => OCI_INDEX.to_owned(),
                ManifestKind::Manifest => OCI_MANIFEST.to_owned(),
            },
        };
        Ok(Manifest {
            digest: Digest::sha256(&bytes),
            bytes,
            media_type,
        })
    }

    fn parse(&self) -> Result<ImageManifest> {
        serde_json::from_slice(&self.bytes)
            .map_err(|e| Error::Invalid(format!("the image manifest {}: {e}", self.digest)))
    }
}

/// What is copied: one image manifest, or an index and its images.
struct ImageSet {
    top: Manifest,
    children: Vec<Manifest>,
}

impl ImageSet {
    fn images(&self) -> &[Manifest] {
        if self.children.is_empty() {
            std::slice::from_ref(&self.top)
        } else {
            &self.children
        }
    }
}

/// Where manifests and blobs come from.
trait Source: Sync {
    /// The manifest or index the location names.
    fn top(&self) -> Result<Manifest>;
    /// A manifest by digest (an index's child), verified.
    fn manifest(&self, digest: &Digest) -> Result<Manifest>;
    /// Makes sure the store has `blob`, verified.
    fn fetch(&self, store: &Store, blob: &Descriptor) -> Result<()>;
}

struct RegistrySource<'a> {
    client: &'a Client,
    reference: Reference,
}

impl Source for RegistrySource<'_> {
    fn top(&self) -> Result<Manifest> {
        let wanted = match (self.reference.digest(), self.reference.tag()) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.to_owned(),
            (None, None) => "latest".to_owned(),
        };
        let m = self.client.manifest(&self.reference, &wanted)?;
        Manifest::new(m.bytes, Some(&m.media_type))
    }

    fn manifest(&self, digest: &Digest) -> Result<Manifest> {
        let m = self.client.manifest(&self.reference, &digest.to_string())?;
        Manifest::new(m.bytes, Some(&m.media_type))
    }

    fn fetch(&self, store: &Store, blob: &Descriptor) -> Result<()> {
        fetch(store, self.client, &self.reference, blob, &|_| {})
    }
}

/// The store, or an archive already read into it.
struct StoreSource {
    top: Manifest,
}

impl Source for StoreSource {
    fn top(&self) -> Result<Manifest> {
        Ok(self.top.clone())
    }

    fn manifest(&self, _digest: &Digest) -> Result<Manifest> {
        Err(Error::Invalid(
            "an image in the store is one manifest, not an index".into(),
        ))
    }

    fn fetch(&self, store: &Store, blob: &Descriptor) -> Result<()> {
        if store.has_blob(&blob.digest) {
            Ok(())
        } else {
            Err(Error::NotFound(format!("blob {} is missing", blob.digest)))
        }
    }
}

/// Copies the image at `src` to `dst`, reporting skopeo's steps to
/// `progress`.
pub fn copy(
    store: &Store,
    client: &Client,
    src: &Location,
    dst: &Location,
    opts: &CopyOptions,
    progress: &(dyn Fn(CopyEvent) + Sync),
) -> Result<Copied> {
    let mut lease = Lease::new(store)?;
    let source: Box<dyn Source + '_> = match src {
        Location::Registry(r) => Box::new(RegistrySource {
            client,
            reference: r.clone(),
        }),
        Location::Oci { dir, name } => Box::new(layout::LayoutSource::open(dir, name.as_deref())?),
        Location::DockerArchive { file, reference } => Box::new(StoreSource {
            top: layout::read_archive(store, &mut lease, file, reference.as_ref())?,
        }),
        Location::Store(r) => {
            let image = store.resolve(&r.familiar_string())?;
            let bytes = store.read_blob(&image.manifest.digest)?;
            lease.protect(&image.manifest.digest)?;
            Box::new(StoreSource {
                top: Manifest::new(bytes, Some(image.manifest.media_type.as_str()))?,
            })
        }
    };
    let set = resolve(&*source, opts)?;

    let mut blobs: Vec<Descriptor> = Vec::new();
    for image in set.images() {
        let m = image.parse()?;
        for d in m.layers.iter().chain([&m.config]) {
            if !blobs.iter().any(|b| b.digest == d.digest) {
                lease.protect(&d.digest)?;
                blobs.push(d.clone());
            }
        }
    }
    in_parallel(&blobs, opts.parallel, |_, blob| source.fetch(store, blob))?;

    match dst {
        Location::Registry(r) => {
            let mount_from = match src {
                Location::Registry(s) if s.domain() == r.domain() && s.path() != r.path() => {
                    Some(s.path().to_owned())
                }
                _ => None,
            };
            to_registry(store, client, r, &set, mount_from, opts, progress)?;
        }
        Location::Oci { dir, name } => {
            layout::write_oci(store, dir, name.as_deref(), &set, progress)?;
        }
        Location::DockerArchive { file, reference } => {
            let image = single(&set, "a docker-archive")?;
            layout::write_archive(store, file, reference.as_ref(), image, progress)?;
        }
        Location::Store(r) => {
            let image = single(&set, "the store")?;
            report_blobs(image, &|_| false, progress)?;
            progress(CopyEvent::WritingManifest);
            record(
                store,
                &mut lease,
                &image.bytes,
                &image.media_type,
                &[r.clone().with_default_tag()],
                opts.limit,
            )?;
        }
    }
    Ok(Copied {
        digest: set.top.digest.clone(),
    })
}

/// The one image of `set`, for destinations that hold no index.
fn single<'a>(set: &'a ImageSet, what: &str) -> Result<&'a Manifest> {
    if set.children.is_empty() {
        Ok(&set.top)
    } else {
        Err(Error::Invalid(format!(
            "{what} holds one image, not an index: copy one platform (without --all)"
        )))
    }
}

/// The manifests to copy: the one named, or the platform's image of an
/// index, or with `all` the index and every image in it.
fn resolve(source: &dyn Source, opts: &CopyOptions) -> Result<ImageSet> {
    let top = source.top()?;
    if kind(&top.bytes)? == ManifestKind::Manifest {
        return Ok(ImageSet {
            top,
            children: Vec::new(),
        });
    }
    if !opts.all {
        let chosen = pick_platform(&top.bytes, opts.platform.as_ref())?;
        return Ok(ImageSet {
            top: source.manifest(&chosen.digest)?,
            children: Vec::new(),
        });
    }
    let index: ImageIndex = serde_json::from_slice(&top.bytes)
        .map_err(|e| Error::Invalid(format!("the image index: {e}")))?;
    let mut children = Vec::new();
    for d in &index.manifests {
        let child = source.manifest(&d.digest)?;
        if kind(&child.bytes)? != ManifestKind::Manifest {
            return Err(Error::Invalid(format!(
                "index {} lists index {}: nested indexes are not supported",
                top.digest, d.digest
            )));
        }
        children.push(child);
    }
    Ok(ImageSet { top, children })
}

/// Reports every layer, then the config, of `image`; `skip` says which
/// the destination has.
fn report_blobs(
    image: &Manifest,
    skip: &dyn Fn(&Descriptor) -> bool,
    progress: &(dyn Fn(CopyEvent) + Sync),
) -> Result<()> {
    let m = image.parse()?;
    for l in &m.layers {
        progress(CopyEvent::Blob(l.digest.clone(), skip(l)));
    }
    progress(CopyEvent::Config(m.config.digest.clone(), skip(&m.config)));
    Ok(())
}

/// Pushes the blobs and manifests of `set` to `target`: the images'
/// manifests by digest, the top one under the tag.
fn to_registry(
    store: &Store,
    client: &Client,
    target: &Reference,
    set: &ImageSet,
    mount_from: Option<String>,
    opts: &CopyOptions,
    progress: &(dyn Fn(CopyEvent) + Sync),
) -> Result<()> {
    let upload = UploadOptions {
        mount_from,
        chunk_size: None,
    };
    let images = set.images();
    if !set.children.is_empty() {
        progress(CopyEvent::Images(images.len()));
    }
    for (i, image) in images.iter().enumerate() {
        if !set.children.is_empty() {
            progress(CopyEvent::Image(image.digest.clone(), i + 1, images.len()));
        }
        let m = image.parse()?;
        let send = |blob: &Descriptor| -> Result<bool> {
            let d = &blob.digest;
            let has = client.has_blob(target, d, "pull,push")?;
            if !has {
                let file = store.open_blob(d)?.into_parts().0;
                // A mount or an upload: the blob is there either way.
                let _: Uploaded =
                    client.upload_blob(target, d, store.blob_size(d)?, file, &upload)?;
            }
            Ok(has)
        };
        // Layers in parallel, then the config, as skopeo orders them.
        in_parallel(&m.layers, opts.parallel, |_, blob| {
            let has = send(blob)?;
            progress(CopyEvent::Blob(blob.digest.clone(), has));
            Ok(())
        })?;
        let has = send(&m.config)?;
        progress(CopyEvent::Config(m.config.digest.clone(), has));
        if !set.children.is_empty() {
            client.put_manifest(
                target,
                &image.digest.to_string(),
                image.bytes.clone(),
                &image.media_type,
            )?;
        }
    }
    progress(CopyEvent::WritingManifest);
    let reference = match (target.digest(), target.tag()) {
        (Some(d), _) => {
            if *d != set.top.digest {
                return Err(Error::Invalid(format!(
                    "the destination names digest {d}, but the manifest copied is {}",
                    set.top.digest
                )));
            }
            d.to_string()
        }
        (None, Some(t)) => t.to_owned(),
        (None, None) => "latest".to_owned(),
    };
    client.put_manifest(
        target,
        &reference,
        set.top.bytes.clone(),
        &set.top.media_type,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_like_skopeo() {
        let r = |s: &str| Reference::parse_normalized(s).unwrap();
        for (input, want) in [
            (
                "docker://127.0.0.1:5000/a/b:1",
                Location::Registry(r("127.0.0.1:5000/a/b:1")),
            ),
            ("strata:busybox", Location::Store(r("busybox"))),
            (
                "oci:/tmp/lay:v1",
                Location::Oci {
                    dir: "/tmp/lay".into(),
                    name: Some("v1".into()),
                },
            ),
            (
                "oci:lay",
                Location::Oci {
                    dir: "lay".into(),
                    name: None,
                },
            ),
            (
                "docker-archive:/tmp/a.tar:busybox:1",
                Location::DockerArchive {
                    file: "/tmp/a.tar".into(),
                    reference: Some(r("busybox:1")),
                },
            ),
            (
                "docker-archive:/tmp/a.tar",
                Location::DockerArchive {
                    file: "/tmp/a.tar".into(),
                    reference: None,
                },
            ),
        ] {
            assert_eq!(input.parse::<Location>().unwrap(), want, "{input}");
        }
        let err = "dir:/tmp/x".parse::<Location>().unwrap_err().to_string();
        assert!(
            err.starts_with("invalid image location \"dir:/tmp/x\""),
            "{err}"
        );
        assert!("docker://Bad Name".parse::<Location>().is_err());
    }
}
