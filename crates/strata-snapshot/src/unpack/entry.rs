//! One tar entry, parsed and checked before anything touches the disk.

use crate::error::{Result, SnapshotError};
use crate::path::RelPath;
use crate::xattr::is_overlay_private;

use super::reader::RawEntry;

/// What an entry creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    Dir,
    File,
    /// The raw target; judged by `symlink_escapes` before use.
    Symlink(Vec<u8>),
    /// The cleaned target path inside the root.
    HardLink(RelPath),
    Char(u32, u32),
    Block(u32, u32),
    Fifo,
}

/// A parsed entry.
#[derive(Debug, Clone)]
pub(super) struct Item {
    /// The name as found in the tar, for messages.
    pub(super) name: String,
    /// The cleaned path.
    pub(super) rel: RelPath,
    pub(super) kind: Kind,
    /// Permission bits with setuid, setgid and sticky.
    pub(super) mode: u32,
    pub(super) uid: u32,
    pub(super) gid: u32,
    /// Seconds and nanoseconds.
    pub(super) mtime: (i64, u32),
    pub(super) xattrs: Vec<(String, Vec<u8>)>,
}

impl Item {
    /// Checks a raw entry.
    pub(super) fn parse(raw: RawEntry) -> Result<Item> {
        let name = String::from_utf8_lossy(&raw.name).into_owned();
        let bad = |reason: &str| SnapshotError::entry(&name, reason);
        let rel = RelPath::from_entry(&raw.name).ok_or_else(|| bad("path leaves the root"))?;
        let link = || -> Result<Vec<u8>> {
            if raw.link.is_empty() {
                return Err(bad("link without a target"));
            }
            Ok(raw.link.clone())
        };
        let dev = || -> Result<(u32, u32)> {
            let major = u32::try_from(raw.dev.0).map_err(|_| bad("device major out of range"))?;
            let minor = u32::try_from(raw.dev.1).map_err(|_| bad("device minor out of range"))?;
            Ok((major, minor))
        };
        let kind = match raw.flag {
            b'0' | b'\0' | b'7' => Kind::File,
            b'5' => Kind::Dir,
            b'2' => Kind::Symlink(link()?),
            b'1' => {
                let target = RelPath::from_entry(&link()?)
                    .ok_or_else(|| bad("hard link target leaves the root"))?;
                Kind::HardLink(target)
            }
            b'3' => {
                let (a, b) = dev()?;
                Kind::Char(a, b)
            }
            b'4' => {
                let (a, b) = dev()?;
                Kind::Block(a, b)
            }
            b'6' => Kind::Fifo,
            other => {
                return Err(bad(&format!("unsupported entry type {:?}", other as char)));
            }
        };
        let id = |v: u64, what: &str| -> Result<u32> {
            match u32::try_from(v) {
                Ok(n) if n != u32::MAX => Ok(n),
                _ => Err(bad(&format!("{what} {v} out of range"))),
            }
        };
        let mut xattrs = Vec::new();
        for (x, value) in raw.xattrs {
            if is_overlay_private(&x) {
                // Overlay state in a layer would change what lower layers
                // show; opaque dirs come from `.wh..wh..opq`.
                tracing::debug!(entry = %name, xattr = %x, "dropping overlay xattr");
                continue;
            }
            xattrs.push((x, value));
        }
        Ok(Item {
            rel,
            kind,
            mode: (raw.mode & 0o7777) as u32,
            uid: id(raw.uid, "uid")?,
            gid: id(raw.gid, "gid")?,
            mtime: raw.mtime,
            xattrs,
            name,
        })
    }
}

/// A PAX time: decimal seconds with an optional fraction, maybe negative
/// (`-1.5` is half a second before `-1`).
pub(super) fn parse_pax_time(s: &str) -> Option<(i64, u32)> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let mut digits: String = frac.chars().take(9).collect();
    while digits.len() < 9 {
        digits.push('0');
    }
    let nanos: u32 = digits.parse().ok()?;
    if !neg {
        return Some((secs, nanos));
    }
    if nanos == 0 {
        Some((-secs, 0))
    } else {
        Some((-secs - 1, 1_000_000_000 - nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_pax_time;

    #[test]
    fn pax_times() {
        let table = [
            ("1700000000", Some((1_700_000_000, 0))),
            ("1700000000.5", Some((1_700_000_000, 500_000_000))),
            ("1.000000001999", Some((1, 1))),
            ("-1.5", Some((-2, 500_000_000))),
            ("-3", Some((-3, 0))),
            ("x", None),
            ("", None),
            ("1.2.3", None),
        ];
        for (input, want) in table {
            assert_eq!(parse_pax_time(input), want, "{input}");
        }
    }
}
