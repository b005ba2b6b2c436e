//! The distribution API over HTTP, endpoint by endpoint, with the bad
//! input the spec names: each refusal must carry the spec's code and leave
//! storage as it was. The server runs in-process on 127.0.0.1:0 over a
//! temp store.

use std::io::{Read, Write};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use strata_core::Digest;
use strata_registry::{Config, Registry};
use strata_store::Store;

struct Server {
    base: String,
    store: Store,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        Server::start_with(Config::default())
    }

    fn start_with(config: Config) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let reg = Registry::new(store.clone(), config);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(l.local_addr().unwrap()).unwrap();
                reg.serve(l, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        Server {
            base: format!("http://{addr}"),
            store,
            _dir: dir,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Files in the store's blob directory.
    fn blob_files(&self) -> usize {
        std::fs::read_dir(self.store.layout().blobs_dir())
            .unwrap()
            .count()
    }

    /// Partial files of uploads in progress or left behind.
    fn partial_files(&self) -> usize {
        let root = self.store.layout().ingest_root();
        std::fs::read_dir(root)
            .map(|d| {
                d.flatten()
                    .map(|e| std::fs::read_dir(e.path()).map(|x| x.count()).unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn code(r: Response) -> (StatusCode, String) {
    let status = r.status();
    let body: serde_json::Value = r.json().expect("an error body in JSON");
    (
        status,
        body["errors"][0]["code"].as_str().unwrap().to_owned(),
    )
}

fn header(r: &Response, name: &str) -> String {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Uploads `data` to `repo` in one POST; returns its digest.
fn push_blob(s: &Server, repo: &str, data: &[u8]) -> Digest {
    let d = Digest::sha256(data);
    let r = client()
        .post(s.url(&format!("/v2/{repo}/blobs/uploads/?digest={d}")))
        .body(data.to_vec())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text());
    d
}

fn image_manifest(config: &Digest, config_len: usize, layers: &[(&Digest, usize)]) -> Vec<u8> {
    let layers: Vec<_> = layers
        .iter()
        .map(|(d, n)| {
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": d.to_string(), "size": n
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config.to_string(), "size": config_len},
        "layers": layers,
    }))
    .unwrap()
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Pushes a config and a layer and a manifest tagged `tag`; returns the
/// manifest's digest and bytes.
fn push_image(s: &Server, repo: &str, tag: &str, layer: &[u8]) -> (Digest, Vec<u8>) {
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let c = push_blob(s, repo, config);
    let l = push_blob(s, repo, layer);
    let m = image_manifest(&c, config.len(), &[(&l, layer.len())]);
    let r = client()
        .put(s.url(&format!("/v2/{repo}/manifests/{tag}")))
        .header("content-type", OCI_MANIFEST)
        .body(m.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let d = Digest::sha256(&m);
    assert_eq!(header(&r, "docker-content-digest"), d.to_string());
    (d, m)
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Sends `request` as it is (clients normalise paths) and reads the answer.
fn raw(s: &Server, request: &str) -> String {
    let mut tcp = std::net::TcpStream::connect(s.addr()).unwrap();
    tcp.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = tcp.read_to_string(&mut answer);
    answer
}

#[test]
fn base_endpoint_answers_with_the_api_version() {
    let s = Server::start();
    let r = client().get(s.url("/v2/")).send().unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header(&r, "docker-distribution-api-version"),
        "registry/2.0"
    );
    let (st, c) = code(client().get(s.url("/v2/x/nothing/here")).send().unwrap());
    assert_eq!((st, c.as_str()), (StatusCode::NOT_FOUND, "NAME_UNKNOWN"));
}

#[test]
fn blobs_are_served_whole_by_range_and_by_head_and_stored_once_across_repositories() {
    let s = Server::start();
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let d = push_blob(&s, "a/one", &data);
    push_blob(&s, "b/two", &data);
    assert_eq!(s.blob_files(), 1, "one copy for two repositories");

    let r = client()
        .head(s.url(&format!("/v2/a/one/blobs/{d}")))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-length"), data.len().to_string());
    assert_eq!(header(&r, "docker-content-digest"), d.to_string());

    let body = client()
        .get(s.url(&format!("/v2/b/two/blobs/{d}")))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(Digest::sha256(&body), d);

    let r = client()
        .get(s.url(&format!("/v2/a/one/blobs/{d}")))
        .header("range", "bytes=1000-1999")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&r, "content-range"),
        format!("bytes 1000-1999/{}", data.len())
    );
    assert_eq!(r.bytes().unwrap().as_ref(), &data[1000..2000]);
    let r = client()
        .get(s.url(&format!("/v2/a/one/blobs/{d}")))
        .header("range", "bytes=2000000-")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().unwrap().as_ref(), &data[2_000_000..]);
    let r = client()
        .get(s.url(&format!("/v2/a/one/blobs/{d}")))
        .header("range", "bytes=5000000-")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    // Linked in a/one and b/two only.
    let (st, c) = code(
        client()
            .get(s.url(&format!("/v2/c/three/blobs/{d}")))
            .send()
            .unwrap(),
    );
    assert_eq!((st, c.as_str()), (StatusCode::NOT_FOUND, "BLOB_UNKNOWN"));
    let (st, c) = code(
        client()
            .get(s.url("/v2/a/one/blobs/sha256:nothex"))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (st, c.as_str()),
        (StatusCode::BAD_REQUEST, "DIGEST_INVALID")
    );
}

#[test]
fn chunked_uploads_refuse_chunks_out_of_order_and_keep_what_they_had() {
    let s = Server::start();
    let c = client();
    let data: Vec<u8> = (0..30u8).collect();
    let d = Digest::sha256(&data);
    let r = c.post(s.url("/v2/up/blobs/uploads/")).send().unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let loc = header(&r, "location");
    assert!(loc.starts_with("/v2/up/blobs/uploads/"), "{loc}");
    assert_eq!(header(&r, "range"), "0-0");

    let patch = |range: &str, bytes: &[u8]| {
        c.patch(s.url(&loc))
            .header("content-range", range)
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .unwrap()
    };
    let r = patch("0-9", &data[..10]);
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&r, "range"), "0-9");
    // A chunk that skips ahead, and one that repeats: both 416.
    let r = patch("20-29", &data[20..]);
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let r = patch("5-14", &data[5..15]);
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let r = c.get(s.url(&loc)).send().unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(&r, "range"),
        "0-9",
        "the refused chunks left nothing"
    );

    assert_eq!(patch("10-19", &data[10..20]).status(), StatusCode::ACCEPTED);
    // The last chunk comes with the closing PUT.
    let r = c
        .put(s.url(&format!("{loc}?digest={d}")))
        .header("content-range", "20-29")
        .body(data[20..].to_vec())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(header(&r, "location"), format!("/v2/up/blobs/{d}"));
    let body = c
        .get(s.url(&format!("/v2/up/blobs/{d}")))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(body.as_ref(), &data[..]);
    // The session is over.
    let (st, code_) = code(c.get(s.url(&loc)).send().unwrap());
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN")
    );
    assert_eq!(s.partial_files(), 0);
}

#[test]
fn a_wrong_digest_or_a_cancel_stores_nothing() {
    let s = Server::start();
    let c = client();
    let before = s.blob_files();
    // Streamed PATCH without Content-Range, then a PUT naming another digest.
    let loc = header(
        &c.post(s.url("/v2/x/blobs/uploads/")).send().unwrap(),
        "location",
    );
    let r = c.patch(s.url(&loc)).body(b"hello".to_vec()).send().unwrap();
    assert_eq!(header(&r, "range"), "0-4");
    let wrong = Digest::sha256(b"other");
    let (st, code_) = code(
        c.put(s.url(&format!("{loc}?digest={wrong}")))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::BAD_REQUEST, "DIGEST_INVALID")
    );
    let r = c
        .head(s.url(&format!("/v2/x/blobs/{}", Digest::sha256(b"hello"))))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A monolithic POST with a wrong digest.
    let (st, code_) = code(
        c.post(s.url(&format!("/v2/x/blobs/uploads/?digest={wrong}")))
            .body(b"hello".to_vec())
            .send()
            .unwrap(),
    );
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::BAD_REQUEST, "DIGEST_INVALID")
    );
    // Cancel.
    let loc = header(
        &c.post(s.url("/v2/x/blobs/uploads/")).send().unwrap(),
        "location",
    );
    c.patch(s.url(&loc))
        .body(b"partial".to_vec())
        .send()
        .unwrap();
    assert_eq!(
        c.delete(s.url(&loc)).send().unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.get(s.url(&loc)).send().unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // An upload of another repository's session is refused.
    let loc = header(
        &c.post(s.url("/v2/x/blobs/uploads/")).send().unwrap(),
        "location",
    );
    let other = loc.replace("/v2/x/", "/v2/y/");
    let (st, code_) = code(c.patch(s.url(&other)).body(b"z".to_vec()).send().unwrap());
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN")
    );
    c.delete(s.url(&loc)).send().unwrap();

    assert_eq!(s.blob_files(), before);
    assert_eq!(s.partial_files(), 0);
}

#[test]
fn a_truncated_upload_is_dropped_without_a_trace() {
    let s = Server::start();
    let c = client();
    let loc = header(
        &c.post(s.url("/v2/t/blobs/uploads/")).send().unwrap(),
        "location",
    );
    let data = vec![7u8; 100];
    let d = Digest::sha256(&data);
    // Say 100 bytes, send 40, hang up.
    let mut tcp = std::net::TcpStream::connect(s.addr()).unwrap();
    write!(
        tcp,
        "PUT {loc}?digest={d} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    )
    .unwrap();
    tcp.write_all(&data[..40]).unwrap();
    tcp.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    let _ = tcp.read_to_string(&mut answer);
    let r = c.head(s.url(&format!("/v2/t/blobs/{d}"))).send().unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The session ends with the broken request.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while c.get(s.url(&loc)).send().unwrap().status() != StatusCode::NOT_FOUND {
        assert!(std::time::Instant::now() < deadline, "session still open");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(s.partial_files(), 0);
    assert_eq!(s.blob_files(), 0);
}

#[test]
fn cross_repository_mount_links_without_upload_or_falls_back_to_an_upload() {
    let s = Server::start();
    let c = client();
    let d = push_blob(&s, "src/repo", b"layer bytes");
    let r = c
        .post(s.url(&format!(
            "/v2/dst/repo/blobs/uploads/?mount={d}&from=src/repo"
        )))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(header(&r, "location"), format!("/v2/dst/repo/blobs/{d}"));
    assert_eq!(
        c.head(s.url(&format!("/v2/dst/repo/blobs/{d}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // A source without the blob: a normal upload session instead.
    let r = c
        .post(s.url(&format!(
            "/v2/dst/other/blobs/uploads/?mount={d}&from=nowhere"
        )))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(header(&r, "location").starts_with("/v2/dst/other/blobs/uploads/"));
    assert_eq!(s.blob_files(), 1);
}

#[test]
fn manifests_are_validated_then_served_by_tag_and_digest_with_their_media_type() {
    let s = Server::start();
    let c = client();
    let config = b"{}";
    let cd = push_blob(&s, "app", config);
    let missing = Digest::sha256(b"never uploaded");
    let m = image_manifest(&cd, 2, &[(&missing, 14)]);
    let (st, code_) = code(
        c.put(s.url("/v2/app/manifests/v1"))
            .header("content-type", OCI_MANIFEST)
            .body(m)
            .send()
            .unwrap(),
    );
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN")
    );
    let (st, _) = code(c.get(s.url("/v2/app/manifests/v1")).send().unwrap());
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "a refused manifest leaves no tag"
    );

    let (d, bytes) = push_image(&s, "app", "v1", b"layer");
    for reference in ["v1".to_owned(), d.to_string()] {
        let r = c
            .get(s.url(&format!("/v2/app/manifests/{reference}")))
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-type"), OCI_MANIFEST);
        assert_eq!(header(&r, "docker-content-digest"), d.to_string());
        assert_eq!(r.bytes().unwrap().as_ref(), &bytes[..]);
        let r = c
            .head(s.url(&format!("/v2/app/manifests/{reference}")))
            .send()
            .unwrap();
        assert_eq!(header(&r, "content-length"), bytes.len().to_string());
    }

    // By digest, the body must have that digest.
    let other = Digest::sha256(b"x");
    let (st, code_) = code(
        c.put(s.url(&format!("/v2/app/manifests/{other}")))
            .header("content-type", OCI_MANIFEST)
            .body(bytes.clone())
            .send()
            .unwrap(),
    );
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::BAD_REQUEST, "DIGEST_INVALID")
    );
    // Unknown media types, schema 1, a type that does not match the body,
    // not JSON, a bad tag.
    for (ct, body) in [
        ("application/vnd.example.thing+json", bytes.clone()),
        (
            "application/vnd.docker.distribution.manifest.v1+json",
            br#"{"schemaVersion":1,"name":"app","tag":"v1","fsLayers":[]}"#.to_vec(),
        ),
        ("application/vnd.oci.image.index.v1+json", bytes.clone()),
        (OCI_MANIFEST, b"not json".to_vec()),
    ] {
        let (st, code_) = code(
            c.put(s.url("/v2/app/manifests/v2"))
                .header("content-type", ct)
                .body(body)
                .send()
                .unwrap(),
        );
        assert_eq!(
            (st, code_.as_str()),
            (StatusCode::BAD_REQUEST, "MANIFEST_INVALID"),
            "{ct}"
        );
    }
    let (st, code_) = code(
        c.put(s.url("/v2/app/manifests/-bad"))
            .header("content-type", OCI_MANIFEST)
            .body(bytes.clone())
            .send()
            .unwrap(),
    );
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::BAD_REQUEST, "MANIFEST_INVALID")
    );
    // Oversized: refused from its Content-Length, before the body is read.
    let answer = raw(
        &s,
        &format!(
            "PUT /v2/app/manifests/big HTTP/1.1\r\nHost: x\r\nContent-Type: {OCI_MANIFEST}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            5 << 20
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("SIZE_INVALID"), "{answer}");
    let tags: serde_json::Value = c
        .get(s.url("/v2/app/tags/list"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(tags["tags"], serde_json::json!(["v1"]));

    // An index over the manifest; an index naming an unknown manifest is refused.
    let index = |child: &Digest, size: usize| {
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": child.to_string(), "size": size,
                           "platform": {"architecture": "amd64", "os": "linux"}}]
        }))
        .unwrap()
    };
    let r = c
        .put(s.url("/v2/app/manifests/multi"))
        .header("content-type", "application/vnd.oci.image.index.v1+json")
        .body(index(&d, bytes.len()))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let (st, code_) = code(
        c.put(s.url("/v2/app/manifests/multi2"))
            .header("content-type", "application/vnd.oci.image.index.v1+json")
            .body(index(&other, 10))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN")
    );
}

#[test]
fn tags_and_catalog_paginate_with_link_headers() {
    let s = Server::start();
    let c = client();
    for t in ["c", "a", "b"] {
        push_image(&s, "pag/one", t, b"l");
    }
    push_image(&s, "pag/two", "x", b"l");
    let r = c.get(s.url("/v2/pag/one/tags/list?n=2")).send().unwrap();
    assert_eq!(
        header(&r, "link"),
        "</v2/pag/one/tags/list?last=b&n=2>; rel=\"next\""
    );
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(
        v,
        serde_json::json!({"name": "pag/one", "tags": ["a", "b"]})
    );
    let r = c
        .get(s.url("/v2/pag/one/tags/list?n=2&last=b"))
        .send()
        .unwrap();
    assert!(r.headers().get("link").is_none());
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v["tags"], serde_json::json!(["c"]));
    let v: serde_json::Value = c
        .get(s.url("/v2/pag/one/tags/list?n=0"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["tags"], serde_json::json!([]));
    let (st, code_) = code(c.get(s.url("/v2/pag/none/tags/list")).send().unwrap());
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::NOT_FOUND, "NAME_UNKNOWN")
    );

    let r = c.get(s.url("/v2/_catalog?n=1")).send().unwrap();
    assert_eq!(
        header(&r, "link"),
        "</v2/_catalog?last=pag/one&n=1>; rel=\"next\""
    );
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v["repositories"], serde_json::json!(["pag/one"]));
    let v: serde_json::Value = c
        .get(s.url("/v2/_catalog?last=pag/one"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["repositories"], serde_json::json!(["pag/two"]));
}

#[test]
fn referrers_list_manifests_whose_subject_is_the_digest_filtered_by_artifact_type() {
    let s = Server::start();
    let c = client();
    let (subject, bytes) = push_image(&s, "ref", "v1", b"layer");
    let empty = push_blob(&s, "ref", b"{}");
    let sig = |kind: &str| {
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": kind,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                       "digest": empty.to_string(), "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.empty.v1+json",
                        "digest": empty.to_string(), "size": 2}],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject.to_string(),
                        "size": bytes.len()},
            "annotations": {"org.example.kind": kind}
        }))
        .unwrap()
    };
    for kind in [
        "application/vnd.example.sig",
        "application/vnd.example.sbom",
    ] {
        let m = sig(kind);
        let r = c
            .put(s.url(&format!("/v2/ref/manifests/{}", Digest::sha256(&m))))
            .header("content-type", OCI_MANIFEST)
            .body(m)
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(header(&r, "oci-subject"), subject.to_string());
    }
    let r = c
        .get(s.url(&format!("/v2/ref/referrers/{subject}")))
        .send()
        .unwrap();
    assert_eq!(
        header(&r, "content-type"),
        "application/vnd.oci.image.index.v1+json"
    );
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v["manifests"].as_array().unwrap().len(), 2);
    let r = c
        .get(s.url(&format!(
            "/v2/ref/referrers/{subject}?artifactType=application/vnd.example.sbom"
        )))
        .send()
        .unwrap();
    assert_eq!(header(&r, "oci-filters-applied"), "artifactType");
    let v: serde_json::Value = r.json().unwrap();
    let list = v["manifests"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["artifactType"], "application/vnd.example.sbom");
    assert_eq!(
        list[0]["annotations"]["org.example.kind"],
        "application/vnd.example.sbom"
    );
    // Nothing refers to an unknown digest: an empty index, not an error.
    let v: serde_json::Value = c
        .get(s.url(&format!("/v2/ref/referrers/{}", Digest::sha256(b"?"))))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["manifests"], serde_json::json!([]));
}

#[test]
fn deletes_remove_tags_manifests_and_blob_links() {
    let s = Server::start();
    let c = client();
    let (d, _) = push_image(&s, "del", "v1", b"layer");
    push_image(&s, "del", "v2", b"layer");
    assert_eq!(
        c.delete(s.url("/v2/del/manifests/v1"))
            .send()
            .unwrap()
            .status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        c.get(s.url("/v2/del/manifests/v1"))
            .send()
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get(s.url(&format!("/v2/del/manifests/{d}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::OK,
        "deleting a tag keeps the manifest"
    );
    assert_eq!(
        c.delete(s.url(&format!("/v2/del/manifests/{d}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::ACCEPTED
    );
    let (st, code_) = code(c.get(s.url("/v2/del/manifests/v2")).send().unwrap());
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN")
    );
    let (st, code_) = code(
        c.delete(s.url(&format!("/v2/del/manifests/{d}")))
            .send()
            .unwrap(),
    );
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN")
    );
    let l = Digest::sha256(b"layer");
    assert_eq!(
        c.delete(s.url(&format!("/v2/del/blobs/{l}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        c.head(s.url(&format!("/v2/del/blobs/{l}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    let off = Server::start_with(Config {
        delete_enabled: false,
        ..Config::default()
    });
    push_image(&off, "del", "v1", b"layer");
    let (st, code_) = code(c.delete(off.url("/v2/del/manifests/v1")).send().unwrap());
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED")
    );
}

#[test]
fn path_tricks_in_repository_names_are_refused_before_storage() {
    let s = Server::start();
    let c = client();
    for p in [
        "/v2/../../etc/blobs/uploads/",
        "/v2/UPPER/blobs/uploads/",
        "/v2/a//b/blobs/uploads/",
    ] {
        let r = c.post(format!("{}{p}", s.base)).send().unwrap();
        let st = r.status();
        // reqwest may normalise `..` away; what reaches us is refused or unknown.
        assert!(
            st == StatusCode::BAD_REQUEST || st == StatusCode::NOT_FOUND,
            "{p}: {st}"
        );
        if st == StatusCode::BAD_REQUEST {
            assert_eq!(code(r).1, "NAME_INVALID", "{p}");
        }
    }
    for p in [
        "/v2/../../etc/blobs/uploads/",
        "/v2/a/%2e%2e/b/blobs/uploads/",
    ] {
        let answer = raw(
            &s,
            &format!(
                "POST {p} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            ),
        );
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(answer.contains("NAME_INVALID"), "{answer}");
    }
    assert_eq!(s.partial_files(), 0);
}

#[test]
fn gc_frees_unreferenced_blobs_but_not_uploads_in_progress_or_manifests_blobs() {
    let s = Server::start_with(Config {
        gc_grace: Duration::ZERO,
        ..Config::default()
    });
    let c = client();
    let (d, _) = push_image(&s, "gc", "v1", b"kept layer");
    let orphan = push_blob(&s, "gc", b"orphan layer");
    // An upload half done.
    let loc = header(
        &c.post(s.url("/v2/gc/blobs/uploads/")).send().unwrap(),
        "location",
    );
    c.patch(s.url(&loc)).body(b"in ".to_vec()).send().unwrap();

    // One second passes so the grace of zero has expired.
    std::thread::sleep(Duration::from_millis(1100));
    let dry = s.store.registry_gc(0, true).unwrap();
    assert_eq!(dry.unlinked, vec![("gc".to_owned(), orphan.clone())]);
    assert_eq!(
        dry.removed_blobs
            .iter()
            .map(|(d, _)| d.clone())
            .collect::<Vec<_>>(),
        vec![orphan.clone()]
    );
    assert_eq!(
        c.head(s.url(&format!("/v2/gc/blobs/{orphan}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let report = s.store.registry_gc(0, false).unwrap();
    assert_eq!(report.removed_blobs.len(), 1);
    assert_eq!(
        c.head(s.url(&format!("/v2/gc/blobs/{orphan}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // The image is whole, the upload goes on.
    assert_eq!(
        c.get(s.url(&format!("/v2/gc/manifests/{d}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let l = Digest::sha256(b"kept layer");
    assert_eq!(
        c.get(s.url(&format!("/v2/gc/blobs/{l}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let done = Digest::sha256(b"in progress");
    let r = c
        .put(s.url(&format!("{loc}?digest={done}")))
        .body(b"progress".to_vec())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[test]
fn retention_keeps_the_last_n_protected_and_pulled_tags_and_what_they_need() {
    let policy = |repos: &str| strata_registry::retention::Policy {
        repos: repos.into(),
        ..Default::default()
    };
    let config = Config {
        gc_grace: Duration::ZERO,
        retention: vec![
            strata_registry::retention::Policy {
                keep_last: Some(2),
                drop_untagged: true,
                protect: vec!["v*".into()],
                ..policy("ret/*")
            },
            strata_registry::retention::Policy {
                unpulled_days: Some(0),
                ..policy("stale/**")
            },
        ],
        ..Config::default()
    };
    let s = Server::start_with(config.clone());
    let c = client();
    let (old1, _) = push_image(&s, "ret/app", "old1", b"layer old1");
    push_image(&s, "ret/app", "v1", b"layer v1");
    std::thread::sleep(Duration::from_millis(1100));
    let (old2, _) = push_image(&s, "ret/app", "old2", b"layer old2");
    std::thread::sleep(Duration::from_millis(1100));
    let (new1, new1_bytes) = push_image(&s, "ret/app", "new1", b"layer new1");
    std::thread::sleep(Duration::from_millis(1100));
    push_image(&s, "ret/app", "new2", b"layer new2");
    // A signature of new1: untagged, kept because its subject is.
    let empty = push_blob(&s, "ret/app", b"{}");
    let sig = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/vnd.example.sig",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.to_string(), "size": 2},
        "layers": [],
        "subject": {"mediaType": OCI_MANIFEST, "digest": new1.to_string(), "size": new1_bytes.len()}
    }))
    .unwrap();
    let sig_digest = Digest::sha256(&sig);
    let r = c
        .put(s.url(&format!("/v2/ret/app/manifests/{sig_digest}")))
        .header("content-type", OCI_MANIFEST)
        .body(sig)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // stale/app: x never pulled, y pulled just now.
    push_image(&s, "stale/app", "x", b"stale x");
    push_image(&s, "stale/app", "y", b"stale y");
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        c.get(s.url("/v2/stale/app/manifests/y"))
            .send()
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let tags = |repo: &str| -> serde_json::Value {
        c.get(s.url(&format!("/v2/{repo}/tags/list")))
            .send()
            .unwrap()
            .json::<serde_json::Value>()
            .unwrap()["tags"]
            .clone()
    };
    let (plan, _) = block_on(strata_registry::collect(&s.store, &config, true)).unwrap();
    let mut dropped: Vec<String> = plan
        .tags
        .iter()
        .map(|(t, _)| format!("{}:{}", t.repo, t.tag))
        .collect();
    dropped.sort();
    assert_eq!(dropped, ["ret/app:old1", "ret/app:old2", "stale/app:x"]);
    let mut manifests = plan
        .manifests
        .iter()
        .map(|(_, d)| d.clone())
        .collect::<Vec<_>>();
    manifests.sort();
    let mut want = vec![old1.clone(), old2.clone()];
    want.sort();
    assert_eq!(
        manifests, want,
        "untagged manifests go, the signature of a kept one stays"
    );
    assert_eq!(
        tags("ret/app"),
        serde_json::json!(["new1", "new2", "old1", "old2", "v1"]),
        "a dry run changes nothing"
    );

    let blobs = s.blob_files();
    block_on(strata_registry::collect(&s.store, &config, false)).unwrap();
    assert_eq!(tags("ret/app"), serde_json::json!(["new1", "new2", "v1"]));
    assert_eq!(tags("stale/app"), serde_json::json!(["y"]));
    assert_eq!(
        c.get(s.url(&format!("/v2/ret/app/manifests/{old1}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get(s.url(&format!("/v2/ret/app/manifests/{sig_digest}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // The two dropped images' manifests and layers are freed.
    assert_eq!(s.blob_files(), blobs - 4);
    let l = Digest::sha256(b"layer old1");
    assert_eq!(
        c.head(s.url(&format!("/v2/ret/app/blobs/{l}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[test]
fn requests_without_or_with_wrong_credentials_get_the_spec_errors_and_store_nothing() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("htpasswd");
    let hash = bcrypt::hash("pw", 4).unwrap();
    std::fs::write(&file, format!("alice:{hash}\nbob:{hash}\n")).unwrap();
    let config = Config::from_toml(&format!(
        "[auth]\nhtpasswd = {:?}\n[[auth.rule]]\nrepos = \"**\"\nsubjects = [\"alice\"]\nactions = [\"pull\", \"push\"]\n\
         [[auth.rule]]\nrepos = \"**\"\nsubjects = [\"bob\"]\nactions = [\"pull\"]\n",
        file.to_str().unwrap()
    ))
    .unwrap();
    let s = Server::start_with(config);
    let c = client();
    let basic = |u: &str, p: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    };
    let up = s.url("/v2/sec/blobs/uploads/?digest=sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    let r = c.post(&up).body(b"hello".to_vec()).send().unwrap();
    assert_eq!(
        header(&r, "www-authenticate"),
        "Basic realm=\"strata-registry\""
    );
    let (st, code_) = code(r);
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::UNAUTHORIZED, "UNAUTHORIZED")
    );
    let (st, code_) = code(
        c.post(&up)
            .header("authorization", basic("alice", "wrong"))
            .body(b"hello".to_vec())
            .send()
            .unwrap(),
    );
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::UNAUTHORIZED, "UNAUTHORIZED")
    );
    let (st, code_) = code(
        c.post(&up)
            .header("authorization", basic("bob", "pw"))
            .body(b"hello".to_vec())
            .send()
            .unwrap(),
    );
    assert_eq!((st, code_.as_str()), (StatusCode::FORBIDDEN, "DENIED"));
    let (st, code_) = code(
        c.get(s.url("/v2/sec/manifests/latest"))
            .header("authorization", "Bearer forged.token.here")
            .send()
            .unwrap(),
    );
    assert_eq!(
        (st, code_.as_str()),
        (StatusCode::UNAUTHORIZED, "UNAUTHORIZED")
    );
    assert_eq!(s.blob_files(), 0);
    assert_eq!(s.partial_files(), 0);
    let r = c
        .post(&up)
        .header("authorization", basic("alice", "pw"))
        .body(b"hello".to_vec())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = c
        .head(s.url(
            "/v2/sec/blobs/sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        ))
        .header("authorization", basic("bob", "pw"))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
