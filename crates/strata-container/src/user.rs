//! `-u USER[:GROUP]` and the image's `User` as numeric IDs, with the
//! container's `/etc/passwd` and `/etc/group`, as Docker (runc's `user`
//! package) resolves them: a name must exist; a number need not; the
//! primary group comes from the passwd entry (0 without one); the
//! supplementary groups are those `/etc/group` lists the user in.

use crate::error::{ContainerError, Result};

/// A resolved user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ids {
    /// User ID.
    pub uid: u32,
    /// Primary group ID.
    pub gid: u32,
    /// Supplementary group IDs.
    pub additional_gids: Vec<u32>,
    /// The home directory from passwd (`/` without an entry), for `HOME`.
    pub home: String,
}

fn table(text: Option<String>) -> Vec<Vec<String>> {
    text.unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split(':').map(str::to_owned).collect())
        .collect()
}

/// Resolves `spec` (empty means root) with `read(path)` giving the
/// container's files (`None` when absent).
pub fn resolve(spec: &str, read: &dyn Fn(&str) -> Option<String>) -> Result<Ids> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let user = if user.is_empty() { "0" } else { user };
    let passwd = table(read("/etc/passwd"));
    let entry = passwd
        .iter()
        .find(|f| f.len() >= 4 && (f[0] == user || (user.parse::<u32>().is_ok() && f[2] == user)));
    let (uid, mut gid, name, home) = match (entry, user.parse::<u32>()) {
        (Some(f), _) => (
            f[2].parse().unwrap_or(0),
            f[3].parse().unwrap_or(0),
            f[0].clone(),
            f.get(5).cloned().unwrap_or_else(|| "/".into()),
        ),
        (None, Ok(n)) => (n, 0, String::new(), "/".into()),
        (None, Err(_)) => {
            return Err(ContainerError::Invalid(format!(
                "unable to find user {user}: no matching entries in passwd file"
            )));
        }
    };
    let groups = table(read("/etc/group"));
    if let Some(g) = group.filter(|g| !g.is_empty()) {
        gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => groups
                .iter()
                .find(|f| f.len() >= 3 && f[0] == g)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| {
                    ContainerError::Invalid(format!(
                        "unable to find group {g}: no matching entries in group file"
                    ))
                })?,
        };
    }
    let mut additional_gids = Vec::new();
    if !name.is_empty() {
        for f in &groups {
            let member = f.get(3).is_some_and(|m| m.split(',').any(|m| m == name));
            if let (true, Some(id)) = (member, f.get(2).and_then(|g| g.parse().ok()))
                && id != gid
                && !additional_gids.contains(&id)
            {
                additional_gids.push(id);
            }
        }
    }
    Ok(Ids {
        uid,
        gid,
        additional_gids,
        home,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\nbob:x:1000:100::/home/bob:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nusers:x:100:\nwheel:x:10:bob\naudio:x:29:bob,www\n";

    fn files(path: &str) -> Option<String> {
        match path {
            "/etc/passwd" => Some(PASSWD.into()),
            "/etc/group" => Some(GROUP.into()),
            _ => None,
        }
    }

    #[test]
    fn users_and_groups_resolve_as_docker_does() {
        let ids = |s: &str| {
            let i = resolve(s, &files).unwrap();
            (i.uid, i.gid, i.additional_gids, i.home)
        };
        assert_eq!(ids(""), (0, 0, vec![], "/root".into()));
        assert_eq!(ids("bob"), (1000, 100, vec![10, 29], "/home/bob".into()));
        assert_eq!(ids("1000"), (1000, 100, vec![10, 29], "/home/bob".into()));
        assert_eq!(ids("4242"), (4242, 0, vec![], "/".into()));
        assert_eq!(ids("www:wheel"), (33, 10, vec![29], "/var/www".into()));
        assert_eq!(ids("4242:7"), (4242, 7, vec![], "/".into()));
        let err = resolve("nobody", &files).unwrap_err().to_string();
        assert_eq!(
            err,
            "unable to find user nobody: no matching entries in passwd file"
        );
        let err = resolve("bob:nogroup", &files).unwrap_err().to_string();
        assert!(err.contains("unable to find group nogroup"), "{err}");
    }

    #[test]
    fn an_image_without_passwd_runs_as_root_by_number() {
        let none = |_: &str| None;
        assert_eq!(resolve("", &none).unwrap().uid, 0);
        assert!(resolve("root", &none).is_err());
    }
}
