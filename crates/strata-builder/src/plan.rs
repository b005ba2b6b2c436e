//! Which stages a build needs and how they depend on each other.
//!
//! A stage depends on the stage it is `FROM`, the stages it `COPY --from`s
//! and the stages a `RUN --mount=from=` reads. Only the target stage and
//! what it transitively depends on are built; the rest are skipped.

use std::collections::BTreeSet;

use strata_dockerfile::shell::Lexer;
use strata_dockerfile::{Dockerfile, Instruction, RunMount};

use crate::build::BuildRequest;
use crate::error::{BuildError, Result};

/// Where a stage starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Base {
    Scratch,
    Stage(usize),
    Image(String),
}

/// The build plan.
pub(crate) struct Plan {
    /// Stages to build, in Dockerfile order.
    pub(crate) needed: Vec<usize>,
    /// The stage whose result is the image.
    pub(crate) target: usize,
    /// Global ARGs (before the first FROM) with their values.
    pub(crate) meta_args: Vec<(String, String)>,
    /// Each stage's base.
    pub(crate) bases: Vec<Base>,
    /// How progress names each stage (`stage-1`, `build`, or nothing for a
    /// one-stage Dockerfile).
    pub(crate) labels: Vec<String>,
    names: Vec<Option<String>>,
}

/// The platform arguments BuildKit defines.
pub(crate) fn platform_args(req: &BuildRequest) -> Vec<(String, String)> {
    let p = &req.platform;
    let platform = p.to_string();
    let variant = p.variant.clone().unwrap_or_default();
    let mut out = Vec::new();
    for prefix in ["BUILD", "TARGET"] {
        out.push((format!("{prefix}PLATFORM"), platform.clone()));
        out.push((format!("{prefix}OS"), p.os.clone()));
        out.push((format!("{prefix}ARCH"), p.architecture.clone()));
        out.push((format!("{prefix}VARIANT"), variant.clone()));
    }
    out
}

/// Build args Docker passes to every RUN without an `ARG` declaration,
/// leaving them out of history and cache keys: the proxy settings.
pub(crate) fn proxy_args(req: &BuildRequest) -> Vec<(String, String)> {
    const PROXIES: [&str; 5] = [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "FTP_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
    ];
    req.build_args
        .iter()
        .filter(|(k, _)| PROXIES.contains(&k.to_uppercase().as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl Plan {
    pub(crate) fn new(df: &Dockerfile, req: &BuildRequest) -> Result<Plan> {
        let lexer = Lexer::new(df.directives.escape);
        let mut meta_args = platform_args(req);
        for arg in &df.meta_args {
            let value = match req.build_args.get(&arg.name) {
                Some(v) => Some(v.clone()),
                None => match &arg.default {
                    Some(d) => Some(
                        lexer
                            .process_word(d, &meta_args)
                            .map_err(|e| BuildError::Stage(e.to_string()))?,
                    ),
                    None => None,
                },
            };
            if let Some(v) = value {
                meta_args.retain(|(k, _)| k != &arg.name);
                meta_args.push((arg.name.clone(), v));
            }
        }
        let names: Vec<Option<String>> = df.stages.iter().map(|s| s.name.clone()).collect();
        let find = |name: &str, before: usize| -> Option<usize> {
            let lower = name.to_lowercase();
            if let Some(i) = names[..before]
                .iter()
                .position(|n| n.as_deref() == Some(lower.as_str()))
            {
                return Some(i);
            }
            name.parse::<usize>().ok().filter(|i| *i < before)
        };
        let mut bases = Vec::new();
        let mut deps: Vec<BTreeSet<usize>> = Vec::new();
        for (i, stage) in df.stages.iter().enumerate() {
            let base = lexer
                .process_word(&stage.base, &meta_args)
                .map_err(|e| BuildError::Stage(e.to_string()))?;
            if base.is_empty() {
                return Err(BuildError::Stage(format!(
                    "base name ({}) should not be blank",
                    stage.base
                )));
            }
            let b = if base.eq_ignore_ascii_case("scratch") {
                Base::Scratch
            } else if let Some(j) = find(&base, i) {
                Base::Stage(j)
            } else {
                Base::Image(base)
            };
            let mut d = BTreeSet::new();
            if let Base::Stage(j) = b {
                d.insert(j);
            }
            for ins in &stage.instructions {
                let from = match &ins.node {
                    Instruction::Copy(c) => c.from.clone(),
                    Instruction::Run(r) => {
                        for m in &r.mounts {
                            let expanded = lexer
                                .process_word(m, &meta_args)
                                .unwrap_or_else(|_| m.clone());
                            if let Ok(mount) = RunMount::parse(&expanded)
                                && let Some(f) = mount.from
                                && let Some(j) = find(&f, i)
                            {
                                d.insert(j);
                            }
                        }
                        None
                    }
                    _ => None,
                };
                if let Some(f) = from {
                    let f = lexer.process_word(&f, &meta_args).unwrap_or(f);
                    if let Some(j) = find(&f, i) {
                        d.insert(j);
                    }
                }
            }
            bases.push(b);
            deps.push(d);
        }
        let target = match &req.target {
            Some(t) => names
                .iter()
                .position(|n| n.as_deref() == Some(t.to_lowercase().as_str()))
                .ok_or_else(|| {
                    BuildError::Stage(format!("target stage \"{t}\" could not be found"))
                })?,
            None => df
                .stages
                .len()
                .checked_sub(1)
                .ok_or_else(|| BuildError::Stage("the Dockerfile has no FROM".into()))?,
        };
        let mut needed = BTreeSet::new();
        let mut stack = vec![target];
        while let Some(s) = stack.pop() {
            if needed.insert(s) {
                stack.extend(deps[s].iter().copied());
            }
        }
        let single = df.stages.len() == 1;
        let labels = names
            .iter()
            .enumerate()
            .map(|(i, n)| match n {
                _ if single => String::new(),
                Some(n) => n.clone(),
                None => format!("stage-{i}"),
            })
            .collect();
        Ok(Plan {
            needed: needed.into_iter().collect(),
            target,
            meta_args,
            bases,
            labels,
            names,
        })
    }

    /// The stage a `--from` value names (a name or an index), if any.
    pub(crate) fn stage(&self, name: &str, before: usize) -> Option<usize> {
        let lower = name.to_lowercase();
        self.names[..before]
            .iter()
            .position(|n| n.as_deref() == Some(lower.as_str()))
            .or_else(|| name.parse::<usize>().ok().filter(|i| *i < before))
    }
}
