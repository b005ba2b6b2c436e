//! A container's root file system: the image's unpacked layers (shared,
//! read-only), the container's "init" layer of mount points, and its
//! writable layer, a persistent snapshot keyed by the container ID.
//!
//! The init layer is Docker's trick: the mount points a container needs
//! (`/proc`, `/dev`, `/etc/hosts`, volume targets, ...) that the image
//! lacks are made once, in a directory of the container's own that sits
//! above the image's layers, so they never appear in the writable layer,
//! in `diff` or in a `commit`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use fs_err as fs;
use strata_core::{Digest, ImageConfig, ImageManifest, Raw, chain_ids};
use strata_snapshot::{Active, MergedView, Snapshots};
use strata_store::Store;

use crate::error::{ContainerError, Result};

/// Mount points every container gets: `(path, is_file)`.
const SYSTEM_MOUNT_POINTS: [(&str, bool); 10] = [
    ("/proc", false),
    ("/sys", false),
    ("/sys/fs/cgroup", false),
    ("/dev", false),
    ("/dev/pts", false),
    ("/dev/shm", false),
    ("/dev/mqueue", false),
    ("/etc/hosts", true),
    ("/etc/hostname", true),
    ("/etc/resolv.conf", true),
];

/// An image's config and manifest, read from their blobs (which a
/// container keeps alive even after `rmi -f`).
pub struct ImageParts {
    /// The image config.
    pub config: Raw<ImageConfig>,
    /// The image manifest.
    pub manifest: Raw<ImageManifest>,
}

impl ImageParts {
    /// Reads the blobs `config` and `manifest`.
    pub fn read(store: &Store, config: &Digest, manifest: &Digest) -> Result<ImageParts> {
        let config = Raw::parse(store.read_blob(config)?)
            .map_err(|e| ContainerError::Invalid(format!("image config {config}: {e}")))?;
        let manifest = Raw::parse(store.read_blob(manifest)?)
            .map_err(|e| ContainerError::Invalid(format!("image manifest {manifest}: {e}")))?;
        Ok(ImageParts { config, manifest })
    }
}

/// The image's layers as snapshot directories, base first, unpacking
/// those that are not yet.
pub fn image_lowers(
    store: &Store,
    snapshots: &Snapshots,
    image: &ImageParts,
) -> Result<Vec<PathBuf>> {
    let chains = chain_ids(&image.config.rootfs.diff_ids);
    let mut lowers: Vec<PathBuf> = Vec::new();
    for (chain, layer) in chains.iter().zip(&image.manifest.layers) {
        let dir = match snapshots.committed(chain) {
            Some(d) => d,
            None => snapshots.unpack_over(chain, &lowers, store.open_layer(&layer.digest)?)?,
        };
        lowers.push(dir);
    }
    Ok(lowers)
}

/// The snapshot key of a container's writable layer.
pub fn layer_key(id: &str) -> String {
    id.to_owned()
}

/// Where a container's init layer lives.
pub fn init_dir(store: &Store, id: &str) -> PathBuf {
    store.layout().containers_dir().join(id).join("init")
}

/// Makes container `id`'s init layer and writable layer; returns the
/// writable layer.
pub fn create_layers(
    store: &Store,
    snapshots: &Snapshots,
    id: &str,
    lowers: &[PathBuf],
    extra_mount_points: &[(String, bool)],
) -> Result<Active> {
    let init = init_dir(store, id);
    fs::create_dir_all(&init)?;
    let view = MergedView::new(lowers.to_vec());
    let points = SYSTEM_MOUNT_POINTS
        .iter()
        .map(|(p, f)| ((*p).to_owned(), *f))
        .chain(extra_mount_points.iter().cloned());
    for (path, is_file) in points {
        make_mount_point(&view, &init, &path, is_file)?;
    }
    let mut all = lowers.to_vec();
    all.push(init);
    Ok(snapshots.prepare_persistent(&layer_key(id), &all)?)
}

/// Container `id`'s writable layer (made by [`create_layers`]).
pub fn reopen_layers(
    store: &Store,
    snapshots: &Snapshots,
    id: &str,
    lowers: &[PathBuf],
) -> Result<Active> {
    let mut all = lowers.to_vec();
    all.push(init_dir(store, id));
    Ok(snapshots.reopen(&layer_key(id), &all)?)
}

/// Container `id`'s writable layer directory (the overlay's upper dir).
pub fn upper_dir(store: &Store, id: &str) -> Result<PathBuf> {
    let snapshots = Snapshots::open(&store.layout().snapshots_dir())?;
    Ok(snapshots.reopen(&layer_key(id), &[])?.upper)
}

/// Removes container `id`'s writable layer, if it has one.
pub fn remove_layer(snapshots: &Snapshots, id: &str) -> Result<()> {
    match snapshots.reopen(&layer_key(id), &[]) {
        Ok(active) => Ok(snapshots.remove(active)?),
        Err(strata_snapshot::SnapshotError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Makes `path` in the init layer `init` unless the image has it already:
/// missing parents are made with the metadata the image gives them (so
/// the merged directory looks as it does in the image). A path under a
/// symlink or a non-directory in the image is left alone; the runtime
/// makes its mount point then.
fn make_mount_point(view: &MergedView, init: &Path, path: &str, is_file: bool) -> Result<()> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let mut rel = PathBuf::new();
    for (i, part) in parts.iter().enumerate() {
        rel.push(part);
        let last = i + 1 == parts.len();
        let target = init.join(&rel);
        match view.stat(Path::new("/").join(&rel))? {
            Some(e) if e.is_dir() => {
                if !last && !target.exists() {
                    fs::create_dir(&target)?;
                    fs::set_permissions(
                        &target,
                        std::fs::Permissions::from_mode(e.metadata.mode() & 0o7777),
                    )?;
                    rustix::fs::chown(
                        &target,
                        Some(rustix::fs::Uid::from_raw(e.metadata.uid())),
                        Some(rustix::fs::Gid::from_raw(e.metadata.gid())),
                    )
                    .map_err(std::io::Error::from)?;
                }
                if last {
                    return Ok(());
                }
            }
            Some(_) => return Ok(()), // a file, or a symlink: leave it
            None => {
                if target.symlink_metadata().is_ok() {
                    continue;
                }
                if last && is_file {
                    fs::write(&target, b"")?;
                    fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
                } else {
                    fs::create_dir(&target)?;
                    fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
                }
            }
        }
    }
    Ok(())
}

/// Copies what the image has at `path` into an empty new volume
/// directory `dest` (Docker fills a volume from the image on first use).
pub fn populate_volume(lowers: &[PathBuf], path: &str, dest: &Path) -> Result<()> {
    let view = MergedView::new(lowers.to_vec());
    match view.stat(path)? {
        Some(e) if e.is_dir() => {
            let m = &e.metadata;
            fs::set_permissions(dest, std::fs::Permissions::from_mode(m.mode() & 0o7777))?;
            chown(dest, m)?;
            copy_tree(&view, Path::new(path), dest)
        }
        _ => Ok(()),
    }
}

fn chown(path: &Path, m: &std::fs::Metadata) -> Result<()> {
    rustix::fs::chownat(
        rustix::fs::CWD,
        path,
        Some(rustix::fs::Uid::from_raw(m.uid())),
        Some(rustix::fs::Gid::from_raw(m.gid())),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(|e| std::io::Error::other(format!("chown {}: {e}", path.display())).into())
}

fn copy_tree(view: &MergedView, src: &Path, dest: &Path) -> Result<()> {
    for (name, entry) in view.read_dir(src)? {
        let from = src.join(&name);
        let to = dest.join(&name);
        let m = &entry.metadata;
        let ft = m.file_type();
        if ft.is_dir() {
            fs::create_dir(&to)?;
            copy_tree(view, &from, &to)?;
            fs::set_permissions(&to, std::fs::Permissions::from_mode(m.mode() & 0o7777))?;
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&entry.real_path)?, &to)?;
        } else if ft.is_file() {
            std::io::copy(
                &mut fs::File::open(&entry.real_path)?,
                &mut fs::File::create(&to)?,
            )?;
            fs::set_permissions(&to, std::fs::Permissions::from_mode(m.mode() & 0o7777))?;
        } else {
            continue; // devices and fifos are not copied into volumes
        }
        chown(&to, m)?;
    }
    Ok(())
}
