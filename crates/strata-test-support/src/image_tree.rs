//! The file tree an image archive describes, flattened across its layers,
//! for comparing what two tools built (mtimes aside).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use strata_core::Digest;

/// One path of a flattened image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TreeEntry {
    /// `file`, `dir`, `symlink`, `char`, `block` or `fifo`.
    pub kind: &'static str,
    /// Permission bits with setuid/setgid/sticky.
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Symlink target.
    pub link: Option<String>,
    /// sha256 of a file's content.
    pub content: Option<Digest>,
    /// Other paths that are hard links to the same file (sorted).
    pub hardlinks: Vec<String>,
}

/// A flattened image: its tree and its config.
#[derive(Debug, Clone)]
pub struct ImageTree {
    /// Path (no leading `/`, no trailing `/`) to entry.
    pub files: BTreeMap<String, TreeEntry>,
    /// The image config JSON.
    pub config: serde_json::Value,
}

fn files_of(archive: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut ar = tar::Archive::new(archive);
    for e in ar.entries().expect("archive") {
        let mut e = e.expect("entry");
        if e.header().entry_type().is_file() {
            let path = e
                .path()
                .expect("path")
                .to_string_lossy()
                .trim_start_matches("./")
                .to_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).expect("read");
            out.insert(path, data);
        }
    }
    out
}

fn clean(p: &str) -> String {
    p.trim_start_matches("./")
        .trim_start_matches('/')
        .trim_end_matches('/')
        .to_owned()
}

/// Flattens the first image of a `docker save` archive (any layout).
pub fn image_tree(archive: &[u8]) -> ImageTree {
    let files = files_of(archive);
    let manifest: serde_json::Value =
        serde_json::from_slice(files.get("manifest.json").expect("manifest.json")).expect("json");
    let entry = &manifest[0];
    let config: serde_json::Value =
        serde_json::from_slice(&files[entry["Config"].as_str().expect("Config")]).expect("config");
    let mut tree: BTreeMap<String, TreeEntry> = BTreeMap::new();
    for layer_path in entry["Layers"].as_array().expect("Layers") {
        let raw = &files[layer_path.as_str().expect("layer path")];
        let data = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .expect("gunzip");
            out
        } else {
            raw.clone()
        };
        apply_layer(&mut tree, &data);
    }
    group_hardlinks(&mut tree);
    ImageTree {
        files: tree,
        config,
    }
}

fn apply_layer(tree: &mut BTreeMap<String, TreeEntry>, layer: &[u8]) {
    let mut ar = tar::Archive::new(layer);
    let mut added_here: BTreeSet<String> = BTreeSet::new();
    for e in ar.entries().expect("layer") {
        let mut e = e.expect("layer entry");
        let path = clean(&e.path().expect("path").to_string_lossy());
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (d.to_owned(), n.to_owned()),
            None => (String::new(), path.clone()),
        };
        if name == ".wh..wh..opq" {
            let prefix = format!("{dir}/");
            tree.retain(|p, _| {
                !(p.starts_with(&prefix) || dir.is_empty()) || added_here.contains(p)
            });
            continue;
        }
        if let Some(victim) = name.strip_prefix(".wh.") {
            let victim = if dir.is_empty() {
                victim.to_owned()
            } else {
                format!("{dir}/{victim}")
            };
            let prefix = format!("{victim}/");
            tree.retain(|p, _| p != &victim && !p.starts_with(&prefix));
            continue;
        }
        let h = e.header();
        let kind = h.entry_type();
        let mode = h.mode().expect("mode") & 0o7777;
        let uid = h.uid().expect("uid");
        let gid = h.gid().expect("gid");
        let entry = if kind.is_hard_link() {
            let target = clean(
                &e.link_name()
                    .expect("link")
                    .expect("hardlink target")
                    .to_string_lossy(),
            );
            let mut t = tree
                .get(&target)
                .cloned()
                .expect("hard link to a known file");
            t.hardlinks = vec![format!("\0{target}")];
            t
        } else {
            let (k, link, content) = if kind.is_dir() {
                ("dir", None, None)
            } else if kind.is_symlink() {
                let l = e
                    .link_name()
                    .expect("link")
                    .expect("target")
                    .to_string_lossy()
                    .into_owned();
                ("symlink", Some(l), None)
            } else if kind.is_character_special() {
                ("char", None, None)
            } else if kind.is_block_special() {
                ("block", None, None)
            } else if kind.is_fifo() {
                ("fifo", None, None)
            } else {
                let mut data = Vec::new();
                e.read_to_end(&mut data).expect("file data");
                ("file", None, Some(Digest::sha256(&data)))
            };
            TreeEntry {
                kind: k,
                mode,
                uid,
                gid,
                link,
                content,
                hardlinks: Vec::new(),
            }
        };
        if path.is_empty() {
            continue;
        }
        // A non-directory replacing a directory removes what was under it.
        if entry.kind != "dir" {
            let prefix = format!("{path}/");
            tree.retain(|p, _| !p.starts_with(&prefix));
        }
        added_here.insert(path.clone());
        tree.insert(path, entry);
    }
}

/// Turns the hard-link markers left by `apply_layer` into symmetric sets,
/// so the comparison does not depend on which path a tool wrote first.
fn group_hardlinks(tree: &mut BTreeMap<String, TreeEntry>) {
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (p, e) in tree.iter() {
        if let Some(t) = e.hardlinks.first().and_then(|m| m.strip_prefix('\0')) {
            let g = groups.entry(t.to_owned()).or_default();
            g.insert(t.to_owned());
            g.insert(p.clone());
        }
    }
    for members in groups.values() {
        for m in members {
            if let Some(e) = tree.get_mut(m) {
                e.hardlinks = members.iter().filter(|o| *o != m).cloned().collect();
            }
        }
    }
}
