//! The HTTP side: endpoints, the bearer-token challenge, and the
//! distribution API calls pull and push need.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use reqwest::StatusCode;
use reqwest::blocking::{RequestBuilder, Response};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RANGE, WWW_AUTHENTICATE};
use strata_core::media_type::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use strata_core::{Digest, Reference};

use crate::auth::{Credentials, DockerConfig};
use crate::endpoint::{
    self, DOCKER_CERTS_D, DOCKER_DAEMON_JSON, STRATA_CERTS_D, docker_insecure_registries,
};
use crate::error::{Error, Result};
use crate::token_cache::{self, CacheKey, TokenCache};

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
    /// Registries (`host[:port]`, a host, or a CIDR of IP addresses)
    /// spoken to over plain HTTP besides `localhost`, `127.0.0.0/8` and
    /// `::1`.
    pub insecure: Vec<String>,
    /// Docker's `config.json` to take credentials from (default:
    /// [`DockerConfig::default_path`]).
    pub config: Option<PathBuf>,
    /// Directories of per-registry CA files, `<dir>/<host[:port]>/*.crt`,
    /// trusted besides the system's roots for that registry.
    pub certs_dirs: Vec<PathBuf>,
}

impl ClientOptions {
    /// What Docker's daemon would use: `insecure-registries` of
    /// [`DOCKER_DAEMON_JSON`], CA files under [`DOCKER_CERTS_D`] and
    /// [`STRATA_CERTS_D`].
    pub fn system() -> Result<ClientOptions> {
        Ok(ClientOptions {
            insecure: docker_insecure_registries(Path::new(DOCKER_DAEMON_JSON))?,
            config: None,
            certs_dirs: vec![DOCKER_CERTS_D.into(), STRATA_CERTS_D.into()],
        })
    }
}

/// A client for OCI distribution registries (blocking; safe to share
/// between threads).
pub struct Client {
    http: reqwest::blocking::Client,
    options: ClientOptions,
    config: DockerConfig,
    /// `Authorization` values by registry and scope set.
    tokens: TokenCache,
    /// The last challenge of each registry, to answer before being asked.
    challenges: Mutex<HashMap<String, Challenge>>,
    /// Held while an answer is worked out (one token request at a time).
    authorizing: Mutex<()>,
    /// HTTP clients by registry (those with CA files have their own).
    per_host: Mutex<HashMap<String, reqwest::blocking::Client>>,
}

fn http_builder() -> reqwest::blocking::ClientBuilder {
    reqwest::blocking::Client::builder()
        .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
        .timeout(None)
}

/// What a registry's `WWW-Authenticate` asks for.
#[derive(Debug, Clone)]
enum Challenge {
    /// A token from `realm` (with `service`).
    Bearer(HashMap<String, String>),
    Basic,
    Other(String),
}

/// A token server's answer.
struct Token {
    token: String,
    expires_in: Option<u64>,
    issued_at: Option<String>,
}

/// The scope `repository:REPO:ACTIONS`.
pub(crate) fn repo_scope(repo: &str, actions: &str) -> String {
    format!("repository:{repo}:{actions}")
}

/// The challenge of a 401.
fn challenge_of(resp: &Response) -> Challenge {
    let text = resp
        .headers()
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match parse_bearer(text) {
        Some(params) => Challenge::Bearer(params),
        None if text.starts_with("Basic") => Challenge::Basic,
        None => Challenge::Other(text.to_owned()),
    }
}

impl Client {
    /// A client with `options`.
    pub fn new(options: ClientOptions) -> Result<Client> {
        let http = http_builder()
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
            tokens: TokenCache::default(),
            challenges: Mutex::new(HashMap::new()),
            authorizing: Mutex::new(()),
            per_host: Mutex::new(HashMap::new()),
        })
    }

    /// The HTTP client for `domain`.
    /// The HTTP client for `domain`: one that also trusts the registry's
    /// CA files when it has some, else the shared one.
    pub(crate) fn http_for(&self, domain: &str) -> Result<reqwest::blocking::Client> {
        let mut clients = self.per_host.lock().expect("per-host clients");
        if let Some(c) = clients.get(domain) {
            return Ok(c.clone());
        }
        let files = endpoint::ca_files(&self.options.certs_dirs, domain);
        let http = if files.is_empty() {
            self.http.clone()
        } else {
            tracing::debug!(domain, ?files, "trusting the registry's CA files");
            http_builder()
                .tls_certs_merge(endpoint::certificates(&files)?)
                .build()
                .map_err(|e| Error::Http(format!("setting up HTTPS for {domain}: {e}")))?
        };
        clients.insert(domain.to_owned(), http.clone());
        Ok(http)
    }

    /// `scheme://host` for a registry domain: Docker Hub's API host for
    /// `docker.io`, plain HTTP for loopback and configured insecure hosts.
    pub fn base_url(&self, domain: &str) -> String {
        if domain == "docker.io" {
            return "https://registry-1.docker.io".into();
        }
        let plain = endpoint::plain_http(domain, &self.options.insecure);
        format!("{}://{domain}", if plain { "http" } else { "https" })
    }

    /// Sends a request to `domain` needing `scopes` (`repository:REPO:ACTIONS`
    /// each). A cached answer goes with the first try; when the registry
    /// asked for credentials before, the answer is worked out first, so a
    /// request with a body is normally sent once. A 401 is answered once:
    /// Basic with the stored credentials, or Bearer with a token for the
    /// scopes (asked with the credentials when there are some).
    pub(crate) fn send(
        &self,
        domain: &str,
        scopes: &[String],
        make: &dyn Fn(&reqwest::blocking::Client) -> RequestBuilder,
    ) -> Result<Response> {
        let key = CacheKey::new(domain, scopes);
        let http = self.http_for(domain)?;
        let with_auth = |auth: &Option<String>| {
            let req = make(&http);
            match auth {
                Some(a) => req.header(AUTHORIZATION, a),
                None => req,
            }
        };
        let known = self
            .challenges
            .lock()
            .expect("challenges")
            .get(domain)
            .cloned();
        let first = match self.tokens.get(&key, Instant::now()) {
            Some(a) => Some(a),
            None => match known {
                Some(challenge) => Some(self.authorize(domain, &key, &challenge, scopes, None)?),
                None => None,
            },
        };
        let resp = with_auth(&first).send().map_err(Error::from_reqwest)?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let challenge = challenge_of(&resp);
        self.challenges
            .lock()
            .expect("challenges")
            .insert(domain.to_owned(), challenge.clone());
        let auth = self.authorize(domain, &key, &challenge, scopes, first.as_deref())?;
        let resp = with_auth(&Some(auth.clone()))
            .send()
            .map_err(Error::from_reqwest)?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            self.tokens.forget(&key, &auth);
            let creds = self.config.credentials(domain)?;
            let what = scopes
                .iter()
                .map(|s| s.strip_prefix("repository:").unwrap_or(s))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::Unauthorized(format!(
                "{domain} refused access to {what}{}",
                if creds.is_none() {
                    "; log in first"
                } else {
                    ""
                }
            )));
        }
        Ok(resp)
    }

    /// The answer to `challenge` for `scopes`, from the cache or worked out
    /// and cached. One thread at a time works answers out, and a thread
    /// that waited takes what the one before it cached, unless that is the
    /// `refused` value: so parallel transfers ask the token server once.
    fn authorize(
        &self,
        domain: &str,
        key: &CacheKey,
        challenge: &Challenge,
        scopes: &[String],
        refused: Option<&str>,
    ) -> Result<String> {
        let _one_at_a_time = self.authorizing.lock().expect("authorizing");
        if let Some(a) = self.tokens.get(key, Instant::now())
            && Some(a.as_str()) != refused
        {
            return Ok(a);
        }
        let creds = self.config.credentials(domain)?;
        let (auth, renew) = match challenge {
            Challenge::Bearer(params) => {
                let token = self.fetch_token(domain, params, scopes, creds.as_ref())?;
                let renew = token_cache::renew_at(
                    token.expires_in,
                    token.issued_at.as_deref(),
                    Instant::now(),
                    SystemTime::now(),
                );
                (format!("Bearer {}", token.token), Some(renew))
            }
            Challenge::Basic => match &creds {
                Some(c) => (c.basic(), None),
                None => {
                    return Err(Error::Unauthorized(format!(
                        "{domain} wants credentials; log in first"
                    )));
                }
            },
            Challenge::Other(text) => {
                return Err(Error::Unauthorized(format!(
                    "{domain} asks for an unsupported authentication: {text:?}"
                )));
            }
        };
        self.tokens.put(key.clone(), auth.clone(), renew);
        Ok(auth)
    }

    /// Checks `creds` against registry `domain` (`docker login`).
    pub fn check_login(&self, domain: &str, creds: &Credentials) -> Result<()> {
        let url = format!("{}/v2/", self.base_url(domain));
        let http = self.http_for(domain)?;
        let resp = http.get(&url).send().map_err(Error::from_reqwest)?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return match resp.status() {
                s if s.is_success() => Ok(()),
                s => Err(Error::Registry(format!("GET {url}: {s}"))),
            };
        }
        let auth = match challenge_of(&resp) {
            Challenge::Bearer(params) => format!(
                "Bearer {}",
                self.fetch_token(domain, &params, &[], Some(creds))?.token
            ),
            Challenge::Basic => creds.basic(),
            Challenge::Other(text) => {
                return Err(Error::Unauthorized(format!(
                    "{domain} asks for an unsupported authentication: {text:?}"
                )));
            }
        };
        let resp = http
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

    /// A token for `scopes` from the realm of a Bearer challenge.
    fn fetch_token(
        &self,
        domain: &str,
        challenge: &HashMap<String, String>,
        scopes: &[String],
        creds: Option<&Credentials>,
    ) -> Result<Token> {
        let realm = challenge
            .get("realm")
            .ok_or_else(|| Error::Unauthorized("a bearer challenge without a realm".into()))?;
        let mut query: Vec<(&str, &str)> = scopes.iter().map(|s| ("scope", s.as_str())).collect();
        if let Some(service) = challenge.get("service") {
            query.push(("service", service));
        }
        let url = reqwest::Url::parse_with_params(realm, &query)
            .map_err(|e| Error::Unauthorized(format!("the token realm {realm:?}: {e}")))?;
        let host = url.host_str().unwrap_or(domain).to_owned();
        let host = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        let mut req = self.http_for(&host)?.get(url);
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
        struct Body {
            token: Option<String>,
            access_token: Option<String>,
            expires_in: Option<u64>,
            issued_at: Option<String>,
        }
        let body = resp.bytes().map_err(Error::from_reqwest)?;
        let t: Body = serde_json::from_slice(&body)
            .map_err(|e| Error::Unauthorized(format!("the token server {realm} sent {e}")))?;
        let token = t
            .token
            .filter(|t| !t.is_empty())
            .or(t.access_token)
            .ok_or_else(|| {
                Error::Unauthorized(format!("the token server {realm} sent no token"))
            })?;
        Ok(Token {
            token,
            expires_in: t.expires_in,
            issued_at: t.issued_at,
        })
    }

    /// The manifest `reference` (a tag or `sha256:…`) of `name`'s
    /// repository, verified against the digest when fetched by digest.
    pub fn manifest(&self, name: &Reference, reference: &str) -> Result<FetchedManifest> {
        let (domain, repo) = (name.domain(), name.path());
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base_url(domain));
        let resp = self.send(domain, &[repo_scope(repo, "pull")], &|h| {
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
        let resp = self.send(domain, &[repo_scope(repo, actions)], &|h| h.head(&url))?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            s => Err(Error::Registry(format!("HEAD {url}: {s}"))),
        }
    }

    /// The blob's bytes as they arrive, from byte `offset` on (a `Range`
    /// request when not 0: the answer is a 206 from there, or a 200 with
    /// the whole blob when the registry ignores ranges).
    pub fn blob(&self, name: &Reference, digest: &Digest, offset: u64) -> Result<Response> {
        let (domain, repo) = (name.domain(), name.path());
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base_url(domain));
        let resp = self.send(domain, &[repo_scope(repo, "pull")], &|h| {
            let req = h.get(&url);
            if offset > 0 {
                req.header(RANGE, format!("bytes={offset}-"))
            } else {
                req
            }
        })?;
        check(resp, &format!("blob {digest} of {}", name.name()))
    }

    /// The referrers of `digest` (OCI 1.1), optionally of one artifact
    /// type: the index's manifest descriptors. `None` when the registry
    /// has no referrers API (404).
    pub fn referrers(
        &self,
        name: &Reference,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<strata_core::Descriptor>>> {
        let (domain, repo) = (name.domain(), name.path());
        let mut url = format!("{}/v2/{repo}/referrers/{digest}", self.base_url(domain));
        if let Some(t) = artifact_type {
            // `+` would read as a space in a query string.
            url.push_str(&format!("?artifactType={}", t.replace('+', "%2B")));
        }
        let resp = self.send(domain, &[repo_scope(repo, "pull")], &|h| {
            h.get(&url).header(ACCEPT, OCI_INDEX)
        })?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let resp = check(resp, &format!("referrers of {digest}"))?;
        let bytes = resp.bytes().map_err(Error::from_reqwest)?;
        let index: strata_core::ImageIndex = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Invalid(format!("the referrers of {digest}: {e}")))?;
        let mut list = index.manifests;
        if let Some(t) = artifact_type {
            list.retain(|d| d.artifact_type.as_deref() == Some(t));
        }
        Ok(Some(list))
    }

    /// Every tag of `name`'s repository (`tags/list`, following the
    /// `Link` header's pages).
    pub fn tags(&self, name: &Reference) -> Result<Vec<String>> {
        let (domain, repo) = (name.domain(), name.path());
        let base = self.base_url(domain);
        let mut url = format!("{base}/v2/{repo}/tags/list");
        let mut tags = Vec::new();
        loop {
            let resp = self.send(domain, &[repo_scope(repo, "pull")], &|h| h.get(&url))?;
            let resp = check(resp, &format!("the tags of {}", name.name()))?;
            let next = resp
                .headers()
                .get(reqwest::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            #[derive(serde::Deserialize)]
            struct Body {
                tags: Option<Vec<String>>,
            }
            let body: Body = serde_json::from_slice(&resp.bytes().map_err(Error::from_reqwest)?)
                .map_err(|e| Error::Invalid(format!("the tag list of {}: {e}", name.name())))?;
            tags.extend(body.tags.unwrap_or_default());
            match next {
                Some(n) if n.starts_with('/') => url = format!("{base}{n}"),
                Some(n) => url = n,
                None => return Ok(tags),
            }
        }
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
        let resp = self.send(domain, &[repo_scope(repo, "pull,push")], &|h| {
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

/// The target of a `Link: <URL>; rel="next"` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"")
            .then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
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

pub(crate) fn registry_error(resp: Response, what: &str) -> Error {
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
    fn next_links_parse() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?last=b&n=2")
        );
        assert_eq!(next_link(r#"</v2/a/tags/list?last=b>; rel="prev""#), None);
    }

    #[test]
    fn loopback_and_insecure_hosts_use_plain_http() {
        let c = Client::new(ClientOptions {
            insecure: vec!["reg.lan:5000".into()],
            config: Some("/nonexistent/config.json".into()),
            certs_dirs: Vec::new(),
        })
        .unwrap();
        assert_eq!(c.base_url("localhost:5000"), "http://localhost:5000");
        assert_eq!(c.base_url("127.0.0.1:41234"), "http://127.0.0.1:41234");
        assert_eq!(c.base_url("reg.lan:5000"), "http://reg.lan:5000");
        assert_eq!(c.base_url("quay.io"), "https://quay.io");
        assert_eq!(c.base_url("docker.io"), "https://registry-1.docker.io");
    }
}
