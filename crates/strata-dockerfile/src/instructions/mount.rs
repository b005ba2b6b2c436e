//! `RUN --mount=...` values: BuildKit's `parseMount` plus the defaults its
//! dispatcher fills in, so the builder gets a complete description.
//!
//! A mount spec is a CSV record of `key=value` fields (and the bare
//! `ro`/`rw`/`required`). BuildKit expands variables in each value after
//! splitting the record; [`RunMount::parse_with`] does the same, while
//! [`RunMount::parse`] takes an already expanded spec.

mod values;

use serde::Serialize;

use crate::gofmt;
use crate::shell::ExpandError;
use values::{base_name, clean_path, csv_fields, parse_bool, parse_u32, ram_in_bytes};

/// An invalid `--mount` value. The message is BuildKit's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountError {
    /// The spec itself is wrong.
    #[error("{0}")]
    Invalid(String),
    /// A value could not be expanded.
    #[error(transparent)]
    Expand(#[from] ExpandError),
}

/// What a `RUN` mount provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MountType {
    /// A directory from the build context or another stage (the default).
    Bind,
    /// A persistent cache directory.
    Cache,
    /// An empty in-memory file system.
    Tmpfs,
    /// A build secret as a file (or environment variable).
    Secret,
    /// An SSH agent socket.
    Ssh,
}

impl MountType {
    /// The name used in Dockerfiles.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bind => "bind",
            Self::Cache => "cache",
            Self::Tmpfs => "tmpfs",
            Self::Secret => "secret",
            Self::Ssh => "ssh",
        }
    }
}

/// How concurrent builds share a cache mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CacheSharing {
    /// Concurrent writers share the directory (the default).
    Shared,
    /// Each concurrent writer gets its own copy.
    Private,
    /// Writers wait for each other.
    Locked,
}

/// A parsed `--mount`, with BuildKit's defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunMount {
    /// `type`; `Bind` when not given.
    pub kind: MountType,
    /// `from`: the stage, image or context to mount from. `None` is the
    /// build context (for `Cache`: an empty directory).
    pub from: Option<String>,
    /// `source`/`src`: the path inside `from`; for a secret, its id.
    pub source: Option<String>,
    /// `target`/`dst`/`destination`. For a secret without `env` it
    /// defaults to `/run/secrets/<id>`; for SSH `None` means BuildKit's
    /// `/run/buildkit/ssh_agent.<n>`. A relative target is relative to the
    /// working directory.
    pub target: Option<String>,
    /// Read-only: given by `ro`/`readonly`/`rw`/`readwrite`, else true for
    /// bind, secret and SSH mounts and false for cache and tmpfs ones.
    pub readonly: bool,
    /// `id`. Defaults: cache, the cleaned target path; secret, the source
    /// or the target's base name; SSH, `default`.
    pub id: Option<String>,
    /// `sharing` (cache mounts only).
    pub sharing: CacheSharing,
    /// `required` (secret and SSH mounts): fail when the secret or agent is
    /// missing instead of skipping the mount.
    pub required: bool,
    /// `size` in bytes (tmpfs only).
    pub size: Option<i64>,
    /// `env`: the environment variable a secret is exposed as.
    pub env: Option<String>,
    /// `mode` (octal), when given. The builder's defaults when any of
    /// mode/uid/gid is set: 0400 for secrets, 0600 for SSH, 0755 for cache.
    pub mode: Option<u32>,
    /// `uid`, when given.
    pub uid: Option<u32>,
    /// `gid`, when given.
    pub gid: Option<u32>,
}

/// Every key BuildKit knows, in its order (for suggestions).
const ALL_KEYS: &[&str] = &[
    "type",
    "from",
    "source",
    "target",
    "readonly",
    "id",
    "sharing",
    "required",
    "size",
    "mode",
    "uid",
    "gid",
    "src",
    "dst",
    "destination",
    "ro",
    "rw",
    "readwrite",
    "env",
];

fn invalid(msg: impl Into<String>) -> MountError {
    MountError::Invalid(msg.into())
}

impl RunMount {
    /// Parses an already expanded `--mount` value.
    pub fn parse(spec: &str) -> Result<Self, MountError> {
        Self::parse_with(spec, &mut |v| Ok(v.to_owned()))
    }

    /// Parses an unexpanded `--mount` value, expanding each field value
    /// with `expand` after the CSV split (so a variable's commas do not
    /// create fields), exactly as BuildKit does.
    pub fn parse_with(
        spec: &str,
        expand: &mut dyn FnMut(&str) -> Result<String, ExpandError>,
    ) -> Result<Self, MountError> {
        let fields =
            csv_fields(spec).map_err(|e| invalid(format!("failed to parse csv mounts: {e}")))?;
        let mut m = RunMount {
            kind: MountType::Bind,
            from: None,
            source: None,
            target: None,
            readonly: false,
            id: None,
            sharing: CacheSharing::Shared,
            required: false,
            size: None,
            env: None,
            mode: None,
            uid: None,
            gid: None,
        };
        let mut readonly: Option<bool> = None;
        let mut sharing: Option<CacheSharing> = None;
        let secret_or_ssh = |m: &RunMount| matches!(m.kind, MountType::Secret | MountType::Ssh);
        let wrong_type = |key: &str, m: &RunMount| {
            invalid(format!(
                "unexpected key '{key}' for mount type '{}'",
                m.kind.as_str()
            ))
        };
        for field in &fields {
            let (key, value) = match field.split_once('=') {
                Some((k, v)) => (k.to_lowercase(), v),
                None => {
                    match field.to_lowercase().as_str() {
                        "readonly" | "ro" => readonly = Some(true),
                        "readwrite" | "rw" => readonly = Some(false),
                        "required" if secret_or_ssh(&m) => m.required = true,
                        "required" => return Err(wrong_type("required", &m)),
                        _ => {
                            return Err(invalid(format!(
                                "invalid field '{field}' must be a key=value pair"
                            )));
                        }
                    }
                    continue;
                }
            };
            let value = expand(value)?;
            let bad_value = || invalid(format!("invalid value for {key}: {value}"));
            match key.as_str() {
                "type" => {
                    m.kind = match value.to_lowercase().as_str() {
                        "bind" => MountType::Bind,
                        "cache" => MountType::Cache,
                        "tmpfs" => MountType::Tmpfs,
                        "secret" => MountType::Secret,
                        "ssh" => MountType::Ssh,
                        _ => {
                            return Err(invalid(gofmt::with_suggestion(
                                format!("unsupported mount type {}", gofmt::quote(&value)),
                                &value,
                                &["bind", "cache", "secret", "ssh", "tmpfs"],
                                true,
                            )));
                        }
                    }
                }
                "from" => m.from = Some(value),
                "source" | "src" => m.source = Some(value),
                "target" | "dst" | "destination" => m.target = Some(value),
                "readonly" | "ro" => readonly = Some(parse_bool(&value).ok_or_else(bad_value)?),
                "readwrite" | "rw" => readonly = Some(!parse_bool(&value).ok_or_else(bad_value)?),
                "required" if secret_or_ssh(&m) => {
                    m.required = parse_bool(&value).ok_or_else(bad_value)?;
                }
                "required" => return Err(wrong_type(&key, &m)),
                "size" if m.kind == MountType::Tmpfs => {
                    m.size = Some(ram_in_bytes(&value).ok_or_else(bad_value)?);
                }
                "size" => return Err(wrong_type(&key, &m)),
                "id" => m.id = Some(value),
                "sharing" => {
                    sharing = Some(match value.to_lowercase().as_str() {
                        "shared" => CacheSharing::Shared,
                        "private" => CacheSharing::Private,
                        "locked" => CacheSharing::Locked,
                        _ => {
                            return Err(invalid(gofmt::with_suggestion(
                                format!("unsupported sharing value {}", gofmt::quote(&value)),
                                &value,
                                &["locked", "private", "shared"],
                                true,
                            )));
                        }
                    });
                }
                "mode" | "uid" | "gid" => {
                    let radix = if key == "mode" { 8 } else { 10 };
                    let n = parse_u32(&value, radix)
                        .ok_or_else(|| invalid(format!("invalid value {value} for {key}")))?;
                    match key.as_str() {
                        "mode" => m.mode = Some(n),
                        "uid" => m.uid = Some(n),
                        _ => m.gid = Some(n),
                    }
                }
                "env" => m.env = Some(value),
                _ => {
                    return Err(invalid(gofmt::with_suggestion(
                        format!("unexpected key '{key}' in '{field}'"),
                        &key,
                        ALL_KEYS,
                        true,
                    )));
                }
            }
        }
        m.finish(readonly, sharing)?;
        Ok(m)
    }

    /// BuildKit's cross-field checks, then the dispatcher's defaults.
    fn finish(
        &mut self,
        readonly: Option<bool>,
        sharing: Option<CacheSharing>,
    ) -> Result<(), MountError> {
        let kind = gofmt::quote(self.kind.as_str());
        if !matches!(
            self.kind,
            MountType::Secret | MountType::Ssh | MountType::Cache
        ) {
            for (name, set) in [
                ("mode", self.mode.is_some()),
                ("uid", self.uid.is_some()),
                ("gid", self.gid.is_some()),
            ] {
                if set {
                    return Err(invalid(format!(
                        "{name} not allowed for {kind} type mounts"
                    )));
                }
            }
        }
        self.readonly =
            readonly.unwrap_or(!matches!(self.kind, MountType::Cache | MountType::Tmpfs));
        let given = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
        if self.kind == MountType::Secret {
            if given(&self.from) {
                return Err(invalid("secret mount should not have a from"));
            }
            if sharing.is_some() {
                return Err(invalid("secret mount should not define sharing"));
            }
            if !given(&self.source) && !given(&self.target) && !given(&self.id) {
                return Err(invalid(
                    "invalid secret mount. one of source, target required",
                ));
            }
            if given(&self.source) && given(&self.id) {
                return Err(invalid("both source and id can't be set"));
            }
        }
        if sharing.is_some() && self.kind != MountType::Cache {
            return Err(invalid(format!(
                "invalid cache sharing set for {} mount",
                self.kind.as_str()
            )));
        }
        self.sharing = sharing.unwrap_or(CacheSharing::Shared);
        // BuildKit treats empty strings as absent.
        for v in [
            &mut self.from,
            &mut self.source,
            &mut self.target,
            &mut self.id,
        ] {
            if v.as_deref() == Some("") {
                *v = None;
            }
        }
        match self.kind {
            MountType::Cache if self.id.is_none() => {
                self.id = Some(clean_path(self.target.as_deref().unwrap_or("")));
            }
            MountType::Secret => {
                let id = self
                    .source
                    .clone()
                    .or_else(|| self.id.clone())
                    .or_else(|| self.target.as_deref().map(base_name))
                    .unwrap_or_default();
                if self.env.is_none() && self.target.is_none() {
                    self.target = Some(format!("/run/secrets/{}", base_name(&id)));
                }
                self.id = Some(id);
            }
            MountType::Ssh => {
                if self.source.is_some() {
                    return Err(invalid("ssh does not support source"));
                }
                self.id.get_or_insert_with(|| "default".to_owned());
            }
            _ => {}
        }
        Ok(())
    }
}

/// The checks BuildKit makes on an unexpanded `--mount` value when it
/// parses the Dockerfile: the CSV must be valid, and `from` cannot use
/// variables.
pub(super) fn precheck(spec: &str) -> Result<(), String> {
    let fields = csv_fields(spec).map_err(|e| format!("failed to parse csv mounts: {e}"))?;
    for field in fields {
        if let Some((key, value)) = field.split_once('=')
            && key.eq_ignore_ascii_case("from")
            && value.find('$').is_some_and(|i| i + 1 != value.len())
        {
            return Err(
                "'from' doesn't support variable expansion, define alias stage instead".to_owned(),
            );
        }
    }
    Ok(())
}
