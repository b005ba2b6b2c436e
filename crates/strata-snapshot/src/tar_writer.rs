//! A deterministic OCI layer tar writer.
//!
//! Same input, same bytes: headers are ustar with numeric uid/gid, empty
//! uname/gname, no atime/ctime, devmajor/minor only for devices, and mtimes
//! clamped to [`TarOptions::epoch`]. What ustar cannot hold goes into a PAX
//! extended header before the entry, with records sorted by key: `path` and
//! `linkpath` over 100 bytes or not ASCII, `uid`/`gid` over 2097151, `size`
//! over 8 GiB, `mtime` before 1970, and xattrs as `SCHILY.xattr.<name>`. The
//! PAX header is named `<dir>/PaxHeaders.0/<base>` as Go's archive/tar (and
//! so BuildKit) names it.
//!
//! The caller adds entries in their final order (parents first). Paths are
//! relative, without `./`; directories get a trailing `/`. File data is
//! copied with `io::copy` on the caller's concrete reader, so a `File` into
//! a `File` keeps the kernel's `copy_file_range` fast path.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::path::PathBuf;

use crate::error::{Result, SnapshotError};
use crate::tar_header::{
    DeviceKind, Meta, TarOptions, check_path, invalid, pax_record, put_octal, put_str,
};

const ZEROS: [u8; 1024] = [0; 1024];
const USTAR_MAX_ID: u64 = 0o7777777;
const USTAR_MAX_NUM: u64 = 0o77777777777;

/// Writes an OCI layer tar, entry by entry.
pub struct LayerWriter<W: Write> {
    out: W,
    opts: TarOptions,
    written: u64,
    /// Non-directory entries written so far, with their owner, mode and
    /// mtime, which a hard link header to them repeats.
    linkable: HashMap<String, Inode>,
}

/// What a hard link header repeats of its target.
#[derive(Clone, Copy)]
struct Inode {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
}

impl Inode {
    fn of(m: &Meta) -> Inode {
        Inode {
            mode: m.mode,
            uid: m.uid,
            gid: m.gid,
            mtime: m.mtime,
        }
    }
}

/// One header to write.
struct Head<'a> {
    path: String,
    flag: u8,
    meta: &'a Meta,
    size: u64,
    link: Option<&'a str>,
    dev: Option<(u32, u32)>,
}

impl<W: Write> LayerWriter<W> {
    /// A writer into `out`.
    pub fn new(out: W, opts: TarOptions) -> Self {
        LayerWriter {
            out,
            opts,
            written: 0,
            linkable: HashMap::new(),
        }
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// A directory.
    pub fn dir(&mut self, path: &str, meta: &Meta) -> Result<()> {
        let mut path = check_path(path)?.to_owned();
        path.push('/');
        self.head(Head::new(path, b'5', meta))
    }

    /// A regular file of `size` bytes read from `data`. Fails when `data`
    /// ends early (the file shrank); bytes past `size` are not read.
    pub fn file<R: Read + ?Sized>(
        &mut self,
        path: &str,
        meta: &Meta,
        size: u64,
        data: &mut R,
    ) -> Result<()> {
        let path = check_path(path)?;
        let mut h = Head::new(path.to_owned(), b'0', meta);
        h.size = size;
        self.head(h)?;
        let copied = io::copy(&mut data.take(size), &mut self.out)
            .map_err(SnapshotError::io("write layer entry", path))?;
        if copied != size {
            return Err(SnapshotError::Io {
                op: "write layer entry",
                path: PathBuf::from(path),
                source: io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("expected {size} bytes, read {copied}"),
                ),
            });
        }
        self.written += size;
        self.pad(path, size)?;
        self.linkable.insert(path.to_owned(), Inode::of(meta));
        Ok(())
    }

    /// A symbolic link.
    pub fn symlink(&mut self, path: &str, target: &str, meta: &Meta) -> Result<()> {
        let path = check_path(path)?;
        let mut h = Head::new(path.to_owned(), b'2', meta);
        h.link = Some(target);
        self.head(h)?;
        self.linkable.insert(path.to_owned(), Inode::of(meta));
        Ok(())
    }

    /// A hard link to `target`, an earlier non-directory entry of this
    /// layer. The header repeats the target's owner, mode and mtime:
    /// Docker and containerd apply a hard link header's owner and mode to
    /// the shared inode, so zeros there would make the file mode 0000.
    pub fn hardlink(&mut self, path: &str, target: &str) -> Result<()> {
        let path = check_path(path)?;
        let target = check_path(target)?;
        let Some(inode) = self.linkable.get(target).copied() else {
            return Err(invalid(
                path,
                &format!("hard link target {target:?} is not an earlier file of this layer"),
            ));
        };
        let meta = Meta {
            mode: inode.mode,
            uid: inode.uid,
            gid: inode.gid,
            mtime: inode.mtime,
            xattrs: BTreeMap::new(),
        };
        let mut h = Head::new(path.to_owned(), b'1', &meta);
        h.link = Some(target);
        self.head(h)?;
        self.linkable.insert(path.to_owned(), inode);
        Ok(())
    }

    /// A device node.
    pub fn device(
        &mut self,
        path: &str,
        kind: DeviceKind,
        major: u32,
        minor: u32,
        meta: &Meta,
    ) -> Result<()> {
        let path = check_path(path)?;
        let flag = match kind {
            DeviceKind::Char => b'3',
            DeviceKind::Block => b'4',
        };
        if u64::from(major) > USTAR_MAX_ID || u64::from(minor) > USTAR_MAX_ID {
            return Err(invalid(path, "device number too large for a tar header"));
        }
        let mut h = Head::new(path.to_owned(), flag, meta);
        h.dev = Some((major, minor));
        self.head(h)?;
        self.linkable.insert(path.to_owned(), Inode::of(meta));
        Ok(())
    }

    /// A FIFO.
    pub fn fifo(&mut self, path: &str, meta: &Meta) -> Result<()> {
        let path = check_path(path)?;
        self.head(Head::new(path.to_owned(), b'6', meta))?;
        self.linkable.insert(path.to_owned(), Inode::of(meta));
        Ok(())
    }

    /// Marks `path` deleted: an empty file `.wh.<name>` beside it.
    pub fn whiteout(&mut self, path: &str) -> Result<()> {
        let path = check_path(path)?;
        let wh = match path.rsplit_once('/') {
            Some((dir, name)) => format!("{dir}/{}{name}", crate::WHITEOUT_PREFIX),
            None => format!("{}{path}", crate::WHITEOUT_PREFIX),
        };
        self.head(Head::new(wh, b'0', &Meta::default()))
    }

    /// Marks the directory `dir` opaque: an empty file `<dir>/.wh..wh..opq`.
    pub fn opaque(&mut self, dir: &str) -> Result<()> {
        let dir = dir.trim_end_matches('/');
        let marker = if dir.is_empty() {
            crate::OPAQUE_MARKER.to_owned()
        } else {
            format!("{}/{}", check_path(dir)?, crate::OPAQUE_MARKER)
        };
        self.head(Head::new(marker, b'0', &Meta::default()))
    }

    /// Ends the archive (two zero blocks), flushes and returns the writer.
    pub fn finish(mut self) -> Result<W> {
        let fail = SnapshotError::io("finish", "layer tar output");
        self.out.write_all(&ZEROS).map_err(fail)?;
        self.out
            .flush()
            .map_err(SnapshotError::io("finish", "layer tar output"))?;
        Ok(self.out)
    }

    fn head(&mut self, h: Head<'_>) -> Result<()> {
        let mtime = h.meta.mtime.min(self.opts.epoch);
        let mut pax: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        if h.path.len() > 100 || !h.path.is_ascii() {
            pax.insert("path".into(), h.path.as_bytes().to_vec());
        }
        if let Some(l) = h.link
            && (l.len() > 100 || !l.is_ascii())
        {
            pax.insert("linkpath".into(), l.as_bytes().to_vec());
        }
        let mut big = |key: &str, v: u64, max: u64| {
            if v > max {
                pax.insert(key.into(), v.to_string().into_bytes());
                0
            } else {
                v
            }
        };
        let uid = big("uid", h.meta.uid.into(), USTAR_MAX_ID);
        let gid = big("gid", h.meta.gid.into(), USTAR_MAX_ID);
        let size = big("size", h.size, USTAR_MAX_NUM);
        let mtime_field = match u64::try_from(mtime) {
            Ok(m) if m <= USTAR_MAX_NUM => m,
            _ => {
                pax.insert("mtime".into(), mtime.to_string().into_bytes());
                0
            }
        };
        for (name, value) in &h.meta.xattrs {
            if name.is_empty() || name.contains(['=', '\0']) {
                return Err(invalid(&h.path, &format!("unusable xattr name {name:?}")));
            }
            pax.insert(format!("SCHILY.xattr.{name}"), value.clone());
        }
        if !pax.is_empty() {
            self.pax(&h.path, &pax)?;
        }
        let mut hd = tar::Header::new_ustar();
        let u = hd.as_ustar_mut().expect("a ustar header");
        put_str(&mut u.name, &h.path);
        if let Some(l) = h.link {
            put_str(&mut u.linkname, l);
        }
        if let Some((major, minor)) = h.dev {
            put_octal(&mut u.dev_major, major.into());
            put_octal(&mut u.dev_minor, minor.into());
        }
        put_octal(&mut u.mode, (h.meta.mode & 0o7777).into());
        put_octal(&mut u.uid, uid);
        put_octal(&mut u.gid, gid);
        put_octal(&mut u.size, size);
        put_octal(&mut u.mtime, mtime_field);
        u.typeflag = [h.flag];
        hd.set_cksum();
        self.raw(&h.path, hd.as_bytes())
    }

    /// Writes a PAX extended header for `path` with `records`.
    fn pax(&mut self, path: &str, records: &BTreeMap<String, Vec<u8>>) -> Result<()> {
        let mut data = Vec::new();
        for (k, v) in records {
            data.extend_from_slice(&pax_record(k, v));
        }
        let trimmed = path.trim_end_matches('/');
        let (dir, base) = match trimmed.rsplit_once('/') {
            Some((d, b)) => (format!("{d}/"), b),
            None => (String::new(), trimmed),
        };
        let name: String = format!("{dir}PaxHeaders.0/{base}")
            .chars()
            .filter(char::is_ascii)
            .take(100)
            .collect();
        let mut hd = tar::Header::new_ustar();
        let u = hd.as_ustar_mut().expect("a ustar header");
        put_str(&mut u.name, name.trim_end_matches('/'));
        for field in [&mut u.mode[..], &mut u.uid[..], &mut u.gid[..]] {
            put_octal(field, 0);
        }
        put_octal(&mut u.size, data.len() as u64);
        put_octal(&mut u.mtime, 0);
        u.typeflag = [b'x'];
        hd.set_cksum();
        self.raw(path, hd.as_bytes())?;
        self.raw(path, &data)?;
        self.pad(path, data.len() as u64)
    }

    fn raw(&mut self, path: &str, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(SnapshotError::io("write layer entry", path))?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn pad(&mut self, path: &str, size: u64) -> Result<()> {
        let rem = (size % 512) as usize;
        if rem != 0 {
            self.raw(path, &ZEROS[..512 - rem])?;
        }
        Ok(())
    }
}

impl<'a> Head<'a> {
    fn new(path: String, flag: u8, meta: &'a Meta) -> Self {
        Head {
            path,
            flag,
            meta,
            size: 0,
            link: None,
            dev: None,
        }
    }
}
