//! Credentials as Docker keeps them: `config.json`'s `auths` (base64
//! `user:password`, or `username`/`password`, or an `identitytoken`),
//! and `credsStore` / `credHelpers` through `docker-credential-<name>`.
//! Writing keeps every field strata does not know.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// Docker Hub's key in `auths`.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A user and secret for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name (`<token>` with an identity token).
    pub username: String,
    /// The password, or the identity token.
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"<hidden>")
            .finish()
    }
}

impl Credentials {
    /// The `Authorization: Basic` value.
    pub fn basic(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.username, self.secret))
        )
    }
}

/// The `auths` key Docker uses for registry `domain`.
pub fn server_key(domain: &str) -> String {
    if domain == "docker.io" || domain == "index.docker.io" {
        DOCKER_HUB_KEY.to_owned()
    } else {
        domain.to_owned()
    }
}

/// Docker's `config.json`, as a document (unknown fields kept).
#[derive(Debug, Clone)]
pub struct DockerConfig {
    path: PathBuf,
    doc: Map<String, Value>,
}

impl DockerConfig {
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub fn default_path() -> PathBuf {
        match std::env::var_os("DOCKER_CONFIG") {
            Some(dir) => PathBuf::from(dir).join("config.json"),
            None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".docker/config.json"),
        }
    }

    /// Reads `path`; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<DockerConfig> {
        let doc = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(m)) => m,
                _ => {
                    return Err(Error::Invalid(format!(
                        "{} is not a JSON object",
                        path.display()
                    )));
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(DockerConfig {
            path: path.to_owned(),
            doc,
        })
    }

    /// The credentials for registry `domain`, if any.
    pub fn credentials(&self, domain: &str) -> Result<Option<Credentials>> {
        let key = server_key(domain);
        if let Some(helper) = self_helper(&self.doc, &key) {
            return helper_get(&helper, &key);
        }
        let auths = self.doc.get("auths").and_then(Value::as_object);
        let entry = auths.and_then(|a| {
            [
                key.clone(),
                format!("https://{key}"),
                format!("http://{key}"),
            ]
            .iter()
            .find_map(|k| a.get(k))
        });
        let Some(entry) = entry else { return Ok(None) };
        let field = |name: &str| entry.get(name).and_then(Value::as_str).unwrap_or("");
        if !field("identitytoken").is_empty() {
            return Ok(Some(Credentials {
                username: "<token>".into(),
                secret: field("identitytoken").to_owned(),
            }));
        }
        if !field("auth").is_empty() {
            let decoded = STANDARD
                .decode(field("auth"))
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    Error::Invalid(format!("the auth for {key} in config.json is not base64"))
                })?;
            let (user, secret) = decoded.split_once(':').ok_or_else(|| {
                Error::Invalid(format!("the auth for {key} in config.json has no ':'"))
            })?;
            return Ok(Some(Credentials {
                username: user.to_owned(),
                secret: secret.to_owned(),
            }));
        }
        if !field("username").is_empty() {
            return Ok(Some(Credentials {
                username: field("username").to_owned(),
                secret: field("password").to_owned(),
            }));
        }
        Ok(None)
    }

    /// Saves `creds` for `domain` (through the credential helper when one
    /// is configured) and writes the file (mode 0600, atomically).
    pub fn store(&mut self, domain: &str, creds: &Credentials) -> Result<()> {
        let key = server_key(domain);
        let helper = self_helper(&self.doc, &key);
        let auths = self
            .doc
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !auths.is_object() {
            *auths = Value::Object(Map::new());
        }
        let auths = auths.as_object_mut().expect("an object");
        match helper {
            Some(helper) => {
                helper_run(
                    &helper,
                    "store",
                    &json!({"ServerURL": key, "Username": creds.username, "Secret": creds.secret})
                        .to_string(),
                )?;
                auths.insert(key, json!({}));
            }
            None => {
                let auth = STANDARD.encode(format!("{}:{}", creds.username, creds.secret));
                auths.insert(key, json!({ "auth": auth }));
            }
        }
        self.write()
    }

    /// Forgets `domain`'s credentials; false when there were none.
    pub fn erase(&mut self, domain: &str) -> Result<bool> {
        let key = server_key(domain);
        if let Some(helper) = self_helper(&self.doc, &key) {
            let _ = helper_run(&helper, "erase", &key);
        }
        let removed = self
            .doc
            .get_mut("auths")
            .and_then(Value::as_object_mut)
            .and_then(|a| a.remove(&key))
            .is_some();
        self.write()?;
        Ok(removed)
    }

    fn write(&self) -> Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(&self.doc).expect("JSON"))?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }
}

fn self_helper(doc: &Map<String, Value>, key: &str) -> Option<String> {
    doc.get("credHelpers")
        .and_then(|h| h.get(key))
        .or_else(|| doc.get("credsStore"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `docker-credential-<helper> get`: `None` when it knows no such server.
fn helper_get(helper: &str, key: &str) -> Result<Option<Credentials>> {
    let out = match helper_run(helper, "get", key) {
        Ok(out) => out,
        Err(Error::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let v: Value = serde_json::from_slice(&out)
        .map_err(|e| Error::Invalid(format!("docker-credential-{helper} get: {e}")))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    Ok(Some(Credentials {
        username: s("Username"),
        secret: s("Secret"),
    }))
}

fn helper_run(helper: &str, verb: &str, input: &str) -> Result<Vec<u8>> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg(verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Invalid(format!("running {program}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if text.contains("credentials not found") {
            return Err(Error::NotFound(text));
        }
        return Err(Error::Invalid(format!("{program} {verb}: {text}")));
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_json_credentials_round_trip_and_keep_other_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths":{"reg.example:5000":{"auth":"dTpw"}},"psFormat":"table {{.ID}}"}"#,
        )
        .unwrap();
        let mut cfg = DockerConfig::load(&path).unwrap();
        let c = cfg.credentials("reg.example:5000").unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.secret.as_str()), ("u", "p"));
        assert!(cfg.credentials("other").unwrap().is_none());
        let creds = Credentials {
            username: "alice".into(),
            secret: "s3:cret".into(),
        };
        cfg.store("docker.io", &creds).unwrap();
        let again = DockerConfig::load(&path).unwrap();
        assert_eq!(again.credentials("docker.io").unwrap(), Some(creds));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("psFormat"), "{text}");
        assert!(text.contains(DOCKER_HUB_KEY), "{text}");
        let mut cfg = again;
        assert!(cfg.erase("docker.io").unwrap());
        assert!(!cfg.erase("docker.io").unwrap());
        assert!(
            DockerConfig::load(&path)
                .unwrap()
                .credentials("docker.io")
                .unwrap()
                .is_none()
        );
    }
}
