//! `push` from the store.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use strata_core::{Descriptor, Digest, Reference};
use strata_store::{ImageRecord, Store};

use crate::client::Client;
use crate::error::Result;
use crate::transfer::{Event, in_parallel};
use crate::upload::{UploadOptions, Uploaded};

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

/// `push`'s settings.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Uploads at once.
    pub parallel: usize,
    /// Upload each blob in `PATCH` chunks of this many bytes (None: in
    /// one `PUT`).
    pub chunk_size: Option<u64>,
}

impl Default for PushOptions {
    fn default() -> PushOptions {
        PushOptions {
            parallel: 5,
            chunk_size: None,
        }
    }
}

/// Pushes local image `image` as `target`: each blob the registry lacks
/// (asked with HEAD) is mounted from another repository of the same
/// registry when the store knows one holding it, else uploaded, `parallel`
/// at a time; then the manifest goes up byte for byte as stored, so its
/// digest is kept, and the store records the repository digest.
pub fn push(
    store: &Store,
    client: &Client,
    image: &ImageRecord,
    target: &Reference,
    opts: &PushOptions,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<Pushed> {
    let raw = store.manifest(image)?;
    let m = raw.value();
    let mut blobs: Vec<Descriptor> = m.layers.clone();
    blobs.push(m.config.clone());
    let layers = blobs.len() - 1;
    let sources = mount_sources(store, target)?;
    in_parallel(&blobs, opts.parallel, |i, blob| {
        let d = &blob.digest;
        let is_layer = i < layers;
        let report = |e: Event| {
            if is_layer {
                progress(e)
            }
        };
        if client.has_blob(target, d, "pull,push")? {
            report(Event::LayerAlreadyExists(d.clone()));
            return Ok(());
        }
        report(Event::Pushing(d.clone()));
        let upload = UploadOptions {
            mount_from: sources.get(d).cloned(),
            chunk_size: opts.chunk_size,
        };
        let size = store.blob_size(d)?;
        let file = store.open_blob(d)?.into_parts().0;
        let sent = Arc::new(AtomicU64::new(0));
        let body = Counted {
            inner: file,
            sent: sent.clone(),
        };
        // The body must be 'static for reqwest: a watcher reports its count
        // every 100 ms and stops the moment the upload returns (the sender
        // is dropped), so a small blob does not wait out a tick.
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let uploaded = std::thread::scope(|s| {
            if is_layer {
                let sent = &sent;
                let progress = &progress;
                s.spawn(move || {
                    let mut last = 0;
                    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                        stopped.recv_timeout(Duration::from_millis(100))
                    {
                        let now = sent.load(Ordering::SeqCst);
                        if now != last {
                            progress(Event::Progress(d.clone(), now, size));
                            last = now;
                        }
                    }
                });
            }
            let res = client.upload_blob(target, d, size, body, &upload);
            drop(stop);
            res
        })?;
        match uploaded {
            Uploaded::Mounted(from) => report(Event::Mounted(d.clone(), from)),
            Uploaded::Sent => report(Event::Pushed(d.clone())),
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
    // As Docker: the pushed image now has this repository digest.
    store.set_name(&target.with_digest(digest.clone()), &image.id)?;
    Ok(Pushed {
        reference,
        digest,
        size,
    })
}

/// A reader that counts what was read from it.
struct Counted<R> {
    inner: R,
    sent: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sent.fetch_add(n as u64, Ordering::SeqCst);
        Ok(n)
    }
}

/// For each blob of a local image named in another repository of
/// `target`'s registry: that repository's path (a blob the registry may
/// mount instead of receiving it again). Digest names come first, as a
/// repository digest records a push or pull that really happened.
fn mount_sources(store: &Store, target: &Reference) -> Result<HashMap<Digest, String>> {
    let mut names: Vec<_> = store
        .names()?
        .into_iter()
        .filter(|n| n.reference.domain() == target.domain() && n.reference.path() != target.path())
        .collect();
    names.sort_by_key(|n| n.is_tag());
    let mut sources = HashMap::new();
    let mut seen = HashSet::new();
    for n in names {
        if !seen.insert((n.image.clone(), n.reference.path().to_owned())) {
            continue;
        }
        let Some(image) = store.image(&n.image)? else {
            continue;
        };
        let raw = store.manifest(&image)?;
        let m = raw.value();
        for d in m.layers.iter().chain([&m.config]) {
            sources
                .entry(d.digest.clone())
                .or_insert_with(|| n.reference.path().to_owned());
        }
    }
    Ok(sources)
}
