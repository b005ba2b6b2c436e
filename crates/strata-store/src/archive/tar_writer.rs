//! A minimal tar writer for archives of blobs.
//!
//! The `tar` crate's builder copies data through `&mut dyn Read`, which
//! hides the concrete types from `std::io::copy` and so loses its
//! `copy_file_range`/`sendfile` fast path. Saving an image is mostly copying
//! blob files, so we write headers with `tar::Header` and copy data with
//! `io::copy(&mut File, &mut W)` on concrete types. Every header is
//! deterministic (mode 0644/0755, uid/gid 0, mtime 0), so the same images
//! always give the same archive bytes.

use std::io::{self, Read, Write};

/// Writes a tar stream.
pub(crate) struct TarWriter<W: Write> {
    out: W,
}

const ZEROS: [u8; 1024] = [0; 1024];

impl<W: Write> TarWriter<W> {
    pub(crate) fn new(out: W) -> TarWriter<W> {
        TarWriter { out }
    }

    fn header(&mut self, path: &str, size: u64, dir: bool) -> io::Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_path(path)?;
        h.set_size(size);
        h.set_mode(if dir { 0o755 } else { 0o644 });
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_entry_type(if dir {
            tar::EntryType::Directory
        } else {
            tar::EntryType::Regular
        });
        h.set_cksum();
        self.out.write_all(h.as_bytes())
    }

    fn pad(&mut self, size: u64) -> io::Result<()> {
        let rem = (size % 512) as usize;
        if rem != 0 {
            self.out.write_all(&ZEROS[..512 - rem])?;
        }
        Ok(())
    }

    /// A directory entry (`path` ends with `/`).
    pub(crate) fn dir(&mut self, path: &str) -> io::Result<()> {
        self.header(path, 0, true)
    }

    /// A file from memory.
    pub(crate) fn bytes(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        self.header(path, data.len() as u64, false)?;
        self.out.write_all(data)?;
        self.pad(data.len() as u64)
    }

    /// A file copied from `src`, which must yield exactly `size` bytes.
    pub(crate) fn file(
        &mut self,
        path: &str,
        size: u64,
        src: &mut std::fs::File,
    ) -> io::Result<()> {
        self.header(path, size, false)?;
        let copied = io::copy(&mut src.take(size), &mut self.out)?;
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{path}: expected {size} bytes, read {copied}"),
            ));
        }
        self.pad(size)
    }

    /// Ends the archive and returns the writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&ZEROS)?;
        self.out.flush()?;
        Ok(self.out)
    }
}
