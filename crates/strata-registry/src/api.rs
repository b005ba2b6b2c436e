//! The endpoints of the OCI distribution spec 1.1.
//!
//! One fallback handler parses the path ([`crate::path`]) and dispatches on
//! route and method, because axum cannot match multi-component names in the
//! middle of a route.

use std::io::Write;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use strata_core::{Digest, ImageIndex, ImageManifest, ManifestKind, ManifestProbe, media_type};
use strata_store::{Lease, PutRefusal, RegistryManifest};

use crate::Registry;
use crate::auth::{Action, Principal, Verdict};
use crate::error::{ApiError, ApiResult, Code};
use crate::path::{self, Route};

const DIGEST_HEADER: &str = "docker-content-digest";
const UUID_HEADER: &str = "docker-upload-uuid";
const API_VERSION: (&str, &str) = ("docker-distribution-api-version", "registry/2.0");

/// Blobs up to this size are read whole instead of streamed.
const SMALL_BLOB: u64 = 1 << 20;

/// The router: everything goes to [`dispatch`].
pub fn router(reg: Registry) -> axum::Router {
    axum::Router::new().fallback(dispatch).with_state(reg)
}

#[derive(Debug, Default)]
struct Query {
    digest: Option<String>,
    mount: Option<String>,
    from: Option<String>,
    n: Option<String>,
    last: Option<String>,
    artifact_type: Option<String>,
}

async fn dispatch(State(reg): State<Registry>, req: Request) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let remote = req
        .extensions()
        .get::<axum::extract::ConnectInfo<crate::tls::RemoteAddr>>()
        .map(|c| c.0.0.to_string())
        .unwrap_or_default();
    let received = content_length(req.headers()).unwrap_or(0);
    let kind = route_kind(&path);
    let mut user = String::new();
    let mut resp = match handle(&reg, req, &mut user).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    resp.headers_mut()
        .insert(API_VERSION.0, HeaderValue::from_static(API_VERSION.1));
    let took = started.elapsed();
    let status = resp.status().as_u16();
    let sent = if method == Method::HEAD {
        0
    } else {
        content_length(resp.headers()).unwrap_or(0)
    };
    reg.inner
        .metrics
        .record(method.as_str(), kind, status, took, sent, received);
    tracing::info!(
        target: "strata_registry::access",
        remote = %remote,
        user = %user,
        method = %method,
        path = %path,
        status,
        bytes = sent,
        micros = took.as_micros() as u64,
    );
    resp
}

/// The route's kind, for metrics (bounded cardinality).
fn route_kind(path: &str) -> &'static str {
    match path {
        "/token" => "token",
        "/metrics" => "metrics",
        _ => match path::parse(path) {
            Some(Ok(Route::Base)) => "base",
            Some(Ok(Route::Catalog)) => "catalog",
            Some(Ok(Route::Tags { .. })) => "tags",
            Some(Ok(Route::Manifest { .. })) => "manifest",
            Some(Ok(Route::Blob { .. })) => "blob",
            Some(Ok(Route::UploadStart { .. } | Route::Upload { .. })) => "upload",
            Some(Ok(Route::Referrers { .. })) => "referrers",
            Some(Err(_)) | None => "other",
        },
    }
}

async fn handle(reg: &Registry, req: Request, user: &mut String) -> ApiResult<Response> {
    if req.uri().path() == "/token" {
        return token(reg, &req);
    }
    if req.uri().path() == "/metrics" && req.method() == Method::GET {
        let mut r = Response::new(Body::from(
            reg.inner.metrics.render(reg.inner.uploads.len()),
        ));
        set(&mut r, "content-type", "text/plain; version=0.0.4");
        return Ok(r);
    }
    let Some(route) = path::parse(req.uri().path()) else {
        return Err(ApiError::new(Code::NameUnknown, "no such endpoint"));
    };
    let route = route?;
    let query: Query = match req.uri().query() {
        Some(q) => serde_urlencoded_lite(q),
        None => Query::default(),
    };
    let method = req.method().clone();
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let who = authorize(reg, &route, &method, &headers)?;
    match &who {
        Some(Principal::User(u)) => user.clone_from(u),
        Some(Principal::Token { user: u, .. }) => user.clone_from(u),
        _ => {}
    }
    let head = method == Method::HEAD;
    match (route, method) {
        (Route::Base, Method::GET | Method::HEAD) => Ok(json_response(StatusCode::OK, "{}")),
        (Route::Catalog, Method::GET) => catalog(reg, &query, who.as_ref()),
        (Route::Tags { repo }, Method::GET) => tags(reg, &repo, &query),
        (Route::Manifest { repo, reference }, Method::GET | Method::HEAD) => {
            get_manifest(reg, &repo, &reference, head)
        }
        (Route::Manifest { repo, reference }, Method::PUT) => {
            put_manifest(reg, &repo, &reference, &headers, body).await
        }
        (Route::Manifest { repo, reference }, Method::DELETE) => {
            delete_manifest(reg, &repo, &reference)
        }
        (Route::Blob { repo, digest }, Method::GET | Method::HEAD) => {
            get_blob(reg, &repo, &digest, &headers, head).await
        }
        (Route::Blob { repo, digest }, Method::DELETE) => delete_blob(reg, &repo, &digest),
        (Route::UploadStart { repo }, Method::POST) => {
            let may_mount = |from: &str| match (&reg.config().auth, &who) {
                (Some(auth), Some(p)) => auth.check(p, Some(from), Action::Pull) == Verdict::Allow,
                _ => true,
            };
            let from_ok = query.from.as_deref().is_some_and(may_mount);
            start_upload(reg, &repo, &query, from_ok, &headers, body).await
        }
        (Route::Upload { repo, id }, Method::PATCH) => {
            patch_upload(reg, &repo, &id, &headers, body).await
        }
        (Route::Upload { repo, id }, Method::PUT) => {
            finish_upload(reg, &repo, &id, &query, &headers, body).await
        }
        (Route::Upload { repo, id }, Method::GET) => upload_status(reg, &repo, &id).await,
        (Route::Upload { repo, id }, Method::DELETE) => cancel_upload(reg, &repo, &id),
        (Route::Referrers { repo, digest }, Method::GET) => referrers(reg, &repo, &digest, &query),
        (_, m) => Err(ApiError::new(
            Code::Unsupported,
            format!("method {m} is not supported here"),
        )),
    }
}

/// The action a request needs on its repository.
fn action_for(route: &Route, method: &Method) -> Action {
    match (route, method) {
        (Route::Manifest { .. } | Route::Blob { .. }, &Method::DELETE) => Action::Delete,
        (Route::UploadStart { .. } | Route::Upload { .. }, _) => Action::Push,
        (Route::Manifest { .. }, &Method::PUT) => Action::Push,
        _ => Action::Pull,
    }
}

/// Checks the request's credentials against the route. `Ok(None)` on an
/// open registry.
fn authorize(
    reg: &Registry,
    route: &Route,
    method: &Method,
    headers: &HeaderMap,
) -> ApiResult<Option<Principal>> {
    let Some(auth) = &reg.config().auth else {
        return Ok(None);
    };
    let action = action_for(route, method);
    let repo = route.repo();
    let challenge = |msg: &str| {
        let value = if auth.uses_tokens() {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let mut v = format!(
                "Bearer realm=\"{}\",service=\"{}\"",
                auth.realm(host, reg.config().tls.is_some()),
                auth.service()
            );
            if let Some(r) = repo {
                let actions = if action == Action::Push {
                    "pull,push"
                } else {
                    action.as_str()
                };
                v.push_str(&format!(",scope=\"repository:{r}:{actions}\""));
            }
            v
        } else {
            "Basic realm=\"strata-registry\"".to_owned()
        };
        ApiError::new(Code::Unauthorized, msg).header("www-authenticate", value)
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    let Some(who) = auth.identify(authorization) else {
        return Err(challenge("authentication required: bad credentials"));
    };
    match auth.check(&who, repo, action) {
        Verdict::Allow => Ok(Some(who)),
        Verdict::Challenge => Err(challenge("authentication required")),
        Verdict::Deny => Err(ApiError::new(
            Code::Denied,
            format!(
                "requested access to the resource is denied: {} on {}",
                action.as_str(),
                repo.unwrap_or("the registry")
            ),
        )),
    }
}

/// The token endpoint of Docker's token protocol: `GET /token?service=
/// &scope=...` with optional Basic credentials (or `POST` with a
/// password grant form).
fn token(reg: &Registry, req: &Request) -> ApiResult<Response> {
    let Some(auth) = reg.config().auth.as_ref().filter(|a| a.uses_tokens()) else {
        return Err(ApiError::new(Code::NameUnknown, "no such endpoint"));
    };
    let mut scopes = Vec::new();
    for pair in req.uri().query().unwrap_or("").split('&') {
        if let Some(v) = pair.strip_prefix("scope=") {
            scopes.extend(percent_decode(v).split(' ').map(str::to_owned));
        }
    }
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    let user = match authorization.and_then(|h| h.strip_prefix("Basic ")) {
        Some(b) => {
            let Some((u, p)) = crate::auth::decode_basic(b) else {
                return Err(ApiError::new(Code::Unauthorized, "malformed credentials"));
            };
            if !auth.check_password(&u, &p) {
                return Err(ApiError::new(
                    Code::Unauthorized,
                    "authentication required: bad credentials",
                )
                .header("www-authenticate", "Basic realm=\"strata-registry\""));
            }
            Some(u)
        }
        None => None,
    };
    let (token, expires_in) = auth.issue(user.as_deref(), &scopes);
    let body = serde_json::json!({
        "token": token,
        "access_token": token,
        "expires_in": expires_in,
        "issued_at": strata_core::Timestamp::from_unix(now_unix(), 0).to_string(),
    });
    Ok(json_response(StatusCode::OK, body.to_string()))
}

/// Parses the few query parameters we use (`application/x-www-form-urlencoded`).
fn serde_urlencoded_lite(q: &str) -> Query {
    let mut out = Query::default();
    for pair in q.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        match k {
            "digest" => out.digest = Some(v),
            "mount" => out.mount = Some(v),
            "from" => out.from = Some(v),
            "n" => out.n = Some(v),
            "last" => out.last = Some(v),
            "artifactType" => out.artifact_type = Some(v),
            _ => {}
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match h {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn set(r: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}

fn parse_digest(s: &str) -> ApiResult<Digest> {
    s.parse::<Digest>()
        .map_err(|e| ApiError::new(Code::DigestInvalid, format!("invalid digest {s:?}: {e}")))
}

fn parse_n(q: &Query) -> ApiResult<Option<usize>> {
    q.n.as_deref()
        .map(|n| {
            n.parse::<usize>().map_err(|_| {
                ApiError::new(Code::Unsupported, format!("invalid n: {n:?}"))
                    .status(StatusCode::BAD_REQUEST)
            })
        })
        .transpose()
}

// ---------------------------------------------------------------- listing

fn catalog(reg: &Registry, q: &Query, who: Option<&Principal>) -> ApiResult<Response> {
    let n = parse_n(q)?;
    let visible = |r: &String| match (&reg.config().auth, who) {
        (Some(auth), Some(p)) => auth.check(p, Some(r), Action::Pull) == Verdict::Allow,
        _ => true,
    };
    let repos: Vec<String> = if n == Some(0) {
        Vec::new()
    } else if reg.config().auth.is_some() {
        // Only what the caller may pull, paginated after filtering.
        let mut all = reg.store().registry_repositories(q.last.as_deref(), None)?;
        all.retain(visible);
        all.truncate(n.unwrap_or(usize::MAX));
        all
    } else {
        reg.store().registry_repositories(q.last.as_deref(), n)?
    };
    let body = serde_json::json!({ "repositories": repos }).to_string();
    let mut r = json_response(StatusCode::OK, body);
    if let (Some(n), Some(last)) = (n, repos.last())
        && repos.len() == n
    {
        set(
            &mut r,
            "link",
            &format!("</v2/_catalog?last={last}&n={n}>; rel=\"next\""),
        );
    }
    Ok(r)
}

fn tags(reg: &Registry, repo: &str, q: &Query) -> ApiResult<Response> {
    let n = parse_n(q)?;
    let Some(tags) = reg
        .store()
        .registry_tags(repo, q.last.as_deref(), n.filter(|&n| n > 0))?
    else {
        return Err(ApiError::new(
            Code::NameUnknown,
            format!("repository name not known to registry: {repo}"),
        ));
    };
    let tags = if n == Some(0) { Vec::new() } else { tags };
    let body = serde_json::json!({ "name": repo, "tags": tags }).to_string();
    let mut r = json_response(StatusCode::OK, body);
    if let (Some(n), Some(last)) = (n, tags.last())
        && tags.len() == n
    {
        set(
            &mut r,
            "link",
            &format!("</v2/{repo}/tags/list?last={last}&n={n}>; rel=\"next\""),
        );
    }
    Ok(r)
}

// ---------------------------------------------------------------- manifests

fn manifest_unknown(repo: &str, reference: &str) -> ApiError {
    ApiError::new(
        Code::ManifestUnknown,
        format!("manifest unknown: {repo}:{reference}"),
    )
}

fn find_manifest(reg: &Registry, repo: &str, reference: &str) -> ApiResult<RegistryManifest> {
    let store = reg.store();
    let found = if reference.contains(':') {
        store.registry_manifest(repo, &parse_digest(reference)?)?
    } else if path::is_tag(reference) {
        let m = store.registry_tag(repo, reference)?;
        if m.is_some() && reg.inner.pulls.due(repo, reference) {
            store.registry_tag_pulled(repo, reference)?;
        }
        m
    } else {
        return Err(ApiError::new(
            Code::ManifestInvalid,
            format!("invalid tag {reference:?}"),
        ));
    };
    found.ok_or_else(|| manifest_unknown(repo, reference))
}

fn get_manifest(reg: &Registry, repo: &str, reference: &str, head: bool) -> ApiResult<Response> {
    let m = find_manifest(reg, repo, reference)?;
    let mut r = if head {
        empty(StatusCode::OK)
    } else {
        let bytes = reg.store().read_blob(&m.digest)?;
        Response::new(Body::from(bytes))
    };
    set(&mut r, "content-type", &m.media_type);
    set(&mut r, "content-length", &m.size.to_string());
    set(&mut r, DIGEST_HEADER, &m.digest.to_string());
    Ok(r)
}

/// The facts a manifest PUT needs from the document.
struct Parsed {
    media_type: String,
    artifact_type: Option<String>,
    subject: Option<Digest>,
    blobs: Vec<Digest>,
    manifests: Vec<Digest>,
}

fn parse_manifest(bytes: &[u8], content_type: Option<&str>) -> ApiResult<Parsed> {
    let invalid = |m: String| ApiError::new(Code::ManifestInvalid, m);
    let probe: ManifestProbe = serde_json::from_slice(bytes)
        .map_err(|e| invalid(format!("manifest invalid: not JSON: {e}")))?;
    if probe.schema_version == Some(1) {
        return Err(invalid(
            "manifest invalid: Docker schema 1 manifests are not supported".into(),
        ));
    }
    let declared = probe.media_type.as_ref().map(|m| m.as_str().to_owned());
    // The Content-Type is the media type; a body that names another one is
    // refused, as the spec asks.
    let ct = content_type
        .map(|c| c.split(';').next().unwrap_or(c).trim().to_owned())
        .filter(|c| !c.is_empty() && c != "application/octet-stream");
    let media_type = match (&ct, &declared) {
        (Some(c), Some(d)) if c != d => {
            return Err(invalid(format!(
                "manifest invalid: Content-Type {c} does not match mediaType {d}"
            )));
        }
        (Some(c), _) => c.clone(),
        (None, Some(d)) => d.clone(),
        (None, None) => {
            return Err(invalid(
                "manifest invalid: no Content-Type and no mediaType".into(),
            ));
        }
    };
    let is_manifest = matches!(
        media_type.as_str(),
        media_type::OCI_MANIFEST | media_type::DOCKER_MANIFEST
    );
    let is_index = matches!(
        media_type.as_str(),
        media_type::OCI_INDEX | media_type::DOCKER_MANIFEST_LIST
    );
    if !is_manifest && !is_index {
        return Err(invalid(format!(
            "manifest invalid: unsupported media type {media_type}"
        )));
    }
    let kind = probe.kind();
    if (is_manifest && kind != Some(ManifestKind::Manifest))
        || (is_index && kind != Some(ManifestKind::Index))
    {
        return Err(invalid(format!(
            "manifest invalid: the document is not a {media_type}"
        )));
    }
    if is_manifest {
        let m: ImageManifest =
            serde_json::from_slice(bytes).map_err(|e| invalid(format!("manifest invalid: {e}")))?;
        let mut blobs = vec![m.config.digest.clone()];
        for l in &m.layers {
            // Foreign (non-distributable) layers live elsewhere.
            let foreign = l.media_type.as_str().contains("nondistributable")
                || l.media_type.as_str() == media_type::DOCKER_LAYER_FOREIGN;
            if !(foreign && l.urls.is_some()) {
                blobs.push(l.digest.clone());
            }
        }
        Ok(Parsed {
            media_type,
            artifact_type: m
                .artifact_type
                .clone()
                .or_else(|| Some(m.config.media_type.as_str().to_owned())),
            subject: m.subject.map(|s| s.digest),
            blobs,
            manifests: Vec::new(),
        })
    } else {
        let i: ImageIndex =
            serde_json::from_slice(bytes).map_err(|e| invalid(format!("manifest invalid: {e}")))?;
        let manifests = i.manifests.iter().map(|d| d.digest.clone()).collect();
        Ok(Parsed {
            media_type,
            artifact_type: i.artifact_type.clone(),
            subject: i.subject.map(|s| s.digest),
            blobs: Vec::new(),
            manifests,
        })
    }
}

async fn put_manifest(
    reg: &Registry,
    repo: &str,
    reference: &str,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let limit = reg.config().max_manifest_bytes;
    if let Some(len) = content_length(headers)
        && len > limit as u64
    {
        return Err(too_big(limit));
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if e.to_string().contains("length limit") {
            too_big(limit)
        } else {
            ApiError::new(Code::ManifestInvalid, format!("reading the manifest: {e}"))
        }
    })?;
    let digest = Digest::sha256(&bytes);
    let tag = if reference.contains(':') {
        let want = parse_digest(reference)?;
        if want != digest {
            return Err(ApiError::new(
                Code::DigestInvalid,
                format!("manifest digest {digest} does not match {want}"),
            ));
        }
        None
    } else if path::is_tag(reference) {
        Some(reference)
    } else {
        return Err(ApiError::new(
            Code::ManifestInvalid,
            format!("invalid tag {reference:?}"),
        ));
    };
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let parsed = parse_manifest(&bytes, ct)?;
    let store = reg.store().clone();
    let record = RegistryManifest {
        repo: repo.to_owned(),
        digest: digest.clone(),
        media_type: parsed.media_type.clone(),
        size: bytes.len() as u64,
        artifact_type: parsed.artifact_type.clone(),
        subject: parsed.subject.clone(),
        pushed_unix: now_unix(),
    };
    let tag = tag.map(str::to_owned);
    let subject = parsed.subject.clone();
    let outcome = tokio::task::spawn_blocking(move || -> strata_store::Result<_> {
        let mut lease = Lease::new(&store)?;
        store.put_blob(&mut lease, &bytes)?;
        store.registry_put_manifest(&record, &parsed.blobs, &parsed.manifests, tag.as_deref())
    })
    .await
    .map_err(ApiError::internal)??;
    match outcome {
        Ok(()) => {}
        Err(PutRefusal::BlobUnknown(d)) => {
            return Err(ApiError::new(
                Code::ManifestBlobUnknown,
                format!("blob unknown to registry: {d}"),
            ));
        }
        Err(PutRefusal::ManifestUnknown(d)) => {
            return Err(ApiError::new(
                Code::ManifestBlobUnknown,
                format!("manifest unknown to registry: {d}"),
            ));
        }
    }
    let mut r = empty(StatusCode::CREATED);
    set(
        &mut r,
        "location",
        &format!("/v2/{repo}/manifests/{digest}"),
    );
    set(&mut r, DIGEST_HEADER, &digest.to_string());
    if let Some(s) = subject {
        set(&mut r, "oci-subject", &s.to_string());
    }
    Ok(r)
}

fn too_big(limit: usize) -> ApiError {
    ApiError::new(
        Code::SizeInvalid,
        format!("manifest larger than {limit} bytes"),
    )
    .status(StatusCode::PAYLOAD_TOO_LARGE)
}

fn delete_manifest(reg: &Registry, repo: &str, reference: &str) -> ApiResult<Response> {
    check_delete(reg)?;
    let store = reg.store();
    let found = if reference.contains(':') {
        store.registry_delete_manifest(repo, &parse_digest(reference)?)?
    } else if path::is_tag(reference) {
        store.registry_delete_tag(repo, reference)?
    } else {
        return Err(ApiError::new(
            Code::ManifestInvalid,
            format!("invalid tag {reference:?}"),
        ));
    };
    if !found {
        return Err(manifest_unknown(repo, reference));
    }
    Ok(empty(StatusCode::ACCEPTED))
}

fn check_delete(reg: &Registry) -> ApiResult<()> {
    if reg.config().delete_enabled {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Unsupported,
            "deletes are disabled on this registry",
        ))
    }
}

fn referrers(reg: &Registry, repo: &str, digest: &str, q: &Query) -> ApiResult<Response> {
    let subject = parse_digest(digest)?;
    let mut descriptors = Vec::new();
    for m in reg.store().registry_referrers(repo, &subject)? {
        if let Some(want) = &q.artifact_type
            && m.artifact_type.as_deref() != Some(want.as_str())
        {
            continue;
        }
        let annotations = reg
            .store()
            .read_blob(&m.digest)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("annotations").cloned());
        let mut d = serde_json::json!({
            "mediaType": m.media_type,
            "digest": m.digest.to_string(),
            "size": m.size,
        });
        if let Some(t) = &m.artifact_type {
            d["artifactType"] = t.clone().into();
        }
        if let Some(a) = annotations {
            d["annotations"] = a;
        }
        descriptors.push(d);
    }
    let body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_INDEX,
        "manifests": descriptors,
    });
    let mut r = Response::new(Body::from(body.to_string()));
    set(&mut r, "content-type", media_type::OCI_INDEX);
    if q.artifact_type.is_some() {
        set(&mut r, "oci-filters-applied", "artifactType");
    }
    Ok(r)
}

// ---------------------------------------------------------------- blobs

fn blob_unknown(digest: &str) -> ApiError {
    ApiError::new(
        Code::BlobUnknown,
        format!("blob unknown to registry: {digest}"),
    )
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` against a blob of `size`.
fn parse_range(v: &str, size: u64) -> Option<(u64, u64)> {
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        (size.checked_sub(n.min(size))?, size.checked_sub(1)?)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            size.checked_sub(1)?
        } else {
            b.parse::<u64>().ok()?.min(size.checked_sub(1)?)
        };
        (start, end)
    };
    (start <= end && end < size).then_some((start, end))
}

async fn get_blob(
    reg: &Registry,
    repo: &str,
    digest: &str,
    headers: &HeaderMap,
    head: bool,
) -> ApiResult<Response> {
    let d = parse_digest(digest)?;
    let Some(size) = reg.store().registry_blob(repo, &d)? else {
        return Err(blob_unknown(digest));
    };
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(v) => match parse_range(v, size) {
            Some(r) => Some(r),
            None => {
                return Err(ApiError::new(
                    Code::BlobUnknown,
                    format!("range {v} not satisfiable for a blob of {size} bytes"),
                )
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header("content-range", format!("bytes */{size}")));
            }
        },
        None => None,
    };
    let (start, end) = range.unwrap_or((0, size.saturating_sub(1)));
    let len = if size == 0 { 0 } else { end - start + 1 };
    let mut r = if head {
        empty(StatusCode::OK)
    } else if len <= SMALL_BLOB && reg.config().s3.is_none() {
        let mut f = reg.store().open_blob(&d)?;
        let mut buf = vec![0u8; len as usize];
        std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(start)).map_err(ApiError::internal)?;
        std::io::Read::read_exact(&mut f, &mut buf).map_err(ApiError::internal)?;
        Response::new(Body::from(buf))
    } else if let Some(bucket) = &reg.config().s3 {
        let body = if len == 0 {
            Body::empty()
        } else {
            bucket
                .body(&d, start, end)
                .await
                .map_err(ApiError::internal)?
        };
        Response::new(body)
    } else {
        let f = reg.store().open_blob(&d)?.into_parts().0;
        Response::new(file_body(f, start, len).await?)
    };
    if range.is_some() {
        *r.status_mut() = StatusCode::PARTIAL_CONTENT;
        set(
            &mut r,
            "content-range",
            &format!("bytes {start}-{end}/{size}"),
        );
    }
    set(&mut r, "content-length", &len.to_string());
    set(&mut r, "content-type", "application/octet-stream");
    set(&mut r, DIGEST_HEADER, &d.to_string());
    set(&mut r, "accept-ranges", "bytes");
    Ok(r)
}

async fn file_body(f: std::fs::File, start: u64, len: u64) -> ApiResult<Body> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let mut f = tokio::fs::File::from_std(f);
    f.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(ApiError::internal)?;
    let reader = f.take(len);
    let stream = futures_util::stream::unfold(reader, |mut r| async move {
        let mut buf = vec![0u8; 256 << 10];
        match r.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), r))
            }
            Err(e) => Some((Err(e), r)),
        }
    });
    Ok(Body::from_stream(stream))
}

fn delete_blob(reg: &Registry, repo: &str, digest: &str) -> ApiResult<Response> {
    check_delete(reg)?;
    let d = parse_digest(digest)?;
    if !reg.store().registry_unlink_blob(repo, &d)? {
        return Err(blob_unknown(digest));
    }
    Ok(empty(StatusCode::ACCEPTED))
}

// ---------------------------------------------------------------- uploads

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn upload_unknown(id: &str) -> ApiError {
    ApiError::new(
        Code::BlobUploadUnknown,
        format!("blob upload unknown to registry: {id}"),
    )
}

fn upload_location(repo: &str, id: &str) -> String {
    format!("/v2/{repo}/blobs/uploads/{id}")
}

fn progress_response(status: StatusCode, repo: &str, id: &str, offset: u64) -> Response {
    let mut r = empty(status);
    set(&mut r, "location", &upload_location(repo, id));
    set(&mut r, UUID_HEADER, id);
    // The spec's inclusive end; an empty upload reports 0-0 as Distribution does.
    set(&mut r, "range", &format!("0-{}", offset.saturating_sub(1)));
    set(&mut r, "content-length", "0");
    r
}

fn created_blob(repo: &str, digest: &Digest) -> Response {
    let mut r = empty(StatusCode::CREATED);
    set(&mut r, "location", &format!("/v2/{repo}/blobs/{digest}"));
    set(&mut r, DIGEST_HEADER, &digest.to_string());
    set(&mut r, "content-length", "0");
    r
}

async fn start_upload(
    reg: &Registry,
    repo: &str,
    q: &Query,
    may_mount: bool,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let store = reg.store();
    if let Some(mount) = q.mount.as_ref().filter(|_| may_mount) {
        let d = parse_digest(mount)?;
        let from = q.from.as_deref().unwrap_or("");
        // A mount from a repository that does not have the blob (or a bad
        // name) falls back to a normal upload, as the spec says.
        if path::check_name(from).is_ok() && store.registry_mount_blob(repo, from, &d)? {
            return Ok(created_blob(repo, &d));
        }
    }
    let id = store_session(reg, repo)?;
    if let Some(digest) = &q.digest {
        // A monolithic upload in the POST itself.
        let session = reg
            .inner
            .uploads
            .get(repo, &id)
            .ok_or_else(|| upload_unknown(&id))?;
        let mut s = session.lock().await;
        let res = append(&mut s, headers, body, true).await;
        drop(s);
        drop(session);
        if let Err(e) = res {
            reg.inner.uploads.remove(&id);
            return Err(e);
        }
        return complete(reg, repo, &id, digest).await;
    }
    Ok(progress_response(StatusCode::ACCEPTED, repo, &id, 0))
}

fn store_session(reg: &Registry, repo: &str) -> ApiResult<String> {
    Ok(reg.inner.uploads.start(reg.store(), repo)?)
}

/// Appends a request body to a session. A `Content-Range` must start where
/// the session ends (`416` otherwise). A body that breaks off ends the
/// session: nothing half-received is kept.
async fn append(
    s: &mut crate::upload::Session,
    headers: &HeaderMap,
    body: Body,
    allow_range: bool,
) -> ApiResult<()> {
    let offset = s.offset();
    if allow_range
        && let Some(cr) = headers
            .get(header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
    {
        let (a, b) = parse_content_range(cr).ok_or_else(|| {
            ApiError::new(
                Code::BlobUploadInvalid,
                format!("invalid Content-Range {cr:?}"),
            )
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
        })?;
        if a != offset || b < a {
            return Err(ApiError::new(
                Code::BlobUploadInvalid,
                format!("chunk {a}-{b} out of order: the upload has {offset} bytes"),
            )
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header("range", format!("0-{}", offset.saturating_sub(1)))
            .header("location", upload_location(&s.repo, "")));
        }
        if let Some(len) = content_length(headers)
            && len != b - a + 1
        {
            return Err(ApiError::new(
                Code::SizeInvalid,
                format!("Content-Length {len} does not match Content-Range {cr}"),
            ));
        }
    }
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                Code::BlobUploadInvalid,
                format!("the request body broke off: {e}"),
            )
        })?;
        let w = &mut s.writer;
        tokio::task::block_in_place(|| w.write_all(&chunk)).map_err(ApiError::internal)?;
    }
    if let Some(len) = content_length(headers)
        && s.offset() - offset != len
    {
        return Err(ApiError::new(
            Code::SizeInvalid,
            format!(
                "received {} bytes, Content-Length said {len}",
                s.offset() - offset
            ),
        ));
    }
    s.touch();
    Ok(())
}

fn parse_content_range(v: &str) -> Option<(u64, u64)> {
    let v = v.trim();
    let v = v.strip_prefix("bytes ").unwrap_or(v);
    let v = v.split('/').next()?;
    let (a, b) = v.split_once('-')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// Appends a request body to session `id` of `repo`; returns the bytes
/// it now holds. A chunk out of order leaves the session as it was (416);
/// any other failure ends it.
async fn append_to_session(
    reg: &Registry,
    repo: &str,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<u64> {
    let session = reg
        .inner
        .uploads
        .get(repo, id)
        .ok_or_else(|| upload_unknown(id))?;
    let mut s = session.lock().await;
    match append(&mut s, headers, body, true).await {
        Ok(()) => Ok(s.offset()),
        Err(e) if e.status == StatusCode::RANGE_NOT_SATISFIABLE => {
            Err(e.header("location", upload_location(repo, id)))
        }
        Err(e) => {
            drop(s);
            reg.inner.uploads.remove(id);
            Err(e)
        }
    }
}

async fn patch_upload(
    reg: &Registry,
    repo: &str,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let offset = append_to_session(reg, repo, id, headers, body).await?;
    Ok(progress_response(StatusCode::ACCEPTED, repo, id, offset))
}

async fn finish_upload(
    reg: &Registry,
    repo: &str,
    id: &str,
    q: &Query,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    if reg.inner.uploads.get(repo, id).is_none() {
        return Err(upload_unknown(id));
    }
    let Some(digest) = q.digest.clone() else {
        return Err(ApiError::new(
            Code::DigestInvalid,
            "the final PUT of an upload needs ?digest=",
        ));
    };
    append_to_session(reg, repo, id, headers, body).await?;
    complete(reg, repo, id, &digest).await
}

/// Verifies the session's bytes against `digest`, moves them into the
/// store and links them into `repo`. The session ends either way.
async fn complete(reg: &Registry, repo: &str, id: &str, digest: &str) -> ApiResult<Response> {
    let session = reg
        .inner
        .uploads
        .remove(id)
        .ok_or_else(|| upload_unknown(id))?;
    let want = parse_digest(digest)?;
    let session = match std::sync::Arc::try_unwrap(session) {
        Ok(m) => m.into_inner(),
        Err(_) => {
            return Err(ApiError::new(
                Code::BlobUploadInvalid,
                format!("upload {id} is busy with another request"),
            ));
        }
    };
    if let Some(bucket) = &reg.config().s3 {
        let crate::upload::Session {
            lease, mut writer, ..
        } = session;
        let size = writer.verify(&want).map_err(upload_digest_error)?;
        // Protected before it exists in the bucket, so a sweep keeps it.
        lease.protect(&want)?;
        bucket
            .put_file(&want, writer.path(), size)
            .await
            .map_err(ApiError::internal)?;
        reg.store().registry_link_blob(repo, &want, size)?;
        drop(writer);
        drop(lease);
        return Ok(created_blob(repo, &want));
    }
    let store = reg.store().clone();
    let repo_owned = repo.to_owned();
    let result = tokio::task::spawn_blocking(move || -> ApiResult<(Digest, u64)> {
        let crate::upload::Session { lease, writer, .. } = session;
        let (d, size) = writer
            .commit(&lease, Some(&want))
            .map_err(upload_digest_error)?;
        store.registry_link_blob(&repo_owned, &d, size)?;
        drop(lease);
        Ok((d, size))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(created_blob(repo, &result.0))
}

/// A finished upload whose bytes do not have the digest named is the
/// client's mistake (`DIGEST_INVALID`); anything else is ours.
fn upload_digest_error(e: strata_store::StoreError) -> ApiError {
    match e {
        strata_store::StoreError::DigestMismatch {
            expected, actual, ..
        } => ApiError::new(
            Code::DigestInvalid,
            format!("the upload's digest is {actual}, not {expected}"),
        ),
        e => ApiError::internal(e),
    }
}

async fn upload_status(reg: &Registry, repo: &str, id: &str) -> ApiResult<Response> {
    let session = reg
        .inner
        .uploads
        .get(repo, id)
        .ok_or_else(|| upload_unknown(id))?;
    let s = session.lock().await;
    Ok(progress_response(
        StatusCode::NO_CONTENT,
        repo,
        id,
        s.offset(),
    ))
}

fn cancel_upload(reg: &Registry, repo: &str, id: &str) -> ApiResult<Response> {
    reg.inner
        .uploads
        .get(repo, id)
        .ok_or_else(|| upload_unknown(id))?;
    reg.inner.uploads.remove(id);
    Ok(empty(StatusCode::NO_CONTENT))
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }

    #[test]
    fn query_values_are_percent_decoded() {
        let q = serde_urlencoded_lite("digest=sha256%3Aab&n=2&last=a%2Fb&artifactType=x");
        assert_eq!(q.digest.as_deref(), Some("sha256:ab"));
        assert_eq!(q.n.as_deref(), Some("2"));
        assert_eq!(q.last.as_deref(), Some("a/b"));
        assert_eq!(q.artifact_type.as_deref(), Some("x"));
    }
}
