//! `COPY` (and the non-archive part of `ADD`): which files land where,
//! with which owner and mode, the cache key over exactly those files, and
//! the layer, written straight from the sources with no container.
//!
//! Docker's rules: a directory source copies its contents; a destination
//! ending in `/`, naming an existing directory, or receiving several
//! sources is a directory; missing parent directories are created 0755
//! (owned by the `--chown` user); context files belong to root unless
//! `--chown`, files from another stage keep their owners; `--chmod`
//! applies to every copied file and directory; symlinks are copied as
//! links except a source that is itself a link, which is followed; hard
//! links among the sources stay hard links.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::Arc;

use strata_snapshot::Meta;

use crate::context::{Context, CtxEntry, CtxKind};
use crate::error::{Result, step_error};
use crate::fs_view::{Found, FsView, Kind};
use crate::layer_out::NewLayer;

/// Where a copied file's bytes come from.
#[derive(Clone)]
pub(crate) enum Content {
    Context(std::path::PathBuf, u64),
    Image(Arc<FsView>, Found),
    Bytes(Arc<Vec<u8>>),
}

/// What an item of a copy is.
#[derive(Clone)]
pub(crate) enum ItemKind {
    Dir,
    File(Content),
    Symlink(String),
    /// A hard link to another item (its destination path).
    Hardlink(String),
}

/// One entry of the new layer.
#[derive(Clone)]
pub(crate) struct Item {
    pub(crate) kind: ItemKind,
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) mtime: i64,
}

/// The entries of a copy, keyed by path components (so iteration is a
/// depth-first walk with each directory's children in byte order).
#[derive(Default)]
pub(crate) struct Plan {
    pub(crate) items: BTreeMap<Vec<String>, Item>,
}

fn components(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .map(str::to_owned)
        .collect()
}

/// Where one source lands: the destination path, whether it is a
/// directory, and whether sources keep their context path (`--parents`).
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) dest: &'a str,
    pub(crate) dir: bool,
    pub(crate) parents: bool,
}

/// Ownership and mode rules of one COPY.
pub(crate) struct Rules {
    pub(crate) chown: Option<(u32, u32)>,
    pub(crate) chmod: Option<u32>,
    pub(crate) epoch: i64,
}

impl Rules {
    fn owner(&self, uid: u32, gid: u32) -> (u32, u32) {
        self.chown.unwrap_or((uid, gid))
    }

    fn mode(&self, mode: u32) -> u32 {
        self.chmod.unwrap_or(mode)
    }
}

impl Plan {
    /// Adds one entry at `dest` (a path in the image).
    pub(crate) fn add(&mut self, dest: &str, item: Item) {
        self.items.insert(components(dest), item);
    }

    /// Adds one group of context entries a source selected (its root
    /// first). `dest_dir` is true when the destination is a directory;
    /// with `parents` the root keeps its context path under it.
    pub(crate) fn add_context(
        &mut self,
        ctx: &Context,
        step: &str,
        selected: &[(String, &CtxEntry)],
        target: Target<'_>,
        rules: &Rules,
    ) -> Result<()> {
        let Target {
            dest,
            dir: dest_dir,
            parents,
        } = target;
        let Some((_, root)) = selected.first() else {
            return Ok(());
        };
        let keep = |rel: &str| -> String {
            if parents {
                rel.to_owned()
            } else {
                // Drop the source directory's own name: its contents are copied.
                rel.split_once('/')
                    .map_or(String::new(), |(_, r)| r.to_owned())
            }
        };
        let mut links: HashMap<(u64, u64), String> = HashMap::new();
        for (i, (rel, e)) in selected.iter().enumerate() {
            let target = if i == 0 && root.kind != CtxKind::Dir {
                if dest_dir {
                    join(dest, rel)
                } else {
                    dest.to_owned()
                }
            } else if root.kind == CtxKind::Dir {
                join(dest, &keep(rel))
            } else {
                join(dest, rel)
            };
            let (uid, gid) = rules.owner(0, 0);
            let kind = match e.kind {
                CtxKind::Dir => ItemKind::Dir,
                CtxKind::Symlink if i == 0 => {
                    // A source that is itself a link is followed.
                    let followed = ctx.root().join(&e.rel);
                    let meta = fs_err::metadata(&followed)
                        .map_err(|err| step_error(step, err.to_string()))?;
                    if meta.is_dir() {
                        return Err(step_error(
                            step,
                            format!("source {} is a link to a directory", e.rel),
                        ));
                    }
                    ItemKind::File(Content::Context(followed, meta.len()))
                }
                CtxKind::Symlink => ItemKind::Symlink(e.link.clone().unwrap_or_default()),
                CtxKind::File => {
                    if e.may_be_linked() {
                        if let Some(first) = links.get(&e.inode) {
                            self.add(
                                &target,
                                Item {
                                    kind: ItemKind::Hardlink(first.clone()),
                                    mode: 0,
                                    uid,
                                    gid,
                                    mtime: 0,
                                },
                            );
                            continue;
                        }
                        links.insert(e.inode, components(&target).join("/"));
                    }
                    ItemKind::File(Content::Context(ctx.path_of(e), e.size))
                }
            };
            self.add(
                &target,
                Item {
                    kind,
                    mode: rules.mode(e.mode),
                    uid,
                    gid,
                    mtime: e.mtime.min(rules.epoch),
                },
            );
        }
        Ok(())
    }

    /// Adds what `src` names in another image (`COPY --from`).
    pub(crate) fn add_image(
        &mut self,
        view: &Arc<FsView>,
        step: &str,
        src: &str,
        target: Target<'_>,
        rules: &Rules,
    ) -> Result<()> {
        let Target {
            dest,
            dir: dest_dir,
            ..
        } = target;
        let resolved = view.resolve(src, true);
        let Some(root) = view.stat(src, true) else {
            return Err(step_error(
                step,
                format!(
                    "failed to compute cache key: \"/{}\" not found: not found",
                    src.trim_start_matches('/')
                ),
            ));
        };
        let item_of = |f: &Found| -> Item {
            let (uid, gid) = rules.owner(f.entry.uid as u32, f.entry.gid as u32);
            let kind = match f.entry.kind {
                Kind::Dir => ItemKind::Dir,
                Kind::Symlink => ItemKind::Symlink(f.entry.link.clone().unwrap_or_default()),
                _ => ItemKind::File(Content::Image(view.clone(), f.clone())),
            };
            Item {
                kind,
                mode: rules.mode(f.entry.mode),
                uid,
                gid,
                mtime: f.entry.mtime.min(rules.epoch),
            }
        };
        if root.entry.kind == Kind::Dir {
            self.add(dest, item_of(&root));
            for (rel, f) in view.walk(&resolved) {
                if matches!(f.entry.kind, Kind::Char | Kind::Block | Kind::Fifo) {
                    continue;
                }
                self.add(&join(dest, &rel), item_of(&f));
            }
        } else {
            let name = resolved.rsplit('/').next().unwrap_or(&resolved).to_owned();
            let target = if dest_dir {
                join(dest, &name)
            } else {
                dest.to_owned()
            };
            self.add(&target, item_of(&root));
        }
        Ok(())
    }

    /// Adds every parent directory of the entries, as Docker's layers
    /// carry them: one the parent image has keeps its owner and mode (an
    /// unpacker would otherwise create it as a root-owned 0755 directory
    /// that shadows the real one); a missing one is created 0755, owned by
    /// the `--chown` user or root.
    pub(crate) fn add_parents(&mut self, parent: &FsView, rules: &Rules) {
        let mut parents = BTreeMap::new();
        for path in self.items.keys() {
            for n in 1..path.len() {
                let p = path[..n].to_vec();
                if self.items.contains_key(&p) || parents.contains_key(&p) {
                    continue;
                }
                let (uid, gid) = rules.chown.unwrap_or((0, 0));
                let item = match parent.stat(&p.join("/"), true) {
                    Some(f) if f.entry.kind == Kind::Dir => Item {
                        kind: ItemKind::Dir,
                        mode: f.entry.mode,
                        uid: f.entry.uid as u32,
                        gid: f.entry.gid as u32,
                        mtime: f.entry.mtime.min(rules.epoch),
                    },
                    _ => Item {
                        kind: ItemKind::Dir,
                        mode: 0o755,
                        uid,
                        gid,
                        mtime: rules.epoch,
                    },
                };
                parents.insert(p, item);
            }
        }
        self.items.extend(parents);
    }

    /// Writes the entries into a new layer.
    pub(crate) fn write(&self, layer: &mut NewLayer) -> Result<()> {
        for (path, item) in &self.items {
            let p = path.join("/");
            let meta = Meta {
                mode: item.mode,
                uid: item.uid,
                gid: item.gid,
                mtime: item.mtime,
                xattrs: Default::default(),
            };
            match &item.kind {
                ItemKind::Dir => layer.dir(&format!("{p}/"), &meta)?,
                ItemKind::Symlink(t) => layer.symlink(&p, t, &meta)?,
                ItemKind::Hardlink(t) => layer.hardlink(&p, t)?,
                ItemKind::File(c) => {
                    let (size, mut reader): (u64, Box<dyn Read>) = match c {
                        Content::Context(path, size) => {
                            (*size, Box::new(fs_err::File::open(path)?))
                        }
                        Content::Image(view, found) => (found.entry.size, view.open(found)?),
                        Content::Bytes(b) => (
                            b.len() as u64,
                            Box::new(std::io::Cursor::new(b.as_ref().clone())),
                        ),
                    };
                    layer.file(&p, &meta, size, &mut reader)?;
                }
            }
        }
        Ok(())
    }

    /// Whether the plan writes nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// `dest/rel`, without doubled slashes.
pub(crate) fn join(dest: &str, rel: &str) -> String {
    if rel.is_empty() {
        return dest.to_owned();
    }
    format!("{}/{}", dest.trim_end_matches('/'), rel)
}
