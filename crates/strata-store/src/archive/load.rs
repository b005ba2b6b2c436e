//! Loading docker-archive and OCI layout tarballs into the store.
//!
//! Three phases: read the whole archive (see `read.rs`); check every image
//! in it (configs parse, layer diff IDs match the config, digests match
//! their paths, no hostile entries) without touching the blob directory;
//! then move blobs into place and record each image. A bad archive is
//! refused before anything becomes visible, and whatever it left in the
//! ingest area is collected on the way out.
//!
//! Formats: `manifest.json` (docker save, any version: `<id>/layer.tar` or
//! `blobs/sha256/…` paths) and `index.json` (an OCI layout, which Docker 25+
//! also writes). When both are present the OCI index is used, so manifest
//! digests are kept, and `manifest.json` contributes its `RepoTags`.

use std::io::Read;

use serde::Deserialize;
use strata_core::media_type::{OCI_CONFIG, OCI_MANIFEST};
use strata_core::{
    Descriptor, Digest, ImageConfig, ImageIndex, ImageManifest, ManifestKind, ManifestProbe,
    Platform, Raw, Reference,
};

use super::read::Contents;
use crate::error::{Result, StoreError};
use crate::images::{ImageRecord, MovedName, NewImage};
use crate::layer::LayerScan;
use crate::lease::Lease;
use crate::store::Store;
use crate::stream::ExpansionLimit;

/// Settings for [`Store::load`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// How far compressed data may expand.
    pub limit: ExpansionLimit,
}

/// One image a load recorded.
#[derive(Debug, Clone)]
pub struct LoadedImage {
    /// The image.
    pub image: ImageRecord,
    /// The names the archive gave it.
    pub names: Vec<Reference>,
    /// Names that were taken from other images.
    pub moved: Vec<MovedName>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

// One per image in an archive: size does not matter here.
#[allow(clippy::large_enum_variant)]
enum ManifestSource {
    Own(Raw<ImageManifest>),
    Archive {
        path: String,
        descriptor: Descriptor,
    },
}

struct Prepared {
    config_path: String,
    config: Raw<ImageConfig>,
    layers: Vec<(String, LayerScan)>,
    manifest: ManifestSource,
    names: Vec<Reference>,
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm().as_str(), d.hex())
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::json(what, e))
}

fn check_diff_ids(config: &ImageConfig, scans: &[LayerScan], what: &str) -> Result<()> {
    let diff_ids = &config.rootfs.diff_ids;
    if diff_ids.len() != scans.len() {
        return Err(StoreError::InvalidImage(format!(
            "{what}: the config lists {} layers but the manifest has {}",
            diff_ids.len(),
            scans.len()
        )));
    }
    for (i, (want, scan)) in diff_ids.iter().zip(scans).enumerate() {
        if *want != scan.diff_id {
            return Err(StoreError::InvalidImage(format!(
                "invalid diffID for layer {i}: expected {want:?}, got {:?}",
                scan.diff_id
            )));
        }
    }
    Ok(())
}

fn parse_tags(tags: &[String]) -> Result<Vec<Reference>> {
    tags.iter()
        .map(|t| {
            Reference::parse_normalized(t)
                .map(Reference::with_default_tag)
                .map_err(|e| {
                    StoreError::archive(format!("invalid tag {t:?} in manifest.json: {e}"))
                })
        })
        .collect()
}

/// Names an OCI index entry gives its image: containerd's full name, or the
/// OCI ref name when it is a whole reference rather than a bare tag.
fn annotation_names(desc: &Descriptor) -> Vec<Reference> {
    let full = desc.annotation("io.containerd.image.name");
    let oci = desc
        .annotation("org.opencontainers.image.ref.name")
        .filter(|n| n.contains(['/', ':']));
    full.or(oci)
        .and_then(|n| Reference::parse_normalized(n).ok())
        .filter(|r| r.digest().is_none())
        .map(|r| vec![r.with_default_tag()])
        .unwrap_or_default()
}

impl Store {
    /// Loads every image of a docker-archive or OCI layout tarball (plain,
    /// gzip or zstd) and points the archive's tags at them. All or nothing.
    pub fn load<R: Read>(&self, input: R, opts: &LoadOptions) -> Result<Vec<LoadedImage>> {
        let res = Lease::new(self).and_then(|mut lease| self.load_with(&mut lease, input, opts));
        if res.is_err() {
            // The lease is gone; collect what the failed load left behind.
            if let Err(e) = self.gc(false) {
                tracing::warn!("cleaning up after a failed load: {e}");
            }
        }
        res
    }

    fn load_with<R: Read>(
        &self,
        lease: &mut Lease,
        input: R,
        opts: &LoadOptions,
    ) -> Result<Vec<LoadedImage>> {
        let mut c = Contents::read(self, lease, input, opts.limit)?;
        let docker: Option<Vec<DockerEntry>> = if c.has("manifest.json") {
            Some(parse_json(
                &c.bytes(self, "manifest.json")?,
                "manifest.json",
            )?)
        } else {
            None
        };
        let has_index = c.has("index.json");
        if docker.is_none() && !has_index {
            return Err(StoreError::archive(
                "no manifest.json or index.json: not a docker-archive or OCI layout",
            ));
        }
        let mut prepared = Vec::new();
        if has_index {
            prepared =
                self.prepare_oci(&mut c, docker.as_deref().unwrap_or_default(), opts.limit)?;
        }
        for entry in docker.iter().flatten() {
            let config = c.file(&entry.config)?.digest.clone();
            if !prepared.iter().any(|p| *p.config.digest() == config) {
                prepared.push(self.prepare_docker(&mut c, entry, opts.limit)?);
            }
        }
        if prepared.is_empty() {
            return Err(StoreError::archive("the archive holds no images"));
        }
        let mut loaded = Vec::new();
        for p in prepared {
            c.commit(self, lease, &p.config_path)?;
            let mut layers = Vec::new();
            for (path, scan) in &p.layers {
                layers.push((c.commit(self, lease, path)?, scan.clone()));
            }
            let manifest = match &p.manifest {
                ManifestSource::Own(raw) => {
                    self.put_blob(lease, raw.bytes())?;
                    raw.descriptor(OCI_MANIFEST)
                }
                ManifestSource::Archive { path, descriptor } => {
                    c.commit(self, lease, path)?;
                    descriptor.clone()
                }
            };
            let (image, moved) = self.commit_image(
                lease,
                NewImage {
                    manifest,
                    config: &p.config,
                    layers: &layers,
                    names: &p.names,
                    parent: None,
                },
            )?;
            loaded.push(LoadedImage {
                image,
                names: p.names,
                moved,
            });
        }
        Ok(loaded)
    }

    fn prepare_docker(
        &self,
        c: &mut Contents,
        entry: &DockerEntry,
        limit: ExpansionLimit,
    ) -> Result<Prepared> {
        let config_path = c.resolve(&entry.config)?;
        let config: Raw<ImageConfig> = Raw::parse(c.bytes(self, &config_path)?)
            .map_err(|e| StoreError::json(&entry.config, e))?;
        let mut layers = Vec::new();
        let mut descriptors = Vec::new();
        for path in &entry.layers {
            let (compression, scan) = c.layer(self, path, None, limit)?;
            let f = c.file(path)?;
            descriptors.push(Descriptor::new(
                compression.oci_layer_media_type(),
                f.digest.clone(),
                f.size,
            ));
            layers.push((c.resolve(path)?, scan));
        }
        let scans: Vec<LayerScan> = layers.iter().map(|(_, s)| s.clone()).collect();
        check_diff_ids(&config, &scans, &entry.config)?;
        let manifest = ImageManifest::oci(config.descriptor(OCI_CONFIG), descriptors);
        Ok(Prepared {
            config_path,
            config,
            layers,
            manifest: ManifestSource::Own(Raw::from_value(manifest)),
            names: parse_tags(entry.repo_tags.as_deref().unwrap_or_default())?,
        })
    }

    fn prepare_oci(
        &self,
        c: &mut Contents,
        docker: &[DockerEntry],
        limit: ExpansionLimit,
    ) -> Result<Vec<Prepared>> {
        let index: ImageIndex = parse_json(&c.bytes(self, "index.json")?, "index.json")?;
        let host = Platform::host();
        let mut out = Vec::new();
        for desc in &index.manifests {
            let (mdesc, manifest) = self.pick_manifest(c, desc, &host, 0)?;
            let config_path = blob_path(&manifest.config.digest);
            verify(c, &config_path, &manifest.config.digest)?;
            let config: Raw<ImageConfig> = Raw::parse(c.bytes(self, &config_path)?)
                .map_err(|e| StoreError::json(&config_path, e))?;
            let mut layers = Vec::new();
            for l in &manifest.layers {
                let path = blob_path(&l.digest);
                verify(c, &path, &l.digest)?;
                let compression = l.media_type.layer_compression().ok_or_else(|| {
                    StoreError::InvalidImage(format!(
                        "unsupported layer media type {}",
                        l.media_type
                    ))
                })?;
                let (_, scan) = c.layer(self, &path, Some(compression), limit)?;
                layers.push((path, scan));
            }
            let scans: Vec<LayerScan> = layers.iter().map(|(_, s)| s.clone()).collect();
            check_diff_ids(&config, &scans, &config_path)?;
            let mut names = annotation_names(desc);
            for entry in docker {
                if c.file(&entry.config)
                    .is_ok_and(|f| f.digest == *config.digest())
                {
                    for n in parse_tags(entry.repo_tags.as_deref().unwrap_or_default())? {
                        if !names.contains(&n) {
                            names.push(n);
                        }
                    }
                }
            }
            // Docker and containerd write one index entry per tag.
            if let Some(same) = out.iter_mut().find(|p: &&mut Prepared| {
                matches!(&p.manifest, ManifestSource::Archive { descriptor, .. } if descriptor.digest == mdesc.digest)
            }) {
                for n in names {
                    if !same.names.contains(&n) {
                        same.names.push(n);
                    }
                }
                continue;
            }
            out.push(Prepared {
                config_path,
                config,
                layers,
                manifest: ManifestSource::Archive {
                    path: blob_path(&mdesc.digest),
                    descriptor: mdesc,
                },
                names,
            });
        }
        Ok(out)
    }

    /// Follows an index entry down to the image manifest for `host`.
    fn pick_manifest(
        &self,
        c: &mut Contents,
        desc: &Descriptor,
        host: &Platform,
        depth: usize,
    ) -> Result<(Descriptor, Raw<ImageManifest>)> {
        if depth > 4 {
            return Err(StoreError::InvalidImage("indexes nested too deeply".into()));
        }
        let path = blob_path(&desc.digest);
        verify(c, &path, &desc.digest)?;
        let bytes = c.bytes(self, &path)?;
        let probe: ManifestProbe = parse_json(&bytes, &path)?;
        match probe.kind() {
            Some(ManifestKind::Manifest) => {
                let media_type = probe
                    .media_type
                    .clone()
                    .unwrap_or_else(|| desc.media_type.clone());
                let size = bytes.len() as u64;
                let raw = Raw::parse(bytes).map_err(|e| StoreError::json(&path, e))?;
                Ok((Descriptor::new(media_type, desc.digest.clone(), size), raw))
            }
            Some(ManifestKind::Index) => {
                let index: ImageIndex = parse_json(&bytes, &path)?;
                let child = index
                    .manifests
                    .iter()
                    .filter(|m| c.has(&blob_path(&m.digest)))
                    .find(|m| m.platform.as_ref().is_none_or(|p| p.matches(host)))
                    .ok_or_else(|| {
                        StoreError::InvalidImage(format!(
                            "index {} has no manifest for {host} in the archive",
                            desc.digest
                        ))
                    })?
                    .clone();
                self.pick_manifest(c, &child, host, depth + 1)
            }
            None => Err(StoreError::InvalidImage(format!(
                "{path}: not an image manifest or index (schema 1 manifests are not supported)"
            ))),
        }
    }
}

fn verify(c: &Contents, path: &str, want: &Digest) -> Result<()> {
    let got = &c.file(path)?.digest;
    if got != want {
        return Err(StoreError::DigestMismatch {
            what: path.to_owned(),
            expected: want.clone(),
            actual: got.clone(),
        });
    }
    Ok(())
}
