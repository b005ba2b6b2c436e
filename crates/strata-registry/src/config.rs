//! Server settings, from defaults and an optional TOML file:
//!
//! ```toml
//! addr = "127.0.0.1:5000"        # --addr wins
//! root = "/var/lib/strata"       # the store; --root wins
//!
//! [storage]
//! delete = true                  # DELETE of manifests, tags, blobs
//! max_manifest_bytes = 4194304
//! # s3 = { bucket = "registry", endpoint = "http://127.0.0.1:9000", prefix = "strata",
//! #        access_key_id = "...", secret_access_key = "..." }   # blobs in a bucket
//!
//! [uploads]
//! timeout = "24h"                # idle sessions are dropped
//!
//! [gc]
//! grace = "1h"                   # unreferenced uploads are kept this long
//! interval = "0s"                # collect while serving (0: only `registry gc`)
//!
//! [tls]                          # serve HTTPS (PEM files)
//! cert = "/etc/strata/registry.crt"
//! key = "/etc/strata/registry.key"
//!
//! [auth]                         # without it the registry is open
//! htpasswd = "/etc/strata/htpasswd"   # bcrypt (htpasswd -B)
//! anonymous_pull = false
//! groups = { devs = ["alice", "bob"] }
//! token = { expiry = "5m" }      # Docker token auth (built-in /token); else Basic
//!
//! [[retention]]                  # see the retention module; first match wins
//! repos = "team/**"
//! keep_last = 10
//! unpulled_days = 30
//! drop_untagged = true
//! protect = ["v*", "latest"]
//!
//! [[auth.rule]]                  # first match wins; none: users may do all
//! repos = "team/**"              # * within a component, ** across
//! subjects = ["group:devs"]      # users, group:NAME, "*" (signed in), "anonymous"
//! actions = ["pull", "push"]     # pull, push, delete
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::auth::{Auth, AuthConfig};

/// How the registry behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on, from the file.
    pub addr: Option<String>,
    /// Store root, from the file.
    pub root: Option<PathBuf>,
    /// Whether DELETE of manifests, tags and blobs is allowed (otherwise
    /// `405 UNSUPPORTED`).
    pub delete_enabled: bool,
    /// Largest manifest accepted (`413 SIZE_INVALID` above).
    pub max_manifest_bytes: usize,
    /// An upload session idle this long is dropped.
    pub upload_timeout: Duration,
    /// A blob uploaded but named by no manifest is kept this long.
    pub gc_grace: Duration,
    /// Collect garbage this often while serving; zero never.
    pub gc_interval: Duration,
    /// Who may do what; `None`: an open registry.
    pub auth: Option<std::sync::Arc<Auth>>,
    /// Retention policies, applied by `registry gc` and the GC interval.
    pub retention: Vec<crate::retention::Policy>,
    /// Serve HTTPS with this certificate and key.
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// Keep blobs in an S3-compatible bucket instead of the store.
    pub s3: Option<crate::s3::S3Blobs>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            addr: None,
            root: None,
            delete_enabled: true,
            max_manifest_bytes: 4 << 20,
            upload_timeout: Duration::from_secs(24 * 3600),
            gc_grace: Duration::from_secs(3600),
            gc_interval: Duration::ZERO,
            auth: None,
            retention: Vec::new(),
            tls: None,
            s3: None,
        }
    }
}

/// Why a config file was refused.
#[derive(Debug, thiserror::Error)]
#[error("registry config: {0}")]
pub struct ConfigError(String);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<String>,
    root: Option<PathBuf>,
    #[serde(default)]
    storage: Storage,
    #[serde(default)]
    uploads: Uploads,
    #[serde(default)]
    gc: Gc,
    auth: Option<AuthConfig>,
    #[serde(default)]
    retention: Vec<crate::retention::Policy>,
    tls: Option<Tls>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tls {
    cert: PathBuf,
    key: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Storage {
    delete: Option<bool>,
    max_manifest_bytes: Option<usize>,
    s3: Option<crate::s3::S3Config>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Uploads {
    timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Gc {
    grace: Option<String>,
    interval: Option<String>,
}

fn duration(field: &str, s: &str) -> Result<Duration, ConfigError> {
    let ns = strata_core::parse_go_duration(s).map_err(|e| ConfigError(format!("{field}: {e}")))?;
    u64::try_from(ns)
        .map(Duration::from_nanos)
        .map_err(|_| ConfigError(format!("{field}: negative duration {s:?}")))
}

impl Config {
    /// Reads a TOML config; unknown keys are errors.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let f: FileConfig = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        let mut c = Config {
            addr: f.addr,
            root: f.root,
            retention: f.retention,
            ..Config::default()
        };
        if let Some(d) = f.storage.delete {
            c.delete_enabled = d;
        }
        if let Some(n) = f.storage.max_manifest_bytes {
            c.max_manifest_bytes = n;
        }
        if let Some(t) = &f.uploads.timeout {
            c.upload_timeout = duration("uploads.timeout", t)?;
        }
        if let Some(t) = &f.gc.grace {
            c.gc_grace = duration("gc.grace", t)?;
        }
        if let Some(t) = &f.gc.interval {
            c.gc_interval = duration("gc.interval", t)?;
        }
        if let Some(s3) = &f.storage.s3 {
            c.s3 = Some(crate::s3::S3Blobs::new(s3).map_err(|e| ConfigError(e.to_string()))?);
        }
        if let Some(t) = f.tls {
            let tls = crate::tls::server_config(&t.cert, &t.key)
                .map_err(|e| ConfigError(e.to_string()))?;
            c.tls = Some(tls);
        }
        if let Some(a) = f.auth {
            let auth = Auth::new(a).map_err(|e| ConfigError(e.to_string()))?;
            c.auth = Some(std::sync::Arc::new(auth));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_sets_what_it_names_and_refuses_unknown_keys() {
        let c = Config::from_toml(
            "addr = \"127.0.0.1:0\"\n[storage]\ndelete = false\n[gc]\ngrace = \"10m\"\n",
        )
        .unwrap();
        assert_eq!(c.addr.as_deref(), Some("127.0.0.1:0"));
        assert!(!c.delete_enabled);
        assert_eq!(c.gc_grace, Duration::from_secs(600));
        assert_eq!(c.max_manifest_bytes, 4 << 20);
        let e = Config::from_toml("[storage]\ndelte = true\n").unwrap_err();
        assert!(e.to_string().contains("delte"), "{e}");
        let e = Config::from_toml("[gc]\ngrace = \"soon\"\n").unwrap_err();
        assert!(e.to_string().contains("gc.grace"), "{e}");
    }
}
