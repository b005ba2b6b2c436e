//! OCI image layout directories and `docker save` tarballs as copy
//! sources and destinations.
//!
//! ```text
//! <dir>/                      an OCI image layout (spec 1.0)
//! ├── oci-layout              {"imageLayoutVersion":"1.0.0"}
//! ├── index.json              one entry per named image
//! └── blobs/sha256/<hex>      manifests, configs, layers
//! ```
//!
//! A docker-archive is written as Docker 25+ writes it: that layout in a
//! tar, plus Docker's `manifest.json`. Read, it may also be the older
//! layout (`<id>/layer.tar`, `<config>.json`, `manifest.json` only), for
//! which an OCI manifest is made up (that image has no manifest to keep).

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strata_core::media_type::{
    OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_LAYER_ZSTD, OCI_MANIFEST,
};
use strata_core::{Compression, Descriptor, Digest, ImageIndex, ImageManifest, Reference};
use strata_store::{BlobWriter, Lease, Store};

use super::{CopyEvent, ImageSet, Manifest, Source, report_blobs};
use crate::error::{Error, Result};

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";
const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

fn blob_path(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm().as_str(), d.hex())
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{}: {what}", path.display()))
}

fn read_index(path: &Path) -> Result<ImageIndex> {
    let bytes = std::fs::read(path).map_err(|e| invalid(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| invalid(path, e))
}

/// The one entry of `index` named `name` (by its ref name, or a full
/// reference), or its only entry when no name is given.
fn pick_entry<'a>(
    index: &'a ImageIndex,
    name: Option<&str>,
    reference: Option<&Reference>,
    what: &Path,
) -> Result<&'a Descriptor> {
    let matches: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| match (name, reference) {
            (Some(n), _) => d.annotation(REF_NAME) == Some(n),
            (None, Some(r)) => {
                let want = r.clone().with_default_tag();
                [d.annotation(CONTAINERD_NAME), d.annotation(REF_NAME)]
                    .into_iter()
                    .flatten()
                    .filter_map(|n| Reference::parse_normalized(n).ok())
                    .any(|n| n.with_default_tag() == want)
            }
            (None, None) => true,
        })
        .collect();
    match (
        matches.as_slice(),
        name.map(str::to_owned).or(reference.map(|r| r.to_string())),
    ) {
        ([one], _) => Ok(one),
        ([], Some(n)) => Err(Error::NotFound(format!(
            "{}: no image named {n}",
            what.display()
        ))),
        (many, _) => Err(invalid(
            what,
            format!("holds {} images; name the one to copy", many.len()),
        )),
    }
}

/// An OCI layout directory to copy from.
pub(super) struct LayoutSource {
    dir: PathBuf,
    top: Descriptor,
}

impl LayoutSource {
    pub(super) fn open(dir: &Path, name: Option<&str>) -> Result<LayoutSource> {
        let index = read_index(&dir.join("index.json"))?;
        let top = pick_entry(&index, name, None, dir)?.clone();
        Ok(LayoutSource {
            dir: dir.to_owned(),
            top,
        })
    }

    fn read(&self, digest: &Digest) -> Result<Vec<u8>> {
        let path = self.dir.join(blob_path(digest));
        let bytes = std::fs::read(&path).map_err(|e| invalid(&path, e))?;
        let actual = Digest::sha256(&bytes);
        if actual != *digest {
            return Err(invalid(&path, format!("has digest {actual}: refused")));
        }
        Ok(bytes)
    }
}

impl Source for LayoutSource {
    fn top(&self) -> Result<Manifest> {
        Manifest::new(
            self.read(&self.top.digest)?,
            Some(self.top.media_type.as_str()),
        )
    }

    fn manifest(&self, digest: &Digest) -> Result<Manifest> {
        Manifest::new(self.read(digest)?, None)
    }

    fn fetch(&self, store: &Store, blob: &Descriptor) -> Result<()> {
        if store.has_blob(&blob.digest) {
            return Ok(());
        }
        let path = self.dir.join(blob_path(&blob.digest));
        let mut file = std::fs::File::open(&path).map_err(|e| invalid(&path, e))?;
        let mut lease = Lease::new(store)?;
        let mut writer = BlobWriter::new(&mut lease)?;
        std::io::copy(&mut file, &mut writer)?;
        writer
            .commit(&lease, Some(&blob.digest))
            .map_err(|e| invalid(&path, e))?;
        Ok(())
    }
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Reads the `docker save` tarball `file` into the store under `lease`
/// (every file a blob, verified against its `blobs/` path when it has
/// one) and returns the manifest of the image `reference` names (or the
/// only one): the archive's own when it is also an OCI layout, else one
/// made from `manifest.json`.
pub(super) fn read_archive(
    store: &Store,
    lease: &mut Lease,
    file: &Path,
    reference: Option<&Reference>,
) -> Result<Manifest> {
    let input = std::fs::File::open(file).map_err(|e| invalid(file, e))?;
    let mut archive = tar::Archive::new(input);
    let mut docs: HashMap<String, Vec<u8>> = HashMap::new();
    let mut blobs: HashMap<String, Digest> = HashMap::new();
    let mut links: Vec<(String, String)> = Vec::new();
    for entry in archive.entries().map_err(|e| invalid(file, e))? {
        let mut entry = entry.map_err(|e| invalid(file, e))?;
        let path = entry
            .path()
            .map_err(|e| invalid(file, e))?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_owned();
        match entry.header().entry_type() {
            tar::EntryType::Regular => {}
            tar::EntryType::Symlink | tar::EntryType::Link => {
                if let Ok(Some(target)) = entry.link_name() {
                    links.push((path, target.to_string_lossy().into_owned()));
                }
                continue;
            }
            _ => continue,
        }
        if ["manifest.json", "index.json"].contains(&path.as_str()) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            docs.insert(path, bytes);
            continue;
        }
        let mut writer = BlobWriter::new(lease)?;
        std::io::copy(&mut entry, &mut writer).map_err(|e| invalid(file, e))?;
        let named = path
            .strip_prefix("blobs/sha256/")
            .and_then(|hex| format!("sha256:{hex}").parse::<Digest>().ok());
        let (digest, _) = writer
            .commit(lease, named.as_ref())
            .map_err(|e| invalid(file, format!("{path}: {e}")))?;
        blobs.insert(path, digest);
    }
    // Legacy archives link repeated layers to their first copy.
    for (path, target) in links {
        let resolved = resolve_link(&path, &target);
        if let Some(d) = blobs.get(&resolved).cloned() {
            blobs.insert(path, d);
        }
    }
    if let Some(index) = docs.get("index.json") {
        let index: ImageIndex =
            serde_json::from_slice(index).map_err(|e| invalid(file, format!("index.json: {e}")))?;
        let entry = pick_entry(&index, None, reference, file)?;
        let bytes = store.read_blob(
            blobs
                .get(&blob_path(&entry.digest))
                .ok_or_else(|| invalid(file, format!("no blob {}", entry.digest)))?,
        )?;
        return Manifest::new(bytes, Some(entry.media_type.as_str()));
    }
    let entries: Vec<DockerEntry> = serde_json::from_slice(
        docs.get("manifest.json")
            .ok_or_else(|| invalid(file, "neither index.json nor manifest.json"))?,
    )
    .map_err(|e| invalid(file, format!("manifest.json: {e}")))?;
    let chosen: Vec<&DockerEntry> = entries
        .iter()
        .filter(|e| match reference {
            None => true,
            Some(r) => {
                let want = r.clone().with_default_tag();
                e.repo_tags.iter().flatten().any(|t| {
                    Reference::parse_normalized(t).is_ok_and(|t| t.with_default_tag() == want)
                })
            }
        })
        .collect();
    let entry = match (chosen.as_slice(), reference) {
        ([one], _) => *one,
        ([], Some(r)) => {
            return Err(Error::NotFound(format!(
                "{}: no image tagged {r}",
                file.display()
            )));
        }
        (many, _) => {
            return Err(invalid(
                file,
                format!("holds {} images; name the one to copy", many.len()),
            ));
        }
    };
    let descriptor = |path: &str, media_type: &str| -> Result<Descriptor> {
        let d = blobs.get(path).ok_or_else(|| {
            invalid(
                file,
                format!("manifest.json names {path}, not in the archive"),
            )
        })?;
        Ok(Descriptor::new(media_type, d.clone(), store.blob_size(d)?))
    };
    let mut layers = Vec::new();
    for path in &entry.layers {
        let d = descriptor(path, OCI_LAYER_TAR)?;
        let mut head = [0u8; 4];
        let n = store.open_blob(&d.digest)?.read(&mut head)?;
        let media_type = match Compression::sniff(&head[..n]) {
            Compression::None => OCI_LAYER_TAR,
            Compression::Gzip => OCI_LAYER_GZIP,
            Compression::Zstd => OCI_LAYER_ZSTD,
        };
        layers.push(Descriptor::new(media_type, d.digest, d.size));
    }
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.into()),
        artifact_type: None,
        config: descriptor(&entry.config, OCI_CONFIG)?,
        layers,
        subject: None,
        annotations: None,
        extra: Default::default(),
    };
    let bytes = serde_json::to_vec(&manifest).expect("plain data");
    Manifest::new(bytes, Some(OCI_MANIFEST))
}

/// `target` of a link at `path`, as a path from the archive root.
fn resolve_link(path: &str, target: &str) -> String {
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    for p in target.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Writes a file atomically: a temp file beside it, then a rename.
fn write_atomic(path: &Path, write: impl FnOnce(&mut std::fs::File) -> Result<()>) -> Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| invalid(path, "not a file name"))?
        .to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| invalid(&tmp, e))?;
        write(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path).map_err(|e| invalid(path, e))
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

/// Writes `set` into the OCI layout `dir` (made when missing): blobs it
/// lacks, the manifests, and an `index.json` entry for the top manifest,
/// named `name` (replacing an entry of that name).
pub(super) fn write_oci(
    store: &Store,
    dir: &Path,
    name: Option<&str>,
    set: &ImageSet,
    progress: &(dyn Fn(CopyEvent) + Sync),
) -> Result<()> {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).map_err(|e| invalid(&blobs, e))?;
    if !dir.join("oci-layout").exists() {
        write_atomic(&dir.join("oci-layout"), |f| Ok(f.write_all(OCI_LAYOUT)?))?;
    }
    let has = |d: &Descriptor| {
        std::fs::metadata(dir.join(blob_path(&d.digest))).is_ok_and(|m| m.len() == d.size)
    };
    if !set.children.is_empty() {
        progress(CopyEvent::Images(set.children.len()));
    }
    for (i, image) in set.images().iter().enumerate() {
        if !set.children.is_empty() {
            progress(CopyEvent::Image(
                image.digest.clone(),
                i + 1,
                set.children.len(),
            ));
        }
        let m = image.parse()?;
        for d in m.layers.iter().chain([&m.config]) {
            if !has(d) {
                let mut from = store.open_blob(&d.digest)?;
                write_atomic(&dir.join(blob_path(&d.digest)), |f| {
                    std::io::copy(&mut from, f)?;
                    Ok(())
                })?;
            }
        }
        report_blobs(image, &|_| false, progress)?;
    }
    progress(CopyEvent::WritingManifest);
    for m in set.children.iter().chain([&set.top]) {
        write_atomic(&dir.join(blob_path(&m.digest)), |f| {
            Ok(f.write_all(&m.bytes)?)
        })?;
    }
    let index_path = dir.join("index.json");
    let mut index = if index_path.exists() {
        read_index(&index_path)?
    } else {
        ImageIndex {
            schema_version: 2,
            media_type: Some(OCI_INDEX.into()),
            artifact_type: None,
            manifests: Vec::new(),
            subject: None,
            annotations: None,
            extra: Default::default(),
        }
    };
    let mut entry = Descriptor::new(
        set.top.media_type.as_str(),
        set.top.digest.clone(),
        set.top.bytes.len() as u64,
    );
    if let Some(n) = name {
        index
            .manifests
            .retain(|d| d.annotation(REF_NAME) != Some(n));
        entry.annotations = Some(BTreeMap::from([(REF_NAME.to_owned(), n.to_owned())]));
    } else {
        index.manifests.retain(|d| d.digest != entry.digest);
    }
    index.manifests.push(entry);
    let bytes = serde_json::to_vec(&index).expect("plain data");
    write_atomic(&index_path, |f| Ok(f.write_all(&bytes)?))
}

/// Writes `image` as a Docker 25+ `docker save` tarball at `file`
/// (replaced atomically), tagged `reference` when given.
pub(super) fn write_archive(
    store: &Store,
    file: &Path,
    reference: Option<&Reference>,
    image: &Manifest,
    progress: &(dyn Fn(CopyEvent) + Sync),
) -> Result<()> {
    let m = image.parse()?;
    report_blobs(image, &|_| false, progress)?;
    progress(CopyEvent::WritingManifest);
    let mut entry = Descriptor::new(
        image.media_type.as_str(),
        image.digest.clone(),
        image.bytes.len() as u64,
    );
    if let Some(r) = reference {
        let r = r.clone().with_default_tag();
        let mut ann = BTreeMap::from([(CONTAINERD_NAME.to_owned(), r.to_string())]);
        if let Some(t) = r.tag() {
            ann.insert(REF_NAME.to_owned(), t.to_owned());
        }
        entry.annotations = Some(ann);
    }
    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(OCI_INDEX.into()),
        artifact_type: None,
        manifests: vec![entry],
        subject: None,
        annotations: None,
        extra: Default::default(),
    };
    let docker = [DockerEntry {
        config: blob_path(&m.config.digest),
        repo_tags: reference.map(|r| vec![r.clone().with_default_tag().familiar_string()]),
        layers: m.layers.iter().map(|l| blob_path(&l.digest)).collect(),
    }];
    write_atomic(file, |f| {
        let mut tar = tar::Builder::new(f);
        let mut add = |path: &str, size: u64, data: &mut dyn Read| -> Result<()> {
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(size);
            h.set_mode(0o644);
            h.set_mtime(0);
            tar.append_data(&mut h, path, data)?;
            Ok(())
        };
        add("oci-layout", OCI_LAYOUT.len() as u64, &mut &OCI_LAYOUT[..])?;
        let mut seen = std::collections::BTreeSet::new();
        for d in m.layers.iter().chain([&m.config]) {
            if seen.insert(d.digest.clone()) {
                let mut blob = store.open_blob(&d.digest)?;
                add(
                    &blob_path(&d.digest),
                    store.blob_size(&d.digest)?,
                    &mut blob,
                )?;
            }
        }
        add(
            &blob_path(&image.digest),
            image.bytes.len() as u64,
            &mut &image.bytes[..],
        )?;
        let index = serde_json::to_vec(&index).expect("plain data");
        add("index.json", index.len() as u64, &mut &index[..])?;
        let docker = serde_json::to_vec(&docker).expect("plain data");
        add("manifest.json", docker.len() as u64, &mut &docker[..])?;
        tar.finish()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::resolve_link;

    #[test]
    fn archive_links_resolve_from_their_directory() {
        assert_eq!(resolve_link("b/layer.tar", "../a/layer.tar"), "a/layer.tar");
        assert_eq!(resolve_link("layer.tar", "./x.tar"), "x.tar");
    }
}
