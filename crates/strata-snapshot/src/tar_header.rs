//! What goes into a layer tar header: the writer's options, an entry's
//! metadata, and the byte-level encoders (octal fields, PAX records) with
//! the path rules of the layer writer.

use std::collections::BTreeMap;

use crate::error::{Result, SnapshotError};

/// Options that shape every header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TarOptions {
    /// Mtimes later than this (Unix seconds) are written as this
    /// (`SOURCE_DATE_EPOCH`). `i64::MAX` keeps every mtime.
    pub epoch: i64,
}

impl Default for TarOptions {
    fn default() -> Self {
        TarOptions { epoch: i64::MAX }
    }
}

/// Metadata of one entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// Permission bits with setuid, setgid and sticky (`0o7777` at most).
    pub mode: u32,
    /// Numeric owner.
    pub uid: u32,
    /// Numeric group.
    pub gid: u32,
    /// Modification time, Unix seconds.
    pub mtime: i64,
    /// Extended attributes, written as PAX `SCHILY.xattr.<name>` records.
    pub xattrs: BTreeMap<String, Vec<u8>>,
}

/// Which kind of device node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// A character device.
    Char,
    /// A block device.
    Block,
}

/// One `"<len> <key>=<value>\n"` record; `<len>` counts itself.
pub(crate) fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = rest + 1;
    while rest + len.to_string().len() != len {
        len = rest + len.to_string().len();
    }
    let mut out = format!("{len} {key}=").into_bytes();
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

/// A relative path with no `.`/`..` components, no NUL, no leading `/`.
pub(crate) fn check_path(path: &str) -> Result<&str> {
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    let bad = trimmed.is_empty()
        || trimmed.starts_with('/')
        || trimmed.contains('\0')
        || trimmed
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        return Err(invalid(
            path,
            "layer paths are relative and clean (no \"\", \".\" or \"..\" components)",
        ));
    }
    Ok(trimmed)
}

pub(crate) fn invalid(path: &str, reason: &str) -> SnapshotError {
    SnapshotError::InvalidPath {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Copies as much of `s` as fits; the rest of the field stays NUL.
pub(crate) fn put_str(field: &mut [u8], s: &str) {
    let n = s.len().min(field.len());
    field[..n].copy_from_slice(&s.as_bytes()[..n]);
}

/// Zero-padded octal with a trailing NUL, as Go and GNU tar write it.
pub(crate) fn put_octal(field: &mut [u8], v: u64) {
    let digits = field.len() - 1;
    let s = format!("{v:0digits$o}");
    field[..digits].copy_from_slice(&s.as_bytes()[s.len() - digits..]);
    field[digits] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_length_counts_itself() {
        assert_eq!(pax_record("path", b"a"), b"9 path=a\n");
        assert_eq!(pax_record("path", b"abc"), b"12 path=abc\n");
        let long = vec![b'x'; 95];
        let r = pax_record("path", &long);
        let n: usize = std::str::from_utf8(&r[..3]).unwrap().parse().unwrap();
        assert_eq!(n, r.len());
    }

    #[test]
    fn octal_fields_are_zero_padded() {
        let mut f = [0xffu8; 8];
        put_octal(&mut f, 0o644);
        assert_eq!(&f, b"0000644\0");
    }

    #[test]
    fn bad_paths_are_refused() {
        for p in ["", "/etc", "a/../b", "./a", "a//b", "a\0b"] {
            assert!(check_path(p).is_err(), "{p:?}");
        }
        assert_eq!(check_path("a/b/").unwrap(), "a/b");
    }
}
