//! Lexical path handling for layer entries and in-root lookups.
//!
//! Layer entry names are cleaned the way Docker's `UnpackLayer` does it
//! (`filepath.Clean`, then refuse what leaves the root): a leading `/` or
//! `./` is dropped, `a/../b` is `b`, and `../x` is an escape. Paths a
//! builder asks about (`MergedView`) are cleaned as in a chroot: `..` at the
//! root stays at the root.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// A cleaned path relative to a root, as its components. Empty is the root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct RelPath(pub(crate) Vec<OsString>);

impl RelPath {
    /// Cleans a layer entry name; `None` if `..` would leave the root.
    pub(crate) fn from_entry(raw: &[u8]) -> Option<RelPath> {
        let mut out = Vec::new();
        for part in raw.split(|&b| b == b'/') {
            match part {
                b"" | b"." => {}
                b".." => {
                    out.pop()?;
                }
                name => out.push(OsString::from_vec(name.to_vec())),
            }
        }
        Some(RelPath(out))
    }

    /// Cleans a path as seen from inside a root: `..` at the root is the root.
    pub(crate) fn in_root(raw: &[u8]) -> RelPath {
        let mut out = RelPath::default();
        for part in raw.split(|&b| b == b'/') {
            out.push_component(part);
        }
        out
    }

    /// Applies one component (`..` pops, stopping at the root).
    pub(crate) fn push_component(&mut self, part: &[u8]) {
        match part {
            b"" | b"." => {}
            b".." => {
                self.0.pop();
            }
            name => self.0.push(OsString::from_vec(name.to_vec())),
        }
    }

    /// The last component, if any.
    pub(crate) fn file_name(&self) -> Option<&OsStr> {
        self.0.last().map(|s| s.as_os_str())
    }

    /// All components but the last.
    pub(crate) fn parent(&self) -> RelPath {
        let mut p = self.0.clone();
        p.pop();
        RelPath(p)
    }

    /// A child of this path.
    pub(crate) fn join(&self, name: &OsStr) -> RelPath {
        let mut p = self.0.clone();
        p.push(name.to_os_string());
        RelPath(p)
    }

    /// `a/b/c` (the root is `.`), for `*at` calls relative to a root fd.
    pub(crate) fn to_path(&self) -> PathBuf {
        if self.0.is_empty() {
            return PathBuf::from(".");
        }
        let mut p = PathBuf::new();
        for c in &self.0 {
            p.push(c);
        }
        p
    }

    /// `/a/b/c`, for messages and for `MergedView` results.
    pub(crate) fn to_abs(&self) -> PathBuf {
        let mut p = PathBuf::from("/");
        for c in &self.0 {
            p.push(c);
        }
        p
    }

    /// A display string for error messages.
    pub(crate) fn display(&self) -> String {
        self.to_abs().to_string_lossy().into_owned()
    }
}

/// True when a symlink at `entry` with `target` points outside the root,
/// judged lexically from the link's directory as Docker does. Absolute
/// targets resolve under the root and never escape.
pub(crate) fn symlink_escapes(entry: &RelPath, target: &[u8]) -> bool {
    if target.first() == Some(&b'/') {
        return false;
    }
    let mut depth = entry.0.len().saturating_sub(1);
    for part in target.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

/// True when `name` is a single usable file name.
pub(crate) fn is_plain_name(name: &[u8]) -> bool {
    !name.is_empty() && name != b"." && name != b".." && !name.contains(&b'/')
}

/// The bytes of an `OsStr`.
pub(crate) fn bytes(s: &OsStr) -> &[u8] {
    s.as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(s: &str) -> Option<String> {
        RelPath::from_entry(s.as_bytes()).map(|p| p.display())
    }

    #[test]
    fn entry_names_clean_like_docker() {
        let table = [
            ("a/b", Some("/a/b")),
            ("./a/b/", Some("/a/b")),
            ("/etc/passwd", Some("/etc/passwd")),
            ("a/../b", Some("/b")),
            ("a//./b", Some("/a/b")),
            ("./", Some("/")),
            ("../x", None),
            ("a/../../x", None),
            ("/../x", None),
        ];
        for (input, want) in table {
            assert_eq!(entry(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn in_root_paths_stop_at_the_root() {
        assert_eq!(RelPath::in_root(b"/../../etc").display(), "/etc");
        assert_eq!(RelPath::in_root(b"a/./b/../c").display(), "/a/c");
        assert_eq!(RelPath::in_root(b"/"), RelPath::default());
    }

    #[test]
    fn symlink_escapes_judged_from_the_link_dir() {
        let table = [
            ("a/b", "../c", false),
            ("a/b", "../../c", true),
            ("b", "../c", true),
            ("a/b", "/../../etc", false),
            ("a/b", "c/../../d", false),
            ("a/b/c", "../../x/../..", true),
        ];
        for (entry, target, want) in table {
            let e = RelPath::from_entry(entry.as_bytes()).unwrap();
            assert_eq!(
                symlink_escapes(&e, target.as_bytes()),
                want,
                "{entry} -> {target}"
            );
        }
    }
}
