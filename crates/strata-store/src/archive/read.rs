//! Reading an archive tarball in one pass into memory and partial blobs.
//!
//! `manifest.json` usually comes last and stdin cannot seek, so every file
//! is kept until the whole archive has been read: small ones in memory,
//! large ones as partial blobs of the operation's lease (hashed as they
//! stream in), and `blobs/sha256/<hex>` files the store already has only
//! verified. Large files are also scanned as layers on the way through, so
//! a layer is read exactly once. Symlinks and hard links are kept as aliases
//! inside the archive; paths or links that leave it are refused.

use std::collections::BTreeMap;
use std::io::{self, Read};

use strata_core::{Compression, Digest};

use crate::blobs::BlobWriter;
use crate::error::{Result, StoreError};
use crate::layer::{EntryScan, LayerScan, clean, scan_entries, scan_layer};
use crate::lease::Lease;
use crate::store::Store;
use crate::stream::{self, ExpansionLimit, HashSink, Tee, peek};

const MEMORY_FILE_MAX: u64 = 1 << 20;
const MEMORY_TOTAL_MAX: u64 = 256 << 20;
const MAX_LINK_HOPS: usize = 40;

/// Where a file's bytes are.
pub(crate) enum Body {
    /// Held in memory.
    Memory(Vec<u8>),
    /// A partial blob of the lease.
    Spilled(BlobWriter),
    /// Already in the store (or committed by this load).
    Stored,
}

/// One regular file of the archive.
pub(crate) struct ArchiveFile {
    pub(crate) digest: Digest,
    pub(crate) size: u64,
    pub(crate) body: Body,
    /// The layer scan made while streaming, for large files.
    pub(crate) scan: Option<std::result::Result<(Compression, LayerScan), String>>,
}

/// Everything an archive holds.
#[derive(Default)]
pub(crate) struct Contents {
    pub(crate) files: BTreeMap<String, ArchiveFile>,
    links: BTreeMap<String, String>,
}

fn tar_error(e: io::Error) -> StoreError {
    if is_truncation(&e) {
        return StoreError::archive("the archive is truncated");
    }
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::Other => {
            StoreError::archive(e.to_string())
        }
        _ => StoreError::Io(e),
    }
}

/// The tar crate reports a short stream as `UnexpectedEof` or, in places,
/// as a plain error whose text says so.
pub(crate) fn is_truncation(e: &io::Error) -> bool {
    let msg = e.to_string();
    e.kind() == io::ErrorKind::UnexpectedEof
        || msg.contains("unexpected EOF")
        || msg.contains("failed to read entire block")
}

/// `blobs/sha256/<hex>` names its digest.
fn digest_of_blob_path(path: &str) -> Option<Digest> {
    path.strip_prefix("blobs/sha256/")
        .and_then(|h| Digest::from_sha256_hex(h).ok())
}

/// A layer scan made while a file streamed past. For an uncompressed
/// layer the diff ID is the file's own digest, known only once the stream
/// is drained, so it is filled in then.
type Speculative = std::result::Result<(Compression, EntryScan, Option<Digest>), String>;

/// Scans a stream as a layer if it looks like one, leaving the stream
/// partly read (the caller drains it).
fn speculative_scan<R: Read>(r: &mut R, limit: ExpansionLimit, name: &str) -> Speculative {
    let head = peek(r, 512).map_err(|e| e.to_string())?;
    if matches!(head.first(), Some(b'{' | b'[')) {
        return Err("not a layer (JSON)".to_owned());
    }
    let compression = Compression::sniff(&head);
    let whole = io::Cursor::new(head).chain(r);
    let reason = |e: StoreError| match e {
        StoreError::InvalidLayer { reason, .. } => reason,
        other => other.to_string(),
    };
    if compression == Compression::None {
        let scan = scan_entries(whole, name).map_err(reason)?;
        return Ok((compression, scan, None));
    }
    let (scan, diff_id) = scan_layer(whole, compression, limit, name)
        .map_err(reason)?
        .split();
    Ok((compression, scan, Some(diff_id)))
}

/// Completes a speculative scan once the file's digest is known.
fn finish_scan(
    s: Speculative,
    digest: &Digest,
) -> std::result::Result<(Compression, LayerScan), String> {
    s.map(|(c, scan, diff)| (c, scan.with_diff_id(diff.unwrap_or_else(|| digest.clone()))))
}

impl Contents {
    /// Reads the whole archive (plain, gzip or zstd).
    pub(crate) fn read<R: Read>(
        store: &Store,
        lease: &mut Lease,
        input: R,
        limit: ExpansionLimit,
    ) -> Result<Contents> {
        let (_, reader) = stream::decompress(input, limit).map_err(tar_error)?;
        let mut archive = tar::Archive::new(reader);
        let mut contents = Contents::default();
        let mut in_memory = 0u64;
        for entry in archive.entries().map_err(tar_error)? {
            let mut entry = entry.map_err(tar_error)?;
            let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            // `docker save` writes relative names only. An absolute name is
            // refused rather than quietly re-rooted: the archive is not
            // what it claims to be. (Inside layers, absolute names are
            // normal and resolve under the root; see `layer.rs`.)
            if raw_path.starts_with('/') {
                return Err(StoreError::archive(format!(
                    "entry {raw_path:?} has an absolute path"
                )));
            }
            let comps = clean(&raw_path).ok_or_else(|| {
                StoreError::archive(format!("entry {raw_path:?} is outside of the archive"))
            })?;
            let path = comps.join("/");
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default();
                let base = if kind.is_symlink() {
                    comps[..comps.len().saturating_sub(1)].join("/")
                } else {
                    String::new()
                };
                let joined = format!("{base}/{target}");
                let resolved =
                    clean(&joined).filter(|_| !(kind.is_symlink() && target.starts_with('/')));
                let Some(resolved) = resolved else {
                    return Err(StoreError::archive(format!(
                        "link {raw_path:?} -> {target:?} points outside of the archive"
                    )));
                };
                contents.links.insert(path, resolved.join("/"));
                continue;
            }
            if !(kind.is_file() || kind.is_contiguous()) {
                continue;
            }
            let size = entry.size();
            let known = digest_of_blob_path(&path);
            if let Some(d) = &known {
                lease.protect(d)?;
            }
            if let Some(d) = known.filter(|d| store.has_blob(d)) {
                let needs_scan = store.layer_info(&d)?.is_none();
                let mut tee = Tee::new(&mut entry, HashSink::default());
                let scan = needs_scan.then(|| speculative_scan(&mut tee, limit, &path));
                io::copy(&mut tee, &mut io::sink()).map_err(tar_error)?;
                let got = tee.sink.0.finish();
                let scan = scan.map(|s| finish_scan(s, &got));
                if got != d {
                    return Err(StoreError::DigestMismatch {
                        what: path,
                        expected: d,
                        actual: got,
                    });
                }
                let file = ArchiveFile {
                    digest: d,
                    size,
                    body: Body::Stored,
                    scan,
                };
                contents.files.insert(path, file);
                continue;
            }
            if size <= MEMORY_FILE_MAX && in_memory + size <= MEMORY_TOTAL_MAX {
                let mut buf = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut buf).map_err(tar_error)?;
                in_memory += size;
                let file = ArchiveFile {
                    digest: Digest::sha256(&buf),
                    size,
                    body: Body::Memory(buf),
                    scan: None,
                };
                contents.files.insert(path, file);
                continue;
            }
            let mut w = BlobWriter::new(lease)?;
            let scan = {
                let mut tee = Tee::new(&mut entry, &mut w);
                let scan = speculative_scan(&mut tee, limit, &path);
                io::copy(&mut tee, &mut io::sink()).map_err(tar_error)?;
                scan
            };
            let digest = w.current_digest();
            let file = ArchiveFile {
                scan: Some(finish_scan(scan, &digest)),
                digest,
                size,
                body: Body::Spilled(w),
            };
            contents.files.insert(path, file);
        }
        // Whatever follows the end-of-archive marker is read too, so a
        // decompression error or bomb at the very end is not missed.
        let mut rest = archive.into_inner();
        io::copy(&mut rest, &mut io::sink()).map_err(tar_error)?;
        Ok(contents)
    }

    /// The real path of `path` after following links inside the archive.
    pub(crate) fn resolve(&self, path: &str) -> Result<String> {
        let mut p = clean(path)
            .ok_or_else(|| StoreError::archive(format!("path {path:?} is outside of the archive")))?
            .join("/");
        for _ in 0..MAX_LINK_HOPS {
            if self.files.contains_key(&p) {
                return Ok(p);
            }
            match self.links.get(&p) {
                Some(t) => p = t.clone(),
                None => {
                    return Err(StoreError::archive(format!(
                        "{path:?} is referenced but not in the archive"
                    )));
                }
            }
        }
        Err(StoreError::archive(format!(
            "too many levels of links at {path:?}"
        )))
    }

    /// Whether `path` names a file (after links).
    pub(crate) fn has(&self, path: &str) -> bool {
        self.resolve(path).is_ok()
    }

    /// A file after following links.
    pub(crate) fn file(&self, path: &str) -> Result<&ArchiveFile> {
        let p = self.resolve(path)?;
        Ok(&self.files[&p])
    }

    /// The bytes of a (small) file.
    pub(crate) fn bytes(&mut self, store: &Store, path: &str) -> Result<Vec<u8>> {
        let p = self.resolve(path)?;
        let f = self.files.get_mut(&p).expect("resolved");
        match &mut f.body {
            Body::Memory(b) => Ok(b.clone()),
            Body::Spilled(w) => w.contents(),
            Body::Stored => store.read_blob(&f.digest),
        }
    }

    /// Scans a file as a layer compressed as `expected` (when known),
    /// reusing the scan made while streaming or the store's layer record.
    pub(crate) fn layer(
        &mut self,
        store: &Store,
        path: &str,
        expected: Option<Compression>,
        limit: ExpansionLimit,
    ) -> Result<(Compression, LayerScan)> {
        let p = self.resolve(path)?;
        let f = self.files.get_mut(&p).expect("resolved");
        let (compression, scan) = match (&f.scan, &f.body) {
            (Some(Ok(s)), _) => s.clone(),
            (Some(Err(reason)), _) => {
                return Err(StoreError::InvalidLayer {
                    layer: path.to_owned(),
                    reason: reason.clone(),
                });
            }
            (None, Body::Memory(b)) => {
                let c = Compression::sniff(b);
                (c, scan_layer(&b[..], c, limit, path)?)
            }
            (None, Body::Stored) => match store.layer_info(&f.digest)? {
                Some(info) => {
                    let mut f = store.open_blob(&f.digest)?;
                    let c = Compression::sniff(&peek(&mut f, 4)?);
                    let scan = LayerScan {
                        diff_id: info.diff_id,
                        tar_size: info.tar_size,
                        unpacked_size: info.unpacked_size,
                        entries: 0,
                    };
                    (c, scan)
                }
                None => {
                    let mut blob = store.open_blob(&f.digest)?;
                    let c = Compression::sniff(&peek(&mut blob, 4)?);
                    (c, scan_layer(store.open_blob(&f.digest)?, c, limit, path)?)
                }
            },
            (None, Body::Spilled(_)) => unreachable!("spilled files are always scanned"),
        };
        if let Some(exp) = expected
            && exp != compression
        {
            return Err(StoreError::InvalidLayer {
                layer: path.to_owned(),
                reason: format!(
                    "the media type says {exp:?} compression but the data is {compression:?}"
                ),
            });
        }
        f.scan = Some(Ok((compression, scan.clone())));
        Ok((compression, scan))
    }

    /// Moves a file into the store as a blob (once; later calls are no-ops).
    pub(crate) fn commit(
        &mut self,
        store: &Store,
        lease: &mut Lease,
        path: &str,
    ) -> Result<Digest> {
        let p = self.resolve(path)?;
        let f = self.files.get_mut(&p).expect("resolved");
        match std::mem::replace(&mut f.body, Body::Stored) {
            Body::Memory(b) => {
                store.put_blob(lease, &b)?;
            }
            Body::Spilled(w) => {
                w.commit(lease, Some(&f.digest))?;
            }
            Body::Stored => {}
        }
        Ok(f.digest.clone())
    }
}
