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
//! host        := domain-part ( "." domain-part )* | "[" ipv6 "]"
//! domain-part := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//! component   := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag         := [\w][\w.-]{0,127}
//! digest      := algorithm ":" [0-9a-fA-F]{32,}
//! ```

use std::fmt;
use std::str::FromStr;

use crate::Digest;

/// The registry a name without one belongs to.
pub const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// A named image reference, normalized: the domain is always set.
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
    /// Upper case found by the plain parser (no name to show).
    #[error("invalid reference format: repository name must be lowercase")]
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
    /// The digest hex is not lower case.
    #[error("invalid checksum digest format")]
    DigestFormat,
}

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
        if remote.to_lowercase() != remote {
            return Err(ReferenceError::Uppercase(remote.to_owned()));
        }
        parse_full(&format!("{domain}/{remainder}"))
    }

    /// The registry host, with port (`docker.io`, `localhost:5000`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path within the registry (`library/busybox`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full repository name (`docker.io/library/busybox`).
    pub fn name(&self) -> String {
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
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
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
        || maybe_domain.to_lowercase() != maybe_domain
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
        if match_reference(&s.to_lowercase()).is_some() {
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
    if let Some(d) = digest {
        if !is_digest_syntax(d) {
            return None;
        }
    }
    let (domain, after) = rest.split_once('/')?;
    if !is_domain(domain) {
        return None;
    }
    // The tag is after the last ':'; the path after the domain has none.
    let (path, tag) = match after.rsplit_once(':') {
        Some((p, t)) => (p, Some(t)),
        None => (after, None),
    };
    if let Some(t) = tag {
        if !is_tag(t) {
            return None;
        }
    }
    if path.is_empty() || !path.split('/').all(is_component) {
        return None;
    }
    Some((domain, path, tag, digest))
}

fn is_component(c: &str) -> bool {
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
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
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

fn is_tag(t: &str) -> bool {
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
fn parse_digest(d: &str) -> Result<Digest, ReferenceError> {
    let (alg, hex) = d.split_once(':').expect("grammar checked");
    let len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(ReferenceError::DigestUnsupported),
    };
    if hex.len() != len {
        return Err(ReferenceError::DigestLength);
    }
    if hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ReferenceError::DigestFormat);
    }
    d.parse().map_err(|_| ReferenceError::DigestUnsupported)
}

/// Go's `path.Match`: `*` and `?` stop at `/`, `[…]` classes with `^`
/// negation and ranges, `\` escapes. A malformed pattern matches nothing.
pub fn path_match(pattern: &str, name: &str) -> bool {
    fn class(p: &[char], c: char) -> Option<(bool, usize)> {
        // p starts after '['. Returns (matched, chars consumed incl. ']').
        let mut i = 0;
        let negate = p.first() == Some(&'^');
        if negate {
            i += 1;
        }
        let mut matched = false;
        let mut first = true;
        loop {
            let ch = *p.get(i)?;
            if ch == ']' && !first {
                i += 1;
                break;
            }
            first = false;
            let lo = if ch == '\\' {
                i += 1;
                *p.get(i)?
            } else {
                ch
            };
            i += 1;
            let mut hi = lo;
            if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|x| *x != ']') {
                i += 1;
                hi = if p[i] == '\\' {
                    i += 1;
                    *p.get(i)?
                } else {
                    p[i]
                };
                i += 1;
            }
            if lo <= c && c <= hi {
                matched = true;
            }
        }
        Some((matched != negate, i))
    }
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len())
                .take_while(|&k| k == 0 || n[k - 1] != '/')
                .any(|k| go(&p[1..], &n[k..])),
            Some('?') => n.first().is_some_and(|c| *c != '/') && go(&p[1..], &n[1..]),
            Some('[') => match n.first() {
                Some(c) if *c != '/' => match class(&p[1..], *c) {
                    Some((true, used)) => go(&p[1 + used..], &n[1..]),
                    _ => false,
                },
                _ => false,
            },
            Some('\\') => p.get(1).is_some_and(|e| n.first() == Some(e)) && go(&p[2..], &n[1..]),
            Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// Docker's `FamiliarMatch`: the pattern against `name:tag`, then `name`.
pub fn familiar_match(pattern: &str, reference: &Reference) -> bool {
    path_match(pattern, &reference.familiar_string())
        || path_match(pattern, &reference.familiar_name())
}

#[cfg(test)]
mod tests;
