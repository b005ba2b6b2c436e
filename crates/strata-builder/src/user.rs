//! Turning `USER` and `--chown` values into numeric IDs with the image's
//! `/etc/passwd` and `/etc/group`, as Docker does.
//!
//! - `USER name` runs as name's uid with its primary gid; `USER 1000` with
//!   no passwd entry runs as 1000:0.
//! - `--chown=user` without a group uses the same number for the group
//!   (Docker's documented rule), whether user is a name or a number.

use crate::fs_view::{FsView, Kind};

/// A resolved owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ids {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

fn read_table(view: &FsView, path: &str) -> Vec<Vec<String>> {
    let Some(found) = view.stat(path, true) else {
        return Vec::new();
    };
    if !matches!(found.entry.kind, Kind::File | Kind::Hardlink) {
        return Vec::new();
    }
    let Ok(bytes) = view.read(&found) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split(':').map(str::to_owned).collect())
        .collect()
}

fn lookup_user(view: &FsView, user: &str) -> Option<(u32, u32)> {
    read_table(view, "etc/passwd").into_iter().find_map(|f| {
        let matches = f.first().map(String::as_str) == Some(user)
            || f.get(2).map(String::as_str) == Some(user);
        if matches && f.len() >= 4 {
            Some((f[2].parse().ok()?, f[3].parse().ok()?))
        } else {
            None
        }
    })
}

fn lookup_group(view: &FsView, group: &str) -> Option<u32> {
    read_table(view, "etc/group").into_iter().find_map(|f| {
        if f.first().map(String::as_str) == Some(group) && f.len() >= 3 {
            f[2].parse().ok()
        } else {
            None
        }
    })
}

fn group_id(view: &FsView, group: &str) -> Result<u32, String> {
    match group.parse::<u32>() {
        Ok(n) => Ok(n),
        Err(_) => lookup_group(view, group).ok_or_else(|| format!("unable to find group {group}")),
    }
}

/// The IDs a `RUN` executes as for `USER spec`.
pub(crate) fn for_user(view: &FsView, spec: &str) -> Result<Ids, String> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let (uid, primary) = match user.parse::<u32>() {
        Ok(n) => (n, lookup_user(view, user).map_or(0, |(_, g)| g)),
        Err(_) => lookup_user(view, user).ok_or_else(|| {
            format!("unable to find user {user}: no matching entries in passwd file")
        })?,
    };
    let gid = match group {
        Some(g) if !g.is_empty() => group_id(view, g)?,
        _ => primary,
    };
    Ok(Ids { uid, gid })
}

/// The owner `--chown=spec` gives.
pub(crate) fn for_chown(view: &FsView, spec: &str) -> Result<Ids, String> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let uid = match user.parse::<u32>() {
        Ok(n) => n,
        Err(_) => lookup_user(view, user).map(|(u, _)| u).ok_or_else(|| {
            format!("unable to find user {user}: no matching entries in passwd file")
        })?,
    };
    let gid = match group {
        Some(g) if !g.is_empty() => group_id(view, g)?,
        _ => uid,
    };
    Ok(Ids { uid, gid })
}
