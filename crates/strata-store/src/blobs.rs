//! Blob ingest and access.
//!
//! A blob is written to a partial file in its lease's ingest directory while
//! being hashed. On commit the digest is checked, the file is fsynced, made
//! read-only and renamed to `blobs-v1/sha256/<hex>`, and the directory is
//! fsynced. A blob is therefore visible only once complete and verified; a
//! crash leaves at most a partial file, which GC removes with its dead lease.

use std::fs::Permissions;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use strata_core::{Digest, Sha256Hasher};

use crate::error::{Result, StoreError};
use crate::layout::sync_dir;
use crate::lease::Lease;
use crate::store::Store;

/// A blob being written. Dropping it without committing removes the file.
pub struct BlobWriter {
    file: std::io::BufWriter<fs_err::File>,
    path: PathBuf,
    hasher: Sha256Hasher,
    committed: bool,
}

impl BlobWriter {
    /// Starts a new partial blob under `lease`.
    pub fn new(lease: &mut Lease) -> Result<BlobWriter> {
        let path = lease.temp_path()?;
        let file = fs_err::File::create(&path)?;
        Ok(BlobWriter {
            file: std::io::BufWriter::with_capacity(1 << 20, file),
            path,
            hasher: Sha256Hasher::new(),
            committed: false,
        })
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.hasher.len()
    }

    /// The digest of what was written so far.
    pub fn current_digest(&self) -> Digest {
        self.hasher.clone().finish()
    }

    /// Everything written so far (for small files that turned out to be
    /// needed as documents).
    pub(crate) fn contents(&mut self) -> Result<Vec<u8>> {
        self.file.flush()?;
        Ok(fs_err::read(&self.path)?)
    }

    /// Flushes and checks what was written against `expected` without
    /// moving it into the store: for callers that keep the bytes elsewhere
    /// (a registry on object storage). The partial file stays at
    /// [`BlobWriter::path`] until the writer is dropped.
    pub fn verify(&mut self, expected: &Digest) -> Result<u64> {
        self.file.flush()?;
        let digest = self.current_digest();
        if digest != *expected {
            return Err(StoreError::DigestMismatch {
                what: format!("blob {expected}"),
                expected: expected.clone(),
                actual: digest,
            });
        }
        Ok(self.hasher.len())
    }

    /// Where the partial file is.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.hasher.is_empty()
    }

    /// Verifies against `expected` (when given) and moves the blob into the
    /// store. Returns its digest and size. If the store already has the
    /// blob, the partial file is simply dropped.
    pub fn commit(mut self, lease: &Lease, expected: Option<&Digest>) -> Result<(Digest, u64)> {
        self.file.flush()?;
        let size = self.hasher.len();
        let digest = std::mem::take(&mut self.hasher).finish();
        if let Some(exp) = expected
            && *exp != digest
        {
            return Err(StoreError::DigestMismatch {
                what: format!("blob {exp}"),
                expected: exp.clone(),
                actual: digest,
            });
        }
        lease.protect(&digest)?;
        let store = lease.store();
        let target = store.layout().blob_path(&digest);
        if !target.exists() {
            let file = self.file.get_ref();
            file.sync_all()?;
            file.set_permissions(Permissions::from_mode(0o444))?;
            fs_err::rename(&self.path, &target)?;
            sync_dir(&store.layout().blobs_dir())?;
        }
        self.committed = true;
        Ok((digest, size))
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.committed || self.path.exists() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Store {
    /// Whether the blob is present.
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.layout().blob_path(digest).exists()
    }

    /// Opens a blob for reading.
    pub fn open_blob(&self, digest: &Digest) -> Result<fs_err::File> {
        match fs_err::File::open(self.layout().blob_path(digest)) {
            Ok(f) => Ok(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::BlobNotFound(digest.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A layer blob as an uncompressed tar stream; the compression (none,
    /// gzip, zstd) is sniffed from its first bytes, so a mislabelled media
    /// type does not matter.
    pub fn open_layer(&self, digest: &Digest) -> Result<Box<dyn io::Read>> {
        let mut f = io::BufReader::with_capacity(1 << 20, self.open_blob(digest)?);
        let head = io::BufRead::fill_buf(&mut f)?;
        Ok(match strata_core::Compression::sniff(head) {
            strata_core::Compression::None => Box::new(f),
            strata_core::Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(f)),
            strata_core::Compression::Zstd => {
                Box::new(zstd::stream::read::Decoder::with_buffer(f)?)
            }
        })
    }

    /// Reads a whole (small) blob.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        io::Read::read_to_end(&mut self.open_blob(digest)?, &mut buf)?;
        Ok(buf)
    }

    /// The size of a blob on disk.
    pub fn blob_size(&self, digest: &Digest) -> Result<u64> {
        Ok(self.open_blob(digest)?.metadata()?.len())
    }

    /// Stores bytes we already hold in memory.
    pub fn put_blob(&self, lease: &mut Lease, data: &[u8]) -> Result<Digest> {
        let digest = Digest::sha256(data);
        lease.protect(&digest)?;
        if self.has_blob(&digest) {
            return Ok(digest);
        }
        let mut w = BlobWriter::new(lease)?;
        w.write_all(data)?;
        Ok(w.commit(lease, Some(&digest))?.0)
    }
}
