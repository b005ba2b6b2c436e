//! One stage: start from its base, fire the base's ONBUILD triggers, then
//! carry out each instruction. Instructions that only change the config
//! record history and no layer; WORKDIR, COPY, ADD and RUN are steps with
//! progress, a cache key and (usually) a layer.

use std::sync::Arc;
use std::time::Instant;

use strata_core::{HealthConfig, ImageConfig};
use strata_dockerfile::shell::Lexer;
use strata_dockerfile::{Dockerfile, Healthcheck, Instruction, ShellOrExec, Spanned};
use strata_store::{LayerScan, Lease};

use crate::build::Shared;
use crate::cache::{KeyBuilder, base_key};
use crate::error::{BuildError, Result, step_error};
use crate::fs_view::FsView;
use crate::plan::{Base, Plan};
use crate::progress::{Event, StepId};
use crate::state::{LayerRef, StageState};

/// Runs one stage.
pub(crate) struct StageRunner<'a> {
    pub(crate) sh: &'a Shared<'a>,
    pub(crate) plan: &'a Plan,
    pub(crate) df: &'a Dockerfile,
    pub(crate) idx: usize,
    pub(crate) lexer: Lexer,
    pub(crate) lease: Lease,
    total: usize,
    done: usize,
}

/// A step's progress bookkeeping.
pub(crate) struct StepCtx {
    pub(crate) id: StepId,
    pub(crate) name: String,
    started: Instant,
}

fn is_step(i: &Instruction) -> bool {
    matches!(
        i,
        Instruction::Run(_) | Instruction::Copy(_) | Instruction::Add(_) | Instruction::Workdir(_)
    )
}

/// Go's `%q` of a string list, as BuildKit writes commands into history.
pub(crate) fn go_list(v: &[String]) -> String {
    let items: Vec<String> = v
        .iter()
        .map(|s| serde_json::to_string(s).unwrap_or_default())
        .collect();
    format!("[{}]", items.join(" "))
}

impl<'a> StageRunner<'a> {
    pub(crate) fn new(
        sh: &'a Shared<'a>,
        plan: &'a Plan,
        df: &'a Dockerfile,
        idx: usize,
    ) -> Result<StageRunner<'a>> {
        let total = 1 + df.stages[idx]
            .instructions
            .iter()
            .filter(|i| is_step(&i.node))
            .count();
        Ok(StageRunner {
            sh,
            plan,
            df,
            idx,
            lexer: Lexer::new(df.directives.escape),
            lease: Lease::new(sh.store)?,
            total,
            done: 0,
        })
    }

    /// Starts a numbered step: `[label i/n] text`.
    pub(crate) fn start(&mut self, text: &str) -> StepCtx {
        self.done += 1;
        let label = &self.plan.labels[self.idx];
        let name = if label.is_empty() {
            format!("[{}/{}] {text}", self.done, self.total.max(self.done))
        } else {
            format!(
                "[{label} {}/{}] {text}",
                self.done,
                self.total.max(self.done)
            )
        };
        let id = self.sh.next_step();
        self.sh.progress.event(&Event::Start { id, name: &name });
        StepCtx {
            id,
            name,
            started: Instant::now(),
        }
    }

    pub(crate) fn finish(&self, step: &StepCtx, cached: bool) {
        if cached {
            self.sh.progress.event(&Event::Cached { id: step.id });
        } else {
            self.sh.progress.event(&Event::Done {
                id: step.id,
                seconds: step.started.elapsed().as_secs_f64(),
            });
        }
    }

    /// Expands `$VAR`s with the stage's ENV and ARGs.
    pub(crate) fn expand(&self, state: &StageState, word: &str) -> Result<String> {
        self.lexer
            .process_word(word, &state.expansion_vars())
            .map_err(|e| BuildError::Dockerfile(e.to_string()))
    }

    /// Expands and splits into words.
    pub(crate) fn expand_words(&self, state: &StageState, word: &str) -> Result<Vec<String>> {
        self.lexer
            .process_words(word, &state.expansion_vars())
            .map_err(|e| BuildError::Dockerfile(e.to_string()))
    }

    /// The image file system of `state`, for lookups.
    pub(crate) fn view(&self, state: &StageState) -> Result<FsView> {
        FsView::new(self.sh.store, &self.sh.indexes, &state.blobs())
    }

    /// Builds the stage.
    pub(crate) fn run(&mut self) -> Result<Arc<StageState>> {
        let stage = &self.df.stages[self.idx];
        let step = self.start(&format!("FROM {}", stage.base));
        let mut state = self.base()?;
        self.finish(&step, false);
        // The base's ONBUILD triggers run first and are not passed on.
        let triggers = state.container().on_build.take().unwrap_or_default();
        for t in triggers {
            let text = format!("FROM scratch\n{t}\n");
            let parsed = strata_dockerfile::parse(&text);
            let (df, diags) = strata_dockerfile::instructions(&parsed);
            if let Some(d) = diags
                .iter()
                .find(|d| d.severity == strata_dockerfile::Severity::Error)
            {
                return Err(BuildError::Dockerfile(format!(
                    "ONBUILD trigger {t:?}: {}",
                    d.message
                )));
            }
            for ins in df.stages.into_iter().flat_map(|s| s.instructions) {
                if is_step(&ins.node) {
                    self.total += 1;
                }
                self.dispatch(&mut state, &ins)?;
            }
        }
        for ins in &stage.instructions {
            self.dispatch(&mut state, ins)?;
        }
        Ok(Arc::new(state))
    }

    fn base(&mut self) -> Result<StageState> {
        let req = self.sh.req;
        match &self.plan.bases[self.idx] {
            Base::Scratch => Ok(StageState::new(
                ImageConfig::default(),
                Vec::new(),
                base_key(None, &req.platform.to_string()),
                &req.platform,
                req.epoch,
            )),
            Base::Stage(j) => {
                let parent = self.sh.wait_stage(*j, &self.plan.labels[*j])?;
                let mut s = (*parent).clone();
                s.args.clear();
                s.cmd_set = false;
                Ok(s)
            }
            Base::Image(name) => self.image_state(name),
        }
    }

    /// A stage state for an image from the store (a base or `--from`).
    pub(crate) fn image_state(&self, name: &str) -> Result<StageState> {
        let req = self.sh.req;
        let image = self
            .sh
            .bases
            .get(self.sh.store, name, &req.platform)
            .map_err(BuildError::BaseImage)?;
        let config = self.sh.store.config(&image)?;
        let manifest = self.sh.store.manifest(&image)?;
        let layers = manifest
            .layers
            .iter()
            .zip(&config.rootfs.diff_ids)
            .map(|(l, d)| LayerRef {
                blob: l.digest.clone(),
                diff_id: d.clone(),
                size: l.size,
                media_type: l.media_type.as_str().to_owned(),
            })
            .collect();
        let key = base_key(Some(&image.id), &req.platform.to_string());
        Ok(StageState::new(
            config.value().clone(),
            layers,
            key,
            &req.platform,
            req.epoch,
        ))
    }

    /// Records a layer a step made, or its absence.
    pub(crate) fn commit(
        &self,
        state: &mut StageState,
        key: strata_core::Digest,
        layer: Option<(LayerRef, LayerScan)>,
        history: String,
    ) -> Result<()> {
        match layer {
            Some((l, scan)) => {
                self.sh
                    .store
                    .cache_put(&self.lease, &key, Some((&l.blob, &scan)))?;
                state.push_layer(l, key);
                state.history(history, false);
            }
            None => {
                self.sh.store.cache_put(&self.lease, &key, None)?;
                state.history(history, true);
            }
        }
        Ok(())
    }

    /// Looks a step up in the cache (unless `--no-cache`); a hit is
    /// applied to `state`.
    pub(crate) fn cached(
        &self,
        state: &mut StageState,
        key: &strata_core::Digest,
        history: &str,
    ) -> Result<bool> {
        if self.sh.req.no_cache {
            return Ok(false);
        }
        let Some(rec) = self.sh.store.cache_get(key)? else {
            return Ok(false);
        };
        match rec.layer {
            Some((blob, diff_id)) => {
                let layer = LayerRef {
                    blob,
                    diff_id,
                    size: rec.size,
                    media_type: strata_core::media_type::OCI_LAYER_TAR.to_owned(),
                };
                self.lease.protect(&layer.blob)?;
                state.push_layer(layer, key.clone());
                state.history(history.to_owned(), false);
            }
            None => state.history(history.to_owned(), true),
        }
        Ok(true)
    }

    fn dispatch(&mut self, state: &mut StageState, ins: &Spanned<Instruction>) -> Result<()> {
        match &ins.node {
            Instruction::Arg(defs) => {
                for def in defs {
                    let value = match self.sh.req.build_args.get(&def.name) {
                        Some(v) => Some(v.clone()),
                        None => match &def.default {
                            Some(d) => Some(self.expand(state, d)?),
                            None => self
                                .plan
                                .meta_args
                                .iter()
                                .rev()
                                .find(|(k, _)| k == &def.name)
                                .map(|(_, v)| v.clone()),
                        },
                    };
                    state.args.retain(|(k, _)| k != &def.name);
                    if let Some(v) = value {
                        state.args.push((def.name.clone(), v));
                    }
                }
            }
            Instruction::Env(pairs) => {
                let mut expanded = Vec::new();
                for (k, v) in pairs {
                    expanded.push((self.expand(state, k)?, self.expand(state, v)?));
                }
                let text: Vec<String> = expanded.iter().map(|(k, v)| format!("{k}={v}")).collect();
                for (k, v) in &expanded {
                    state.set_env(k, v);
                }
                state.history(format!("ENV {}", text.join(" ")), true);
            }
            Instruction::Label(pairs) => {
                let mut text = Vec::new();
                for (k, v) in pairs {
                    let (k, v) = (self.expand(state, k)?, self.expand(state, v)?);
                    text.push(format!("{k}={v}"));
                    state
                        .container()
                        .labels
                        .get_or_insert_with(Default::default)
                        .insert(k, v);
                }
                state.history(format!("LABEL {}", text.join(" ")), true);
            }
            Instruction::Workdir(p) => self.workdir(state, p)?,
            Instruction::User(u) => {
                let u = self.expand(state, u)?;
                state.container().user = Some(u.clone());
                state.history(format!("USER {u}"), true);
            }
            Instruction::Expose(ports) => {
                let mut all = Vec::new();
                for p in ports {
                    for w in self.expand_words(state, p)? {
                        let w = if w.contains('/') {
                            w.to_lowercase()
                        } else {
                            format!("{w}/tcp")
                        };
                        state
                            .container()
                            .exposed_ports
                            .get_or_insert_with(Default::default)
                            .insert(w.clone(), serde_json::json!({}));
                        all.push(w);
                    }
                }
                state.history(format!("EXPOSE {}", all.join(" ")), true);
            }
            Instruction::Volume(vols) => {
                let mut all = Vec::new();
                for v in vols {
                    let v = self.expand(state, v)?;
                    if v.is_empty() {
                        return Err(BuildError::Dockerfile(
                            "VOLUME specified can not be an empty string".into(),
                        ));
                    }
                    state
                        .container()
                        .volumes
                        .get_or_insert_with(Default::default)
                        .insert(v.clone(), serde_json::json!({}));
                    all.push(v);
                }
                state.history(format!("VOLUME {}", go_list(&all).replace('"', "")), true);
            }
            Instruction::Stopsignal(s) => {
                let s = self.expand(state, s)?;
                state.container().stop_signal = Some(s.clone());
                state.history(format!("STOPSIGNAL {s}"), true);
            }
            Instruction::Cmd(c) => {
                let argv = self.command(state, c);
                state.container().cmd = Some(argv.clone());
                state.cmd_set = true;
                state.history(format!("CMD {}", go_list(&argv)), true);
            }
            Instruction::Entrypoint(c) => {
                let argv = self.command(state, c);
                let cmd_set = state.cmd_set;
                let cc = state.container();
                cc.entrypoint = Some(argv.clone());
                if !cmd_set {
                    cc.cmd = None;
                }
                state.history(format!("ENTRYPOINT {}", go_list(&argv)), true);
            }
            Instruction::Shell(sh) => {
                state.container().shell = Some(sh.clone());
                state.history(format!("SHELL {}", go_list(sh)), true);
            }
            Instruction::Healthcheck(h) => {
                let hc = match h {
                    Healthcheck::None => HealthConfig {
                        test: Some(vec!["NONE".into()]),
                        ..HealthConfig::default()
                    },
                    Healthcheck::Check {
                        test,
                        interval,
                        timeout,
                        start_period,
                        start_interval,
                        retries,
                    } => {
                        let test = match test {
                            ShellOrExec::Shell(s) => vec!["CMD-SHELL".to_owned(), s.clone()],
                            ShellOrExec::Exec(v) => std::iter::once("CMD".to_owned())
                                .chain(v.iter().cloned())
                                .collect(),
                        };
                        let ns = |d: &Option<std::time::Duration>| d.map(|d| d.as_nanos() as i64);
                        HealthConfig {
                            test: Some(test),
                            interval: ns(interval),
                            timeout: ns(timeout),
                            start_period: ns(start_period),
                            start_interval: ns(start_interval),
                            retries: retries.map(i64::from),
                            ..HealthConfig::default()
                        }
                    }
                };
                let text = format!(
                    "HEALTHCHECK {}",
                    go_list(hc.test.as_deref().unwrap_or_default())
                );
                state.container().healthcheck = Some(hc);
                state.history(text, true);
            }
            Instruction::Onbuild(inner) => {
                let trigger = inner.original.trim().to_owned();
                state
                    .container()
                    .on_build
                    .get_or_insert_with(Vec::new)
                    .push(trigger.clone());
                state.history(format!("ONBUILD {trigger}"), true);
            }
            Instruction::Maintainer(m) => {
                state.config.author = Some(m.clone());
                state.history(format!("MAINTAINER {m}"), true);
            }
            Instruction::Run(r) => self.run_step(state, r, ins)?,
            Instruction::Copy(c) => self.copy_step(state, c, ins)?,
            Instruction::Add(a) => self.add_step(state, a, ins)?,
        }
        Ok(())
    }

    /// A CMD/ENTRYPOINT/RUN command as argv.
    pub(crate) fn command(&self, state: &StageState, c: &ShellOrExec) -> Vec<String> {
        match c {
            ShellOrExec::Exec(v) => v.clone(),
            ShellOrExec::Shell(s) => {
                let mut v = state.shell();
                v.push(s.clone());
                v
            }
        }
    }

    fn workdir(&mut self, state: &mut StageState, p: &str) -> Result<()> {
        let p = self.expand(state, p)?;
        // BuildKit keeps an absolute path as written and cleans a relative
        // one joined to the current directory (Go's path.Join).
        let configured = if p.starts_with('/') {
            p.clone()
        } else {
            format!(
                "/{}",
                crate::context::clean_rel(&format!("{}/{p}", state.workdir()))
            )
        };
        let wd = format!("/{}", crate::context::clean_rel(&configured));
        state.container().working_dir = Some(configured.clone());
        let history = format!("WORKDIR {configured}");
        if wd == "/" {
            state.history(history, true);
            return Ok(());
        }
        let step = self.start(&history);
        // The USER as written: the parent key fixes what it resolves to.
        let user = state.user();
        let mut key = KeyBuilder::new("mkdir", &state.key);
        key.field("path", &wd).field("user", &user);
        let key = key.finish();
        if self.cached(state, &key, &history)? {
            self.finish(&step, true);
            return Ok(());
        }
        let view = self.view(state)?;
        let ids = crate::user::for_user(&view, &user).map_err(|e| step_error(&step.name, e))?;
        let rules = crate::copy::Rules {
            chown: Some((ids.uid, ids.gid)),
            chmod: None,
            epoch: state.epoch,
        };
        let mut plan = crate::copy::Plan::default();
        if view.stat(&wd, true).is_none() {
            plan.add(
                &wd,
                crate::copy::Item {
                    kind: crate::copy::ItemKind::Dir,
                    mode: 0o755,
                    uid: ids.uid,
                    gid: ids.gid,
                    mtime: state.epoch,
                },
            );
            plan.add_parents(&view, &rules);
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

    /// Writes a copy plan as a new layer.
    pub(crate) fn write_plan(
        &mut self,
        plan: &crate::copy::Plan,
        epoch: i64,
    ) -> Result<(LayerRef, LayerScan)> {
        let mut layer = crate::layer_out::NewLayer::new(&mut self.lease, epoch)?;
        plan.write(&mut layer)?;
        layer.finish(&self.lease)
    }
}
