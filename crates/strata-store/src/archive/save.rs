//! Writing images out as a docker-archive or an OCI layout tarball.
//!
//! The docker format is the layout Docker 25+ writes: an OCI image layout
//! (`oci-layout`, `index.json`, `blobs/sha256/…`) plus Docker's
//! `manifest.json`, whose `Config` and `Layers` point into `blobs/`. Older
//! `docker load` reads `manifest.json` and follows those paths; OCI tools
//! read `index.json`. The OCI format is the same without `manifest.json`.
//! Blobs are copied as stored, so a save is little more than a copy.

use std::collections::BTreeSet;
use std::io::Write;

use serde::Serialize;
use strata_core::media_type::OCI_INDEX;
use strata_core::{Digest, ImageIndex, Reference};

use super::tar_writer::TarWriter;
use crate::error::Result;
use crate::images::ImageRecord;
use crate::store::Store;

/// Which kind of archive to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// docker-archive (`docker save` / `docker load`), also an OCI layout.
    Docker,
    /// OCI image layout only.
    Oci,
}

/// One image to save and the names to record for it.
#[derive(Debug, Clone)]
pub struct SaveItem {
    /// The image.
    pub image: ImageRecord,
    /// Tags to record (`RepoTags`, `index.json` annotations); may be empty.
    pub names: Vec<Reference>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm().as_str(), d.hex())
}

impl Store {
    /// Writes `items` as one archive to `out`.
    pub fn save<W: Write>(&self, items: &[SaveItem], format: ArchiveFormat, out: W) -> Result<W> {
        let mut tar = TarWriter::new(out);
        tar.bytes("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        tar.dir("blobs/")?;
        tar.dir("blobs/sha256/")?;
        let mut written = BTreeSet::new();
        let mut index_entries = Vec::new();
        let mut docker_entries = Vec::new();
        for item in items {
            let manifest = self.manifest(&item.image)?;
            let blobs = std::iter::once(&item.image.manifest.digest)
                .chain(std::iter::once(&manifest.config.digest))
                .chain(manifest.layers.iter().map(|l| &l.digest));
            for d in blobs {
                if written.insert(d.clone()) {
                    let mut f = self.open_blob(d)?;
                    let size = f.metadata()?.len();
                    tar.file(&blob_path(d), size, f.file_mut())?;
                }
            }
            if item.names.is_empty() {
                index_entries.push(item.image.manifest.clone());
            }
            for name in &item.names {
                let mut desc = item.image.manifest.clone();
                let mut ann = std::collections::BTreeMap::new();
                ann.insert("io.containerd.image.name".to_owned(), name.to_string());
                if let Some(tag) = name.tag() {
                    ann.insert(
                        "org.opencontainers.image.ref.name".to_owned(),
                        tag.to_owned(),
                    );
                }
                desc.annotations = Some(ann);
                index_entries.push(desc);
            }
            let tags: Vec<String> = item
                .names
                .iter()
                .filter(|n| n.tag().is_some())
                .map(Reference::familiar_string)
                .collect();
            docker_entries.push(DockerManifestEntry {
                config: blob_path(&manifest.config.digest),
                repo_tags: (!tags.is_empty()).then_some(tags),
                layers: manifest
                    .layers
                    .iter()
                    .map(|l| blob_path(&l.digest))
                    .collect(),
            });
        }
        let index = ImageIndex {
            schema_version: 2,
            media_type: Some(OCI_INDEX.into()),
            artifact_type: None,
            manifests: index_entries,
            subject: None,
            annotations: None,
            extra: Default::default(),
        };
        tar.bytes(
            "index.json",
            &serde_json::to_vec(&index).expect("plain data"),
        )?;
        if format == ArchiveFormat::Docker {
            tar.bytes(
                "manifest.json",
                &serde_json::to_vec(&docker_entries).expect("plain data"),
            )?;
        }
        Ok(tar.finish()?)
    }
}
