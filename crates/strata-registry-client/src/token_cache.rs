//! `Authorization` values kept per registry and scope set: bearer tokens
//! until they expire (the token spec's `expires_in`, 60 s when missing
//! or smaller, counted from `issued_at` when given, less a margin), Basic
//! answers for the life of the client. Shared by every thread of a
//! transfer, so one token serves all the requests of one scope set.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// The spec's default and minimum token lifetime.
const MIN_LIFETIME: Duration = Duration::from_secs(60);
/// Renewed this long before the registry would refuse it, at most.
const MAX_MARGIN: Duration = Duration::from_secs(30);

/// Registry domain and scope set (sorted, space separated).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    registry: String,
    scopes: String,
}

impl CacheKey {
    /// The key of `scopes` at `registry`; the order of the scopes does not
    /// matter.
    pub(crate) fn new(registry: &str, scopes: &[String]) -> CacheKey {
        let mut sorted: Vec<&str> = scopes.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        CacheKey {
            registry: registry.to_owned(),
            scopes: sorted.join(" "),
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    auth: String,
    /// None: valid as long as the client lives (Basic).
    renew_at: Option<Instant>,
}

/// The cache.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<CacheKey, Entry>>,
}

impl TokenCache {
    /// The value for `key` if it is still good at `now`.
    pub(crate) fn get(&self, key: &CacheKey, now: Instant) -> Option<String> {
        let mut entries = self.entries.lock().expect("token cache");
        match entries.get(key) {
            Some(e) if e.renew_at.is_none_or(|t| now < t) => Some(e.auth.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `auth` for `key` until `renew_at` (None: for good).
    pub(crate) fn put(&self, key: CacheKey, auth: String, renew_at: Option<Instant>) {
        self.entries
            .lock()
            .expect("token cache")
            .insert(key, Entry { auth, renew_at });
    }

    /// Forgets `key` if it still holds `auth` (the registry refused it).
    pub(crate) fn forget(&self, key: &CacheKey, auth: &str) {
        let mut entries = self.entries.lock().expect("token cache");
        if entries.get(key).is_some_and(|e| e.auth == auth) {
            entries.remove(key);
        }
    }
}

/// When a token received at `now` (`now_wall` on the wall clock) should
/// be renewed: `issued_at` (RFC 3339, when given and sane) plus
/// `expires_in` seconds (at least 60), less a tenth of the lifetime (at
/// most 30 s).
pub(crate) fn renew_at(
    expires_in: Option<u64>,
    issued_at: Option<&str>,
    now: Instant,
    now_wall: SystemTime,
) -> Instant {
    let lifetime = expires_in
        .map(Duration::from_secs)
        .unwrap_or(MIN_LIFETIME)
        .max(MIN_LIFETIME);
    let age = issued_at
        .and_then(|s| s.parse::<strata_core::Timestamp>().ok())
        .and_then(|t| {
            let issued = u64::try_from(t.unix_nanos()).ok()?;
            let wall = now_wall.duration_since(SystemTime::UNIX_EPOCH).ok()?;
            // A token "issued in the future" (clocks apart) counts as new.
            Some(wall.saturating_sub(Duration::from_nanos(issued)))
        })
        .unwrap_or(Duration::ZERO);
    let left = lifetime.saturating_sub(age);
    let margin = (lifetime / 10).min(MAX_MARGIN);
    now + left.saturating_sub(margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keys_ignore_scope_order_and_tell_registries_apart() {
        let a = CacheKey::new(
            "r:5000",
            &scopes(&["repository:a:pull", "repository:b:pull"]),
        );
        let b = CacheKey::new(
            "r:5000",
            &scopes(&["repository:b:pull", "repository:a:pull"]),
        );
        let c = CacheKey::new(
            "q:5000",
            &scopes(&["repository:a:pull", "repository:b:pull"]),
        );
        let d = CacheKey::new("r:5000", &scopes(&["repository:a:pull"]));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn tokens_are_served_until_renewal_and_basic_answers_for_good() {
        let cache = TokenCache::default();
        let t0 = Instant::now();
        let key = CacheKey::new("r", &scopes(&["repository:a:pull"]));
        cache.put(
            key.clone(),
            "Bearer one".into(),
            Some(t0 + Duration::from_secs(54)),
        );
        assert_eq!(cache.get(&key, t0).as_deref(), Some("Bearer one"));
        assert_eq!(
            cache.get(&key, t0 + Duration::from_secs(53)).as_deref(),
            Some("Bearer one")
        );
        assert_eq!(cache.get(&key, t0 + Duration::from_secs(54)), None);
        // Expired entries are dropped, not resurrected by an earlier clock.
        assert_eq!(cache.get(&key, t0), None);

        let basic = CacheKey::new("b", &scopes(&["repository:a:pull"]));
        cache.put(basic.clone(), "Basic xyz".into(), None);
        assert_eq!(
            cache
                .get(&basic, t0 + Duration::from_secs(86400))
                .as_deref(),
            Some("Basic xyz")
        );
        // A refused value goes; a newer one another thread stored stays.
        cache.forget(&basic, "Basic old");
        assert!(cache.get(&basic, t0).is_some());
        cache.forget(&basic, "Basic xyz");
        assert_eq!(cache.get(&basic, t0), None);
    }

    #[test]
    fn lifetimes_follow_the_token_spec() {
        let now = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let secs = |i: Instant| i.duration_since(now).as_secs();
        // Missing: 60 s, less 6 s.
        assert_eq!(secs(renew_at(None, None, now, wall)), 54);
        // Below the minimum: raised to 60 s.
        assert_eq!(secs(renew_at(Some(10), None, now, wall)), 54);
        // 300 s: less 30 s; an hour: still less only 30 s.
        assert_eq!(secs(renew_at(Some(300), None, now, wall)), 270);
        assert_eq!(secs(renew_at(Some(3600), None, now, wall)), 3570);
        // Issued 100 s ago with 300 s to live: 200 s left, less 30 s.
        let issued = "2023-11-14T22:11:40Z";
        assert_eq!(secs(renew_at(Some(300), Some(issued), now, wall)), 170);
        // Issued long ago: renew at once.
        let old = "2020-09-13T12:26:40.5Z";
        assert_eq!(secs(renew_at(Some(300), Some(old), now, wall)), 0);
        // Issued "in the future" or unparsable: counted from now.
        let ahead = "2023-11-14T22:21:40+00:00";
        assert_eq!(secs(renew_at(Some(300), Some(ahead), now, wall)), 270);
        assert_eq!(secs(renew_at(Some(300), Some("yesterday"), now, wall)), 270);
    }
}
