//! Dispatching `COPY` and `ADD`: expanding arguments, resolving the
//! destination in the parent image, choosing sources (context, heredoc,
//! another stage or image, a local archive, a URL), the cache key over the
//! selected content, and the layer.

use std::sync::Arc;

use strata_dockerfile::dockerignore::DockerIgnore;
use strata_dockerfile::{Add, Copy, Heredoc, Instruction, Spanned};

use crate::cache::KeyBuilder;
use crate::copy::{Content, Item, ItemKind, Plan, Rules, Target, bytes_token, join};
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

    fn copy_like(
        &mut self,
        state: &mut StageState,
        a: &CopyArgs<'_>,
        ins: &Spanned<Instruction>,
    ) -> Result<()> {
        let text = ins.original.trim().to_owned();
        let step = self.start(&text);
        let view = self.view(state)?;
        let chown = match a.chown {
            Some(spec) => {
                let spec = self.expand(state, spec)?;
                let ids =
                    crate::user::for_chown(&view, &spec).map_err(|e| step_error(&step.name, e))?;
                Some((ids.uid, ids.gid))
            }
            None => None,
        };
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
        let rules = Rules {
            chown,
            chmod,
            epoch: state.epoch,
        };
        let dest = self.expand(state, a.dest)?;
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
        let sources: Vec<String> = a
            .sources
            .iter()
            .map(|s| self.expand(state, s))
            .collect::<Result<_>>()?;
        let wildcard = sources.iter().any(|s| s.contains(['*', '?', '[']));
        let existing_dir = view
            .stat(&dest_path, true)
            .is_some_and(|f| f.entry.kind == Kind::Dir);
        let dest_dir = trailing
            || existing_dir
            || sources.len() + a.heredocs.len() > 1
            || wildcard
            || a.parents;
        if (sources.len() + a.heredocs.len() > 1 || wildcard) && !trailing && !existing_dir {
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
        let mut key = KeyBuilder::new(if a.add.is_some() { "add" } else { "copy" }, &state.key);
        key.field("dest", &dest_path)
            .field("dest-dir", &dest_dir.to_string());
        for h in a.heredocs {
            // The parser already removed `<<-` tabs from COPY heredocs.
            let mut body = h.content.clone();
            if h.expand {
                body = self.expand(state, &body)?;
            }
            let target = if dest_dir {
                join(&dest_path, &h.name)
            } else {
                dest_path.clone()
            };
            let (uid, gid) = rules.chown.unwrap_or((0, 0));
            let token = bytes_token(body.as_bytes());
            plan.add(
                &target,
                Item {
                    kind: ItemKind::File(Content::Bytes(Arc::new(body.into_bytes()))),
                    mode: rules.chmod.unwrap_or(0o644),
                    uid,
                    gid,
                    mtime: state.epoch,
                    token,
                },
            );
        }
        let excludes = if a.excludes.is_empty() {
            None
        } else {
            Some(
                DockerIgnore::from_patterns(a.excludes)
                    .map_err(|e| step_error(&step.name, e.to_string()))?,
            )
        };
        match a.from {
            Some(from) => {
                let from = self.expand(state, from)?;
                let other = self.state_of(&from)?;
                let other_view = Arc::new(FsView::new(
                    self.sh.store,
                    &self.sh.indexes,
                    &other.blobs(),
                )?);
                key.field("from", &other.key.to_string());
                for src in &sources {
                    plan.add_image(
                        &other_view,
                        &step.name,
                        &other.key.to_string(),
                        src,
                        target,
                        &rules,
                    )?;
                }
            }
            None => {
                for src in &sources {
                    if let Some(add) = a.add {
                        if src.starts_with("http://") || src.starts_with("https://") {
                            self.add_url(
                                &mut plan, add, src, &dest_path, dest_dir, &rules, &step.name,
                            )?;
                            continue;
                        }
                        if add.unpack != Some(false)
                            && self.add_archive(&mut plan, src, &dest_path, &rules, &step.name)?
                        {
                            continue;
                        }
                    }
                    let mut groups = self.sh.context.select(src, a.parents)?;
                    if let Some(ex) = &excludes {
                        for g in &mut groups {
                            g.retain(|(_, e)| !ex.excludes(&e.rel));
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
                    for g in &groups {
                        plan.add_context(&self.sh.context, &step.name, g, target, &rules)?;
                    }
                }
            }
        }
        plan.add_parents(&view, &rules);
        plan.key(&mut key);
        let key = key.finish();
        let history = format!("{text} # buildkit");
        if self.cached(state, &key, &history)? {
            self.finish(&step, true);
            return Ok(());
        }
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
