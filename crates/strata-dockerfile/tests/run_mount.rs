//! `RUN --mount` specs: BuildKit's parsing, checks and defaults.

use strata_dockerfile::{CacheSharing, ExpandError, Lexer, MountType, RunMount};

fn mount(spec: &str) -> RunMount {
    RunMount::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"))
}

#[track_caller]
fn error(spec: &str, message: &str) {
    assert_eq!(
        RunMount::parse(spec).unwrap_err().to_string(),
        message,
        "{spec}"
    );
}

#[test]
fn bind_is_the_readonly_default() {
    let m = mount("target=/src,source=app");
    assert_eq!(m.kind, MountType::Bind);
    assert!(m.readonly);
    assert_eq!(m.source.as_deref(), Some("app"));
    assert_eq!(m.target.as_deref(), Some("/src"));
    assert_eq!(m.from, None);
    assert!(!mount("type=bind,target=/src,rw").readonly);
    assert!(!mount("type=bind,dst=/src,readwrite=true").readonly);
    assert!(mount("type=bind,destination=/x,ro=1").readonly);
}

#[test]
fn cache_defaults() {
    let m = mount("type=cache,target=/root/.cache/");
    assert_eq!(m.kind, MountType::Cache);
    assert!(!m.readonly);
    assert_eq!(m.sharing, CacheSharing::Shared);
    assert_eq!(m.id.as_deref(), Some("/root/.cache"));
    let m = mount("type=Cache,target=/c,id=gocache,sharing=LOCKED,mode=0700,uid=1000,gid=1000");
    assert_eq!(m.sharing, CacheSharing::Locked);
    assert_eq!(m.id.as_deref(), Some("gocache"));
    assert_eq!(
        (m.mode, m.uid, m.gid),
        (Some(0o700), Some(1000), Some(1000))
    );
    assert_eq!(
        mount("type=cache,target=/c,sharing=private").sharing,
        CacheSharing::Private
    );
}

#[test]
fn secret_defaults() {
    let m = mount("type=secret,id=aws");
    assert_eq!(m.kind, MountType::Secret);
    assert!(m.readonly);
    assert_eq!(m.target.as_deref(), Some("/run/secrets/aws"));
    let m = mount("type=secret,target=/root/.npmrc");
    assert_eq!(m.id.as_deref(), Some(".npmrc"));
    let m = mount("type=secret,source=tok,target=/t,required");
    assert_eq!(
        (m.id.as_deref(), m.target.as_deref(), m.required),
        (Some("tok"), Some("/t"), true)
    );
    let m = mount("type=secret,id=API_TOKEN,env=TOKEN");
    assert_eq!((m.target, m.env.as_deref()), (None, Some("TOKEN")));
}

#[test]
fn ssh_and_tmpfs() {
    let m = mount("type=ssh");
    assert_eq!(
        (m.kind, m.id.as_deref(), m.target.as_deref()),
        (MountType::Ssh, Some("default"), None)
    );
    assert!(m.readonly);
    let m = mount("type=ssh,id=github,required=true");
    assert_eq!((m.id.as_deref(), m.required), (Some("github"), true));
    let m = mount("type=tmpfs,target=/tmp,size=64m");
    assert_eq!(
        (m.kind, m.size, m.readonly),
        (MountType::Tmpfs, Some(64 << 20), false)
    );
}

#[test]
fn buildkit_errors() {
    error("type=volume", r#"unsupported mount type "volume""#);
    error(
        "type=cahce",
        r#"unsupported mount type "cahce" (did you mean cache?)"#,
    );
    error(
        "type=cache,sharing=all",
        r#"unsupported sharing value "all""#,
    );
    error(
        "target=/x,sharing=shared",
        "invalid cache sharing set for bind mount",
    );
    error(
        "tagret=/x",
        "unexpected key 'tagret' in 'tagret=/x' (did you mean target?)",
    );
    error("target", "invalid field 'target' must be a key=value pair");
    error(
        "required,type=secret,id=x",
        "unexpected key 'required' for mount type 'bind'",
    );
    error(
        "size=1m,type=tmpfs",
        "unexpected key 'size' for mount type 'bind'",
    );
    error("type=tmpfs,size=lots", "invalid value for size: lots");
    error("ro=maybe", "invalid value for ro: maybe");
    error("type=cache,mode=0899", "invalid value 0899 for mode");
    error("type=cache,uid=-1", "invalid value -1 for uid");
    error(
        "target=/x,uid=0",
        r#"uid not allowed for "bind" type mounts"#,
    );
    error(
        "type=secret",
        "invalid secret mount. one of source, target required",
    );
    error(
        "type=secret,id=a,source=b",
        "both source and id can't be set",
    );
    error(
        "type=secret,id=a,from=x",
        "secret mount should not have a from",
    );
    error("type=ssh,source=/agent", "ssh does not support source");
    error("", "failed to parse csv mounts: EOF");
    error(
        "target=\"/x",
        "failed to parse csv mounts: parse error on line 1, column 8: bare \" in non-quoted-field",
    );
}

#[test]
fn values_are_expanded_after_the_csv_split() {
    let env = vec![
        ("DIR".to_owned(), "/a,b".to_owned()),
        ("KIND".to_owned(), "cache".to_owned()),
    ];
    let lex = Lexer::new('\\');
    let mut expand = |v: &str| -> Result<String, ExpandError> { lex.process_word(v, &env) };
    let m = RunMount::parse_with("type=$KIND,target=$DIR", &mut expand).unwrap();
    assert_eq!(
        (m.kind, m.target.as_deref()),
        (MountType::Cache, Some("/a,b"))
    );
    let err = RunMount::parse_with("target=${NOPE:?required}", &mut expand).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"failed to process "${NOPE:?required}": NOPE: required"#
    );
}
