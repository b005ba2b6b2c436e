//! Dispatching `RUN`: the command line (with BuildKit's heredoc rules), the
//! environment, user and directory, `--mount`s and `--network`, the cache
//! key, and the run itself.
//!
//! Heredocs: `RUN <<EOF` alone runs the body with the shell (`sh -c body`);
//! a body starting with `#!` is mounted as a file and executed; any other
//! form (`RUN <<EOF bash`, `RUN cat <<A > f`) is handed to the shell with
//! the heredoc text appended, so the shell itself reads it.

use strata_core::Digest;
use strata_dockerfile::{Instruction, MountType, Run, RunMount, ShellOrExec, Spanned};
use strata_runtime::Mount;

use crate::build::NetworkMode;
use crate::cache::KeyBuilder;
use crate::error::{BuildError, Result, step_error};
use crate::run::{RunSpec, Runner, Shown, lowers};
use crate::stage::StageRunner;
use crate::state::StageState;

/// Whether `s` is just a heredoc marker (`<<EOF`, `<<-'EOF'`).
fn only_heredoc(s: &str) -> bool {
    let t = s.trim();
    let Some(rest) = t.strip_prefix("<<") else {
        return false;
    };
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let name = rest.trim_matches(|c| c == '"' || c == '\'');
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Strips leading tabs from each line (`<<-`).
pub(crate) fn chomp(content: &str) -> String {
    content
        .split_inclusive('\n')
        .map(|l| l.trim_start_matches('\t'))
        .collect()
}

impl StageRunner<'_> {
    /// RUN in two phases: the cache key from the command, environment,
    /// directory, the `USER` as written (the parent key fixes what it
    /// resolves to), network and mount identities; then, only on a miss,
    /// user resolution, mount setup and the run.
    pub(crate) fn run_step(
        &mut self,
        state: &mut StageState,
        r: &Run,
        ins: &Spanned<Instruction>,
    ) -> Result<()> {
        let step = self.start(ins.original.trim());
        let mut key = KeyBuilder::new("run", &state.key);
        let mut script: Option<(String, String)> = None;
        let argv = match &r.command {
            ShellOrExec::Exec(v) => v.clone(),
            ShellOrExec::Shell(s) if r.heredocs.len() == 1 && only_heredoc(s) => {
                let h = &r.heredocs[0];
                let body = if h.chomp {
                    chomp(&h.content)
                } else {
                    h.content.clone()
                };
                if body.starts_with("#!") {
                    key.field("heredoc-script", &body);
                    script = Some((h.name.clone(), body));
                    vec![format!("/dev/pipes/{}", h.name)]
                } else {
                    let mut v = state.shell();
                    v.push(body);
                    v
                }
            }
            ShellOrExec::Shell(s) => {
                let mut full = s.clone();
                for h in &r.heredocs {
                    full.push('\n');
                    full.push_str(&h.content);
                    full.push_str(&h.name);
                }
                let mut v = state.shell();
                v.push(full);
                v
            }
        };
        let network = match &r.network {
            Some(n) => match self.expand(state, n)?.as_str() {
                "default" => self.sh.req.network,
                "none" => NetworkMode::None,
                "host" => NetworkMode::Host,
                other => {
                    return Err(step_error(
                        &step.name,
                        format!("unsupported network mode {other:?}"),
                    ));
                }
            },
            None => self.sh.req.network,
        };
        let mut mounts = Vec::new();
        for spec in &r.mounts {
            let expanded = self.expand(state, spec)?;
            let m =
                RunMount::parse(&expanded).map_err(|e| step_error(&step.name, e.to_string()))?;
            self.mount_key(state, &m, &step.name, &mut key)?;
            mounts.push(m);
        }
        let env = state.run_env();
        let cwd = state.workdir();
        let user = state.user();
        key.list("argv", &argv)
            .list("env", &env)
            .field("cwd", &cwd)
            .field("user", &user)
            .field("network", &format!("{:?}", network.runtime()));
        let key = key.finish();
        let args_text: Vec<String> = state.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let history = if args_text.is_empty() {
            format!("RUN {} # buildkit", argv.join(" "))
        } else {
            format!(
                "RUN |{} {} {} # buildkit",
                args_text.len(),
                args_text.join(" "),
                argv.join(" ")
            )
        };
        if self.cached(state, &key, &history)? {
            self.finish(&step, true);
            return Ok(());
        }

        // A miss: resolve the user, set up mounts, run.
        let view = self.view(state)?;
        let ids = crate::user::for_user(&view, &user).map_err(|e| step_error(&step.name, e))?;
        let mut extra_mounts = Vec::new();
        if let Some((name, body)) = script {
            let dir = self.sh.store.layout().runtime_dir().join("heredocs");
            fs_err::create_dir_all(&dir)?;
            let path = dir.join(format!(
                "{}-{name}",
                Digest::sha256(body.as_bytes()).short()
            ));
            fs_err::write(&path, &body)?;
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
            extra_mounts.push(Mount {
                destination: format!("/dev/pipes/{name}"),
                kind: "bind".into(),
                source: path.to_string_lossy().into_owned(),
                options: vec!["rbind".into(), "ro".into()],
            });
        }
        for m in &mounts {
            if let Some(mount) = self.mount(state, m, &step.name)? {
                extra_mounts.push(mount);
            }
        }
        // Proxy build args reach the process but stay out of the key.
        let mut env = env;
        for (k, v) in crate::plan::proxy_args(self.sh.req) {
            if !env.iter().any(|e| e.split('=').next() == Some(k.as_str())) {
                env.push(format!("{k}={v}"));
            }
        }
        let spec = RunSpec {
            argv,
            env,
            cwd,
            uid: ids.uid,
            gid: ids.gid,
            network: network.runtime(),
            mounts: extra_mounts,
        };
        let runner = Runner {
            store: self.sh.store,
            snapshots: &self.sh.snapshots,
            runtime_dir: self.sh.store.layout().runtime_dir(),
            runtime: self.sh.req.runtime.clone(),
            epoch: state.epoch,
        };
        let command = match &r.command {
            ShellOrExec::Shell(s) => s.clone(),
            ShellOrExec::Exec(v) => crate::stage::go_list(v),
        };
        let shown = Shown {
            step: &step.name,
            command: &command,
            id: step.id,
            progress: self.sh.progress,
        };
        let layer = runner
            .run(&mut self.lease, state, &spec, &shown)
            .inspect_err(|e| {
                let msg = e.to_string();
                self.sh.progress.event(&crate::progress::Event::Error {
                    id: step.id,
                    message: &msg,
                });
            })?;
        self.commit(state, key, layer, history)?;
        self.finish(&step, false);
        Ok(())
    }

    fn mount_target(state: &StageState, m: &RunMount, step: &str) -> Result<String> {
        let target = m
            .target
            .clone()
            .ok_or_else(|| step_error(step, "mount needs a target"))?;
        Ok(if target.starts_with('/') {
            target
        } else {
            format!("{}/{target}", state.workdir().trim_end_matches('/'))
        })
    }

    /// Adds what identifies a `--mount`'s effect on the result to the key:
    /// its kind and target, a cache's id, a bind's source content, another
    /// stage's key, whether a secret is given (never its value).
    fn mount_key(
        &self,
        state: &StageState,
        m: &RunMount,
        step: &str,
        key: &mut KeyBuilder,
    ) -> Result<()> {
        let target = Self::mount_target(state, m, step)?;
        key.field("mount", &format!("{:?}:{target}:{}", m.kind, m.readonly));
        match m.kind {
            MountType::Cache => {
                key.field("cache-id", m.id.as_deref().unwrap_or(&target));
            }
            MountType::Tmpfs => {
                key.field("size", &format!("{:?}", m.size));
            }
            MountType::Secret => {
                let id = m.id.clone().unwrap_or_default();
                key.field(
                    "secret",
                    &format!("{id}:{}", self.sh.req.secrets.contains_key(&id)),
                );
            }
            MountType::Bind => {
                let source = m.source.clone().unwrap_or_default();
                match &m.from {
                    None => {
                        let rel = crate::context::clean_rel(&source);
                        for group in self.sh.context.select(&rel, false)? {
                            for (i, (p, e)) in group.into_iter().enumerate() {
                                key.field(&p, &self.sh.context.token(e, i == 0)?);
                            }
                        }
                    }
                    Some(from) => {
                        key.field("from", &self.state_of(from)?.key.to_string())
                            .field("source", &source);
                    }
                }
            }
            MountType::Ssh => {
                return Err(BuildError::Step {
                    step: step.to_owned(),
                    message: "ssh mounts are not supported".into(),
                });
            }
        }
        Ok(())
    }

    /// The runtime mount for one `--mount`. `None` for an optional secret
    /// that was not given.
    fn mount(&self, state: &StageState, m: &RunMount, step: &str) -> Result<Option<Mount>> {
        let target = Self::mount_target(state, m, step)?;
        let ro = |readonly: bool| if readonly { "ro" } else { "rw" }.to_owned();
        Ok(Some(match m.kind {
            MountType::Cache => {
                let id = m.id.clone().unwrap_or_else(|| target.clone());
                let dir = self
                    .sh
                    .store
                    .layout()
                    .cache_mounts_dir()
                    .join(Digest::sha256(id.as_bytes()).hex());
                if !dir.exists() {
                    fs_err::create_dir_all(&dir)?;
                    let uid = m.uid.map(rustix::fs::Uid::from_raw);
                    let gid = m.gid.map(rustix::fs::Gid::from_raw);
                    rustix::fs::chown(&dir, uid, gid).map_err(std::io::Error::from)?;
                    if let Some(mode) = m.mode {
                        std::fs::set_permissions(
                            &dir,
                            std::os::unix::fs::PermissionsExt::from_mode(mode),
                        )?;
                    }
                }
                Mount {
                    destination: target,
                    kind: "bind".into(),
                    source: dir.to_string_lossy().into_owned(),
                    options: vec!["rbind".into(), ro(m.readonly)],
                }
            }
            MountType::Tmpfs => {
                let mut options = vec!["nosuid".to_owned(), "nodev".to_owned()];
                if let Some(size) = m.size {
                    options.push(format!("size={size}"));
                }
                Mount {
                    destination: target,
                    kind: "tmpfs".into(),
                    source: "tmpfs".into(),
                    options,
                }
            }
            MountType::Secret => {
                let id = m.id.clone().unwrap_or_default();
                let Some(src) = self.sh.req.secrets.get(&id) else {
                    if m.required {
                        return Err(step_error(step, format!("secret {id} not found")));
                    }
                    return Ok(None);
                };
                Mount {
                    destination: target,
                    kind: "bind".into(),
                    source: src.to_string_lossy().into_owned(),
                    options: vec!["rbind".into(), "ro".into()],
                }
            }
            MountType::Bind => {
                let source = m.source.clone().unwrap_or_default();
                match &m.from {
                    None => {
                        let rel = crate::context::clean_rel(&source);
                        let path = self.sh.context.root().join(&rel);
                        if !path.exists() {
                            return Err(step_error(
                                step,
                                format!(
                                    "failed to calculate checksum of ref: \"/{rel}\": not found"
                                ),
                            ));
                        }
                        Mount {
                            destination: target,
                            kind: "bind".into(),
                            source: path.to_string_lossy().into_owned(),
                            options: vec!["rbind".into(), ro(m.readonly)],
                        }
                    }
                    Some(from) => {
                        let other = self.state_of(from)?;
                        if !source.trim_matches('/').is_empty() {
                            return Err(step_error(
                                step,
                                "a bind mount from another stage must mount its whole file system",
                            ));
                        }
                        let dirs = lowers(self.sh.store, &self.sh.snapshots, &other)?;
                        let lower: Vec<String> = dirs
                            .iter()
                            .rev()
                            .map(|d| d.to_string_lossy().into_owned())
                            .collect();
                        Mount {
                            destination: target,
                            kind: "overlay".into(),
                            source: "overlay".into(),
                            options: vec![format!("lowerdir={}", lower.join(":"))],
                        }
                    }
                }
            }
            MountType::Ssh => return Ok(None),
        }))
    }

    /// The state a `--from` names: an earlier stage or an image.
    pub(crate) fn state_of(&self, from: &str) -> Result<std::sync::Arc<StageState>> {
        match self.plan.stage(from, self.idx) {
            Some(j) => self.sh.wait_stage(j, &self.plan.labels[j]),
            None => Ok(std::sync::Arc::new(self.image_state(from)?)),
        }
    }
}
