//! Mount descriptions for active snapshots. The snapshotter never mounts;
//! the runtime performs what [`Mount`] says.
//!
//! The options are `lowerdir=<top>:…:<base>,upperdir=…,workdir=…` plus
//! `index=off,redirect_dir=off,metacopy=off`: committed snapshots are shared
//! by many mounts (the index would tie them to one), and a renamed
//! directory or a metadata-only copy-up cannot be turned back into a layer
//! by [`crate::diff_upper`].
//!
//! `mount(2)` copies at most one page of options. Absolute paths are used
//! when they fit; otherwise every path is relative to the snapshot root,
//! with lower dirs named by short links `l/<20 hex>` (see the crate docs),
//! and [`Mount::cwd`] says where the runtime must `chdir` before mounting.

use std::path::{Path, PathBuf};

use strata_core::Digest;

use crate::error::{Result, SnapshotError};

/// The most bytes of options `mount(2)` accepts (one page, NUL included).
pub(crate) const OPTIONS_LIMIT: usize = 4095;

/// Hex digits of a chain ID in a short lowerdir link name.
pub(crate) const SHORT_LEN: usize = 20;

/// Options every overlay mount gets, after the directories.
const FIXED: [&str; 3] = ["index=off", "redirect_dir=off", "metacopy=off"];

/// A mount for the runtime to perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `"overlay"`, or `"bind"` for a snapshot without lower layers.
    pub kind: String,
    /// The mount source (`"overlay"`, or the directory to bind).
    pub source: String,
    /// Mount options, in order (`lowerdir=…`, `upperdir=…`, …; `rbind`, `rw`).
    pub options: Vec<String>,
    /// When set, paths in `options` are relative to this directory: `chdir`
    /// there (in the mounting thread) before `mount(2)`, or resolve them
    /// against it. `None` when every path is absolute.
    pub cwd: Option<PathBuf>,
}

impl Mount {
    /// The options joined with commas, as `mount(2)` takes them.
    pub fn data(&self) -> String {
        self.options.join(",")
    }

    /// The options with every path made absolute (against `cwd`), for a
    /// mounter that can pass long option lists itself (the new mount API)
    /// and does not `chdir`.
    pub fn absolute_options(&self) -> Vec<String> {
        let Some(cwd) = &self.cwd else {
            return self.options.clone();
        };
        let abs = |p: &str| {
            if p.starts_with('/') {
                p.to_owned()
            } else {
                cwd.join(p).to_string_lossy().into_owned()
            }
        };
        self.options
            .iter()
            .map(|o| match o.split_once('=') {
                Some(("lowerdir", v)) => {
                    format!(
                        "lowerdir={}",
                        v.split(':').map(abs).collect::<Vec<_>>().join(":")
                    )
                }
                Some((k @ ("upperdir" | "workdir"), v)) => format!("{k}={}", abs(v)),
                _ => o.clone(),
            })
            .collect()
    }
}

/// A writable snapshot: a container's or a RUN step's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    /// The key it was prepared under.
    pub key: String,
    /// The overlay upper dir: everything the container changes.
    pub upper: PathBuf,
    /// The overlay work dir.
    pub work: PathBuf,
    /// The mount that makes the container's root filesystem.
    pub mount: Mount,
}

/// Refuses keys that are not a plain, short file name (they become a
/// directory name and part of the mount options).
pub(crate) fn check_key(key: &str) -> Result<()> {
    let ok = (1..=64).contains(&key.len())
        && !key.starts_with('.')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(SnapshotError::InvalidKey(key.to_owned()))
    }
}

/// A bind mount of `upper` (a snapshot with no lower layers).
pub(crate) fn bind(upper: &Path) -> Mount {
    Mount {
        kind: "bind".into(),
        source: upper.to_string_lossy().into_owned(),
        options: vec!["rbind".into(), "rw".into()],
        cwd: None,
    }
}

/// The overlay mount with absolute paths, if its options fit and no path
/// holds a character the option syntax reserves.
pub(crate) fn overlay_absolute(lowers: &[PathBuf], upper: &Path, work: &Path) -> Option<Mount> {
    let mut all: Vec<&Path> = lowers.iter().map(PathBuf::as_path).collect();
    all.extend([upper, work]);
    let strs: Option<Vec<&str>> = all.iter().map(|p| p.to_str()).collect();
    let strs = strs?;
    if strs.iter().any(|s| s.contains([',', ':', '\\', '='])) {
        return None;
    }
    let (lower_strs, rest) = strs.split_at(lowers.len());
    let m = overlay(lower_strs, rest[0], rest[1], None);
    (m.data().len() <= OPTIONS_LIMIT).then_some(m)
}

/// The overlay mount with paths relative to `root`: `l/<short>` lowers
/// (top first is done here; `shorts` is base first) and
/// `active/<key>/{upper,work}`.
pub(crate) fn overlay_relative(root: &Path, shorts: &[String], key: &str) -> Result<Mount> {
    let lowers: Vec<String> = shorts.iter().map(|s| format!("l/{s}")).collect();
    let lower_strs: Vec<&str> = lowers.iter().map(String::as_str).collect();
    let upper = format!("active/{key}/upper");
    let work = format!("active/{key}/work");
    let m = overlay(&lower_strs, &upper, &work, Some(root.to_path_buf()));
    let len = m.data().len();
    if len > OPTIONS_LIMIT {
        return Err(SnapshotError::MountTooLong {
            layers: shorts.len(),
            len,
            limit: OPTIONS_LIMIT,
        });
    }
    Ok(m)
}

/// The short link name of a chain.
pub(crate) fn short_name(chain: &Digest) -> String {
    chain.hex()[..SHORT_LEN].to_owned()
}

fn overlay(lowers_base_first: &[&str], upper: &str, work: &str, cwd: Option<PathBuf>) -> Mount {
    let top_first: Vec<&str> = lowers_base_first.iter().rev().copied().collect();
    let mut options = vec![
        format!("lowerdir={}", top_first.join(":")),
        format!("upperdir={upper}"),
        format!("workdir={work}"),
    ];
    options.extend(FIXED.iter().map(|s| (*s).to_owned()));
    Mount {
        kind: "overlay".into(),
        source: "overlay".into(),
        options,
        cwd,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_names() {
        for ok in ["build-1", "a", "step_3.run", &"k".repeat(64)] {
            assert!(check_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "a/b", "..", "a b", "a:b", &"k".repeat(65)] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lowers_are_listed_top_first() {
        let lowers = [
            PathBuf::from("/s/base"),
            PathBuf::from("/s/mid"),
            PathBuf::from("/s/top"),
        ];
        let m = overlay_absolute(&lowers, Path::new("/s/u"), Path::new("/s/w")).unwrap();
        assert_eq!(
            m.data(),
            "lowerdir=/s/top:/s/mid:/s/base,upperdir=/s/u,workdir=/s/w,index=off,redirect_dir=off,metacopy=off"
        );
        assert_eq!(m.cwd, None);
    }

    #[test]
    fn reserved_characters_and_length_force_relative_paths() {
        let comma = [PathBuf::from("/s/a,b")];
        assert!(overlay_absolute(&comma, Path::new("/u"), Path::new("/w")).is_none());
        let many: Vec<PathBuf> = (0..60)
            .map(|i| PathBuf::from(format!("/{}/{i}", "x".repeat(70))))
            .collect();
        assert!(overlay_absolute(&many, Path::new("/u"), Path::new("/w")).is_none());
        let shorts: Vec<String> = (0..128).map(|i| format!("{i:020}")).collect();
        let m = overlay_relative(Path::new("/root"), &shorts, &"k".repeat(64)).unwrap();
        assert!(m.data().len() <= OPTIONS_LIMIT);
        assert!(m.options[0].starts_with("lowerdir=l/00000000000000000127:"));
        let too_many: Vec<String> = (0..200).map(|i| format!("{i:020}")).collect();
        let err = overlay_relative(Path::new("/root"), &too_many, "k").unwrap_err();
        assert!(
            matches!(err, SnapshotError::MountTooLong { layers: 200, .. }),
            "{err}"
        );
    }
}
