//! Image references (`busybox`, `localhost:5000/x:1`, `repo@sha256:…`) with
//! Docker's exact rules.
//!
//! This follows distribution/reference as Docker uses it: a name without a
//! registry belongs to `docker.io`, a one-part Docker Hub name gets the
//! `library/` prefix, `index.docker.io` is `docker.io`, the first path part is
//! a registry when it contains `.` or `:`, is `localhost`, or has upper-case
//! letters. Repository paths are lower-case; a bare 64-hex string is refused
//! (it would be an image ID). The grammar is matched by hand instead of with
//! regular expressions, but accepts exactly the same language:
//!
//! ```text
//! reference   := name [ ":" tag ] [ "@" digest ]
//! name        := [ domain "/" ] component ( "/" component )*
//! domain      := host [ ":" port ]
//! host        := domain-part ( "." domain-part )* | "[" [0-9a-fA-F:]+ "]"
//! domain-part := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//! port        := [0-9]+
//! component   := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag         := [\w][\w.-]{0,127}
//! digest      := algorithm ":" [0-9a-fA-F]{32,}
//! algorithm   := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
//! ```
//!
//! Like the regular expression, the grammar's domain is optional: when the
//! part that Docker's normalization picked as the registry is not a valid
//! host but is a valid path component (`a_b.c/x`), the whole name is the
//! path and the domain is empty. Docker accepts such names and stores them
//! as `a_b.c/x`.
//!
//! Error messages are those of the Docker CLI 28 (distribution/reference
//! v0.6, go-digest v1.0.0). Older Docker (20.10) words some of them
//! differently, e.g. it prefixes "invalid reference format: " to
//! "repository name must be lowercase".

use std::fmt;
use std::str::FromStr;

use crate::Digest;

/// The registry a name without one belongs to.
pub const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// A named image reference, normalized: the domain is set unless the name
/// only parses without one (see the module docs).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a reference was refused. Messages are Docker's, word for word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Anything the grammar rejects.
    #[error("invalid reference format")]
    InvalidFormat,
    /// The repository path has upper-case letters.
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    /// Upper case found by the plain parser (no name to show). Docker 20.10
    /// says "invalid reference format: repository name must be lowercase";
    /// this is the newer wording of Docker 28.
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    /// A 64-hex name, which Docker reserves for image IDs.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexName(String),
    /// Over 255 characters.
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    /// An invalid tag given on its own.
    #[error("invalid tag format")]
    InvalidTag,
    /// The digest part is well formed but uses an unknown algorithm.
    #[error("unsupported digest algorithm")]
    DigestUnsupported,
    /// The digest has the wrong length for its algorithm.
    #[error("invalid checksum digest length")]
    DigestLength,
    /// The digest hex is not lower case, or an unknown algorithm has
    /// upper-case letters.
    #[error("invalid checksum digest format")]
    DigestFormat,
}

/// A malformed [`path_match`] pattern (Go's `path.ErrBadPattern`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern")]
pub struct PatternError;

/// Either a name or a bare digest (image ID), as Docker accepts wherever an
/// image is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyReference {
    /// A repository name with optional tag and digest.
    Named(Reference),
    /// `sha256:<hex>` or a bare 64-hex ID.
    Digest(Digest),
}

impl Reference {
    /// Parses what a user typed (Docker's `ParseNormalizedNamed`).
    pub fn parse_normalized(s: &str) -> Result<Reference, ReferenceError> {
        if is_hex64(s) {
            return Err(ReferenceError::HexName(s.to_owned()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = remainder.split(':').next().unwrap_or("");
        if go_to_lower(remote) != remote {
            return Err(ReferenceError::Uppercase(remote.to_owned()));
        }
        parse_full(&format!("{domain}/{remainder}"))
    }

    /// The registry host, with port (`docker.io`, `localhost:5000`); empty
    /// for the rare names that only parse without one (`a_b.c/x`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path within the registry (`library/busybox`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full repository name (`docker.io/library/busybox`).
    pub fn name(&self) -> String {
        if self.domain.is_empty() {
            return self.path.clone();
        }
        format!("{}/{}", self.domain, self.path)
    }

    /// The tag, if one was given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if one was given.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The short name Docker shows (`busybox`, `user/app`, `localhost:5000/x`).
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(rest) if !rest.contains('/') => rest.to_owned(),
            _ => self.path.clone(),
        }
    }

    /// The familiar name with tag and digest (`busybox:latest`).
    pub fn familiar_string(&self) -> String {
        let mut s = self.familiar_name();
        push_suffix(&mut s, self.tag.as_deref(), self.digest.as_ref());
        s
    }

    /// Adds `latest` when there is neither tag nor digest (`TagNameOnly`).
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some("latest".to_owned());
        }
        self
    }

    /// The repository with only this tag.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !is_tag(tag) {
            return Err(ReferenceError::InvalidTag);
        }
        Ok(Reference {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.trimmed()
        })
    }

    /// The repository with only this digest.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.trimmed()
        }
    }

    /// The repository without tag or digest.
    pub fn trimmed(&self) -> Reference {
        Reference {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: None,
            digest: None,
        }
    }
}

/// Parses an image ID, a digest, or a name (Docker's `ParseAnyReference`).
pub fn parse_any(s: &str) -> Result<AnyReference, ReferenceError> {
    if is_hex64(s) {
        return Ok(AnyReference::Digest(
            Digest::from_sha256_hex(s).expect("checked hex"),
        ));
    }
    if let Ok(d) = s.parse::<Digest>() {
        return Ok(AnyReference::Digest(d));
    }
    Reference::parse_normalized(s).map(AnyReference::Named)
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Reference, ReferenceError> {
        Reference::parse_normalized(s)
    }
}

/// The fully qualified form: `docker.io/library/busybox:latest@sha256:…`.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        push_suffix(&mut s, self.tag.as_deref(), self.digest.as_ref());
        f.write_str(&s)
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn push_suffix(s: &mut String, tag: Option<&str>, digest: Option<&Digest>) {
    if let Some(t) = tag {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = digest {
        s.push('@');
        s.push_str(&d.to_string());
    }
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Decides which part of a user's string is the registry.
fn split_docker_domain(name: &str) -> (String, String) {
    let Some((maybe_domain, maybe_remote)) = name.split_once('/') else {
        return (
            DEFAULT_DOMAIN.to_owned(),
            format!("{OFFICIAL_REPO_PREFIX}{name}"),
        );
    };
    let (domain, remote) = if maybe_domain == "localhost"
        || maybe_domain.contains(['.', ':'])
        || go_to_lower(maybe_domain) != maybe_domain
    {
        let d = if maybe_domain == LEGACY_DEFAULT_DOMAIN {
            DEFAULT_DOMAIN
        } else {
            maybe_domain
        };
        (d.to_owned(), maybe_remote.to_owned())
    } else {
        (DEFAULT_DOMAIN.to_owned(), name.to_owned())
    };
    let remote = if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        format!("{OFFICIAL_REPO_PREFIX}{remote}")
    } else {
        remote
    };
    (domain, remote)
}

/// Parses `domain/path[:tag][@digest]` where the domain is known to be
/// present (the string comes from [`split_docker_domain`]).
fn parse_full(s: &str) -> Result<Reference, ReferenceError> {
    let parsed = match_reference(s);
    let Some((domain, path, tag, digest)) = parsed else {
        if match_reference(&go_to_lower(s)).is_some() {
            return Err(ReferenceError::NameContainsUppercase);
        }
        return Err(ReferenceError::InvalidFormat);
    };
    if path.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError::NameTooLong);
    }
    let digest = match digest {
        None => None,
        Some(d) => Some(parse_digest(d)?),
    };
    Ok(Reference {
        domain: domain.to_owned(),
        path: path.to_owned(),
        tag: tag.map(str::to_owned),
        digest,
    })
}

type Parts<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>);

/// Matches the whole grammar; `None` when the string is not a reference.
fn match_reference(s: &str) -> Option<Parts<'_>> {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest
        && !is_digest_syntax(d)
    {
        return None;
    }
    // Only the domain may hold a ':' before a '/', so a ':' after the last
    // '/' starts the tag.
    let last = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last..].find(':') {
        Some(i) => (&rest[..last + i], Some(&rest[last + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag
        && !is_tag(t)
    {
        return None;
    }
    let (domain, path) = match_name(name)?;
    Some((domain, path, tag, digest))
}

/// `[ domain "/" ] path`, preferring a domain when both readings work (the
/// regular expression's optional group is greedy).
fn match_name(name: &str) -> Option<(&str, &str)> {
    if let Some((domain, path)) = name.split_once('/')
        && is_domain(domain)
        && is_path(path)
    {
        return Some((domain, path));
    }
    is_path(name).then_some(("", name))
}

fn is_path(p: &str) -> bool {
    p.split('/').all(is_component)
}

/// Go's `strings.ToLower`: rune by rune, with Unicode's simple mappings.
/// Rust's full mapping differs only for U+0130 (`İ`), which Go maps to a
/// plain `i` (so Docker calls `İ/x` an upper-case name, not a bad format).
fn go_to_lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\u{130}' {
            out.push('i');
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Whether `c` is one component of a repository path: lowercase
/// alphanumerics joined by `.`, `_`, `__` or runs of `-`.
pub fn is_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator: ".", "_", "__" or a run of "-", between alphanumerics.
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if b.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || !b.get(i).is_some_and(|x| alnum(*x)) {
            return false;
        }
    }
    true
}

fn is_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    if d.starts_with('[') {
        return true;
    }
    !host.is_empty()
        && host.split('.').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        })
}

/// Whether `t` is a valid tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn is_tag(t: &str) -> bool {
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b[1..].iter().all(|x| word(*x) || *x == b'.' || *x == b'-')
}

/// The reference grammar's digest: `alg(sep alg)*:hex{32,}` with any-case hex.
fn is_digest_syntax(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|part| {
        let b = part.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest's `Parse` on a string the grammar already accepted.
///
/// Docker also accepts `sha384`, which [`Digest`] cannot hold; such a
/// reference is refused here as "unsupported digest algorithm".
fn parse_digest(d: &str) -> Result<Digest, ReferenceError> {
    let (alg, hex) = d.split_once(':').expect("grammar checked");
    let len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        // Unknown algorithm: go-digest says "unsupported" only when the
        // digest matches its own, lower-case, syntax
        // `[a-z0-9]+([.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+`. The grammar
        // already checked everything but the case of the algorithm.
        _ if alg.bytes().any(|b| b.is_ascii_uppercase()) => {
            return Err(ReferenceError::DigestFormat);
        }
        _ => return Err(ReferenceError::DigestUnsupported),
    };
    if hex.len() != len {
        return Err(ReferenceError::DigestLength);
    }
    if !hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ReferenceError::DigestFormat);
    }
    d.parse().map_err(|_| ReferenceError::DigestUnsupported)
}

/// Go's `path.Match`: `*` and `?` stop at `/`, `[…]` classes with `^`
/// negation and ranges, `\` escapes. A malformed pattern matches nothing;
/// use [`try_path_match`] to tell it apart.
pub fn path_match(pattern: &str, name: &str) -> bool {
    try_path_match(pattern, name).unwrap_or(false)
}

/// Go's `path.Match`, ported byte for byte, including its errors: a
/// malformed pattern (`[`, `[a-]`, `[]a]`, a trailing `\`) is an error
/// whatever the name, as Docker reports for `--filter reference=`.
pub fn try_path_match(pattern: &str, name: &str) -> Result<bool, PatternError> {
    go_path_match(pattern, name, true)
}

/// Go's `path.Match` (and `filepath.Match` on Unix). With `check_rest`,
/// a malformed pattern is an error even after the name stopped matching
/// (Go 1.20 and later); without, only what matching read is checked (Go
/// 1.19 and earlier, whose behaviour `.dockerignore` matching inherits).
pub fn go_path_match(pattern: &str, name: &str, check_rest: bool) -> Result<bool, PatternError> {
    let mut pattern = pattern.as_bytes();
    let mut name = name.as_bytes();
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing `*` matches the rest unless it has a '/'.
            return Ok(!name.contains(&b'/'));
        }
        // The last chunk must use up the name.
        if let Some(t) = match_chunk(chunk, name)?
            && (t.is_empty() || !pattern.is_empty())
        {
            name = t;
            continue;
        }
        if star {
            // Skip i+1 bytes, but never a '/'. Go commits to the first
            // position where the chunk matches.
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                if let Some(t) = match_chunk(chunk, &name[i + 1..])?
                    && (t.is_empty() || !pattern.is_empty())
                {
                    name = t;
                    continue 'pattern;
                }
                i += 1;
            }
        }
        // No match: newer Go still reports a malformed rest of the pattern.
        while check_rest && !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Splits off leading stars and the chunk up to the next star outside a
/// class.
fn scan_chunk(mut pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut star = false;
    while let Some((b'*', rest)) = pattern.split_first() {
        pattern = rest;
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pattern[..i], &pattern[i..])
}

/// Matches a star-free chunk at the start of `s`; `Some(rest)` on a match.
/// After a mismatch the chunk is still read to the end to check its syntax.
fn match_chunk<'a>(mut chunk: &[u8], mut s: &'a [u8]) -> Result<Option<&'a [u8]>, PatternError> {
    let mut failed = false;
    while let Some(&c) = chunk.first() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match c {
            b'[' => {
                let mut r = 0;
                if !failed {
                    let (rune, n) = decode_rune(s);
                    r = rune;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if ranges > 0 && chunk.first() == Some(&b']') {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk[0] == b'-' {
                        (hi, chunk) = get_esc(&chunk[1..])?;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    ranges += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    s = &s[decode_rune(s).1..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                if c == b'\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return Err(PatternError);
                    }
                }
                if !failed {
                    if chunk[0] != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    Ok((!failed).then_some(s))
}

/// One possibly escaped character of a class, and what follows it (which
/// must not be empty: the class still needs its `]`).
fn get_esc(chunk: &[u8]) -> Result<(u32, &[u8]), PatternError> {
    let chunk = match chunk.first() {
        None | Some(b'-' | b']') => return Err(PatternError),
        Some(b'\\') => match &chunk[1..] {
            [] => return Err(PatternError),
            rest => rest,
        },
        Some(_) => chunk,
    };
    let (r, n) = decode_rune(chunk);
    if r == u32::from(char::REPLACEMENT_CHARACTER) && n == 1 {
        return Err(PatternError);
    }
    match &chunk[n..] {
        [] => Err(PatternError),
        rest => Ok((r, rest)),
    }
}

/// Go's `utf8.DecodeRune`: an invalid byte is U+FFFD of width 1. (Go slices
/// names by bytes after a `*`, so a chunk can start inside a character.)
fn decode_rune(b: &[u8]) -> (u32, usize) {
    let head = &b[..b.len().min(4)];
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
    };
    match valid.chars().next() {
        Some(c) => (u32::from(c), c.len_utf8()),
        None => (
            u32::from(char::REPLACEMENT_CHARACTER),
            usize::from(!b.is_empty()),
        ),
    }
}

/// Docker's `FamiliarMatch`: the pattern against `name:tag`, then `name`.
pub fn familiar_match(pattern: &str, reference: &Reference) -> bool {
    try_familiar_match(pattern, reference).unwrap_or(false)
}

/// [`familiar_match`] reporting a malformed pattern, as Docker does.
pub fn try_familiar_match(pattern: &str, reference: &Reference) -> Result<bool, PatternError> {
    let first = try_path_match(pattern, &reference.familiar_string());
    if let Ok(true) = first {
        return Ok(true);
    }
    let second = try_path_match(pattern, &reference.familiar_name()).unwrap_or(false);
    first.map(|_| second)
}

#[cfg(test)]
mod tests;
