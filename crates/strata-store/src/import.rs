//! `import`: a root filesystem tarball becomes a one-layer image, as with
//! `docker import`.
//!
//! The tarball is stored as the layer blob exactly as given (a gzip or zstd
//! file stays compressed), after the same checks a loaded layer gets.

use std::io::{self, Read};

use strata_core::media_type::{OCI_CONFIG, OCI_MANIFEST};
use strata_core::{
    Compression, ContainerConfig, Descriptor, History, ImageConfig, ImageManifest, Platform, Raw,
    Reference, RootFs, Timestamp,
};

use crate::blobs::BlobWriter;
use crate::error::{Result, StoreError};
use crate::images::{ImageRecord, MovedName, NewImage};
use crate::layer::{scan_entries, scan_layer};
use crate::lease::Lease;
use crate::store::Store;
use crate::stream::{ExpansionLimit, Tee, peek};

/// Settings for [`Store::import`].
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The image's run configuration (from `--change`).
    pub config: Option<ContainerConfig>,
    /// Commit message, shown as the history comment.
    pub message: Option<String>,
    /// The creation time to record.
    pub created: Timestamp,
    /// The platform to record.
    pub platform: Platform,
    /// Names to give the image.
    pub names: Vec<Reference>,
    /// How far compressed input may expand.
    pub limit: ExpansionLimit,
}

/// Compressions `docker import` accepts that we do not read yet.
fn unsupported_compression(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"BZh") {
        Some("bzip2")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some("xz")
    } else {
        None
    }
}

impl Store {
    /// Imports a root filesystem tarball (plain, gzip or zstd).
    pub fn import<R: Read>(
        &self,
        input: R,
        opts: &ImportOptions,
    ) -> Result<(ImageRecord, Vec<MovedName>)> {
        let res = Lease::new(self).and_then(|mut lease| self.import_with(&mut lease, input, opts));
        if res.is_err()
            && let Err(e) = self.gc(false)
        {
            tracing::warn!("cleaning up after a failed import: {e}");
        }
        res
    }

    fn import_with<R: Read>(
        &self,
        lease: &mut Lease,
        mut input: R,
        opts: &ImportOptions,
    ) -> Result<(ImageRecord, Vec<MovedName>)> {
        let mut w = BlobWriter::new(lease)?;
        let head = peek(&mut input, 512)?;
        if head.is_empty() {
            return Err(StoreError::archive("the tarball is empty"));
        }
        if let Some(kind) = unsupported_compression(&head) {
            return Err(StoreError::archive(format!(
                "{kind}-compressed tarballs are not supported yet; use a plain, gzip or zstd tarball"
            )));
        }
        let compression = Compression::sniff(&head);
        let (entries, diff_id) = {
            let mut tee = Tee::new(io::Cursor::new(head).chain(input), &mut w);
            // A plain tar's diff ID is its blob digest: hash it only once.
            let scanned = if compression == Compression::None {
                (scan_entries(&mut tee, "tarball")?, None)
            } else {
                let (e, d) = scan_layer(&mut tee, compression, opts.limit, "tarball")?.split();
                (e, Some(d))
            };
            io::copy(&mut tee, &mut io::sink())?;
            scanned
        };
        let scan = entries.with_diff_id(diff_id.unwrap_or_else(|| w.current_digest()));
        let (layer_digest, layer_size) = w.commit(lease, None)?;
        let created = opts.created.to_string();
        let mut config = ImageConfig {
            created: Some(created.clone()),
            architecture: opts.platform.architecture.clone(),
            os: opts.platform.os.clone(),
            variant: opts.platform.variant.clone(),
            config: Some(opts.config.clone().unwrap_or_default()),
            rootfs: RootFs {
                diff_ids: vec![scan.diff_id.clone()],
                ..RootFs::default()
            },
            history: Some(vec![History {
                created: Some(created),
                comment: opts.message.clone(),
                ..History::default()
            }]),
            ..ImageConfig::default()
        };
        if let Some(m) = &opts.message {
            config.extra.insert("comment".into(), m.clone().into());
        }
        let config = Raw::from_value(config);
        self.put_blob(lease, config.bytes())?;
        let layer = Descriptor::new(
            compression.oci_layer_media_type(),
            layer_digest.clone(),
            layer_size,
        );
        let manifest = Raw::from_value(ImageManifest::oci(
            config.descriptor(OCI_CONFIG),
            vec![layer],
        ));
        self.put_blob(lease, manifest.bytes())?;
        self.commit_image(
            lease,
            NewImage {
                manifest: manifest.descriptor(OCI_MANIFEST),
                config: &config,
                layers: &[(layer_digest, scan)],
                names: &opts.names,
                parent: None,
            },
        )
    }
}
