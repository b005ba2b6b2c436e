//! Dispatching `COPY` and `ADD`: expanding arguments, resolving the
//! destination in the parent image, choosing sources (context, heredoc,
//! another stage or image, a local archive, a URL), the cache key over the
//! selected content, and the layer.

use std::sync::Arc;

use strata_dockerfile::dockerignore::DockerIgnore;
use strata_dockerfile::{Add, Copy, Heredoc, Instruction, Spanned};

use crate::cache::KeyBuilder;
use crate::copy::{Content, Item, ItemKind, Plan, Rules, Target, join};
use crate::error::{Result, step_error};
use crate::fs_view::{FsView, Kind};
use crate::stage::StageRunner;
use crate::state::StageState;

/// The arguments COPY and ADD share.
pub(crate) struct CopyArgs<'a> {
    pub(crate) sources: &'a [String],
    pub(crate) dest: &'a str,
    pub(crate) from: Option<&'a str>,
    pub(crate) chown: Option<&'a str>,
    pub(crate) chmod: Option<&'a str>,
    pub(crate) parents: bool,
    pub(crate) excludes: &'a [String],
    pub(crate) heredocs: &'a [Heredoc],
    pub(crate) add: Option<&'a Add>,
}

impl StageRunner<'_> {
    pub(crate) fn copy_step(
        &mut self,
        state: &mut StageState,
        c: &Copy,
        ins: &Spanned<Instruction>,
    ) -> Result<()> {
        let args = CopyArgs {
            sources: &c.sources,
            dest: &c.dest,
            from: c.from.as_deref(),
            chown: c.chown.as_deref(),
            chmod: c.chmod.as_deref(),
            parents: c.parents,
            excludes: &c.excludes,
            heredocs: &c.heredocs,
            add: None,
        };
        self.copy_like(state, &args, ins)
    }

    pub(crate) fn add_step(
        &mut self,
        state: &mut StageState,
        a: &Add,
        ins: &Spanned<Instruction>,
    ) -> Result<()> {
        let args = CopyArgs {
            sources: &a.sources,
            dest: &a.dest,
            from: None,
            chown: a.chown.as_deref(),
            chmod: a.chmod.as_deref(),
            parents: false,
            excludes: &a.excludes,
            heredocs: &a.heredocs,
            add: Some(a),
        };
        self.copy_like(state, &args, ins)
    }

    /// COPY and ADD in two phases. The cache key needs no view of the
    /// parent image: the parent's key fixes its file system, so the key is
    /// the parent key, the expanded arguments and the content of the
    /// selected sources. Only on a miss is the parent image consulted
    /// (destination checks, owners by name, parent directories) and the
    /// layer written.
    fn copy_like(
        &mut self,
        state: &mut StageState,
        a: &CopyArgs<'_>,
        ins: &Spanned<Instruction>,
    ) -> Result<()> {
        let text = ins.original.trim().to_owned();
        let step = self.start(&text);
        let chown = a.chown.map(|c| self.expand(state, c)).transpose()?;
        let chmod =
            match a.chmod {
                Some(m) => {
                    let m = self.expand(state, m)?;
                    Some(u32::from_str_radix(&m, 8).map_err(|_| {
                        step_error(&step.name, format!("invalid chmod parameter: {m}"))
                    })?)
                }
                None => None,
            };
        let dest = self.expand(state, a.dest)?;
        let sources: Vec<String> = a
            .sources
            .iter()
            .map(|s| self.expand(state, s))
            .collect::<Result<_>>()?;
        let wildcard = sources.iter().any(|s| s.contains(['*', '?', '[']));
        let mut key = KeyBuilder::new(if a.add.is_some() { "add" } else { "copy" }, &state.key);
        key.field("dest", &dest)
            .field("workdir", &state.workdir())
            .field("chown", chown.as_deref().unwrap_or(""))
            .field("chmod", &format!("{chmod:?}"))
            .field("parents", &a.parents.to_string())
            .list("excludes", a.excludes);
        let mut heredocs = Vec::new();
        for h in a.heredocs {
            // The parser already removed `<<-` tabs from COPY heredocs.
            let body = if h.expand {
                self.expand(state, &h.content)?
            } else {
                h.content.clone()
            };
            key.field("heredoc", &h.name).field("body", &body);
            heredocs.push((h.name.clone(), body));
        }
        let excludes = if a.excludes.is_empty() {
            None
        } else {
            Some(
                DockerIgnore::from_patterns(a.excludes)
                    .map_err(|e| step_error(&step.name, e.to_string()))?,
            )
        };
        // Sources, without the parent image.
        let mut from_state = None;
        let mut urls = Vec::new();
        let mut groups_all = Vec::new();
        match a.from {
            Some(from) => {
                let from = self.expand(state, from)?;
                let other = self.state_of(&from)?;
                key.field("from", &other.key.to_string())
                    .list("sources", &sources);
                from_state = Some(other);
            }
            None => {
                for src in &sources {
                    if let Some(add) = a.add
                        && (src.starts_with("http://") || src.starts_with("https://"))
                    {
                        let fetched = self.fetch(add, src, &step.name)?;
                        key.field("url", src)
                            .field("content", &fetched.1.to_string());
                        urls.push((src.clone(), fetched));
                        continue;
                    }
                    let mut groups = self.sh.context.select(src, a.parents)?;
                    if let Some(ex) = &excludes {
                        // Patterns are relative to the copied source: a
                        // file by its name, a directory's entries by their
                        // path inside it.
                        for g in &mut groups {
                            let root_is_dir = g
                                .first()
                                .is_some_and(|(_, e)| e.kind == crate::context::CtxKind::Dir);
                            g.retain(|(rel, _)| {
                                let inner = rel.split_once('/').map_or("", |(_, r)| r);
                                !(ex.excludes(rel)
                                    || (root_is_dir && !inner.is_empty() && ex.excludes(inner)))
                            });
                        }
                        groups.retain(|g| !g.is_empty());
                    }
                    if groups.is_empty() && !wildcard {
                        return Err(step_error(
                            &step.name,
                            format!(
                                "failed to calculate checksum of ref: \"/{}\": not found",
                                crate::context::clean_rel(src)
                            ),
                        ));
                    }
                    key.field("source", src);
                    for g in &groups {
                        for (i, (rel, e)) in g.iter().enumerate() {
                            key.field("entry", &self.sh.context.token(e, i == 0)?)
                                .field("as", rel);
                        }
                    }
                    groups_all.push((src.clone(), groups));
                }
            }
        }
        let key = key.finish();
        let history = format!("{text} # buildkit");
        if self.cached(state, &key, &history)? {
            self.finish(&step, true);
            return Ok(());
        }

        // A miss: resolve against the parent image and write the layer.
        let view = self.view(state)?;
        let chown = match chown {
            Some(spec) => {
                let ids =
                    crate::user::for_chown(&view, &spec).map_err(|e| step_error(&step.name, e))?;
                Some((ids.uid, ids.gid))
            }
            None => None,
        };
        let rules = Rules {
            chown,
            chmod,
            epoch: state.epoch,
        };
        let trailing = dest.ends_with('/') || dest.ends_with("/.") || dest == ".";
        let absolute = if dest.starts_with('/') {
            dest.clone()
        } else {
            join(&state.workdir(), &dest)
        };
        let clean = crate::context::clean_rel(&absolute);
        // Follow symlinks in the destination's parents, inside the image.
        let dest_path = match clean.rsplit_once('/') {
            Some((parent, name)) => join(&view.resolve(parent, true), name),
            None => clean.clone(),
        };
        let existing_dir = view
            .stat(&dest_path, true)
            .is_some_and(|f| f.entry.kind == Kind::Dir);
        let many = sources.len() + a.heredocs.len() > 1 || wildcard;
        let dest_dir = trailing || existing_dir || many || a.parents;
        if many && !trailing && !existing_dir {
            return Err(step_error(
                &step.name,
                "When using COPY with more than one source file, the destination must be a directory and end with a /",
            ));
        }
        let dest_path = if dest_dir {
            view.resolve(&dest_path, true)
        } else {
            dest_path
        };
        let target = Target {
            dest: &dest_path,
            dir: dest_dir,
            parents: a.parents,
        };
        let mut plan = Plan::default();
        for (name, body) in heredocs {
            let file = if dest_dir {
                join(&dest_path, &name)
            } else {
                dest_path.clone()
            };
            let (uid, gid) = rules.chown.unwrap_or((0, 0));
            plan.add(
                &file,
                Item {
                    kind: ItemKind::File(Content::Bytes(Arc::new(body.into_bytes()))),
                    mode: rules.chmod.unwrap_or(0o644),
                    uid,
                    gid,
                    mtime: state.epoch,
                },
            );
        }
        if let Some(other) = &from_state {
            let other_view = Arc::new(FsView::new(
                self.sh.store,
                &self.sh.indexes,
                &other.blobs(),
            )?);
            for src in &sources {
                plan.add_image(&other_view, &step.name, src, target, &rules)?;
            }
        }
        for (url, (data, _, modified)) in urls {
            self.add_url(&mut plan, &url, data, modified, target, &rules);
        }
        for (src, groups) in &groups_all {
            if a.add.is_some_and(|add| add.unpack != Some(false))
                && self.add_archive(&mut plan, src, &dest_path, &rules, &step.name)?
            {
                continue;
            }
            for g in groups {
                plan.add_context(&self.sh.context, &step.name, g, target, &rules)?;
            }
        }
        plan.add_parents(&view, &rules);
        let layer = if plan.is_empty() {
            None
        } else {
            Some(self.write_plan(&plan, state.epoch)?)
        };
        self.commit(state, key, layer, history)?;
        self.finish(&step, false);
        Ok(())
    }
}
