//! Table of reference cases; see the module docs for where each comes from.

use super::*;

#[track_caller]
fn check(input: &str, expect: Result<&str, &str>) {
    let got = Reference::parse_normalized(input)
        .map(|r| r.to_string())
        .map_err(|e| e.to_string());
    assert_eq!(got.as_deref().map_err(|e| e.as_str()), expect, "{input}");
}

#[test]
fn smoke() {
    check("busybox", Ok("docker.io/library/busybox"));
    check("localhost:5000/x:1", Ok("localhost:5000/x:1"));
}
