//! Who may do what: htpasswd (bcrypt) Basic auth, or Docker's token auth
//! with a built-in token endpoint (`/token`) issuing signed JWTs; access
//! rules per repository pattern and user or group; anonymous pull.
//!
//! Without an `[auth]` section the registry is open. With one, a request
//! carries Basic credentials or a bearer token; a rule (the first whose
//! pattern matches the repository and whose subjects name the user, one of
//! their groups, `*` for any signed-in user, or `anonymous`) grants
//! actions. With no rules at all, signed-in users may do everything and
//! `anonymous_pull` lets anyone pull.
//!
//! Tokens are HS256 JWTs signed with a secret only this server knows
//! (clients treat them as opaque), carrying Docker's `access` claim; a
//! request whose token lacks the needed scope gets a 401 challenge naming
//! that scope, so clients fetch a better token, as Docker's protocol says.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// What a request wants to do to a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Read manifests, blobs, tags, referrers.
    Pull,
    /// Upload blobs and put manifests.
    Push,
    /// Delete manifests, tags, blobs.
    Delete,
}

impl Action {
    /// The action as Docker's scopes spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
        }
    }

    fn parse(s: &str) -> Option<Action> {
        match s {
            "pull" => Some(Action::Pull),
            "push" => Some(Action::Push),
            "delete" | "*" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// One access rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Repository pattern: `*` matches within a component, `**` across
    /// components (`team/**`).
    pub repos: String,
    /// Users, `group:NAME`, `*` (any signed-in user) or `anonymous`.
    pub subjects: Vec<String>,
    /// Granted actions.
    pub actions: Vec<Action>,
}

/// The `[auth]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// An htpasswd file with bcrypt hashes (`htpasswd -B`).
    pub htpasswd: std::path::PathBuf,
    /// Let requests without credentials pull (when no rule says otherwise).
    #[serde(default)]
    pub anonymous_pull: bool,
    /// Groups: name to users.
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<String>>,
    /// Use Docker's token protocol instead of Basic on the API.
    #[serde(default)]
    pub token: Option<TokenConfig>,
    /// Access rules, first match wins.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

/// The `[auth.token]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// The realm URL clients fetch tokens from (default: `/token` on the
    /// host the request came to).
    pub realm: Option<String>,
    /// The service name (default `strata-registry`).
    pub service: Option<String>,
    /// Token lifetime (default 5m).
    pub expiry: Option<String>,
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No credentials.
    Anonymous,
    /// A user proved by password.
    User(String),
    /// A bearer token's subject and grants.
    Token {
        /// The user the token was issued to (empty for anonymous).
        user: String,
        /// Repository to actions.
        access: BTreeMap<String, Vec<Action>>,
    },
}

/// The outcome of a permission check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go on.
    Allow,
    /// No or insufficient credentials: 401 with a challenge.
    Challenge,
    /// Signed in, not allowed: 403.
    Deny,
}

/// The loaded auth state.
pub struct Auth {
    config: AuthConfig,
    users: HashMap<String, String>,
    secret: [u8; 32],
    expiry: Duration,
    /// Successful bcrypt checks, by user and password hash, so a client
    /// sending Basic credentials on every request pays bcrypt once.
    verified: Mutex<HashMap<(String, [u8; 32]), ()>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("users", &self.users.len())
            .field("tokens", &self.uses_tokens())
            .finish()
    }
}

/// Why auth could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The htpasswd file.
    #[error("reading htpasswd {path}: {err}")]
    Htpasswd {
        /// Its path.
        path: String,
        /// What went wrong.
        err: String,
    },
    /// A bad setting.
    #[error("auth config: {0}")]
    Config(String),
}

impl Auth {
    /// Loads the htpasswd file and makes a token secret.
    pub fn new(config: AuthConfig) -> Result<Auth, AuthError> {
        let text = std::fs::read_to_string(&config.htpasswd).map_err(|e| AuthError::Htpasswd {
            path: config.htpasswd.display().to_string(),
            err: e.to_string(),
        })?;
        let mut users = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, hash) = line.split_once(':').ok_or_else(|| AuthError::Htpasswd {
                path: config.htpasswd.display().to_string(),
                err: format!("line {}: no ':'", i + 1),
            })?;
            if !hash.starts_with("$2") {
                return Err(AuthError::Htpasswd {
                    path: config.htpasswd.display().to_string(),
                    err: format!(
                        "line {}: only bcrypt hashes (htpasswd -B) are supported",
                        i + 1
                    ),
                });
            }
            users.insert(user.to_owned(), hash.to_owned());
        }
        let expiry = match config.token.as_ref().and_then(|t| t.expiry.as_deref()) {
            Some(e) => {
                let ns = strata_core::parse_go_duration(e).map_err(AuthError::Config)?;
                Duration::from_nanos(
                    u64::try_from(ns)
                        .map_err(|_| AuthError::Config(format!("negative token expiry {e:?}")))?,
                )
            }
            None => Duration::from_secs(300),
        };
        let mut secret = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut secret[..]);
        Ok(Auth {
            config,
            users,
            secret,
            expiry,
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// Whether the API speaks the token protocol.
    pub fn uses_tokens(&self) -> bool {
        self.config.token.is_some()
    }

    /// The token service name.
    pub fn service(&self) -> String {
        self.config
            .token
            .as_ref()
            .and_then(|t| t.service.clone())
            .unwrap_or_else(|| "strata-registry".to_owned())
    }

    /// The token realm for a request that came to `host`.
    pub fn realm(&self, host: &str, tls: bool) -> String {
        self.config
            .token
            .as_ref()
            .and_then(|t| t.realm.clone())
            .unwrap_or_else(|| format!("{}://{host}/token", if tls { "https" } else { "http" }))
    }

    /// Checks a user's password.
    pub fn check_password(&self, user: &str, password: &str) -> bool {
        let Some(hash) = self.users.get(user) else {
            return false;
        };
        let key = (user.to_owned(), Sha256::digest(password.as_bytes()).into());
        let mut cache = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if cache.contains_key(&key) {
            return true;
        }
        drop(cache);
        let ok = bcrypt::verify(password, hash).unwrap_or(false);
        if ok {
            cache = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            cache.insert(key, ());
        }
        ok
    }

    /// Who sent `authorization` (the header's value), or `None` when the
    /// credentials are wrong.
    pub fn identify(&self, authorization: Option<&str>) -> Option<Principal> {
        let Some(h) = authorization else {
            return Some(Principal::Anonymous);
        };
        if let Some(b) = h.strip_prefix("Basic ") {
            let (user, password) = decode_basic(b)?;
            return self
                .check_password(&user, &password)
                .then_some(Principal::User(user));
        }
        if let Some(t) = h.strip_prefix("Bearer ") {
            let claims = self.verify_token(t.trim())?;
            return Some(Principal::Token {
                user: claims.sub,
                access: claims
                    .access
                    .into_iter()
                    .filter(|a| a.kind == "repository")
                    .map(|a| {
                        (
                            a.name,
                            a.actions.iter().filter_map(|s| Action::parse(s)).collect(),
                        )
                    })
                    .collect(),
            });
        }
        None
    }

    fn groups_of(&self, user: &str) -> Vec<&str> {
        self.config
            .groups
            .iter()
            .filter(|(_, members)| members.iter().any(|m| m == user))
            .map(|(g, _)| g.as_str())
            .collect()
    }

    /// The actions the rules grant `user` (`None`: anonymous) on `repo`.
    pub fn granted(&self, user: Option<&str>, repo: &str) -> Vec<Action> {
        if self.config.rules.is_empty() {
            return match user {
                Some(_) => vec![Action::Pull, Action::Push, Action::Delete],
                None if self.config.anonymous_pull => vec![Action::Pull],
                None => Vec::new(),
            };
        }
        let groups = user.map(|u| self.groups_of(u)).unwrap_or_default();
        for rule in &self.config.rules {
            if !repo_match(&rule.repos, repo) {
                continue;
            }
            let names = rule.subjects.iter().any(|s| match (s.as_str(), user) {
                ("anonymous", None) => true,
                ("*", Some(_)) => true,
                (g, Some(_)) if g.starts_with("group:") => groups.contains(&&g[6..]),
                (u, Some(me)) => u == me,
                _ => false,
            });
            if names {
                return rule.actions.clone();
            }
        }
        if user.is_none() && self.config.anonymous_pull {
            return vec![Action::Pull];
        }
        Vec::new()
    }

    /// May `who` do `action` on `repo` (`None`: the API root or catalog,
    /// which any signed-in user, or anyone with anonymous pull, may see)?
    pub fn check(&self, who: &Principal, repo: Option<&str>, action: Action) -> Verdict {
        match who {
            Principal::Token { access, user } => {
                let Some(repo) = repo else {
                    return Verdict::Allow;
                };
                if access.get(repo).is_some_and(|a| a.contains(&action)) {
                    return Verdict::Allow;
                }
                // The token lacks the scope; a new token may have it if
                // the rules would grant it.
                let user = (!user.is_empty()).then_some(user.as_str());
                if self.granted(user, repo).contains(&action) {
                    Verdict::Challenge
                } else if user.is_some() {
                    Verdict::Deny
                } else {
                    Verdict::Challenge
                }
            }
            Principal::User(u) => match repo {
                None => Verdict::Allow,
                Some(r) if self.granted(Some(u), r).contains(&action) => Verdict::Allow,
                Some(_) => Verdict::Deny,
            },
            Principal::Anonymous => {
                if self.uses_tokens() {
                    return Verdict::Challenge;
                }
                match repo {
                    Some(r) if self.granted(None, r).contains(&action) => Verdict::Allow,
                    _ => Verdict::Challenge,
                }
            }
        }
    }

    /// Issues a token for `user` (`None`: anonymous) with the requested
    /// scopes cut down to what the rules grant. Returns the token and the
    /// lifetime in seconds.
    pub fn issue(&self, user: Option<&str>, scopes: &[String]) -> (String, u64) {
        let mut access: BTreeMap<String, Vec<Action>> = BTreeMap::new();
        for scope in scopes {
            // repository:NAME:ACTIONS (NAME may contain ':' only with a port,
            // which repository names cannot have).
            let mut parts = scope.splitn(3, ':');
            let (Some("repository"), Some(name), Some(actions)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let granted = self.granted(user, name);
            let entry = access.entry(name.to_owned()).or_default();
            for a in actions.split(',').filter_map(Action::parse) {
                if granted.contains(&a) && !entry.contains(&a) {
                    entry.push(a);
                }
            }
            entry.sort();
        }
        let now = unix_now();
        let claims = Claims {
            iss: "strata-registry".to_owned(),
            sub: user.unwrap_or("").to_owned(),
            aud: self.service(),
            exp: now + self.expiry.as_secs(),
            nbf: now.saturating_sub(10),
            iat: now,
            access: access
                .into_iter()
                .map(|(name, actions)| AccessClaim {
                    kind: "repository".to_owned(),
                    name,
                    actions: actions.iter().map(|a| a.as_str().to_owned()).collect(),
                })
                .collect(),
        };
        (self.sign(&claims), self.expiry.as_secs())
    }

    fn sign(&self, claims: &Claims) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let input = format!("{header}.{body}");
        let mac = hmac_sha256(&self.secret, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    fn verify_token(&self, token: &str) -> Option<Claims> {
        let (input, sig) = token.rsplit_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let want = hmac_sha256(&self.secret, input.as_bytes());
        if !constant_time_eq(&sig, &want) {
            return None;
        }
        let (header, body) = input.split_once('.')?;
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        if header["alg"] != "HS256" {
            return None;
        }
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        let now = unix_now();
        (claims.exp > now && claims.nbf <= now && claims.aud == self.service()).then_some(claims)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: u64,
    nbf: u64,
    iat: u64,
    access: Vec<AccessClaim>,
}

#[derive(Debug, Serialize, Deserialize)]
struct AccessClaim {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    actions: Vec<String>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `user:password` from a Basic header's base64.
pub fn decode_basic(b64: &str) -> Option<(String, String)> {
    let raw = STANDARD.decode(b64.trim()).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Repository pattern matching: `*` within a component, `**` across.
pub fn repo_match(pattern: &str, repo: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => {
                let rest = &p[2..];
                (0..=s.len()).any(|i| go(rest, &s[i..]))
            }
            Some(b'*') => {
                let rest = &p[1..];
                for i in 0..=s.len() {
                    if go(rest, &s[i..]) {
                        return true;
                    }
                    if i < s.len() && s[i] == b'/' {
                        break;
                    }
                }
                false
            }
            Some(&c) => s.first() == Some(&c) && go(&p[1..], &s[1..]),
        }
    }
    go(pattern.as_bytes(), repo.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn patterns_match_within_and_across_components() {
        assert!(repo_match("team/*", "team/app"));
        assert!(!repo_match("team/*", "team/app/sub"));
        assert!(repo_match("team/**", "team/app/sub"));
        assert!(repo_match("**", "a/b/c"));
        assert!(repo_match("*/cache", "x/cache"));
        assert!(!repo_match("team/*", "other/app"));
    }

    fn auth(rules: Vec<Rule>, anonymous_pull: bool) -> Auth {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("htpasswd");
        let hash = bcrypt::hash("pw", 4).unwrap();
        std::fs::write(&file, format!("alice:{hash}\nbob:{hash}\n")).unwrap();
        let mut groups = BTreeMap::new();
        groups.insert("devs".to_owned(), vec!["bob".to_owned()]);
        Auth::new(AuthConfig {
            htpasswd: file,
            anonymous_pull,
            groups,
            token: None,
            rules,
        })
        .unwrap()
    }

    #[test]
    fn rules_grant_by_user_group_and_anonymous_first_match_wins() {
        let a = auth(
            vec![
                Rule {
                    repos: "team/**".into(),
                    subjects: vec!["group:devs".into()],
                    actions: vec![Action::Pull, Action::Push],
                },
                Rule {
                    repos: "public/*".into(),
                    subjects: vec!["anonymous".into(), "*".into()],
                    actions: vec![Action::Pull],
                },
            ],
            false,
        );
        assert_eq!(
            a.granted(Some("bob"), "team/x/y"),
            vec![Action::Pull, Action::Push]
        );
        assert!(a.granted(Some("alice"), "team/x").is_empty());
        assert_eq!(a.granted(None, "public/x"), vec![Action::Pull]);
        assert_eq!(a.granted(Some("alice"), "public/x"), vec![Action::Pull]);
        assert!(a.granted(None, "team/x").is_empty());
        let bob = a
            .identify(Some(&format!("Basic {}", STANDARD.encode("bob:pw"))))
            .unwrap();
        assert_eq!(a.check(&bob, Some("team/a"), Action::Push), Verdict::Allow);
        assert_eq!(a.check(&bob, Some("team/a"), Action::Delete), Verdict::Deny);
        assert!(
            a.identify(Some(&format!("Basic {}", STANDARD.encode("bob:no"))))
                .is_none()
        );
        assert_eq!(
            a.check(&Principal::Anonymous, Some("team/a"), Action::Pull),
            Verdict::Challenge
        );
    }

    #[test]
    fn tokens_carry_only_granted_scopes_and_are_refused_when_forged_or_expired() {
        let a = auth(Vec::new(), true);
        let (t, _) = a.issue(None, &["repository:x:pull,push".into()]);
        let p = a.identify(Some(&format!("Bearer {t}"))).unwrap();
        assert_eq!(a.check(&p, Some("x"), Action::Pull), Verdict::Allow);
        // Anonymous may not push: the token does not say push.
        assert_eq!(a.check(&p, Some("x"), Action::Push), Verdict::Challenge);
        let (t, _) = a.issue(Some("alice"), &["repository:x:pull,push".into()]);
        let p = a.identify(Some(&format!("Bearer {t}"))).unwrap();
        assert_eq!(a.check(&p, Some("x"), Action::Push), Verdict::Allow);
        // Tampered claims or signature.
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"iss":"x","sub":"root","aud":"strata-registry","exp":99999999999,"nbf":0,"iat":0,"access":[]}"#);
        parts[1] = &forged;
        assert!(
            a.identify(Some(&format!("Bearer {}", parts.join("."))))
                .is_none()
        );
        // Another server's token (another secret).
        let b = auth(Vec::new(), true);
        assert!(b.identify(Some(&format!("Bearer {t}"))).is_none());
        // Expired.
        let claims = Claims {
            iss: "strata-registry".into(),
            sub: "alice".into(),
            aud: "strata-registry".into(),
            exp: unix_now() - 1,
            nbf: 0,
            iat: 0,
            access: Vec::new(),
        };
        assert!(
            a.identify(Some(&format!("Bearer {}", a.sign(&claims))))
                .is_none()
        );
    }
}
