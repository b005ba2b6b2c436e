//! Version ordering per ecosystem, exactly as the package managers order
//! them: dpkg (Debian policy 5.6.12) and apk (apk-tools' `apk_version_compare`).

use std::cmp::Ordering;

/// dpkg's ordering of `[epoch:]upstream[-revision]`.
pub fn dpkg_cmp(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = dpkg_split(a);
    let (eb, ub, rb) = dpkg_split(b);
    ea.cmp(&eb)
        .then_with(|| dpkg_part(ua, ub))
        .then_with(|| dpkg_part(ra, rb))
}

fn dpkg_split(v: &str) -> (u64, &str, &str) {
    let v = v.trim();
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) if e.chars().all(|c| c.is_ascii_digit()) && !e.is_empty() => {
            (e.parse().unwrap_or(0), r)
        }
        _ => (0, v),
    };
    match rest.rsplit_once('-') {
        Some((u, r)) => (epoch, u, r),
        None => (epoch, rest, ""),
    }
}

/// `~` sorts before everything, even the end; letters before non-letters.
fn dpkg_order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

fn dpkg_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // The non-digit prefix, character by character.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ca = dpkg_order(a.get(i).copied().filter(|c| !c.is_ascii_digit()));
            let cb = dpkg_order(b.get(j).copied().filter(|c| !c.is_ascii_digit()));
            if ca != cb {
                return ca.cmp(&cb);
            }
            if i < a.len() && !a[i].is_ascii_digit() {
                i += 1;
            }
            if j < b.len() && !b[j].is_ascii_digit() {
                j += 1;
            }
        }
        // Then the number, compared as a number.
        let (mut na, mut nb) = (0u128, 0u128);
        while i < a.len() && a[i].is_ascii_digit() {
            na = na
                .saturating_mul(10)
                .saturating_add(u128::from(a[i] - b'0'));
            i += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            nb = nb
                .saturating_mul(10)
                .saturating_add(u128::from(b[j] - b'0'));
            j += 1;
        }
        if na != nb {
            return na.cmp(&nb);
        }
    }
    Ordering::Equal
}

/// apk's ordering: dotted numbers, an optional letter, suffixes
/// (`_alpha` < `_beta` < `_pre` < `_rc` < none < `_cvs` < `_svn` < `_git`
/// < `_hg` < `_p`), then `-rN`.
pub fn apk_cmp(a: &str, b: &str) -> Ordering {
    let pa = apk_parse(a);
    let pb = apk_parse(b);
    pa.cmp(&pb)
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ApkVersion {
    numbers: Vec<u64>,
    letter: u8,
    suffixes: Vec<(i8, u64)>,
    release: u64,
}

fn apk_parse(v: &str) -> ApkVersion {
    let (main, release) = match v.rsplit_once("-r") {
        Some((m, r)) if r.chars().all(|c| c.is_ascii_digit()) && !r.is_empty() => {
            (m, r.parse().unwrap_or(0))
        }
        _ => (v, 0),
    };
    let (core, suffix_part) = match main.split_once('_') {
        Some((c, s)) => (c, Some(s)),
        None => (main, None),
    };
    let mut letter = 0u8;
    let mut core = core;
    if let Some(last) = core.as_bytes().last()
        && last.is_ascii_alphabetic()
    {
        letter = *last;
        core = &core[..core.len() - 1];
    }
    let numbers = core.split('.').map(|n| n.parse().unwrap_or(0)).collect();
    let mut suffixes = Vec::new();
    if let Some(s) = suffix_part {
        for part in s.split('_') {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            let num = part[name.len()..].parse().unwrap_or(0);
            let rank = match name.as_str() {
                "alpha" => -4,
                "beta" => -3,
                "pre" => -2,
                "rc" => -1,
                "cvs" => 1,
                "svn" => 2,
                "git" => 3,
                "hg" => 4,
                "p" => 5,
                _ => 0,
            };
            suffixes.push((rank, num));
        }
    }
    // No suffix sorts between the pre-release ones and the post ones.
    if suffixes.is_empty() {
        suffixes.push((0, 0));
    }
    ApkVersion {
        numbers,
        letter,
        suffixes,
        release,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn dpkg_orders_as_dpkg_does() {
        for (a, b, want) in [
            ("1.0", "1.0", Equal),
            ("1.0", "1.1", Less),
            ("1.10", "1.9", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0", "1.0+b1", Less),
            ("1:1.0", "2.0", Greater),
            ("1.0-1", "1.0-2", Less),
            ("3.0.11-1~deb12u1", "3.0.11-1", Less),
            ("3.0.11-1~deb12u2", "3.0.11-1~deb12u1", Greater),
            ("2.36.1-8+deb12u1", "2.36.1-8", Greater),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0-", Greater),
            ("0", "0:0", Equal),
            ("1.2.3", "1.2.3.0", Less),
        ] {
            assert_eq!(dpkg_cmp(a, b), want, "{a} vs {b}");
            assert_eq!(dpkg_cmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn apk_orders_as_apk_does() {
        for (a, b, want) in [
            ("1.2.3-r0", "1.2.3-r1", Less),
            ("1.2.10-r0", "1.2.9-r0", Greater),
            ("1.2.3_rc1-r0", "1.2.3-r0", Less),
            ("1.2.3_p1-r0", "1.2.3-r0", Greater),
            ("1.2.3a-r0", "1.2.3-r0", Greater),
            ("3.0.8-r0", "3.0.10-r0", Less),
            ("1.2.3_alpha-r0", "1.2.3_beta-r0", Less),
        ] {
            assert_eq!(apk_cmp(a, b), want, "{a} vs {b}");
        }
    }
}

/// Semantic versioning 2.0 precedence (npm, crates.io, Go; a leading `v`
/// and build metadata are ignored).
pub fn semver_cmp(a: &str, b: &str) -> Ordering {
    fn parse(v: &str) -> (Vec<u64>, Option<Vec<String>>) {
        let v = v.trim().trim_start_matches('v');
        let v = v.split('+').next().unwrap_or(v);
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p.split('.').map(str::to_owned).collect())),
            None => (v, None),
        };
        let mut nums: Vec<u64> = core.split('.').map(|n| n.parse().unwrap_or(0)).collect();
        nums.resize(3.max(nums.len()), 0);
        (nums, pre)
    }
    let (na, pa) = parse(a);
    let (nb, pb) = parse(b);
    na.cmp(&nb).then_with(|| match (pa, pb) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            for (i, j) in x.iter().zip(&y) {
                let o = match (i.parse::<u64>(), j.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => i.cmp(j),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
    })
}

/// PEP 440 ordering (`packaging.version`): epoch, release (trailing zeros
/// ignored), then dev < pre (a < b < rc) < final < post, then local.
pub fn pep440_cmp(a: &str, b: &str) -> Ordering {
    pep440_key(a).cmp(&pep440_key(b))
}

type Pep440Key = (
    u64,
    Vec<u64>,
    (i64, i64, u64),
    (i64, u64),
    (i64, u64),
    Vec<(i64, String)>,
);

fn pep440_key(v: &str) -> Pep440Key {
    let v = v.trim().to_lowercase();
    let v = v.trim_start_matches('v');
    let (v, local) = match v.split_once('+') {
        Some((m, l)) => (m, Some(l)),
        None => (v, None),
    };
    let (epoch, rest) = match v.split_once('!') {
        Some((e, r)) => (e.parse().unwrap_or(0), r),
        None => (0, v),
    };
    // The release: leading dotted numbers.
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len()
        && (b[i].is_ascii_digit() || (b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
    {
        i += 1;
    }
    let mut release: Vec<u64> = rest[..i]
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    while release.last() == Some(&0) {
        release.pop();
    }
    let tail = rest[i..].replace(['-', '_'], ".");
    let (mut pre, mut post, mut dev) = (None::<(i64, u64)>, None::<u64>, None::<u64>);
    let mut t = tail.trim_start_matches('.');
    let num = |s: &str| -> (u64, usize) {
        let s2 = s.trim_start_matches('.');
        let skip = s.len() - s2.len();
        let d: String = s2.chars().take_while(char::is_ascii_digit).collect();
        (d.parse().unwrap_or(0), skip + d.len())
    };
    while !t.is_empty() {
        let words: [(&str, i64); 9] = [
            ("alpha", 0),
            ("beta", 1),
            ("preview", 2),
            ("pre", 2),
            ("rc", 2),
            ("c", 2),
            ("a", 0),
            ("b", 1),
            ("post", 3),
        ];
        let mut matched = false;
        for (w, rank) in words {
            if let Some(r) = t.strip_prefix(w) {
                let (n, used) = num(r);
                if rank == 3 {
                    post = Some(n);
                } else {
                    pre = Some((rank, n));
                }
                t = r[used..].trim_start_matches('.');
                matched = true;
                break;
            }
        }
        if matched {
            continue;
        }
        if let Some(r) = t.strip_prefix("dev") {
            let (n, used) = num(r);
            dev = Some(n);
            t = r[used..].trim_start_matches('.');
        } else if let Some(r) = t.strip_prefix("r").or_else(|| t.strip_prefix("rev")) {
            let (n, used) = num(r);
            post = Some(n);
            t = r[used..].trim_start_matches('.');
        } else if t.as_bytes()[0].is_ascii_digit() {
            // An implicit post release: 1.0-1.
            let (n, used) = num(t);
            post = Some(n);
            t = t[used..].trim_start_matches('.');
        } else {
            break;
        }
    }
    let pre_key = match (pre, post, dev) {
        (None, None, Some(_)) => (-1, 0, 0),
        (None, _, _) => (1, 0, 0),
        (Some((r, n)), _, _) => (0, r, n),
    };
    let post_key = post.map_or((-1, 0), |n| (0, n));
    let dev_key = dev.map_or((1, 0), |n| (0, n));
    let local_key = local
        .map(|l| {
            l.split(['.', '-', '_'])
                .map(|p| match p.parse::<u64>() {
                    Ok(n) => (1, format!("{n:020}")),
                    Err(_) => (0, p.to_owned()),
                })
                .collect()
        })
        .unwrap_or_default();
    (epoch, release, pre_key, post_key, dev_key, local_key)
}

/// rpm's ordering of `[epoch:]version[-release]` (`rpmvercmp` on each).
pub fn rpm_cmp(a: &str, b: &str) -> Ordering {
    fn evr(v: &str) -> (u64, &str, &str) {
        let (e, rest) = match v.split_once(':') {
            Some((e, r)) if e.chars().all(|c| c.is_ascii_digit()) => (e.parse().unwrap_or(0), r),
            _ => (0, v),
        };
        match rest.rsplit_once('-') {
            Some((ver, rel)) => (e, ver, rel),
            None => (e, rest, ""),
        }
    }
    let (ea, va, ra) = evr(a);
    let (eb, vb, rb) = evr(b);
    ea.cmp(&eb).then_with(|| rpmvercmp(va, vb)).then_with(|| {
        if ra.is_empty() || rb.is_empty() {
            Ordering::Equal
        } else {
            rpmvercmp(ra, rb)
        }
    })
}

fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    loop {
        while i < a.len() && !a[i].is_ascii_alphanumeric() && a[i] != b'~' && a[i] != b'^' {
            i += 1;
        }
        while j < b.len() && !b[j].is_ascii_alphanumeric() && b[j] != b'~' && b[j] != b'^' {
            j += 1;
        }
        // Tilde sorts before everything, caret after the end only.
        match (a.get(i), b.get(j)) {
            (Some(b'~'), Some(b'~')) => {
                i += 1;
                j += 1;
                continue;
            }
            (Some(b'~'), _) => return Ordering::Less,
            (_, Some(b'~')) => return Ordering::Greater,
            (Some(b'^'), Some(b'^')) => {
                i += 1;
                j += 1;
                continue;
            }
            (Some(b'^'), None) => return Ordering::Greater,
            (None, Some(b'^')) => return Ordering::Less,
            (Some(b'^'), _) => return Ordering::Less,
            (_, Some(b'^')) => return Ordering::Greater,
            _ => {}
        }
        if i >= a.len() || j >= b.len() {
            break;
        }
        let numeric = a[i].is_ascii_digit();
        let take = |s: &[u8], k: &mut usize| {
            let start = *k;
            while *k < s.len()
                && (if numeric {
                    s[*k].is_ascii_digit()
                } else {
                    s[*k].is_ascii_alphabetic()
                })
            {
                *k += 1;
            }
            start
        };
        let (sa, sb) = (take(a, &mut i), take(b, &mut j));
        let (x, y) = (&a[sa..i], &b[sb..j]);
        if y.is_empty() {
            // Different kinds: a number is newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let o = if numeric {
            let x = std::str::from_utf8(x)
                .unwrap_or("0")
                .trim_start_matches('0');
            let y = std::str::from_utf8(y)
                .unwrap_or("0")
                .trim_start_matches('0');
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        } else {
            x.cmp(y)
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, _) => Ordering::Greater,
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn semver_pep440_and_rpm_order_as_their_tools_do() {
        for (a, b, want) in [
            ("1.2.3", "1.2.10", Less),
            ("v1.2.3", "1.2.3", Equal),
            ("1.0.0-alpha", "1.0.0", Less),
            ("1.0.0-alpha.1", "1.0.0-alpha.beta", Less),
            ("1.0.0-beta.2", "1.0.0-beta.11", Less),
            ("1.0.0+build", "1.0.0", Equal),
            ("0.0.0-20210101000000-abcdef", "0.1.0", Less),
        ] {
            assert_eq!(semver_cmp(a, b), want, "semver {a} vs {b}");
        }
        for (a, b, want) in [
            ("1.0", "1.0.0", Equal),
            ("1.0.dev1", "1.0a1", Less),
            ("1.0a1", "1.0b1", Less),
            ("1.0rc1", "1.0", Less),
            ("1.0", "1.0.post1", Less),
            ("1.0.post1", "1.1.dev0", Less),
            ("1!0.1", "2.0", Greater),
            ("1.0+local.1", "1.0", Greater),
            ("2.0.1", "2.0.10", Less),
        ] {
            assert_eq!(pep440_cmp(a, b), want, "pep440 {a} vs {b}");
        }
        for (a, b, want) in [
            ("1.0-1", "1.0-2", Less),
            ("1.0a", "1.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0^git1", "1.0", Greater),
            ("1:1.0", "2.0", Greater),
            ("2.10", "2.9", Greater),
            ("1.0.0", "1.0", Greater),
            ("1.a", "1.1", Less),
        ] {
            assert_eq!(rpm_cmp(a, b), want, "rpm {a} vs {b}");
        }
    }
}
