//! Retention policies: which tags and untagged manifests to drop, per
//! repository pattern. The first policy whose pattern matches a
//! repository applies to it; repositories no policy matches keep
//! everything.
//!
//! ```toml
//! [[retention]]
//! repos = "team/**"
//! keep_last = 10          # the 10 most recently pushed tags stay
//! unpulled_days = 30      # tags not pulled (or pushed) for 30 days go
//! drop_untagged = true    # manifests no tag, kept index or kept subject needs go
//! protect = ["v*", "latest"]   # tags matching these always stay
//! ```
//!
//! [`plan`] decides, [`apply`] carries it out with conditional deletes, so
//! a tag pushed again after the plan was made is not dropped. Freed blobs
//! go with the next garbage collection.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use strata_core::{Digest, ImageIndex, ManifestKind, ManifestProbe};
use strata_store::{RegistryManifest, RegistryTag, Store};

use crate::auth::repo_match;

/// One `[[retention]]` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Repository pattern (`*` within a component, `**` across).
    pub repos: String,
    /// Keep this many most recently pushed (unprotected) tags.
    pub keep_last: Option<usize>,
    /// Drop tags whose last pull (or push, if never pulled) is older.
    pub unpulled_days: Option<u32>,
    /// Drop manifests nothing keeps.
    #[serde(default)]
    pub drop_untagged: bool,
    /// Tag patterns (`*` and `?`) never dropped.
    #[serde(default)]
    pub protect: Vec<String>,
}

/// What retention would drop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Tags to drop, with the reason.
    pub tags: Vec<(RegistryTag, String)>,
    /// Untagged manifests to drop: repository and digest.
    pub manifests: Vec<(String, Digest)>,
}

fn tag_match(pattern: &str, tag: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') => (0..=s.len()).any(|i| go(&p[1..], &s[i..])),
            Some(b'?') => !s.is_empty() && go(&p[1..], &s[1..]),
            Some(&c) => s.first() == Some(&c) && go(&p[1..], &s[1..]),
        }
    }
    go(pattern.as_bytes(), tag.as_bytes())
}

/// Decides what `policies` drop, as of `now` (Unix seconds).
pub fn plan(store: &Store, policies: &[Policy], now: i64) -> strata_store::Result<Plan> {
    let mut out = Plan::default();
    if policies.is_empty() {
        return Ok(out);
    }
    let mut tags: BTreeMap<String, Vec<RegistryTag>> = BTreeMap::new();
    for t in store.registry_all_tags()? {
        tags.entry(t.repo.clone()).or_default().push(t);
    }
    let mut manifests: BTreeMap<String, Vec<RegistryManifest>> = BTreeMap::new();
    for m in store.registry_all_manifests()? {
        manifests.entry(m.repo.clone()).or_default().push(m);
    }
    let repos: BTreeSet<&String> = tags.keys().chain(manifests.keys()).collect();
    for repo in repos {
        let Some(policy) = policies.iter().find(|p| repo_match(&p.repos, repo)) else {
            continue;
        };
        let mut repo_tags = tags.get(repo).cloned().unwrap_or_default();
        // Newest first; the tag name breaks ties so plans are stable.
        repo_tags.sort_by(|a, b| b.pushed_unix.cmp(&a.pushed_unix).then(a.tag.cmp(&b.tag)));
        let mut kept = Vec::new();
        let mut unprotected = 0usize;
        for t in repo_tags {
            if policy.protect.iter().any(|p| tag_match(p, &t.tag)) {
                kept.push(t);
                continue;
            }
            unprotected += 1;
            if let Some(n) = policy.keep_last
                && unprotected > n
            {
                out.tags.push((t, format!("beyond the last {n} pushed")));
                continue;
            }
            if let Some(days) = policy.unpulled_days {
                let last = t.pulled_unix.unwrap_or(t.pushed_unix).max(t.pushed_unix);
                if now - last > i64::from(days) * 86400 {
                    out.tags.push((t, format!("not pulled for {days} days")));
                    continue;
                }
            }
            kept.push(t);
        }
        if !policy.drop_untagged {
            continue;
        }
        // Keep what a kept tag names, then what kept indexes name and the
        // referrers of kept manifests, until nothing changes.
        let all = manifests.get(repo).cloned().unwrap_or_default();
        let mut keep: BTreeSet<Digest> = kept.iter().map(|t| t.digest.clone()).collect();
        loop {
            let before = keep.len();
            for m in &all {
                if keep.contains(&m.digest) {
                    for child in index_children(store, &m.digest) {
                        keep.insert(child);
                    }
                } else if m.subject.as_ref().is_some_and(|s| keep.contains(s)) {
                    keep.insert(m.digest.clone());
                }
            }
            if keep.len() == before {
                break;
            }
        }
        for m in all {
            if !keep.contains(&m.digest) {
                out.manifests.push((repo.clone(), m.digest));
            }
        }
    }
    Ok(out)
}

fn index_children(store: &Store, digest: &Digest) -> Vec<Digest> {
    let Ok(bytes) = store.read_blob(digest) else {
        return Vec::new();
    };
    let is_index = serde_json::from_slice::<ManifestProbe>(&bytes)
        .ok()
        .and_then(|p| p.kind())
        == Some(ManifestKind::Index);
    if !is_index {
        return Vec::new();
    }
    serde_json::from_slice::<ImageIndex>(&bytes)
        .map(|i| i.manifests.into_iter().map(|d| d.digest).collect())
        .unwrap_or_default()
}

/// Carries out a plan; returns how many tags and manifests went.
pub fn apply(store: &Store, plan: &Plan) -> strata_store::Result<(usize, usize)> {
    let mut tags = 0;
    for (t, _) in &plan.tags {
        if store.registry_delete_tag_if(&t.repo, &t.tag, &t.digest, t.pushed_unix)? {
            tags += 1;
        }
    }
    let mut manifests = 0;
    for (repo, d) in &plan.manifests {
        if store.registry_delete_untagged_manifest(repo, d)? {
            manifests += 1;
        }
    }
    Ok((tags, manifests))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_patterns_use_star_and_question_mark() {
        assert!(tag_match("v*", "v1.2"));
        assert!(tag_match("latest", "latest"));
        assert!(tag_match("rc?", "rc1"));
        assert!(!tag_match("v*", "dev"));
        assert!(!tag_match("rc?", "rc10"));
    }
}
