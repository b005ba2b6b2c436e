//! Reference cases taken from a real Docker: CLI 28.2 (distribution/reference
//! v0.6, whose messages these are) against a 20.10 daemon. `REF` below is the
//! case's input; `H` is 64 × `a`.
//!
//! Unless a group says otherwise, an `Ok` case is one where
//! `docker tag bb:imp REF` succeeded and `docker push REF` printed
//! "The push refers to repository [NAME]"; the expected string is that NAME
//! followed by REF's own tag and digest. An `Err` case is the text after
//! `Error parsing reference: "REF" is not a valid repository/tag: ` that
//! `docker tag bb:imp REF` printed.

use super::*;

/// 64 hex digits: a valid sha256 encoding, and the length of an image ID.
const H: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

#[track_caller]
fn check(input: &str, expect: Result<&str, &str>) {
    let got = Reference::parse_normalized(input)
        .map(|r| r.to_string())
        .map_err(|e| e.to_string());
    assert_eq!(got.as_deref().map_err(|e| e.as_str()), expect, "{input:?}");
}

#[test]
fn table_is_big_enough() {
    // Keeps the table honest when cases are moved around.
    let source = include_str!("tests.rs");
    let cases = source.matches("\n    check(").count();
    assert!(cases >= 70, "only {cases} check() cases");
}

#[test]
fn docker_hub_names() {
    // docker tag bb:imp REF; docker push REF
    check("busybox", Ok("docker.io/library/busybox"));
    check("ubuntu:22.04", Ok("docker.io/library/ubuntu:22.04"));
    check("library/busybox", Ok("docker.io/library/busybox"));
    check("docker.io/busybox", Ok("docker.io/library/busybox"));
    check("docker.io/library/busybox", Ok("docker.io/library/busybox"));
    check(
        "docker.io/library/busybox:1.36",
        Ok("docker.io/library/busybox:1.36"),
    );
    check("index.docker.io/busybox", Ok("docker.io/library/busybox"));
    check(
        "index.docker.io/library/busybox:1",
        Ok("docker.io/library/busybox:1"),
    );
    check("index.docker.io/user/app", Ok("docker.io/user/app"));
    check("user/app", Ok("docker.io/user/app"));
    check("user/app:v1", Ok("docker.io/user/app:v1"));
    check("docker.io/user/app", Ok("docker.io/user/app"));
    check("a/b/c/d", Ok("docker.io/a/b/c/d"));
    check("user/app/sub:tag", Ok("docker.io/user/app/sub:tag"));
    check("library/a/b", Ok("docker.io/library/a/b"));
    check("docker.io/library/a/b", Ok("docker.io/library/a/b"));
    check("docker.io/library", Ok("docker.io/library/library"));
    check("library", Ok("docker.io/library/library"));
    // A one-part name is never a registry, even when it looks like one.
    check("docker.io", Ok("docker.io/library/docker.io"));
    check("docker.io:5000", Ok("docker.io/library/docker.io:5000"));
    check("5000/x", Ok("docker.io/5000/x"));
}

#[test]
fn localhost_and_registries() {
    // docker tag bb:imp REF; docker push REF
    check("localhost", Ok("docker.io/library/localhost"));
    check("localhost:5000", Ok("docker.io/library/localhost:5000"));
    check("localhost/x", Ok("localhost/x"));
    check("localhost:5000/x", Ok("localhost:5000/x"));
    check("localhost:5000/a/b:t", Ok("localhost:5000/a/b:t"));
    check("example.com/x", Ok("example.com/x"));
    check("example.com:443/a/b:tag", Ok("example.com:443/a/b:tag"));
    check(
        "registry.example.com/org/app:1.0",
        Ok("registry.example.com/org/app:1.0"),
    );
    check("my-registry.io/x", Ok("my-registry.io/x"));
    check("example.com:0/x", Ok("example.com:0/x"));
    check("a.b.c:1/x/y:z", Ok("a.b.c:1/x/y:z"));
    check("127.0.0.1/x", Ok("127.0.0.1/x"));
    check("127.0.0.1:5000/x:t", Ok("127.0.0.1:5000/x:t"));
    // Upper case in the first part makes it a registry host, kept as typed.
    check("Example.com/x", Ok("Example.com/x"));
    check("Docker.io/x", Ok("Docker.io/x"));
    // `a_b.c` is picked as the registry (it has a '.') but is no valid host;
    // the grammar then reads the whole name as a path, with no domain.
    // docker push printed "[a_b.c/x]"; docker pull tried "https:/v2/".
    check("a_b.c/x", Ok("a_b.c/x"));
    check("a_b.c/x:tag", Ok("a_b.c/x:tag"));
    check("a-b_c.d/x", Ok("a-b_c.d/x"));
}

#[test]
fn accepted_by_cli_refused_by_old_daemon() {
    // docker tag bb:imp REF: the CLI parsed it; the 20.10 daemon answered
    // "Error response from daemon: invalid reference format" (its parser
    // predates IPv6). `docker manifest inspect REF` (client side) dialed
    // "https://[::1]:5000/v2/" and "https://[2001:db8::1]/v2/".
    check("[::1]:5000/x", Ok("[::1]:5000/x"));
    check("[2001:db8::1]/x", Ok("[2001:db8::1]/x"));
    check("[::1]/x", Ok("[::1]/x"));
    check("[::FFFF]/x", Ok("[::FFFF]/x"));
    // Same, the daemon said "invalid reference format: repository name must
    // be lowercase" (it predates upper-case registry hosts);
    // `docker manifest inspect Foo/bar` dialed "https://Foo/v2/".
    check("Foo/bar", Ok("Foo/bar"));
    check("FOO/bar:Tag", Ok("FOO/bar:Tag"));
    check("LOCALHOST/x", Ok("LOCALHOST/x"));
    // Same, the daemon said "repository name must not be more than 255
    // characters": it counts the whole name, CLI 28 only the path, which is
    // exactly 255 here.
    check(
        &"a".repeat(247),
        Ok(&format!("docker.io/library/{}", "a".repeat(247))),
    );
    check(
        &format!("user/{}", "b".repeat(250)),
        Ok(&format!("docker.io/user/{}", "b".repeat(250))),
    );
    check(
        &format!("example.com/user/{}", "b".repeat(250)),
        Ok(&format!("example.com/user/{}", "b".repeat(250))),
    );
}

#[test]
fn components_and_separators() {
    // docker tag bb:imp REF; docker push REF
    check("a__b", Ok("docker.io/library/a__b"));
    check("a---b", Ok("docker.io/library/a---b"));
    check("a.b", Ok("docker.io/library/a.b"));
    check("user/a.b", Ok("docker.io/user/a.b"));
    // docker tag bb:imp REF -> error
    check("a___b", Err("invalid reference format"));
    check("user/a..b", Err("invalid reference format"));
    check("user/a._b", Err("invalid reference format"));
    check("user/a-_b", Err("invalid reference format"));
    check("_a", Err("invalid reference format"));
    check("a_", Err("invalid reference format"));
    check("-a", Err("invalid reference format"));
    check("a-", Err("invalid reference format"));
    check(".a", Err("invalid reference format"));
    check("a.", Err("invalid reference format"));
    check("a/", Err("invalid reference format"));
    check("/a", Err("invalid reference format"));
    check("a//b", Err("invalid reference format"));
    check("a/b/", Err("invalid reference format"));
    check("docker.io/", Err("invalid reference format"));
    check("localhost:5000/", Err("invalid reference format"));
    check("a..b/x", Err("invalid reference format"));
    check("bùsybox", Err("invalid reference format"));
}

#[test]
fn bad_hosts() {
    // docker tag bb:imp REF -> error
    check("-bad.io/x", Err("invalid reference format"));
    check("bad-.io/x", Err("invalid reference format"));
    check("[::1]:/x", Err("invalid reference format"));
    check("[fe80::1%eth0]/x", Err("invalid reference format"));
    check("[::g]/x", Err("invalid reference format"));
    check("[]/x", Err("invalid reference format"));
    check("[::1]", Err("invalid reference format"));
    check("[::1]:5000", Err("invalid reference format"));
    check("[1.2.3.4]/x", Err("invalid reference format"));
    check("example.com:abc/x", Err("invalid reference format"));
    check("example.com:/x", Err("invalid reference format"));
    check("a:b/c", Err("invalid reference format"));
    check("foo_bar:5000/x", Err("invalid reference format"));
    check("a_b.c:5000/x", Err("invalid reference format"));
}

#[test]
fn tags() {
    // docker tag bb:imp REF; docker push REF
    check("busybox:LATEST", Ok("docker.io/library/busybox:LATEST"));
    check(
        "busybox:Latest_1.0-rc",
        Ok("docker.io/library/busybox:Latest_1.0-rc"),
    );
    check("busybox:_a", Ok("docker.io/library/busybox:_a"));
    check("busybox:a.b-c_d", Ok("docker.io/library/busybox:a.b-c_d"));
    let t128 = "t".repeat(128);
    check(
        &format!("busybox:{t128}"),
        Ok(&format!("docker.io/library/busybox:{t128}")),
    );
    // docker tag bb:imp REF -> error
    check(&format!("busybox:{t128}t"), Err("invalid reference format"));
    check("busybox:.a", Err("invalid reference format"));
    check("busybox:-a", Err("invalid reference format"));
    check("busybox:a:b", Err("invalid reference format"));
    check("busybox:a+b", Err("invalid reference format"));
    check("x:", Err("invalid reference format"));
}

#[test]
fn empty_and_spaces() {
    // docker tag bb:imp REF -> error
    check("", Err("invalid reference format"));
    check(" x", Err("invalid reference format"));
    check("x ", Err("invalid reference format"));
    check("a b", Err("invalid reference format"));
    check("a\tb", Err("invalid reference format"));
}

#[test]
fn upper_case() {
    // docker tag bb:imp REF -> error (the part before the first ':' of the
    // normalized remainder is shown, even when that ends inside a digest)
    check(
        "user/App",
        Err("invalid reference format: repository name (user/App) must be lowercase"),
    );
    check(
        "App",
        Err("invalid reference format: repository name (library/App) must be lowercase"),
    );
    check(
        "example.com/App",
        Err("invalid reference format: repository name (App) must be lowercase"),
    );
    check(
        "localhost:5000/App",
        Err("invalid reference format: repository name (App) must be lowercase"),
    );
    check(
        "localhost/X",
        Err("invalid reference format: repository name (X) must be lowercase"),
    );
    check(
        "Foo/Bar",
        Err("invalid reference format: repository name (Bar) must be lowercase"),
    );
    check(
        "a_b.c/X",
        Err("invalid reference format: repository name (X) must be lowercase"),
    );
    check(
        "[::1]:5000/X",
        Err("invalid reference format: repository name (X) must be lowercase"),
    );
    check(
        "ÄBC",
        Err("invalid reference format: repository name (library/ÄBC) must be lowercase"),
    );
    check(
        "Foo@sha256:abc",
        Err("invalid reference format: repository name (library/Foo@sha256) must be lowercase"),
    );
    check(
        &format!("busybox@SHA256:{H}"),
        Err("invalid reference format: repository name (library/busybox@SHA256) must be lowercase"),
    );
    // U+212A KELVIN SIGN lower-cases to an ASCII 'k'.
    check(
        "user/\u{212a}x",
        Err("invalid reference format: repository name (user/\u{212a}x) must be lowercase"),
    );
    check(
        "\u{212a}",
        Err("invalid reference format: repository name (library/\u{212a}) must be lowercase"),
    );
    // The first part is taken as a host because it has upper case, is not a
    // valid host, and is a valid path once lower-cased. Docker 20.10's CLI
    // prefixes "invalid reference format: " to this message; CLI 28 does not.
    check("Foo_bar/x", Err("repository name must be lowercase"));
    check("A_b.c/x", Err("repository name must be lowercase"));
    check("A.b_c/x", Err("repository name must be lowercase"));
    check("\u{212a}/x", Err("repository name must be lowercase"));
    // U+0130 (İ) is 'i' to Go's strings.ToLower (Rust's to_lowercase would
    // give "i\u{307}", which is no valid name).
    check("\u{130}/x", Err("repository name must be lowercase"));
    check("\u{130}x/y", Err("repository name must be lowercase"));
}

#[test]
fn hex_names_and_length() {
    // docker tag bb:imp REF -> error
    check(
        H,
        Err(&format!(
            "invalid repository name ({H}), cannot specify 64-byte hexadecimal strings"
        )),
    );
    check(
        &H.to_uppercase(),
        Err(&format!(
            "invalid reference format: repository name (library/{}) must be lowercase",
            H.to_uppercase()
        )),
    );
    // docker tag bb:imp REF; docker push REF
    check(
        &format!("{H}:tag"),
        Ok(&format!("docker.io/library/{H}:tag")),
    );
    check(&format!("user/{H}"), Ok(&format!("docker.io/user/{H}")));
    // docker tag bb:imp REF -> error; the path, with "library/", is 256+.
    let too_long = "repository name must not be more than 255 characters";
    check(&"a".repeat(248), Err(too_long));
    check(&"a".repeat(256), Err(too_long));
    check(&format!("user/{}bc", "b".repeat(250)), Err(too_long));
    check(
        &format!("example.com/user/{}bc", "b".repeat(250)),
        Err(too_long),
    );
}

#[test]
fn digests() {
    // docker tag bb:imp REF -> "refusing to create a tag with a digest
    // reference", so the CLI parsed it; the name is as without the digest.
    check(
        &format!("busybox@sha256:{H}"),
        Ok(&format!("docker.io/library/busybox@sha256:{H}")),
    );
    check(
        &format!("busybox:1@sha256:{H}"),
        Ok(&format!("docker.io/library/busybox:1@sha256:{H}")),
    );
    check(
        &format!("localhost:5000/x:1@sha256:{H}"),
        Ok(&format!("localhost:5000/x:1@sha256:{H}")),
    );
    check(
        &format!("busybox@sha512:{H}{H}"),
        Ok(&format!("docker.io/library/busybox@sha512:{H}{H}")),
    );
    // docker tag bb:imp REF -> error from the grammar
    check("x@", Err("invalid reference format"));
    check("x@sha256:", Err("invalid reference format"));
    check("x@sha256:abc", Err("invalid reference format"));
    check(
        &format!("x@sha256:{}", &H[..31]),
        Err("invalid reference format"),
    );
    check(&format!("x:@sha256:{H}"), Err("invalid reference format"));
    check(
        &format!("busybox@sha256:{H}@sha256:{H}"),
        Err("invalid reference format"),
    );
    check(
        &format!("busybox@1sha:{H}"),
        Err("invalid reference format"),
    );
    check(
        &format!("busybox@sha256:{H}g"),
        Err("invalid reference format"),
    );
    // docker tag bb:imp REF -> error from go-digest
    check(
        &format!("busybox@sha256:{}", &H[1..]),
        Err("invalid checksum digest length"),
    );
    check(
        &format!("busybox@sha256:{}", &H[..32]),
        Err("invalid checksum digest length"),
    );
    check(
        &format!("busybox@sha512:{H}"),
        Err("invalid checksum digest length"),
    );
    check(
        &format!("busybox@sha256:{}", H.to_uppercase()),
        Err("invalid checksum digest format"),
    );
    check(
        &format!("busybox:1@SHA256:{H}"),
        Err("invalid checksum digest format"),
    );
    check(
        &format!("busybox:1@Foo:{H}"),
        Err("invalid checksum digest format"),
    );
    check(
        &format!("busybox@md5:{}", &H[..32]),
        Err("unsupported digest algorithm"),
    );
    check(
        &format!("busybox@foo+bar:{H}"),
        Err("unsupported digest algorithm"),
    );
    check(
        &format!("busybox@sha256+b64:{H}"),
        Err("unsupported digest algorithm"),
    );
    check(
        &format!("busybox:1@foo:{H}"),
        Err("unsupported digest algorithm"),
    );
}

/// Known gap: Docker (go-digest) also accepts sha384 —
/// `docker tag bb:imp busybox@sha384:<96 hex>` said "refusing to create a tag
/// with a digest reference" — but [`Digest`] only holds sha256 and sha512.
#[test]
fn sha384_is_not_representable() {
    let input = format!("busybox@sha384:{H}{}", &H[..32]);
    assert_eq!(
        Reference::parse_normalized(&input),
        Err(ReferenceError::DigestUnsupported)
    );
}

#[test]
fn familiar_forms() {
    // docker tag bb:imp REF; docker image inspect --format '{{json
    // .RepoTags}}' bb:imp. The CLI adds "latest" to a name without a tag,
    // hence with_default_tag().
    let cases = [
        ("busybox", "busybox", "busybox:latest"),
        ("docker.io/library/busybox:1.36", "busybox", "busybox:1.36"),
        ("index.docker.io/library/busybox:1", "busybox", "busybox:1"),
        ("index.docker.io/user/app", "user/app", "user/app:latest"),
        ("docker.io/library/a/b", "library/a/b", "library/a/b:latest"),
        ("docker.io/library", "library", "library:latest"),
        ("localhost", "localhost", "localhost:latest"),
        ("localhost:5000", "localhost", "localhost:5000"),
        ("localhost/x", "localhost/x", "localhost/x:latest"),
        (
            "localhost:5000/a/b:t",
            "localhost:5000/a/b",
            "localhost:5000/a/b:t",
        ),
        (
            "127.0.0.1:5000/x:t",
            "127.0.0.1:5000/x",
            "127.0.0.1:5000/x:t",
        ),
        ("Example.com/x", "Example.com/x", "Example.com/x:latest"),
        ("a_b.c/x:tag", "a_b.c/x", "a_b.c/x:tag"),
        ("docker.io:5000", "docker.io", "docker.io:5000"),
        ("5000/x", "5000/x", "5000/x:latest"),
    ];
    for (input, name, tagged) in cases {
        let r = Reference::parse_normalized(input).unwrap();
        assert_eq!(r.familiar_name(), name, "{input}");
        assert_eq!(r.with_default_tag().familiar_string(), tagged, "{input}");
    }
    // docker tag REF x -> "Error response from daemon: No such image: FORM"
    // (the daemon prints FamiliarString(TagNameOnly(ref))).
    let cases = [
        (
            format!("docker.io/library/busybox@sha256:{H}"),
            format!("busybox@sha256:{H}"),
        ),
        (
            format!("index.docker.io/library/busybox:1@sha256:{H}"),
            format!("busybox:1@sha256:{H}"),
        ),
        (
            format!("localhost:5000/x@sha256:{H}"),
            format!("localhost:5000/x@sha256:{H}"),
        ),
        (
            format!("docker.io/user/app:v1@sha256:{H}"),
            format!("user/app:v1@sha256:{H}"),
        ),
        (
            "example.com/a/b".to_owned(),
            "example.com/a/b:latest".to_owned(),
        ),
        (
            "docker.io/library/nothere".to_owned(),
            "nothere:latest".to_owned(),
        ),
    ];
    for (input, shown) in cases {
        let r = Reference::parse_normalized(&input).unwrap();
        assert_eq!(r.with_default_tag().familiar_string(), shown, "{input}");
    }
}

#[test]
fn default_tag() {
    // `docker pull REF` prints "Using default tag: latest" only for the
    // name-only ones; `docker tag bb:imp REF` stored REF:latest for them.
    let cases = [
        (
            "busybox".to_owned(),
            "docker.io/library/busybox:latest".to_owned(),
        ),
        (
            "localhost:5000/x".to_owned(),
            "localhost:5000/x:latest".to_owned(),
        ),
        (
            "busybox:1".to_owned(),
            "docker.io/library/busybox:1".to_owned(),
        ),
        (
            format!("busybox@sha256:{H}"),
            format!("docker.io/library/busybox@sha256:{H}"),
        ),
        (
            format!("busybox:1@sha256:{H}"),
            format!("docker.io/library/busybox:1@sha256:{H}"),
        ),
        (
            format!("localhost:5000/x@sha256:{H}"),
            format!("localhost:5000/x@sha256:{H}"),
        ),
    ];
    for (input, full) in cases {
        let r = Reference::parse_normalized(&input)
            .unwrap()
            .with_default_tag();
        assert_eq!(r.to_string(), full, "{input}");
    }
}

#[test]
fn parse_any_cases() {
    let id = "d5565f5b9b737748fec719b77f7b41852dadcda5ed71228a52de98565ac06e86";
    let digest = |s: &str| Ok(AnyReference::Digest(s.parse::<Digest>().unwrap()));
    let named = |s: &str| Ok(AnyReference::Named(Reference::parse_normalized(s).unwrap()));
    // `docker tag SRC pa/x` with bb:imp's ID: SRC is an image ID or digest
    // (it worked; as a name the 64-hex form is refused).
    assert_eq!(parse_any(id), digest(&format!("sha256:{id}")));
    assert_eq!(
        parse_any(&format!("sha256:{id}")),
        digest(&format!("sha256:{id}"))
    );
    // -> "No such image: sha512:…" (a digest, so no ":latest" added)
    assert_eq!(
        parse_any(&format!("sha512:{id}{id}")),
        digest(&format!("sha512:{id}{id}"))
    );
    // -> "No such image: sha256:abc": not a digest, so the name "sha256"
    // with tag "abc"; likewise a 63-hex or upper-case "digest".
    assert_eq!(
        parse_any("sha256:abc"),
        named("docker.io/library/sha256:abc")
    );
    assert_eq!(
        parse_any(&format!("sha256:{}", &id[1..])),
        named(&format!("docker.io/library/sha256:{}", &id[1..]))
    );
    assert_eq!(
        parse_any(&format!("sha256:{}", id.to_uppercase())),
        named(&format!("docker.io/library/sha256:{}", id.to_uppercase()))
    );
    // -> "No such image: 5565…:latest": a name
    assert_eq!(
        parse_any(&id[1..]),
        named(&format!("docker.io/library/{}", &id[1..]))
    );
    // works: a short ID is a name to the parser; the daemon resolves it.
    assert_eq!(
        parse_any(&id[..12]),
        named(&format!("docker.io/library/{}", &id[..12]))
    );
    assert_eq!(parse_any("busybox"), named("docker.io/library/busybox"));
    // Error parsing reference: "SRC" is not a valid repository/tag: …
    let err = |e: &str| parse_any_err(e);
    assert_eq!(err(""), "invalid reference format");
    assert_eq!(
        err(&id.to_uppercase()),
        format!(
            "invalid reference format: repository name (library/{}) must be lowercase",
            id.to_uppercase()
        )
    );
    assert_eq!(
        err(&format!("SHA256:{id}")),
        "invalid reference format: repository name (library/SHA256) must be lowercase"
    );
}

fn parse_any_err(s: &str) -> String {
    parse_any(s).unwrap_err().to_string()
}

/// The refs present while the filters below were run, as `docker images`
/// listed them.
const LISTED: [&str; 6] = [
    "bb:imp",
    "busybox:latest",
    "user/app:v1",
    "localhost:5000/x:1",
    "example.com/org/app:2",
    "library/a/b:c",
];

#[test]
fn familiar_match_cases() {
    // docker images --filter reference=PATTERN --format
    // '{{.Repository}}:{{.Tag}}' over the LISTED refs; Err is "Error
    // response from daemon: syntax error in pattern".
    let cases: &[(&str, Result<&[&str], ()>)] = &[
        ("busybox", Ok(&["busybox:latest"])),
        ("busybox:*", Ok(&["busybox:latest"])),
        ("bus*", Ok(&["busybox:latest"])),
        ("*", Ok(&["bb:imp", "busybox:latest"])),
        ("**", Ok(&["bb:imp", "busybox:latest"])),
        ("b*", Ok(&["bb:imp", "busybox:latest"])),
        ("*b*", Ok(&["bb:imp", "busybox:latest"])),
        ("*:*", Ok(&["bb:imp", "busybox:latest"])),
        ("*/*", Ok(&["user/app:v1", "localhost:5000/x:1"])),
        ("*/*/*", Ok(&["example.com/org/app:2", "library/a/b:c"])),
        ("*/*/app", Ok(&["example.com/org/app:2"])),
        ("user/*", Ok(&["user/app:v1"])),
        ("*/app", Ok(&["user/app:v1"])),
        ("*/app:*", Ok(&["user/app:v1"])),
        ("*/*:v1", Ok(&["user/app:v1"])),
        ("*:v1", Ok(&[])),
        ("user/app:v?", Ok(&["user/app:v1"])),
        ("user\\/app", Ok(&["user/app:v1"])),
        ("user/app:v1/", Ok(&[])),
        ("user/app:", Ok(&[])),
        ("localhost:5000/*", Ok(&["localhost:5000/x:1"])),
        ("localhost:5000/?", Ok(&["localhost:5000/x:1"])),
        ("localhost:5000/x", Ok(&["localhost:5000/x:1"])),
        ("localhost:*", Ok(&[])),
        ("example.com/*/*", Ok(&["example.com/org/app:2"])),
        ("example.com/org/*:2", Ok(&["example.com/org/app:2"])),
        ("example.com/*", Ok(&[])),
        ("docker.io/library/busybox", Ok(&[])),
        ("library/busybox", Ok(&[])),
        ("library/*", Ok(&[])),
        ("library/*/*", Ok(&["library/a/b:c"])),
        ("a/b", Ok(&[])),
        ("busybox:lat*", Ok(&["busybox:latest"])),
        ("busybox:latest", Ok(&["busybox:latest"])),
        ("busybox:latest*", Ok(&["busybox:latest"])),
        ("*box*", Ok(&["busybox:latest"])),
        ("*:[0-9]", Ok(&[])),
        ("?????", Ok(&[])),
        ("bb:im?", Ok(&["bb:imp"])),
        ("bb:imp*", Ok(&["bb:imp"])),
        ("bb\\:imp", Ok(&["bb:imp"])),
        ("b\\usybox", Ok(&["busybox:latest"])),
        ("[a-c]usybox", Ok(&["busybox:latest"])),
        ("[\\b]usybox", Ok(&["busybox:latest"])),
        ("bb:im[o-q]", Ok(&["bb:imp"])),
        ("bb:im[^a-o]", Ok(&["bb:imp"])),
        ("[b-a]b:imp", Ok(&[])),
        // Only '^' negates; '!' is a plain member of the class.
        ("[^b]*", Ok(&[])),
        ("[!b]*", Ok(&["bb:imp", "busybox:latest"])),
        ("[[]", Ok(&[])),
        ("[\\]]", Ok(&[])),
        ("[", Err(())),
        ("b[", Err(())),
        ("[^", Err(())),
        ("[^]", Err(())),
        ("[a-]", Err(())),
        ("[]a]usybox", Err(())),
        ("[-b]usybox", Err(())),
        ("b[a-z-]sybox", Err(())),
        ("*[", Err(())),
        ("busybox:*[", Err(())),
        ("busybox\\", Err(())),
        ("bb:imp\\", Err(())),
    ];
    let refs: Vec<Reference> = LISTED
        .iter()
        .map(|r| Reference::parse_normalized(r).unwrap())
        .collect();
    for (pattern, expect) in cases {
        let got: Result<Vec<&str>, ()> = LISTED
            .iter()
            .zip(&refs)
            .filter_map(|(shown, r)| match try_familiar_match(pattern, r) {
                Ok(true) => Some(Ok(*shown)),
                Ok(false) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_, _>>()
            .map_err(|e: PatternError| assert_eq!(e.to_string(), "syntax error in pattern"));
        let mut got = got;
        if let Ok(v) = &mut got {
            v.sort_unstable();
        }
        let mut want = expect.map(<[&str]>::to_vec);
        if let Ok(v) = &mut want {
            v.sort_unstable();
        }
        assert_eq!(got, want, "{pattern:?}");
        // The infallible forms treat a bad pattern as matching nothing.
        for r in &refs {
            let m = familiar_match(pattern, r);
            assert_eq!(m, try_familiar_match(pattern, r) == Ok(true), "{pattern:?}");
        }
    }
}

#[test]
fn path_match_cases() {
    // Go's path.Match directly (src/path/match.go), on what Docker cannot
    // show through references, which are ASCII.
    assert_eq!(try_path_match("a*b", "a/b"), Ok(false));
    assert_eq!(try_path_match("a?b", "a/b"), Ok(false));
    assert_eq!(try_path_match("a[/]b", "a/b"), Ok(true));
    assert_eq!(try_path_match("*", ""), Ok(true));
    assert_eq!(try_path_match("", ""), Ok(true));
    assert_eq!(try_path_match("", "a"), Ok(false));
    assert_eq!(try_path_match("?", "é"), Ok(true));
    assert_eq!(try_path_match("[é-ë]", "ê"), Ok(true));
    // After a '*' Go tries every byte offset, so a chunk may start inside a
    // character, whose bytes then count as one U+FFFD each.
    assert_eq!(try_path_match("*??", "€"), Ok(true));
    assert_eq!(try_path_match("???", "€"), Ok(false));
    // The rest of the pattern is checked even after a mismatch.
    assert_eq!(try_path_match("x[", "y"), Err(PatternError));
    assert_eq!(try_path_match("x*[", "y"), Err(PatternError));
    assert!(!path_match("[", "["));
}

#[test]
fn with_tag_and_digest() {
    let r = Reference::parse_normalized("localhost:5000/x:1").unwrap();
    assert_eq!(r.with_tag("2").unwrap().to_string(), "localhost:5000/x:2");
    assert_eq!(r.with_tag(".2"), Err(ReferenceError::InvalidTag));
    assert_eq!(ReferenceError::InvalidTag.to_string(), "invalid tag format");
    let d: Digest = format!("sha256:{H}").parse().unwrap();
    assert_eq!(
        r.with_digest(d).to_string(),
        format!("localhost:5000/x@sha256:{H}")
    );
    assert_eq!(r.trimmed().to_string(), "localhost:5000/x");
    let bare = Reference::parse_normalized("a_b.c/x").unwrap();
    assert_eq!((bare.domain(), bare.path()), ("", "a_b.c/x"));
    assert_eq!(bare.name(), "a_b.c/x");
}
