//! Reading a layer tar once, without unpacking it: its diff ID, Docker's
//! size for it, and the checks Docker's unpacker makes.
//!
//! Docker refuses, when it applies a layer, any entry whose path leaves the
//! root (`../x`), a hard link whose target does, and a symlink whose target,
//! joined to the link's directory, does (`a/b -> ../../../etc`). Absolute
//! paths and absolute symlink targets are fine: they resolve inside the
//! root. We make the same checks when a layer enters the store, so a hostile
//! layer is refused at `load`/`import` time, before anything depends on it.
//!
//! Docker's image size is the sum of `st_size` over the unpacked layer's
//! non-directory entries, hard links counted once. From a tar that is the
//! size of each regular file plus the target length of each symlink.

use std::io::{self, Read};

use strata_core::{Compression, Digest};

use crate::error::{Result, StoreError};
use crate::stream::{self, ExpansionLimit, HashSink, Tee};

/// What one pass over a layer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerScan {
    /// sha256 of the uncompressed tar.
    pub diff_id: Digest,
    /// Length of the uncompressed tar.
    pub tar_size: u64,
    /// Docker's size of the unpacked layer.
    pub unpacked_size: u64,
    /// Number of entries.
    pub entries: u64,
}

/// What the entry checks found. The diff ID is the hash of the same bytes
/// and comes from whoever hashed them: for an uncompressed layer that is
/// the blob digest, so the tar is not hashed twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryScan {
    pub(crate) tar_size: u64,
    pub(crate) unpacked_size: u64,
    pub(crate) entries: u64,
}

impl LayerScan {
    /// Separates the entry facts from the diff ID.
    pub(crate) fn split(self) -> (EntryScan, Digest) {
        let entries = EntryScan {
            tar_size: self.tar_size,
            unpacked_size: self.unpacked_size,
            entries: self.entries,
        };
        (entries, self.diff_id)
    }
}

impl EntryScan {
    pub(crate) fn with_diff_id(self, diff_id: Digest) -> LayerScan {
        LayerScan {
            diff_id,
            tar_size: self.tar_size,
            unpacked_size: self.unpacked_size,
            entries: self.entries,
        }
    }
}

/// Reads `raw` (a layer blob, compressed as `compression`) to its end and
/// checks every entry. `name` is used in error messages.
pub fn scan_layer<R: Read>(
    raw: R,
    compression: Compression,
    limit: ExpansionLimit,
    name: &str,
) -> Result<LayerScan> {
    let decoded = stream::decoder(io::BufReader::new(raw), compression, limit).map_err(|e| {
        StoreError::InvalidLayer {
            layer: name.to_owned(),
            reason: format!("cannot decompress: {e}"),
        }
    })?;
    let mut tee = Tee::new(decoded, HashSink::default());
    let scan = scan_entries(&mut tee, name)?;
    Ok(scan.with_diff_id(tee.sink.0.finish()))
}

/// Checks an uncompressed layer blob whose digest was verified as it was
/// stored: that digest is its diff ID, so the entries are checked without
/// hashing every byte a second time.
pub fn scan_verified_tar<R: Read>(raw: R, digest: &Digest, name: &str) -> Result<LayerScan> {
    let scan = scan_entries(io::BufReader::with_capacity(1 << 20, raw), name)?;
    Ok(scan.with_diff_id(digest.clone()))
}

/// Reads an uncompressed tar stream to its end, checking every entry.
pub(crate) fn scan_entries<R: Read>(tar: R, name: &str) -> Result<EntryScan> {
    let invalid = |reason: String| StoreError::InvalidLayer {
        layer: name.to_owned(),
        reason,
    };
    let mut archive = tar::Archive::new(Counted { inner: tar, n: 0 });
    let mut unpacked_size = 0u64;
    let mut entries = 0u64;
    {
        let iter = archive
            .entries()
            .map_err(|e| invalid(read_error("cannot read tar", &e)))?;
        for entry in iter {
            let entry = entry.map_err(|e| invalid(read_error("malformed tar", &e)))?;
            entries += 1;
            let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let components = clean(&path)
                .ok_or_else(|| invalid(format!("entry {path:?} is outside of the layer root")))?;
            let kind = entry.header().entry_type();
            let link = entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned());
            if kind.is_symlink() {
                let target = link.unwrap_or_default();
                let parent = &components[..components.len().saturating_sub(1)];
                if !stays_inside(parent, &target) {
                    return Err(invalid(format!(
                        "symlink {path:?} -> {target:?} points outside of the layer root"
                    )));
                }
                unpacked_size += target.len() as u64;
            } else if kind.is_hard_link() {
                let target = link.unwrap_or_default();
                if !stays_inside(&[], &target) {
                    return Err(invalid(format!(
                        "hard link {path:?} -> {target:?} points outside of the layer root"
                    )));
                }
            } else if kind.is_file() || kind.is_contiguous() {
                unpacked_size += entry.size();
            }
        }
    }
    // Read the rest of the stream (end-of-archive blocks and padding): the
    // diff ID covers every byte of the tar.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| invalid(read_error("cannot read", &e)))?;
    Ok(EntryScan {
        tar_size: rest.n,
        unpacked_size,
        entries,
    })
}

struct Counted<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

fn read_error(what: &str, e: &io::Error) -> String {
    if crate::archive::is_truncation(e) {
        format!("{what}: the data is truncated")
    } else {
        format!("{what}: {e}")
    }
}

/// The path's components with `.` removed and `..` applied, treating a
/// leading `/` as the root; `None` when `..` climbs above the root.
pub(crate) fn clean(path: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    push_components(&mut out, path).then_some(out)
}

/// Whether `target`, taken relative to the directory `base` (even when it
/// starts with `/`, as Go's `filepath.Join` does), stays inside the root.
fn stays_inside(base: &[&str], target: &str) -> bool {
    let mut stack = base.to_vec();
    push_components(&mut stack, target)
}

fn push_components<'a>(stack: &mut Vec<&'a str>, path: &'a str) -> bool {
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if stack.pop().is_none() {
                    return false;
                }
            }
            p => stack.push(p),
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_table() {
        assert_eq!(clean("./a/b/../c"), Some(vec!["a", "c"]));
        assert_eq!(clean("/etc/passwd"), Some(vec!["etc", "passwd"]));
        assert_eq!(clean("a/../.."), None);
        assert_eq!(clean("/../etc"), None);
        assert_eq!(clean("./"), Some(vec![]));
        assert!(stays_inside(&["a", "b"], "../c"));
        assert!(stays_inside(&["a"], "/etc/passwd"));
        assert!(!stays_inside(&["a"], "../../etc"));
        assert!(!stays_inside(&[], "/../x"));
    }
}
