//! `commit`: a container's writable layer as a new layer on top of its
//! image, with the container's configuration, as a new image.

use strata_core::{
    ContainerConfig, Descriptor, History, ImageConfig, ImageManifest, Raw, Reference, media_type,
};
use strata_snapshot::TarOptions;
use strata_store::{BlobWriter, ImageRecord, LayerScan, Lease, NewImage, Store};

use crate::error::Result;
use crate::model::Definition;
use crate::rootfs::ImageParts;

/// `docker commit`'s options.
#[derive(Clone, Debug, Default)]
pub struct CommitOptions {
    /// `REPOSITORY[:TAG]`.
    pub reference: Option<Reference>,
    /// `-a`.
    pub author: Option<String>,
    /// `-m`.
    pub message: Option<String>,
}

/// The image config `commit` starts from: the container's, in image terms.
pub fn container_config(def: &Definition) -> ContainerConfig {
    let c = &def.config;
    ContainerConfig {
        user: Some(c.user.clone()).filter(|u| !u.is_empty()),
        exposed_ports: c.exposed_ports.clone(),
        env: Some(c.env.clone()).filter(|e| !e.is_empty()),
        entrypoint: c.entrypoint.clone(),
        cmd: c.cmd.clone(),
        volumes: c.volumes.clone(),
        working_dir: Some(c.working_dir.clone()).filter(|w| !w.is_empty()),
        labels: Some(c.labels.clone()).filter(|l| !l.is_empty()),
        stop_signal: c.stop_signal.clone(),
        on_build: c.on_build.clone(),
        ..ContainerConfig::default()
    }
}

/// Commits container `id` (of image `parts`, with writable layer
/// `upper`) with image config `config`; returns the new image.
pub fn commit(
    store: &Store,
    id: &str,
    image: &ImageParts,
    upper: &std::path::Path,
    def: &Definition,
    config: ContainerConfig,
    opts: &CommitOptions,
) -> Result<ImageRecord> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let created = strata_core::Timestamp::from_unix(now.as_secs() as i64, now.subsec_nanos());
    let mut lease = Lease::new(store)?;
    let mut blob = BlobWriter::new(&mut lease)?;
    let stats = strata_snapshot::diff_upper(
        upper,
        &mut blob,
        &TarOptions {
            epoch: now.as_secs() as i64,
        },
    )?;
    let (layer, size) = blob.commit(&lease, None)?;
    let mut new: ImageConfig = image.config.value().clone();
    new.created = Some(created.to_string());
    new.author = opts.author.clone().or(new.author);
    new.config = Some(config);
    new.rootfs.diff_ids.push(layer.clone());
    new.history.get_or_insert_with(Vec::new).push(History {
        created: Some(created.to_string()),
        created_by: Some(def.args().join(" ")),
        author: opts.author.clone(),
        comment: opts.message.clone(),
        ..History::default()
    });
    new.extra.remove("container");
    new.extra.remove("container_config");
    let config = Raw::from_value(new);
    let mut layers: Vec<Descriptor> = image.manifest.layers.clone();
    layers.push(Descriptor::new(
        media_type::OCI_LAYER_TAR,
        layer.clone(),
        size,
    ));
    let manifest = Raw::from_value(ImageManifest::oci(
        config.descriptor(media_type::OCI_CONFIG),
        layers,
    ));
    store.put_blob(&mut lease, config.bytes())?;
    store.put_blob(&mut lease, manifest.bytes())?;
    let mut scans = Vec::new();
    for l in &image.manifest.layers {
        lease.protect(&l.digest)?;
        let info = store.layer_info(&l.digest)?;
        scans.push((
            l.digest.clone(),
            LayerScan {
                diff_id: info
                    .as_ref()
                    .map_or_else(|| l.digest.clone(), |i| i.diff_id.clone()),
                tar_size: l.size,
                unpacked_size: info.map_or(0, |i| i.unpacked_size),
                entries: 0,
            },
        ));
    }
    scans.push((
        layer.clone(),
        LayerScan {
            diff_id: layer,
            tar_size: size,
            unpacked_size: stats.unpacked_size,
            entries: stats.entries,
        },
    ));
    let names: Vec<Reference> = opts.reference.iter().cloned().collect();
    let (rec, _) = store.commit_image(
        &lease,
        NewImage {
            manifest: manifest.descriptor(media_type::OCI_MANIFEST),
            config: &config,
            layers: &scans,
            names: &names,
            parent: Some(image.config.digest().clone()),
        },
    )?;
    tracing::debug!(container = id, image = %rec.id, "committed");
    Ok(rec)
}
