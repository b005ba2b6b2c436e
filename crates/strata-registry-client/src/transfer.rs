//! `pull` into the store and `push` from it.

use std::io::{Read, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use strata_core::{
    Compression, Descriptor, Digest, ImageConfig, ImageIndex, ImageManifest, ManifestKind,
    ManifestProbe, Platform, Raw, Reference,
};
use strata_store::{
    BlobWriter, ExpansionLimit, ImageRecord, LayerScan, Lease, NewImage, Store, scan_layer,
};

use crate::client::Client;
use crate::error::{Error, Result};

/// What a transfer reports as it goes (the CLI prints Docker's lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Pull: the layer is already in the store.
    AlreadyExists(Digest),
    /// Pull: the layer's download started.
    Downloading(Digest),
    /// Pull: the layer is stored and verified.
    PullComplete(Digest),
    /// Push: the registry has the blob already.
    LayerAlreadyExists(Digest),
    /// Push: the blob's upload started.
    Pushing(Digest),
    /// Push: the blob is uploaded.
    Pushed(Digest),
}

/// `pull`'s settings.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The platform to take from an index (default: this host's).
    pub platform: Option<Platform>,
    /// Downloads at once.
    pub parallel: usize,
    /// How far compressed layers may expand.
    pub limit: ExpansionLimit,
}

impl Default for PullOptions {
    fn default() -> PullOptions {
        PullOptions {
            platform: None,
            parallel: 3,
            limit: ExpansionLimit::default(),
        }
    }
}

/// What a pull did.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The digest Docker prints: the index's for a multi-platform image,
    /// else the manifest's.
    pub digest: Digest,
    /// The stored image.
    pub image: ImageRecord,
    /// False when the name already pointed at this image ("Image is up
    /// to date").
    pub updated: bool,
}

/// Pulls `reference` (a tag, default `latest`, or a digest) into
/// `store`: resolves it, picks the platform from an index, downloads
/// what the store lacks (in parallel, each blob verified against its
/// digest and each layer checked as the store's `load` checks it), and
/// points the tag and the repository digest at the image. Nothing is
/// recorded unless everything arrived intact.
pub fn pull(
    store: &Store,
    client: &Client,
    reference: &Reference,
    opts: &PullOptions,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<Pulled> {
    let reference = reference.clone().with_default_tag();
    let wanted = match (reference.digest(), reference.tag()) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.to_owned(),
        (None, None) => "latest".to_owned(),
    };
    let top = client.manifest(&reference, &wanted)?;
    let manifest = match kind(&top.bytes)? {
        ManifestKind::Manifest => top.clone(),
        ManifestKind::Index => {
            let index: ImageIndex = serde_json::from_slice(&top.bytes)
                .map_err(|e| Error::Invalid(format!("the image index: {e}")))?;
            let platform = opts.platform.clone().unwrap_or_else(Platform::host);
            let chosen = index
                .manifests
                .iter()
                .find(|d| d.platform.as_ref().is_some_and(|p| p.matches(&platform)))
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "no matching manifest for {platform} in the manifest list entries"
                    ))
                })?;
            client.manifest(&reference, &chosen.digest.to_string())?
        }
    };
    let raw: Raw<ImageManifest> = Raw::parse(manifest.bytes.clone())
        .map_err(|e| Error::Invalid(format!("the image manifest: {e}")))?;
    let m = raw.value();

    let mut lease = Lease::new(store)?;
    for d in std::iter::once(&m.config.digest).chain(m.layers.iter().map(|l| &l.digest)) {
        lease.protect(d)?;
    }
    let before = store.lookup_name(&reference)?;

    // Config first (small), then the layers in parallel.
    fetch(store, client, &reference, &m.config.digest)?;
    let config: Raw<ImageConfig> = Raw::parse(store.read_blob(&m.config.digest)?)
        .map_err(|e| Error::Invalid(format!("the image config: {e}")))?;
    download_all(
        store,
        client,
        &reference,
        &m.layers,
        opts.parallel,
        progress,
    )?;

    let mut scans = Vec::new();
    for layer in &m.layers {
        scans.push((layer.digest.clone(), scan(store, layer, opts.limit)?));
    }
    let diff_ids = &config.value().rootfs.diff_ids;
    if diff_ids.len() != scans.len()
        || diff_ids
            .iter()
            .zip(&scans)
            .any(|(want, (_, s))| *want != s.diff_id)
    {
        return Err(Error::Invalid(
            "the layers do not match the config's diff IDs".into(),
        ));
    }
    let manifest_digest = store.put_blob(&mut lease, &manifest.bytes)?;
    let mut names = Vec::new();
    if reference.digest().is_none() {
        names.push(reference.clone());
    }
    names.push(reference.with_digest(top.digest.clone()));
    let (image, _) = store.commit_image(
        &lease,
        NewImage {
            manifest: Descriptor::new(
                manifest.media_type.as_str(),
                manifest_digest,
                manifest.bytes.len() as u64,
            ),
            config: &config,
            layers: &scans,
            names: &names,
            parent: None,
        },
    )?;
    let updated = before.as_ref() != Some(&image.id);
    Ok(Pulled {
        digest: top.digest,
        image,
        updated,
    })
}

fn kind(bytes: &[u8]) -> Result<ManifestKind> {
    let probe: ManifestProbe = serde_json::from_slice(bytes)
        .map_err(|e| Error::Invalid(format!("the manifest is not JSON: {e}")))?;
    probe.kind().ok_or_else(|| {
        Error::Invalid("unsupported manifest (schema 1 or an unknown media type)".into())
    })
}

/// Downloads the layers the store lacks, `parallel` at a time.
fn download_all(
    store: &Store,
    client: &Client,
    reference: &Reference,
    layers: &[Descriptor],
    parallel: usize,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<()> {
    in_parallel(layers, parallel, |_, layer| {
        let d = &layer.digest;
        if store.has_blob(d) {
            progress(Event::AlreadyExists(d.clone()));
            return Ok(());
        }
        progress(Event::Downloading(d.clone()));
        fetch(store, client, reference, d)?;
        progress(Event::PullComplete(d.clone()));
        Ok(())
    })
}

/// Runs `work` on every item, `parallel` threads at a time; stops taking
/// new items after the first error, which it returns.
fn in_parallel<T: Sync>(
    items: &[T],
    parallel: usize,
    work: impl Fn(usize, &T) -> Result<()> + Sync,
) -> Result<()> {
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { return };
                    if failed.lock().expect("failure slot").is_some() {
                        return;
                    }
                    if let Err(e) = work(i, item) {
                        failed.lock().expect("failure slot").get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    match failed.into_inner().expect("failure slot") {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Stores blob `digest` unless present, verifying it as it streams in.
fn fetch(store: &Store, client: &Client, reference: &Reference, digest: &Digest) -> Result<()> {
    if store.has_blob(digest) {
        return Ok(());
    }
    let mut lease = Lease::new(store)?;
    let mut body = client.blob(reference, digest)?;
    let mut writer = BlobWriter::new(&mut lease)?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::Http(format!(
                    "downloading {digest}: {e} after {} bytes",
                    writer.len()
                )));
            }
        };
        writer.write_all(&buf[..n])?;
    }
    writer.commit(&lease, Some(digest)).map_err(|e| match e {
        strata_store::StoreError::DigestMismatch { actual, .. } => Error::Invalid(format!(
            "blob {digest} arrived with digest {actual}: refused"
        )),
        e => e.into(),
    })?;
    Ok(())
}

/// What the store knows of a layer, or a fresh scan of its blob.
fn scan(store: &Store, layer: &Descriptor, limit: ExpansionLimit) -> Result<LayerScan> {
    if let Some(info) = store.layer_info(&layer.digest)? {
        return Ok(LayerScan {
            diff_id: info.diff_id,
            tar_size: info.tar_size,
            unpacked_size: info.unpacked_size,
            entries: 0,
        });
    }
    let compression = match layer.media_type.layer_compression() {
        Some(c) => c,
        None => {
            let mut head = [0u8; 4];
            let n = store.open_blob(&layer.digest)?.read(&mut head)?;
            Compression::sniff(&head[..n])
        }
    };
    Ok(scan_layer(
        store.open_blob(&layer.digest)?,
        compression,
        limit,
        &layer.digest.to_string(),
    )?)
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The tag (or digest) the manifest was put under.
    pub reference: String,
    /// The manifest digest.
    pub digest: Digest,
    /// The manifest size.
    pub size: u64,
}

/// Pushes local image `image` as `target`: each blob the registry lacks
/// (asked with HEAD) is uploaded, `parallel` at a time, then the manifest
/// goes up byte for byte as stored, so its digest is kept.
pub fn push(
    store: &Store,
    client: &Client,
    image: &ImageRecord,
    target: &Reference,
    parallel: usize,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<Pushed> {
    let raw = store.manifest(image)?;
    let m = raw.value();
    let mut blobs: Vec<Descriptor> = m.layers.clone();
    blobs.push(m.config.clone());
    let layers = blobs.len() - 1;
    in_parallel(&blobs, parallel, |i, blob| {
        let d = &blob.digest;
        let is_layer = i < layers;
        if client.has_blob(target, d, "pull,push")? {
            if is_layer {
                progress(Event::LayerAlreadyExists(d.clone()));
            }
            return Ok(());
        }
        if is_layer {
            progress(Event::Pushing(d.clone()));
        }
        let file = store.open_blob(d)?.into_parts().0;
        client.upload_blob(target, d, store.blob_size(d)?, file)?;
        if is_layer {
            progress(Event::Pushed(d.clone()));
        }
        Ok(())
    })?;
    let reference = match (target.tag(), target.digest()) {
        (Some(t), _) => t.to_owned(),
        (None, Some(d)) => d.to_string(),
        (None, None) => "latest".to_owned(),
    };
    let bytes = raw.bytes().to_vec();
    let size = bytes.len() as u64;
    let digest = client.put_manifest(
        target,
        &reference,
        bytes,
        image.manifest.media_type.as_str(),
    )?;
    Ok(Pushed {
        reference,
        digest,
        size,
    })
}
