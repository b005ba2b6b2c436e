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
