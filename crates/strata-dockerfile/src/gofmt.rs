//! Go's `%q` string quoting and BuildKit's "did you mean" suggestions.
//!
//! BuildKit formats many user-facing messages with `%q` (`strconv.Quote`)
//! and appends suggestions from `util/suggest`; matching both byte for byte
//! keeps our diagnostics identical to what `docker build` prints.

/// Quotes `s` the way Go's `strconv.Quote` (and `%q`, `%#v`) does.
///
/// Printable characters are kept as they are; the quote and backslash are
/// escaped; control characters get Go's short escapes or `\xNN`, other
/// non-printable characters `\uNNNN` / `\UNNNNNNNN`. "Printable" follows
/// Go's `unicode.IsPrint` for every character a Dockerfile realistically
/// contains (controls, non-ASCII spaces and the common format characters).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_print(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint`: graphic characters plus the
/// ASCII space.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    // Format characters (category Cf) that Go refuses to print raw.
    !matches!(c,
        '\u{ad}'
        | '\u{600}'..='\u{605}'
        | '\u{61c}'
        | '\u{6dd}'
        | '\u{70f}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{e000}'..='\u{f8ff}'
    )
}

/// Levenshtein distance over characters (unit costs), as used by BuildKit's
/// suggestions.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// BuildKit's `suggest.Search`: the closest option within distance 2, or
/// nothing when `val` matches an option exactly (the error is then about
/// something else).
///
/// Go walks a map, so ties are broken randomly there; we take the first of
/// `options` in the order given, which callers keep sorted.
pub(crate) fn suggest(val: &str, options: &[&str], case_sensitive: bool) -> Option<String> {
    let needle = if case_sensitive {
        val.to_owned()
    } else {
        val.to_lowercase()
    };
    let mut best: Option<String> = None;
    let mut min = 3;
    for opt in options {
        let opt = if case_sensitive {
            (*opt).to_owned()
        } else {
            opt.to_lowercase()
        };
        if needle == opt {
            return None;
        }
        let dist = levenshtein(&needle, &opt);
        if dist < min {
            min = dist;
            best = Some(if case_sensitive {
                opt
            } else {
                match_case(&opt, val)
            });
        }
    }
    best
}

/// Gives the suggestion the casing the user typed, when that was all lower
/// or all upper case.
fn match_case(val: &str, orig: &str) -> String {
    if orig == orig.to_lowercase() {
        val.to_lowercase()
    } else if orig == orig.to_uppercase() {
        val.to_uppercase()
    } else {
        val.to_owned()
    }
}

/// Appends BuildKit's ` (did you mean X?)` to `message` when a suggestion
/// exists.
pub(crate) fn with_suggestion(
    message: String,
    val: &str,
    options: &[&str],
    case_sensitive: bool,
) -> String {
    match suggest(val, options, case_sensitive) {
        Some(m) => format!("{message} (did you mean {m}?)"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("tab\there\n"), r#""tab\there\n""#);
        assert_eq!(quote("\u{1}"), r#""\x01""#);
        assert_eq!(quote("\u{a0}"), r#""\u00a0""#);
        assert_eq!(quote("안녕"), "\"안녕\"");
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(
            suggest("FORM", &["FROM", "RUN"], false).as_deref(),
            Some("FROM")
        );
        assert_eq!(suggest("from", &["FROM"], false), None);
        assert_eq!(
            suggest("mout", &["mount", "network"], true).as_deref(),
            Some("mount")
        );
        assert_eq!(suggest("xyzzy", &["mount"], true), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
