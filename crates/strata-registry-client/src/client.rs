//! The HTTP side: endpoints, the bearer-token challenge, and the
//! distribution API calls pull and push need.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;

use reqwest::StatusCode;
use reqwest::blocking::{RequestBuilder, Response};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use strata_core::media_type::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use strata_core::{Digest, Reference};

use crate::auth::{Credentials, DockerConfig};
use crate::error::{Error, Result};

/// The manifest media types we accept, best first.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// A manifest as the registry sent it: the bytes are what the digest is
/// of and must never be re-serialized.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// The raw bytes.
    pub bytes: Vec<u8>,
    /// `Content-Type`, or the document's own `mediaType`.
    pub media_type: String,
    /// sha256 of the bytes.
    pub digest: Digest,
}

/// How the client reaches registries.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Hosts (`host[:port]`) spoken to over plain HTTP besides
    /// `localhost`, `127.0.0.0/8` and `::1`.
    pub insecure: Vec<String>,
    /// Docker's `config.json` to take credentials from (default:
    /// [`DockerConfig::default_path`]).
    pub config: Option<std::path::PathBuf>,
}

/// A client for OCI distribution registries (blocking; safe to share
/// between threads).
pub struct Client {
    http: reqwest::blocking::Client,
    options: ClientOptions,
    config: DockerConfig,
    /// `Authorization` values by (registry, scope).
    tokens: Mutex<HashMap<(String, String), String>>,
}

impl Client {
    /// A client with `options`.
    pub fn new(options: ClientOptions) -> Result<Client> {
        let http = reqwest::blocking::Client::builder()
            .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
            .timeout(None)
            .build()
            .map_err(|e| Error::Http(format!("setting up HTTP: {e}")))?;
        let config = DockerConfig::load(
            &options
                .config
                .clone()
                .unwrap_or_else(DockerConfig::default_path),
        )?;
        Ok(Client {
            http,
            config,
            options,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// `scheme://host` for a registry domain: Docker Hub's API host for
    /// `docker.io`, plain HTTP for loopback and configured insecure hosts.
    pub fn base_url(&self, domain: &str) -> String {
        if domain == "docker.io" {
            return "https://registry-1.docker.io".into();
        }
        let host = domain
            .rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(domain, |(h, _)| h);
        let plain = host == "localhost"
            || host == "[::1]"
            || host.starts_with("127.")
            || self
                .options
                .insecure
                .iter()
                .any(|h| h == domain || h == host);
        format!("{}://{domain}", if plain { "http" } else { "https" })
    }

    /// Sends a request for repository `repo` of `domain`, answering one
    /// challenge: Basic with the stored credentials, or Bearer with a
    /// token for `repository:REPO:ACTIONS` (asked with the credentials
    /// when there are some).
    fn send(
        &self,
        domain: &str,
        repo: &str,
        actions: &str,
        make: &dyn Fn(&reqwest::blocking::Client) -> RequestBuilder,
    ) -> Result<Response> {
        let scope = format!("repository:{repo}:{actions}");
        let key = (domain.to_owned(), scope.clone());
        let cached = self.tokens.lock().expect("token cache").get(&key).cloned();
        let with_auth = |auth: &Option<String>| {
            let req = make(&self.http);
            match auth {
                Some(a) => req.header(AUTHORIZATION, a),
                None => req,
            }
        };
        let resp = with_auth(&cached).send().map_err(Error::from_reqwest)?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let creds = self.config.credentials(domain)?;
        let auth = self.answer(domain, &resp, creds.as_ref(), Some(&scope))?;
        self.tokens
            .lock()
            .expect("token cache")
            .insert(key, auth.clone());
        let resp = with_auth(&Some(auth)).send().map_err(Error::from_reqwest)?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(Error::Unauthorized(format!(
                "{domain} refused access to {repo} ({actions}){}",
                if creds.is_none() {
                    "; log in first"
                } else {
                    ""
                }
            )));
        }
        Ok(resp)
    }

    /// The `Authorization` value that answers `resp`'s challenge.
    fn answer(
        &self,
        domain: &str,
        resp: &Response,
        creds: Option<&Credentials>,
        scope: Option<&str>,
    ) -> Result<String> {
        let challenge = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if let Some(params) = parse_bearer(challenge) {
            return Ok(format!(
                "Bearer {}",
                self.fetch_token(&params, scope, creds)?
            ));
        }
        match creds {
            Some(c) if challenge.starts_with("Basic") => Ok(c.basic()),
            Some(_) => Err(Error::Unauthorized(format!(
                "{domain} asks for an unsupported authentication: {challenge:?}"
            ))),
            None => Err(Error::Unauthorized(format!(
                "{domain} wants credentials; log in first"
            ))),
        }
    }

    /// Checks `creds` against registry `domain` (`docker login`).
    pub fn check_login(&self, domain: &str, creds: &Credentials) -> Result<()> {
        let url = format!("{}/v2/", self.base_url(domain));
        let resp = self.http.get(&url).send().map_err(Error::from_reqwest)?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return match resp.status() {
                s if s.is_success() => Ok(()),
                s => Err(Error::Registry(format!("GET {url}: {s}"))),
            };
        }
        let auth = self.answer(domain, &resp, Some(creds), None)?;
        let resp = self
            .http
            .get(&url)
            .header(AUTHORIZATION, auth)
            .send()
            .map_err(Error::from_reqwest)?;
        match resp.status() {
            s if s.is_success() => Ok(()),
            StatusCode::UNAUTHORIZED => {
                Err(Error::Unauthorized("incorrect username or password".into()))
            }
            s => Err(Error::Registry(format!("GET {url}: {s}"))),
        }
    }

    fn fetch_token(
        &self,
        challenge: &HashMap<String, String>,
        scope: Option<&str>,
        creds: Option<&Credentials>,
    ) -> Result<String> {
        let realm = challenge
            .get("realm")
            .ok_or_else(|| Error::Unauthorized("a bearer challenge without a realm".into()))?;
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(scope) = scope {
            query.push(("scope", scope));
        }
        if let Some(service) = challenge.get("service") {
            query.push(("service", service));
        }
        let url = reqwest::Url::parse_with_params(realm, &query)
            .map_err(|e| Error::Unauthorized(format!("the token realm {realm:?}: {e}")))?;
        let mut req = self.http.get(url);
        if let Some(c) = creds {
            req = req.header(AUTHORIZATION, c.basic());
        }
        let resp = req.send().map_err(Error::from_reqwest)?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(Error::Unauthorized("incorrect username or password".into()));
        }
        if !resp.status().is_success() {
            return Err(Error::Unauthorized(format!(
                "the token server {realm} answered {}",
                resp.status()
            )));
        }
        #[derive(serde::Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let body = resp.bytes().map_err(Error::from_reqwest)?;
        let t: Token = serde_json::from_slice(&body)
            .map_err(|e| Error::Unauthorized(format!("the token server {realm} sent {e}")))?;
        t.token
            .or(t.access_token)
            .ok_or_else(|| Error::Unauthorized(format!("the token server {realm} sent no token")))
    }

    /// The manifest `reference` (a tag or `sha256:…`) of `name`'s
    /// repository, verified against the digest when fetched by digest.
    pub fn manifest(&self, name: &Reference, reference: &str) -> Result<FetchedManifest> {
        let (domain, repo) = (name.domain(), name.path());
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base_url(domain));
        let resp = self.send(domain, repo, "pull", &|h| {
            h.get(&url).header(ACCEPT, MANIFEST_ACCEPT)
        })?;
        let resp = check(resp, &format!("{}:{reference}", name.name()))?;
        let media_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
        let bytes = resp.bytes().map_err(Error::from_reqwest)?.to_vec();
        if bytes.len() > 4 << 20 {
            return Err(Error::Invalid(format!(
                "the manifest of {} is over 4 MiB",
                name.name()
            )));
        }
        let digest = Digest::sha256(&bytes);
        if let Ok(want) = reference.parse::<Digest>()
            && want != digest
        {
            return Err(Error::Invalid(format!(
                "manifest digest mismatch: asked for {want}, got {digest}"
            )));
        }
        let declared = serde_json::from_slice::<strata_core::ManifestProbe>(&bytes)
            .ok()
            .and_then(|p| p.media_type)
            .map(|m| m.as_str().to_owned());
        let media_type = match media_type {
            Some(m)
                if [
                    OCI_MANIFEST,
                    OCI_INDEX,
                    DOCKER_MANIFEST,
                    DOCKER_MANIFEST_LIST,
                ]
                .contains(&m.as_str()) =>
            {
                m
            }
            _ => declared.unwrap_or_else(|| OCI_MANIFEST.to_owned()),
        };
        Ok(FetchedManifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// Whether the repository has blob `digest` (HEAD).
    pub fn has_blob(&self, name: &Reference, digest: &Digest, actions: &str) -> Result<bool> {
        let (domain, repo) = (name.domain(), name.path());
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base_url(domain));
        let resp = self.send(domain, repo, actions, &|h| h.head(&url))?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            s => Err(Error::Registry(format!("HEAD {url}: {s}"))),
        }
    }

    /// The blob's bytes as they arrive.
    pub fn blob(&self, name: &Reference, digest: &Digest) -> Result<Response> {
        let (domain, repo) = (name.domain(), name.path());
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base_url(domain));
        let resp = self.send(domain, repo, "pull", &|h| h.get(&url))?;
        check(resp, &format!("blob {digest} of {}", name.name()))
    }

    /// Uploads blob `digest` of `size` bytes from `body` monolithically:
    /// `POST` opens the session, `PUT ?digest=` sends the bytes.
    pub fn upload_blob(
        &self,
        name: &Reference,
        digest: &Digest,
        size: u64,
        body: impl Read + Send + 'static,
    ) -> Result<()> {
        let (domain, repo) = (name.domain(), name.path());
        let base = self.base_url(domain);
        let start = format!("{base}/v2/{repo}/blobs/uploads/");
        let resp = self.send(domain, repo, "pull,push", &|h| h.post(&start))?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(registry_error(resp, "starting an upload"));
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::Registry("an upload without a Location".into()))?;
        let location = if location.starts_with('/') {
            format!("{base}{location}")
        } else {
            location.to_owned()
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={digest}");
        let body = Mutex::new(Some(body));
        let resp = self.send(domain, repo, "pull,push", &|h| {
            let req = h.put(&url).header(CONTENT_TYPE, "application/octet-stream");
            match body.lock().expect("body").take() {
                Some(b) => req.body(reqwest::blocking::Body::sized(b, size)),
                None => req,
            }
        })?;
        if resp.status() != StatusCode::CREATED {
            return Err(registry_error(resp, &format!("uploading {digest}")));
        }
        Ok(())
    }

    /// Puts manifest `bytes` under `reference`; returns the digest the
    /// registry reports (or ours).
    pub fn put_manifest(
        &self,
        name: &Reference,
        reference: &str,
        bytes: Vec<u8>,
        media_type: &str,
    ) -> Result<Digest> {
        let (domain, repo) = (name.domain(), name.path());
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base_url(domain));
        let ours = Digest::sha256(&bytes);
        let resp = self.send(domain, repo, "pull,push", &|h| {
            h.put(&url)
                .header(CONTENT_TYPE, media_type)
                .body(bytes.clone())
        })?;
        if resp.status() != StatusCode::CREATED {
            return Err(registry_error(
                resp,
                &format!("putting the manifest {reference}"),
            ));
        }
        Ok(ours)
    }
}

/// The parameters of a `Bearer` challenge.
fn parse_bearer(header: &str) -> Option<HashMap<String, String>> {
    let rest = header.strip_prefix("Bearer ")?;
    let mut out = HashMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let (key, after) = s.split_once('=')?;
        let (value, after) = match after.strip_prefix('"') {
            Some(q) => {
                let end = q.find('"')?;
                (&q[..end], &q[end + 1..])
            }
            None => after.split_once(',').unwrap_or((after, "")),
        };
        out.insert(key.trim().to_owned(), value.to_owned());
        s = after.trim_start_matches([',', ' ']);
    }
    Some(out)
}

/// A successful response, or the registry's error for `what`.
fn check(resp: Response, what: &str) -> Result<Response> {
    match resp.status() {
        s if s.is_success() => Ok(resp),
        StatusCode::NOT_FOUND => Err(Error::NotFound(format!(
            "{what}: {}",
            error_text(resp).unwrap_or_else(|| "not found".into())
        ))),
        _ => Err(registry_error(resp, what)),
    }
}

fn registry_error(resp: Response, what: &str) -> Error {
    let status = resp.status();
    let text = error_text(resp).unwrap_or_else(|| status.to_string());
    Error::Registry(format!("{what}: {text}"))
}

/// The spec's error body as `CODE: message`, joined.
fn error_text(resp: Response) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Body {
        errors: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        code: String,
        #[serde(default)]
        message: String,
    }
    let body: Body = serde_json::from_slice(&resp.bytes().ok()?).ok()?;
    Some(
        body.errors
            .iter()
            .map(|e| format!("{}: {}", e.code, e.message))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_parse() {
        let c = parse_bearer(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        )
        .unwrap();
        assert_eq!(c["realm"], "https://auth.docker.io/token");
        assert_eq!(c["service"], "registry.docker.io");
        assert_eq!(c["scope"], "repository:library/busybox:pull");
        assert!(parse_bearer("Basic realm=\"x\"").is_none());
    }

    #[test]
    fn loopback_and_insecure_hosts_use_plain_http() {
        let c = Client::new(ClientOptions {
            insecure: vec!["reg.lan:5000".into()],
            config: Some("/nonexistent/config.json".into()),
        })
        .unwrap();
        assert_eq!(c.base_url("localhost:5000"), "http://localhost:5000");
        assert_eq!(c.base_url("127.0.0.1:41234"), "http://127.0.0.1:41234");
        assert_eq!(c.base_url("reg.lan:5000"), "http://reg.lan:5000");
        assert_eq!(c.base_url("quay.io"), "https://quay.io");
        assert_eq!(c.base_url("docker.io"), "https://registry-1.docker.io");
    }
}
