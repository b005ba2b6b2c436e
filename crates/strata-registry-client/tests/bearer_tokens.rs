//! The bearer-token flow against a scripted registry and token server:
//! one token per registry and scope set, shared by every thread, asked
//! again only once it expires.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use strata_core::{Digest, Reference};
use strata_registry_client::{Client, ClientOptions, UploadOptions, Uploaded};
use strata_test_support::{HttpStub, StubReply, StubRequest};

/// A registry that wants `Bearer tok-N` for any N it issued; its token
/// endpoint answers `issued_at` as given.
fn registry(issued_at: Option<&'static str>) -> (HttpStub, Arc<AtomicUsize>) {
    let issued = Arc::new(AtomicUsize::new(0));
    let count = issued.clone();
    let stub = HttpStub::start(move |req: &StubRequest| {
        let host = req.header("host").unwrap_or_default().to_owned();
        if req.path.starts_with("/token") {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            let issued = issued_at.map_or(String::new(), |t| format!(r#","issued_at":"{t}""#));
            return StubReply::new(
                200,
                format!(r#"{{"token":"tok-{n}","expires_in":300{issued}}}"#),
            );
        }
        let ok = req
            .header("authorization")
            .is_some_and(|a| a.starts_with("Bearer tok-"));
        if !ok {
            return StubReply::new(401, "").header(
                "WWW-Authenticate",
                format!(r#"Bearer realm="http://{host}/token",service="stub""#),
            );
        }
        if req.method == "POST" && req.path.contains("mount=") {
            return StubReply::new(201, "");
        }
        if req.method == "POST" {
            return StubReply::new(202, "").header("Location", "/v2/up/1");
        }
        if req.method == "PATCH" {
            return StubReply::new(416, "");
        }
        StubReply::new(404, "")
    });
    (stub, issued)
}

fn client() -> Client {
    Client::new(ClientOptions {
        config: Some("/nonexistent/config.json".into()),
        ..ClientOptions::default()
    })
    .unwrap()
}

fn digest(i: usize) -> Digest {
    Digest::sha256(format!("blob {i}").as_bytes())
}

fn token_requests(stub: &HttpStub) -> Vec<StubRequest> {
    stub.requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/token"))
        .collect()
}

#[test]
fn one_token_serves_every_thread_and_each_scope_set_gets_its_own() {
    let (stub, issued) = registry(None);
    let client = client();
    let a: Reference = format!("{}/team/a", stub.host).parse().unwrap();
    std::thread::scope(|s| {
        for t in 0..6 {
            let (client, a) = (&client, &a);
            s.spawn(move || {
                for i in 0..4 {
                    assert!(!client.has_blob(a, &digest(t * 10 + i), "pull").unwrap());
                }
            });
        }
    });
    assert_eq!(issued.load(Ordering::SeqCst), 1);
    let tokens = token_requests(&stub);
    assert!(
        tokens[0]
            .path
            .contains("scope=repository%3Ateam%2Fa%3Apull&service=stub"),
        "{}",
        tokens[0].path
    );

    // Another scope set: a token of its own, asked for before the
    // request (the registry's challenge is known), so no second 401.
    let b: Reference = format!("{}/team/b", stub.host).parse().unwrap();
    assert!(!client.has_blob(&b, &digest(99), "pull,push").unwrap());
    assert!(!client.has_blob(&b, &digest(98), "pull,push").unwrap());
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    let unauthorized = stub
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v2/") && r.header("authorization").is_none())
        .count();
    assert!(
        (1..=6).contains(&unauthorized),
        "{unauthorized} requests went without a token"
    );
    let last = stub.requests().last().unwrap().clone();
    assert_eq!(last.header("authorization"), Some("Bearer tok-2"));
}

#[test]
fn an_expired_token_is_asked_for_again() {
    // Issued long ago: expired on arrival, so every request needs a new one.
    let (stub, issued) = registry(Some("2001-01-01T00:00:00Z"));
    let client = client();
    let a: Reference = format!("{}/team/a", stub.host).parse().unwrap();
    for i in 0..3 {
        assert!(!client.has_blob(&a, &digest(i), "pull").unwrap());
    }
    assert_eq!(issued.load(Ordering::SeqCst), 3);
    let last = stub.requests().last().unwrap().clone();
    assert_eq!(last.header("authorization"), Some("Bearer tok-3"));
}

#[test]
fn a_mount_asks_for_pull_on_the_source_repository_too() {
    let (stub, _) = registry(None);
    let client = client();
    let b: Reference = format!("{}/team/b", stub.host).parse().unwrap();
    let d = digest(1);
    let opts = UploadOptions {
        mount_from: Some("team/a".into()),
        chunk_size: None,
    };
    let done = client
        .upload_blob(&b, &d, 0, std::io::empty(), &opts)
        .unwrap();
    assert_eq!(done, Uploaded::Mounted("team/a".into()));
    let tokens = token_requests(&stub);
    assert_eq!(tokens.len(), 1);
    assert!(
        tokens[0]
            .path
            .contains("scope=repository%3Ateam%2Fb%3Apull%2Cpush")
            && tokens[0]
                .path
                .contains("scope=repository%3Ateam%2Fa%3Apull"),
        "{}",
        tokens[0].path
    );
    let post = stub.requests().into_iter().last().unwrap();
    assert_eq!(
        post.path,
        format!("/v2/team/b/blobs/uploads/?mount={d}&from=team/a")
    );
}

#[test]
fn a_chunk_the_registry_refuses_fails_the_upload_clearly() {
    let (stub, _) = registry(None);
    let client = client();
    let b: Reference = format!("{}/team/b", stub.host).parse().unwrap();
    let data = vec![7u8; 1000];
    let d = Digest::sha256(&data);
    let opts = UploadOptions {
        mount_from: None,
        chunk_size: Some(300),
    };
    let err = client
        .upload_blob(&b, &d, 1000, std::io::Cursor::new(data), &opts)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "uploading {d}: the registry refused bytes 0-299 (416 Range Not Satisfiable); \
             it may not take chunked uploads"
        )
    );
    let patch = stub
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .unwrap();
    assert_eq!(patch.path, "/v2/up/1");
    assert_eq!(patch.header("content-range"), Some("0-299"));
    assert_eq!(patch.body.len(), 300);
}
