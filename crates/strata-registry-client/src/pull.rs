//! `pull` into the store.

use std::io::{Read, Write};

use strata_core::{
    Compression, Descriptor, Digest, ImageConfig, ImageIndex, ImageManifest, ManifestKind,
    ManifestProbe, Platform, Raw, Reference,
};
use strata_store::{
    BlobWriter, ExpansionLimit, ImageRecord, LayerScan, Lease, NewImage, Store, scan_layer,
};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::transfer::{Event, in_parallel};

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
            let chosen = pick_platform(&top.bytes, opts.platform.as_ref())?;
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
    fetch(store, client, &reference, &m.config, &|_| {})?;
    download_all(
        store,
        client,
        &reference,
        &m.layers,
        opts.parallel,
        progress,
    )?;

    let mut names = Vec::new();
    if reference.digest().is_none() {
        names.push(reference.clone());
    }
    names.push(reference.with_digest(top.digest.clone()));
    let image = record(
        store,
        &mut lease,
        &manifest.bytes,
        &manifest.media_type,
        &names,
        opts.limit,
    )?;
    let updated = before.as_ref() != Some(&image.id);
    Ok(Pulled {
        digest: top.digest,
        image,
        updated,
    })
}

/// The entry of index `bytes` for `platform` (default: this host's).
pub(crate) fn pick_platform(bytes: &[u8], platform: Option<&Platform>) -> Result<Descriptor> {
    let index: ImageIndex = serde_json::from_slice(bytes)
        .map_err(|e| Error::Invalid(format!("the image index: {e}")))?;
    let platform = platform.cloned().unwrap_or_else(Platform::host);
    index
        .manifests
        .into_iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| p.matches(&platform)))
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no matching manifest for {platform} in the manifest list entries"
            ))
        })
}

/// Records image manifest `bytes`, whose blobs are in the store under
/// `lease`, with `names`: each layer scanned as `load` does (or known),
/// the diff IDs checked against the config, all in one commit.
pub(crate) fn record(
    store: &Store,
    lease: &mut Lease,
    bytes: &[u8],
    media_type: &str,
    names: &[Reference],
    limit: ExpansionLimit,
) -> Result<ImageRecord> {
    let raw: Raw<ImageManifest> = Raw::parse(bytes.to_vec())
        .map_err(|e| Error::Invalid(format!("the image manifest: {e}")))?;
    let m = raw.value();
    let config: Raw<ImageConfig> = Raw::parse(store.read_blob(&m.config.digest)?)
        .map_err(|e| Error::Invalid(format!("the image config: {e}")))?;
    let mut scans = Vec::new();
    for layer in &m.layers {
        scans.push((layer.digest.clone(), scan(store, layer, limit)?));
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
    let manifest_digest = store.put_blob(lease, bytes)?;
    let (image, _) = store.commit_image(
        lease,
        NewImage {
            manifest: Descriptor::new(media_type, manifest_digest, bytes.len() as u64),
            config: &config,
            layers: &scans,
            names,
            parent: None,
        },
    )?;
    Ok(image)
}

pub(crate) fn kind(bytes: &[u8]) -> Result<ManifestKind> {
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
        fetch(store, client, reference, layer, &|n| {
            progress(Event::Progress(d.clone(), n, layer.size))
        })?;
        progress(Event::PullComplete(d.clone()));
        Ok(())
    })
}

/// How often a download cut short is taken up again.
const RESUMES: u32 = 5;

/// Stores blob `blob` unless present, verifying it as it streams in. A
/// download cut short (an error, or the end before `size` bytes) is taken
/// up again up to [`RESUMES`] times with `Range: bytes=<received>-`: a
/// 206 from that offset continues the same file and hash, a 200 starts
/// over. The digest is checked over everything received. `received` is
/// told the byte count as it grows.
pub(crate) fn fetch(
    store: &Store,
    client: &Client,
    reference: &Reference,
    blob: &Descriptor,
    received: &dyn Fn(u64),
) -> Result<()> {
    let digest = &blob.digest;
    if store.has_blob(digest) {
        return Ok(());
    }
    let mut lease = Lease::new(store)?;
    let mut writer = BlobWriter::new(&mut lease)?;
    let mut resumes = 0;
    loop {
        let offset = writer.len();
        let outcome = client.blob(reference, digest, offset).and_then(|mut body| {
            if offset > 0 && !resumes_at(&body, offset) {
                // The registry sends the whole blob again: start over.
                writer = BlobWriter::new(&mut lease)?;
            }
            copy_body(&mut body, &mut writer, received)
        });
        let cut = match outcome {
            Ok(()) if writer.len() >= blob.size => break,
            Ok(()) => format!("the download ended after {} bytes", writer.len()),
            // Only the network's failures are worth another try.
            Err(e @ Error::Http(_)) => e.to_string(),
            Err(e) => return Err(e),
        };
        resumes += 1;
        if resumes > RESUMES {
            return Err(Error::Http(format!(
                "downloading {digest}: {cut}; gave up after {RESUMES} retries"
            )));
        }
        tracing::debug!(%digest, received = writer.len(), %cut, "resuming the download");
        std::thread::sleep(std::time::Duration::from_millis(100 * u64::from(resumes)));
    }
    writer.commit(&lease, Some(digest)).map_err(|e| match e {
        strata_store::StoreError::DigestMismatch { actual, .. } => Error::Invalid(format!(
            "blob {digest} arrived with digest {actual}: refused"
        )),
        e => e.into(),
    })?;
    Ok(())
}

/// Whether `resp` is a 206 whose `Content-Range` starts at `offset`.
fn resumes_at(resp: &reqwest::blocking::Response, offset: u64) -> bool {
    resp.status() == reqwest::StatusCode::PARTIAL_CONTENT
        && resp
            .headers()
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("bytes "))
            .and_then(|v| v.split_once('-'))
            .is_some_and(|(start, _)| start.trim() == offset.to_string())
}

/// Copies `body` into `writer` to its end; a network error is an
/// [`Error::Http`], a local one an [`Error::Io`].
fn copy_body(body: &mut impl Read, writer: &mut BlobWriter, received: &dyn Fn(u64)) -> Result<()> {
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::Http(format!("{e} after {} bytes", writer.len())));
            }
        };
        writer.write_all(&buf[..n])?;
        received(writer.len());
    }
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
    if compression == Compression::None {
        // The blob's digest, checked as it arrived, is the diff ID.
        return Ok(strata_store::scan_verified_tar(
            store.open_blob(&layer.digest)?,
            &layer.digest,
            &layer.digest.to_string(),
        )?);
    }
    Ok(scan_layer(
        store.open_blob(&layer.digest)?,
        compression,
        limit,
        &layer.digest.to_string(),
    )?)
}
