//! Writing a new layer into the store: a deterministic tar (see
//! `strata_snapshot::LayerWriter`) streamed into a blob, uncompressed, so
//! its digest is its diff ID. Docker's image size is counted on the way.

use std::io::Read;

use strata_core::Digest;
use strata_snapshot::{LayerWriter, Meta, TarOptions};
use strata_store::{BlobWriter, LayerScan, Lease};

use crate::error::Result;
use crate::state::{LayerRef, built_layer};

/// A layer being written.
pub(crate) struct NewLayer {
    tar: LayerWriter<BlobWriter>,
    unpacked: u64,
    entries: u64,
}

impl NewLayer {
    pub(crate) fn new(lease: &mut Lease, epoch: i64) -> Result<NewLayer> {
        Ok(NewLayer {
            tar: LayerWriter::new(BlobWriter::new(lease)?, TarOptions { epoch }),
            unpacked: 0,
            entries: 0,
        })
    }

    pub(crate) fn dir(&mut self, path: &str, meta: &Meta) -> Result<()> {
        self.entries += 1;
        Ok(self.tar.dir(path, meta)?)
    }

    pub(crate) fn file(
        &mut self,
        path: &str,
        meta: &Meta,
        size: u64,
        data: &mut dyn Read,
    ) -> Result<()> {
        self.entries += 1;
        self.unpacked += size;
        Ok(self.tar.file(path, meta, size, data)?)
    }

    pub(crate) fn symlink(&mut self, path: &str, target: &str, meta: &Meta) -> Result<()> {
        self.entries += 1;
        self.unpacked += target.len() as u64;
        Ok(self.tar.symlink(path, target, meta)?)
    }

    pub(crate) fn hardlink(&mut self, path: &str, target: &str) -> Result<()> {
        self.entries += 1;
        Ok(self.tar.hardlink(path, target)?)
    }

    /// Stores the blob; returns the layer and what the store records of it.
    pub(crate) fn finish(self, lease: &Lease) -> Result<(LayerRef, LayerScan)> {
        let blob = self.tar.finish()?;
        let (digest, size) = blob.commit(lease, None)?;
        Ok(layer_from(digest, size, self.unpacked, self.entries))
    }
}

/// The layer record of an uncompressed blob we wrote.
pub(crate) fn layer_from(
    digest: Digest,
    size: u64,
    unpacked: u64,
    entries: u64,
) -> (LayerRef, LayerScan) {
    let scan = LayerScan {
        diff_id: digest.clone(),
        tar_size: size,
        unpacked_size: unpacked,
        entries,
    };
    (built_layer(digest, size), scan)
}
