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
    pub(crate) fn run_step(
        &mut self,
        state: &mut StageState,
        r: &Run,
        ins: &Spanned<Instruction>,
    ) -> Result<()> {
        let step = self.start(ins.original.trim());
        let mut extra_mounts: Vec<Mount> = Vec::new();
        let mut key = KeyBuilder::new("run", &state.key);
        let argv = match &r.command {
            ShellOrExec::Exec(v) => v.clone(),
            ShellOrExec::Shell(s)
                if !r.heredocs.is_empty() && only_heredoc(s) && r.heredocs.len() == 1 =>
            {
                let h = &r.heredocs[0];
                let body = if h.chomp {
                    chomp(&h.content)
                } else {
                    h.content.clone()
                };
                if body.starts_with("#!") {
                    let file = self.sh.store.layout().runtime_dir().join("heredocs");
                    fs_err::create_dir_all(&file)?;
                    let path = file.join(format!(
                        "{}-{}",
                        Digest::sha256(body.as_bytes()).short(),
                        h.name
                    ));
                    fs_err::write(&path, &body)?;
                    std::fs::set_permissions(
                        &path,
                        std::os::unix::fs::PermissionsExt::from_mode(0o755),
                    )?;
                    let target = format!("/dev/pipes/{}", h.name);
                    extra_mounts.push(Mount {
                        destination: target.clone(),
                        kind: "bind".into(),
                        source: path.to_string_lossy().into_owned(),
                        options: vec!["rbind".into(), "ro".into()],
                    });
                    key.field("heredoc-script", &body);
                    vec![target]
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
        let view = self.view(state)?;
        let ids =
            crate::user::for_user(&view, &state.user()).map_err(|e| step_error(&step.name, e))?;
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
        for spec in &r.mounts {
            let expanded = self.expand(state, spec)?;
            let m =
                RunMount::parse(&expanded).map_err(|e| step_error(&step.name, e.to_string()))?;
            if let Some(mount) = self.mount(state, &m, &step.name, &mut key)? {
                extra_mounts.push(mount);
            }
        }
        let spec = RunSpec {
            argv,
            env: state.run_env(),
            cwd: state.workdir(),
            uid: ids.uid,
            gid: ids.gid,
            network: network.runtime(),
            mounts: extra_mounts,
        };
        key.list("argv", &spec.argv)
            .list("env", &spec.env)
            .field("cwd", &spec.cwd)
            .field("user", &format!("{}:{}", spec.uid, spec.gid))
            .field("network", &format!("{:?}", network.runtime()));
        let key = key.finish();
        let args_text: Vec<String> = state.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let history = if args_text.is_empty() {
            format!("RUN {} # buildkit", spec.argv.join(" "))
        } else {
            format!(
                "RUN |{} {} {} # buildkit",
                args_text.len(),
                args_text.join(" "),
                spec.argv.join(" ")
            )
        };
        if self.cached(state, &key, &history)? {
            self.finish(&step, true);
            return Ok(());
        }
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
        let layer = runner
            .run(
                &mut self.lease,
                state,
                &spec,
                &Shown {
                    step: &step.name,
                    command: &command,
                    id: step.id,
                    progress: self.sh.progress,
                },
            )
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

    /// A runtime mount for one `--mount`, adding what identifies its
    /// content to the cache key. `None` for an optional secret not given.
    fn mount(
        &self,
        state: &StageState,
        m: &RunMount,
        step: &str,
        key: &mut KeyBuilder,
    ) -> Result<Option<Mount>> {
        let target = m
            .target
            .clone()
            .ok_or_else(|| step_error(step, "mount needs a target"))?;
        let target = if target.starts_with('/') {
            target
        } else {
            format!("{}/{target}", state.workdir().trim_end_matches('/'))
        };
        key.field("mount", &format!("{:?}:{target}", m.kind));
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
                key.field("cache-id", &id);
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
                let id = m
                    .id
                    .clone()
                    .unwrap_or_else(|| target.rsplit('/').next().unwrap_or_default().to_owned());
                let Some(src) = self.sh.req.secrets.get(&id) else {
                    if m.required {
                        return Err(step_error(step, format!("secret {id} not found")));
                    }
                    return Ok(None);
                };
                key.field("secret", &id);
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
                        for group in self.sh.context.select(&rel, false)? {
                            for (p, e) in group {
                                if e.kind == crate::context::CtxKind::File {
                                    key.field(&p, &self.sh.context.digest(e)?.to_string());
                                }
                            }
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
                        key.field("from", &other.key.to_string());
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
            MountType::Ssh => {
                return Err(BuildError::Step {
                    step: step.to_owned(),
                    message: "ssh mounts are not supported".into(),
                });
            }
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
