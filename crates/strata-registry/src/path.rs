//! Request paths. Repository names may have any number of components, so
//! routes are matched from the right, after checking the name by the
//! distribution spec's grammar (which also rules out `..`, empty
//! components and anything percent-encoded).

use crate::error::{ApiError, ApiResult, Code};

/// What a `/v2/...` path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/v2/`
    Base,
    /// `/v2/_catalog`
    Catalog,
    /// `/v2/<name>/tags/list`
    Tags {
        /// Repository.
        repo: String,
    },
    /// `/v2/<name>/manifests/<reference>`
    Manifest {
        /// Repository.
        repo: String,
        /// A tag or a digest, unchecked.
        reference: String,
    },
    /// `/v2/<name>/blobs/<digest>`
    Blob {
        /// Repository.
        repo: String,
        /// The digest, unchecked.
        digest: String,
    },
    /// `/v2/<name>/blobs/uploads/`
    UploadStart {
        /// Repository.
        repo: String,
    },
    /// `/v2/<name>/blobs/uploads/<id>`
    Upload {
        /// Repository.
        repo: String,
        /// Session ID.
        id: String,
    },
    /// `/v2/<name>/referrers/<digest>`
    Referrers {
        /// Repository.
        repo: String,
        /// The subject digest, unchecked.
        digest: String,
    },
}

impl Route {
    /// The repository the route addresses, if any.
    pub fn repo(&self) -> Option<&str> {
        match self {
            Route::Base | Route::Catalog => None,
            Route::Tags { repo }
            | Route::Manifest { repo, .. }
            | Route::Blob { repo, .. }
            | Route::UploadStart { repo }
            | Route::Upload { repo, .. }
            | Route::Referrers { repo, .. } => Some(repo),
        }
    }
}

/// Parses a request path. `None` for paths outside the API (404).
pub fn parse(path: &str) -> Option<ApiResult<Route>> {
    let rest = path.strip_prefix("/v2")?;
    if rest.is_empty() || rest == "/" {
        return Some(Ok(Route::Base));
    }
    let rest = rest.strip_prefix('/')?;
    if rest == "_catalog" {
        return Some(Ok(Route::Catalog));
    }
    let segs: Vec<&str> = rest.split('/').collect();
    let n = segs.len();
    let tail = |k: usize| (n > k).then(|| segs[..n - k].join("/"));
    type Make = fn(String, &str) -> Route;
    let (repo, route): (Option<String>, Make) = match segs.as_slice() {
        [.., "tags", "list"] => (tail(2), |repo, _| Route::Tags { repo }),
        [.., "blobs", "uploads", ""] | [.., "blobs", "uploads"] => {
            let k = if segs[n - 1].is_empty() { 3 } else { 2 };
            (tail(k), |repo, _| Route::UploadStart { repo })
        }
        [.., "blobs", "uploads", _] => (tail(3), |repo, last| Route::Upload {
            repo,
            id: last.to_owned(),
        }),
        [.., "manifests", _] => (tail(2), |repo, last| Route::Manifest {
            repo,
            reference: last.to_owned(),
        }),
        [.., "blobs", _] => (tail(2), |repo, last| Route::Blob {
            repo,
            digest: last.to_owned(),
        }),
        [.., "referrers", _] => (tail(2), |repo, last| Route::Referrers {
            repo,
            digest: last.to_owned(),
        }),
        _ => return None,
    };
    let repo = repo?;
    if let Err(e) = check_name(&repo) {
        return Some(Err(e));
    }
    Some(Ok(route(repo, segs[n - 1])))
}

/// Checks a repository name: components of `[a-z0-9]+` joined by `.`,
/// `_`, `__` or runs of `-`, separated by `/`, 255 bytes at most.
pub fn check_name(name: &str) -> ApiResult<()> {
    let invalid = || {
        ApiError::new(
            Code::NameInvalid,
            format!("invalid repository name: {name:?}"),
        )
    };
    if name.is_empty() || name.len() > 255 {
        return Err(invalid());
    }
    for comp in name.split('/') {
        if !strata_core::reference::is_component(comp) {
            return Err(invalid());
        }
    }
    Ok(())
}

/// Whether `t` is a valid tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn is_tag(t: &str) -> bool {
    strata_core::reference::is_tag(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(p: &str) -> Route {
        parse(p).unwrap().unwrap()
    }

    #[test]
    fn routes_match_from_the_right_so_names_may_contain_route_words() {
        assert_eq!(ok("/v2/"), Route::Base);
        assert_eq!(ok("/v2"), Route::Base);
        assert_eq!(ok("/v2/_catalog"), Route::Catalog);
        assert_eq!(
            ok("/v2/a/blobs/b/manifests/latest"),
            Route::Manifest {
                repo: "a/blobs/b".into(),
                reference: "latest".into()
            }
        );
        assert_eq!(
            ok("/v2/team/app/blobs/uploads/"),
            Route::UploadStart {
                repo: "team/app".into()
            }
        );
        assert_eq!(
            ok("/v2/team/app/blobs/uploads"),
            Route::UploadStart {
                repo: "team/app".into()
            }
        );
        assert_eq!(
            ok("/v2/x/blobs/uploads/abc"),
            Route::Upload {
                repo: "x".into(),
                id: "abc".into()
            }
        );
        assert_eq!(
            ok("/v2/tags/tags/list"),
            Route::Tags {
                repo: "tags".into()
            }
        );
        assert_eq!(
            ok("/v2/x/referrers/sha256:ab"),
            Route::Referrers {
                repo: "x".into(),
                digest: "sha256:ab".into()
            }
        );
        assert!(parse("/v2/x/unknown").is_none());
        assert!(parse("/v3/x/tags/list").is_none());
        assert!(parse("/v2/manifests/latest").is_none());
    }

    #[test]
    fn path_tricks_in_names_are_invalid() {
        for p in [
            "/v2/../etc/manifests/latest",
            "/v2/a/../b/manifests/latest",
            "/v2/a//b/manifests/latest",
            "/v2/A/manifests/latest",
            "/v2/a%2F..%2Fb/manifests/latest",
            "/v2/a-/manifests/latest",
            "/v2/.a/manifests/latest",
            "/v2/a___b/manifests/latest",
        ] {
            let e = parse(p).unwrap().unwrap_err();
            assert_eq!(e.code, Code::NameInvalid, "{p}");
        }
        for n in ["a", "a.b", "a_b", "a__b", "a---b", "a/b/c", "0-9"] {
            check_name(n).unwrap();
        }
    }

    #[test]
    fn tags_follow_the_spec_grammar() {
        assert!(is_tag("latest") && is_tag("_x") && is_tag("1.0-rc_1"));
        assert!(!is_tag("") && !is_tag(".x") && !is_tag("-x") && !is_tag("a:b"));
        assert!(!is_tag(&"a".repeat(129)) && is_tag(&"a".repeat(128)));
    }
}
