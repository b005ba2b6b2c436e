//! `strata save [-o FILE] [--format docker|oci] IMAGE...`.
//!
//! With `-o`, a regular (or new) FILE is written as a temporary file beside
//! it and renamed at the end, so a failed save never leaves a partial FILE,
//! as the Docker CLI does. Anything else (`/dev/null`, a FIFO, a device) is
//! written in place: renaming over it would replace the device itself.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use strata_store::{ArchiveFormat, SaveItem, Store};

use crate::cli::SaveArgs;

pub(crate) fn run(store: &Store, args: SaveArgs) -> Result<ExitCode> {
    let format = match args.format.as_str() {
        "oci" | "oci-archive" => ArchiveFormat::Oci,
        _ => ArchiveFormat::Docker,
    };
    let items: Vec<SaveItem> = store
        .resolve_for_save(&args.images)?
        .into_iter()
        .map(|(image, names)| SaveItem { image, names })
        .collect();
    match &args.output {
        Some(path) if is_special(path) => {
            let mut f = fs_err::OpenOptions::new().write(true).open(path)?;
            store.save(&items, format, &mut f)?;
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => std::path::PathBuf::from("."),
            };
            let tmp = tempfile::Builder::new()
                .prefix(".strata_temp_")
                .tempfile_in(&dir)
                .with_context(|| {
                    format!("failed to save image: cannot write to {}", dir.display())
                })?;
            let file = store.save(&items, format, tmp.reopen()?)?;
            file.sync_all()?;
            tmp.persist(path).map_err(|e| e.error).with_context(|| {
                format!("failed to save image: cannot write {}", path.display())
            })?;
        }
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
            }
            let mut lock = stdout.lock();
            store.save(&items, format, &mut lock)?;
            lock.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `path` exists and is not a regular file (or a link to one).
fn is_special(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file())
}
