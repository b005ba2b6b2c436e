//! Named and anonymous volumes: directories `volumes-v1/<name>/_data`,
//! recorded in the store, mounted into containers by bind.

use std::path::PathBuf;

use strata_store::{Store, VolumeRecord};

use crate::create::now_ns;
use crate::error::{ContainerError, Result};

/// A volume's data directory.
pub fn data_dir(store: &Store, name: &str) -> PathBuf {
    store.layout().volumes_dir().join(name).join("_data")
}

/// `volume create [NAME]`: makes it (an existing one is returned as is);
/// a random 64-hex name when `None`.
pub fn create(
    store: &Store,
    name: Option<&str>,
    labels: &[(String, String)],
) -> Result<VolumeRecord> {
    let name = match name {
        Some(n) => {
            crate::parse::validate_volume_name(n)
                .map_err(|e| ContainerError::Invalid(e.to_string()))?;
            n.to_owned()
        }
        None => crate::create::new_id(),
    };
    let labels: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let rec = store.volume_create(
        &name,
        &serde_json::Value::Object(labels).to_string(),
        false,
        now_ns(),
    )?;
    fs_err::create_dir_all(data_dir(store, &name))?;
    Ok(rec)
}

/// `volume rm`: refuses a volume a container uses (Docker's message),
/// unless `force`... which Docker also refuses for volumes in use.
pub fn remove(store: &Store, name: &str) -> Result<()> {
    if store.volume(name)?.is_none() {
        return Err(strata_store::StoreError::VolumeNotFound(name.to_owned()).into());
    }
    let users = store.volume_users(name)?;
    if !users.is_empty() {
        return Err(ContainerError::Conflict(format!(
            "remove {name}: volume is in use - [{}]",
            users.join(", ")
        )));
    }
    remove_volume_files(store, name)
}

/// Deletes a volume's record, then its files.
pub fn remove_volume_files(store: &Store, name: &str) -> Result<()> {
    store.volume_delete(name)?;
    let dir = store.layout().volumes_dir().join(name);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(std::io::Error::other(format!("removing {}: {e}", dir.display())).into()),
    }
}

/// `volume prune [-a]`: removes unused anonymous volumes, and with `all`
/// unused named ones too (Docker 23's rule). Returns the names removed
/// and the bytes freed.
pub fn prune(store: &Store, all: bool) -> Result<(Vec<String>, u64)> {
    let mut removed = Vec::new();
    let mut freed = 0;
    for v in store.volumes()? {
        if (!all && !v.anonymous) || !store.volume_users(&v.name)?.is_empty() {
            continue;
        }
        freed += dir_size(&store.layout().volumes_dir().join(&v.name));
        remove_volume_files(store, &v.name)?;
        removed.push(v.name);
    }
    Ok((removed, freed))
}

/// Bytes used under `dir` (allocated blocks).
pub fn dir_size(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(m) = e.path().symlink_metadata() else {
                continue;
            };
            total += m.blocks() * 512;
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    total
}
