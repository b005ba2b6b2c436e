//! A streaming tar reader for layers.
//!
//! Not the `tar` crate's: up to at least 0.4.46 it splits PAX extended
//! headers on newlines instead of walking records by their length prefix
//! (composefs/tar-rs#452), so a binary `SCHILY.xattr.security.capability`
//! holding a 0x0a byte breaks the header, and a crafted value can smuggle a
//! `path` or `linkpath` record that Go's reader (Docker, BuildKit) never
//! sees. This reader follows Go's `archive/tar`: PAX records by length, a
//! local PAX header applies to the next real entry (GNU long name headers
//! in between do not consume it), header-only types (links, directories,
//! devices, FIFOs) carry no data whatever their size field says, and
//! numbers may be octal or GNU base-256.

use std::io::{self, Read};

/// Most bytes of one PAX or GNU long-name header we accept.
const MAX_META: u64 = 16 << 20;

/// One entry's header, with PAX and GNU extensions applied.
#[derive(Debug, Default)]
pub(super) struct RawEntry {
    pub(super) name: Vec<u8>,
    pub(super) link: Vec<u8>,
    pub(super) flag: u8,
    pub(super) mode: u64,
    pub(super) uid: u64,
    pub(super) gid: u64,
    pub(super) size: u64,
    pub(super) mtime: (i64, u32),
    pub(super) dev: (u64, u64),
    pub(super) xattrs: Vec<(String, Vec<u8>)>,
}

/// Reads entries one after another; [`TarReader::data`] reads the current
/// entry's contents.
pub(super) struct TarReader<R: Read> {
    inner: R,
    /// Unread data bytes of the current entry.
    left: u64,
    /// Padding after them.
    pad: u64,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl<R: Read> TarReader<R> {
    pub(super) fn new(inner: R) -> Self {
        TarReader {
            inner,
            left: 0,
            pad: 0,
        }
    }

    /// The current entry's data; what the caller leaves unread is skipped
    /// by the next [`TarReader::next`].
    pub(super) fn data(&mut self) -> EntryData<'_, R> {
        EntryData { r: self }
    }

    /// The next entry, or `None` at the end of the archive (the rest of
    /// the input is read and dropped, so a hashing reader sees it all).
    pub(super) fn next(&mut self) -> io::Result<Option<RawEntry>> {
        self.skip_rest()?;
        let mut pax: Option<Vec<(Vec<u8>, Vec<u8>)>> = None;
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        loop {
            let mut block = [0u8; 512];
            if !self.read_block(&mut block)? || block.iter().all(|&b| b == 0) {
                io::copy(&mut self.inner, &mut io::sink())?;
                return Ok(None);
            }
            check_sum(&block)?;
            let flag = block[156];
            let size = number(&block[124..136])?;
            match flag {
                b'x' | b'g' | b'L' | b'K' => {
                    if size > MAX_META {
                        return Err(bad(format!("extension header of {size} bytes")));
                    }
                    let body = self.read_meta(size)?;
                    match flag {
                        b'x' if pax.is_some() => return Err(bad("two PAX headers for one entry")),
                        b'x' => pax = Some(pax_records(&body)?),
                        b'L' => long_name = Some(trim_nul(&body).to_vec()),
                        b'K' => long_link = Some(trim_nul(&body).to_vec()),
                        _ => {} // global PAX headers are ignored, as Docker does
                    }
                    continue;
                }
                _ => {}
            }
            let mut e = parse_header(&block, size)?;
            if let Some(n) = long_name {
                e.name = n;
            }
            if let Some(l) = long_link {
                e.link = l;
            }
            if let Some(records) = pax {
                apply_pax(&mut e, records)?;
            }
            let header_only = matches!(e.flag, b'1' | b'2' | b'3' | b'4' | b'5' | b'6');
            let data = if header_only { 0 } else { e.size };
            self.left = data;
            self.pad = (512 - data % 512) % 512;
            return Ok(Some(e));
        }
    }

    fn skip_rest(&mut self) -> io::Result<()> {
        let n = self.left + self.pad;
        self.left = 0;
        self.pad = 0;
        let skipped = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())?;
        if skipped != n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// Reads one block; false at a clean end of input.
    fn read_block(&mut self, block: &mut [u8; 512]) -> io::Result<bool> {
        let mut got = 0;
        while got < 512 {
            match self.inner.read(&mut block[got..]) {
                Ok(0) if got == 0 => return Ok(false),
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn read_meta(&mut self, size: u64) -> io::Result<Vec<u8>> {
        let mut body = Vec::with_capacity(size as usize);
        (&mut self.inner).take(size).read_to_end(&mut body)?;
        if body.len() as u64 != size {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.left = 0;
        self.pad = (512 - size % 512) % 512;
        self.skip_rest()?;
        Ok(body)
    }
}

/// Reads the current entry's data, counting down what is left.
pub(super) struct EntryData<'a, R: Read> {
    r: &'a mut TarReader<R>,
}

impl<R: Read> Read for EntryData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let max = buf
            .len()
            .min(usize::try_from(self.r.left).unwrap_or(usize::MAX));
        if max == 0 {
            return Ok(0);
        }
        let n = self.r.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.r.left -= n as u64;
        Ok(n)
    }
}

fn parse_header(b: &[u8; 512], size: u64) -> io::Result<RawEntry> {
    let ustar = &b[257..263] == b"ustar\0";
    let mut name = trim_nul(&b[0..100]).to_vec();
    if ustar {
        let prefix = trim_nul(&b[345..500]);
        if !prefix.is_empty() {
            let mut full = prefix.to_vec();
            full.push(b'/');
            full.extend_from_slice(&name);
            name = full;
        }
    }
    let mtime = number(&b[136..148])?;
    let has_dev = matches!(b[156], b'3' | b'4');
    Ok(RawEntry {
        name,
        link: trim_nul(&b[157..257]).to_vec(),
        flag: b[156],
        mode: number(&b[100..108])?,
        uid: number(&b[108..116])?,
        gid: number(&b[116..124])?,
        size,
        mtime: (
            i64::try_from(mtime).map_err(|_| bad("mtime out of range"))?,
            0,
        ),
        dev: if has_dev {
            (number(&b[329..337])?, number(&b[337..345])?)
        } else {
            (0, 0)
        },
        xattrs: Vec::new(),
    })
}

fn apply_pax(e: &mut RawEntry, records: Vec<(Vec<u8>, Vec<u8>)>) -> io::Result<()> {
    let num = |v: &[u8]| -> io::Result<u64> {
        std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("invalid PAX number"))
    };
    for (key, value) in records {
        match key.as_slice() {
            b"path" => e.name = value,
            b"linkpath" => e.link = value,
            b"size" => e.size = num(&value)?,
            b"uid" => e.uid = num(&value)?,
            b"gid" => e.gid = num(&value)?,
            b"mtime" => {
                let s = String::from_utf8_lossy(&value);
                e.mtime = super::entry::parse_pax_time(&s)
                    .ok_or_else(|| bad(format!("invalid PAX mtime {s:?}")))?;
            }
            k => {
                if let Some(x) = k.strip_prefix(b"SCHILY.xattr.") {
                    let name = String::from_utf8(x.to_vec())
                        .map_err(|_| bad("xattr name is not UTF-8"))?;
                    e.xattrs.push((name, value));
                }
            }
        }
    }
    Ok(())
}

/// `<len> <key>=<value>\n` records, walked by their length.
fn pax_records(mut body: &[u8]) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    while !body.is_empty() && body[0] != 0 {
        let sp = body
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| bad("malformed PAX record"))?;
        let len: usize = std::str::from_utf8(&body[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|&n| n > sp + 1 && n <= body.len())
            .ok_or_else(|| bad("malformed PAX record length"))?;
        let rec = &body[sp + 1..len];
        let (kv, nl) = rec.split_at(rec.len() - 1);
        if nl != b"\n" {
            return Err(bad("PAX record does not end in a newline"));
        }
        let eq = kv
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| bad("PAX record without '='"))?;
        out.push((kv[..eq].to_vec(), kv[eq + 1..].to_vec()));
        body = &body[len..];
    }
    Ok(out)
}

/// An octal field (NUL/space padded) or GNU base-256 (high bit set).
fn number(field: &[u8]) -> io::Result<u64> {
    if field[0] & 0x80 != 0 {
        if field[0] == 0xff {
            return Err(bad("negative number in tar header"));
        }
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .ok_or_else(|| bad("number too large"))?;
        }
        return Ok(v);
    }
    let s: Vec<u8> = field
        .iter()
        .copied()
        .filter(|&b| b != 0 && b != b' ')
        .collect();
    if s.is_empty() {
        return Ok(0);
    }
    let s = std::str::from_utf8(&s).map_err(|_| bad("invalid octal number"))?;
    u64::from_str_radix(s, 8).map_err(|_| bad(format!("invalid octal number {s:?}")))
}

fn check_sum(b: &[u8; 512]) -> io::Result<()> {
    let want = number(&b[148..156])?;
    let unsigned: u64 = b
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(x)
            }
        })
        .sum();
    let signed: i64 = b
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            if (148..156).contains(&i) {
                32
            } else {
                i64::from(x as i8)
            }
        })
        .sum();
    if want == unsigned || i64::try_from(want).ok() == Some(signed) {
        Ok(())
    } else {
        Err(bad("tar header checksum mismatch"))
    }
}

fn trim_nul(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&x| x == 0).unwrap_or(b.len());
    &b[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_are_walked_by_length() {
        let body = b"29 SCHILY.xattr.user.a=x\ny\n\x0a\n12 path=abc\n";
        let recs = pax_records(body).unwrap();
        assert_eq!(
            recs[0],
            (b"SCHILY.xattr.user.a".to_vec(), b"x\ny\n\x0a".to_vec())
        );
        assert_eq!(recs[1], (b"path".to_vec(), b"abc".to_vec()));
        assert!(pax_records(b"99 path=abc\n").is_err());
        assert!(pax_records(b"11 path=abc").is_err());
    }

    #[test]
    fn numbers_octal_and_base256() {
        assert_eq!(number(b"0000644\0").unwrap(), 0o644);
        assert_eq!(number(b"  644 \0\0").unwrap(), 0o644);
        assert_eq!(number(&[0x80, 0, 0, 0, 0, 0, 1, 0]).unwrap(), 256);
        assert!(number(b"0009\0\0\0\0").is_err());
    }
}
