//! Reader adapters: tee into hashers and files, count bytes, sniff and undo
//! compression, and refuse decompression bombs.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::rc::Rc;

use strata_core::{Compression, Sha256Hasher};

/// How far a compressed stream may expand before it is refused: more than
/// `ratio` times its compressed size, once past `floor` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpansionLimit {
    /// Allowed output bytes per input byte.
    pub ratio: u64,
    /// Output below this is always allowed.
    pub floor: u64,
}

impl Default for ExpansionLimit {
    /// 200:1 past 1 GiB. Real layers rarely pass 20:1; gzip's ceiling is
    /// about 1030:1, which is what bombs use.
    fn default() -> ExpansionLimit {
        ExpansionLimit {
            ratio: 200,
            floor: 1 << 30,
        }
    }
}

/// Passes bytes through, copying them into a sink (a hasher or a blob).
pub(crate) struct Tee<R, W> {
    inner: R,
    pub(crate) sink: W,
}

impl<R: Read, W: Write> Tee<R, W> {
    pub(crate) fn new(inner: R, sink: W) -> Tee<R, W> {
        Tee { inner, sink }
    }
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sink.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// A `Write` that only hashes.
#[derive(Default)]
pub(crate) struct HashSink(pub(crate) Sha256Hasher);

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Counts bytes read, into a counter shared with whoever needs it.
pub(crate) struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Fails the read once output outgrows the limit relative to input.
struct Guard<R> {
    inner: R,
    compressed: Rc<Cell<u64>>,
    out: u64,
    limit: ExpansionLimit,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let allowed = self
            .limit
            .floor
            .max(self.compressed.get().saturating_mul(self.limit.ratio));
        if self.out > allowed {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "compressed data expands more than {}x past {} bytes (a decompression bomb?); \
                     set STRATA_EXPANSION_LIMIT=RATIO[:FLOOR] to allow it",
                    self.limit.ratio, self.limit.floor
                ),
            ));
        }
        Ok(n)
    }
}

/// Peeks at the first bytes of `reader` to tell its compression, and returns
/// a reader of the decompressed bytes (guarded by `limit`).
pub(crate) fn decompress<'a, R: Read + 'a>(
    mut reader: R,
    limit: ExpansionLimit,
) -> io::Result<(Compression, Box<dyn Read + 'a>)> {
    let head = peek(&mut reader, 4)?;
    let compression = Compression::sniff(&head);
    let whole = BufReader::with_capacity(1 << 16, io::Cursor::new(head).chain(reader));
    Ok((compression, decoder(whole, compression, limit)?))
}

/// Reads up to `n` bytes, fewer only at end of stream (pipes may return
/// short reads).
pub(crate) fn peek<R: Read>(reader: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    reader.by_ref().take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// A guarded decoder for a known compression.
pub(crate) fn decoder<'a, R: BufRead + 'a>(
    reader: R,
    compression: Compression,
    limit: ExpansionLimit,
) -> io::Result<Box<dyn Read + 'a>> {
    let count = Rc::new(Cell::new(0));
    let counted = Counting {
        inner: reader,
        count: count.clone(),
    };
    let guard = |inner: Box<dyn Read + 'a>| -> Box<dyn Read + 'a> {
        Box::new(Guard {
            inner,
            compressed: count.clone(),
            out: 0,
            limit,
        })
    };
    Ok(match compression {
        Compression::None => Box::new(counted),
        Compression::Gzip => guard(Box::new(flate2::bufread::MultiGzDecoder::new(
            BufReader::with_capacity(1 << 16, counted),
        ))),
        Compression::Zstd => guard(Box::new(zstd::stream::read::Decoder::new(counted)?)),
    })
}
