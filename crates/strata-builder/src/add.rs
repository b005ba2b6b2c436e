//! What `ADD` does beyond `COPY`: a local tar archive (plain, gzip, bzip2,
//! xz or zstd) is extracted at the destination, keeping its entries'
//! owners and modes; an http(s) URL is downloaded (through the caller's
//! [`crate::Fetcher`]) to a file of mode 0600, checked against `--checksum`.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;

use strata_core::{Digest, Sha256Hasher};
use strata_dockerfile::Add;

use crate::context::{CtxKind, clean_rel};
use crate::copy::{Content, Item, ItemKind, Plan, Rules, Target, join};
use crate::error::{Result, step_error};
use crate::stage::StageRunner;

fn decompressor<'a>(mut r: BufReader<Box<dyn Read + 'a>>) -> io::Result<Box<dyn Read + 'a>> {
    let head = r.fill_buf()?.to_vec();
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(r))
    } else if head.starts_with(b"BZh") {
        Box::new(bzip2::bufread::MultiBzDecoder::new(r))
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(r))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(r)?)
    } else {
        Box::new(r)
    })
}

/// Whether 512 bytes form a tar header (valid checksum).
pub fn is_tar_header(block: &[u8]) -> bool {
    if block.len() < 512 || block.iter().all(|b| *b == 0) {
        return false;
    }
    let field = String::from_utf8_lossy(&block[148..156]);
    let Ok(want) = u32::from_str_radix(field.trim_matches(|c: char| c == '\0' || c == ' '), 8)
    else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    sum == want
}

impl StageRunner<'_> {
    /// Extracts `src` at `dest` if it is a local archive; false otherwise.
    pub(crate) fn add_archive(
        &self,
        plan: &mut Plan,
        src: &str,
        dest: &str,
        rules: &Rules,
        step: &str,
    ) -> Result<bool> {
        let rel = clean_rel(src);
        let Some(entry) = self
            .sh
            .context
            .entries()?
            .iter()
            .find(|e| e.rel == rel && e.kind == CtxKind::File)
        else {
            return Ok(false);
        };
        let path = self.sh.context.path_of(entry);
        let open = || -> io::Result<Box<dyn Read>> {
            let f: Box<dyn Read> = Box::new(fs_err::File::open(&path)?);
            decompressor(BufReader::new(f))
        };
        let mut probe = open()?;
        let mut block = vec![0u8; 512];
        if probe.read_exact(&mut block).is_err() || !is_tar_header(&block) {
            return Ok(false);
        }
        let reader = open()?;
        let mut tar = tar::Archive::new(reader);
        for e in tar.entries()? {
            let mut e = e.map_err(|err| step_error(step, format!("{src}: {err}")))?;
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            let inner = clean_rel(&name);
            if !stays_inside(&name) {
                return Err(step_error(
                    step,
                    format!("{src}: entry {name:?} is outside of the archive root"),
                ));
            }
            let h = e.header().clone();
            // Docker keeps the archive's owners: --chown does not apply to
            // extracted entries (checked against Docker's BuildKit).
            let (uid, gid) = (h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32);
            let t = h.entry_type();
            let kind = if t.is_dir() {
                ItemKind::Dir
            } else if t.is_symlink() {
                ItemKind::Symlink(
                    e.link_name_bytes()
                        .map(|l| String::from_utf8_lossy(&l).into_owned())
                        .unwrap_or_default(),
                )
            } else if t.is_hard_link() {
                let target = e
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default();
                ItemKind::Hardlink(clean_rel(&join(dest, &clean_rel(&target))))
            } else if t.is_file() || t.is_contiguous() {
                let mut data = Vec::with_capacity(e.size() as usize);
                e.read_to_end(&mut data)?;
                ItemKind::File(Content::Bytes(Arc::new(data)))
            } else {
                continue;
            };
            if inner.is_empty() {
                continue;
            }
            let item = Item {
                kind,
                mode: rules.chmod.unwrap_or(h.mode().unwrap_or(0o644) & 0o7777),
                uid,
                gid,
                mtime: (h.mtime().unwrap_or(0) as i64).min(rules.epoch),
            };
            plan.add(&join(dest, &inner), item);
        }
        Ok(true)
    }

    /// Downloads an `ADD` URL and checks `--checksum`: its bytes, digest
    /// and Last-Modified time.
    pub(crate) fn fetch(
        &self,
        add: &Add,
        url: &str,
        step: &str,
    ) -> Result<(Vec<u8>, Digest, Option<i64>)> {
        let fetched = self
            .sh
            .fetcher
            .fetch(url)
            .map_err(|e| step_error(step, e))?;
        let data = fs_err::read(&fetched.path)?;
        let mut h = Sha256Hasher::new();
        h.update(&data);
        let digest: Digest = h.finish();
        if let Some(want) = &add.checksum
            && want != &digest.to_string()
        {
            return Err(step_error(
                step,
                format!("digest mismatch for {url}: expected {want}, got {digest}"),
            ));
        }
        Ok((data, digest, fetched.last_modified))
    }

    /// Puts a downloaded file into the plan (mode 0600, as Docker does).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_url(
        &self,
        plan: &mut Plan,
        url: &str,
        data: Vec<u8>,
        modified: Option<i64>,
        target: Target<'_>,
        rules: &Rules,
    ) {
        let name = url
            .split(['?', '#'])
            .next()
            .unwrap_or(url)
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("index.html");
        let name = if name.is_empty() { "index.html" } else { name };
        let file = if target.dir {
            join(target.dest, name)
        } else {
            target.dest.to_owned()
        };
        let (uid, gid) = rules.chown.unwrap_or((0, 0));
        let mtime = modified.unwrap_or(rules.epoch).min(rules.epoch);
        plan.add(
            &file,
            Item {
                kind: ItemKind::File(Content::Bytes(Arc::new(data))),
                mode: rules.chmod.unwrap_or(0o600),
                uid,
                gid,
                mtime,
            },
        );
    }
}

/// Whether an archive path stays inside the extraction root.
fn stays_inside(p: &str) -> bool {
    let mut depth = 0i32;
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => depth += 1,
        }
    }
    true
}
