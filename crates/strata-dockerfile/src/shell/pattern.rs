//! Shell patterns for `${V#p}`, `${V%p}` and `${V/p/r}`, translated to
//! regular expressions the way BuildKit does it.
//!
//! `*` and `?` are wildcards; `\*`, `\?` and `\\` are literal; `\}` and `\/`
//! drop the backslash (it only kept the character from ending the operand).
//! Every other character, brackets included, is literal: BuildKit does not
//! implement bracket expressions, so neither do we.

use regex::Regex;

/// Converts a shell pattern into a regular expression; `greedy` picks `.*`
/// over `.*?` for `*`, `anchored` matches at the start only.
fn to_regex(pattern: &str, greedy: bool, anchored: bool) -> Result<Regex, String> {
    let mut out = String::with_capacity(pattern.len() + 4);
    if anchored {
        out.push('^');
    }
    let star = if greedy { ".*" } else { ".*?" };
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str(star),
            '?' => out.push('.'),
            '\\' => {
                if matches!(chars.peek(), Some('}' | '/')) {
                    continue;
                }
                match chars.next() {
                    Some(e @ ('*' | '?' | '\\')) => {
                        out.push('\\');
                        out.push(e);
                    }
                    // Go prints the missing character as U+FFFD.
                    other => {
                        return Err(format!(
                            "invalid escape '\\{}'",
                            other.unwrap_or('\u{fffd}')
                        ));
                    }
                }
            }
            '[' | ']' | '{' | '}' | '.' | '+' | '(' | ')' | '|' | '^' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    Regex::new(&out).map_err(|e| e.to_string())
}

fn invalid(pattern: &str, err: String) -> String {
    format!("invalid pattern ({pattern}) in substitution: {err}")
}

/// `${V#pattern}` (shortest) and `${V##pattern}` (longest, `greedy`).
pub(super) fn trim_prefix(pattern: &str, value: &str, greedy: bool) -> Result<String, String> {
    let re = to_regex(pattern, greedy, true).map_err(|e| invalid(pattern, e))?;
    Ok(match re.find(value) {
        Some(m) => value[m.end()..].to_owned(),
        None => value.to_owned(),
    })
}

/// `${V%pattern}` and `${V%%pattern}`: a regular expression cannot find the
/// shortest match ending at the end, so both the value and the pattern are
/// reversed and the prefix rule applied.
pub(super) fn trim_suffix(pattern: &str, value: &str, greedy: bool) -> Result<String, String> {
    let reversed_value: String = value.chars().rev().collect();
    let trimmed = trim_prefix(&reverse_pattern(pattern), &reversed_value, greedy)?;
    Ok(trimmed.chars().rev().collect())
}

/// Reverses a pattern, keeping each `\x` escape pair in order.
fn reverse_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = vec!['\0'; chars.len()];
    let last = chars.len().saturating_sub(1);
    let mut i = 0;
    while i < chars.len() {
        let o = last - i;
        if chars[i] == '\\' && i != last {
            out[o - 1] = '\\';
            out[o] = chars[i + 1];
            i += 2;
        } else {
            out[o] = chars[i];
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// `${V/pattern/replacement}` (first match, replacement literal) and
/// `${V//pattern/replacement}` (every match, with Go's `ReplaceAllString`
/// rules: `$0`/`${0}` is the match, `$$` a dollar, other `$name` nothing).
pub(super) fn replace(
    pattern: &str,
    value: &str,
    replacement: &str,
    all: bool,
) -> Result<String, String> {
    let re = to_regex(pattern, true, false).map_err(|e| invalid(pattern, e))?;
    if !all {
        return Ok(match re.find(value) {
            Some(m) => format!("{}{replacement}{}", &value[..m.start()], &value[m.end()..]),
            None => value.to_owned(),
        });
    }
    Ok(replace_all(&re, value, replacement))
}

/// Go's `Regexp.ReplaceAllString`, including its handling of empty matches:
/// an empty match right after a previous match is not replaced.
fn replace_all(re: &Regex, src: &str, template: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut last_end = 0;
    let mut pos = 0;
    while pos <= src.len() {
        let Some(m) = re.find_at(src, pos) else { break };
        out.push_str(&src[last_end..m.start()]);
        if m.end() > last_end || m.start() == 0 {
            expand_template(&mut out, template, m.as_str());
        }
        last_end = m.end();
        let width = src[pos..].chars().next().map_or(0, char::len_utf8);
        pos = if pos + width > m.end() {
            pos + width
        } else if pos + 1 > m.end() {
            pos + 1
        } else {
            m.end()
        };
    }
    out.push_str(&src[last_end..]);
    out
}

/// Go's `Regexp.Expand` for a regular expression without capture groups.
fn expand_template(out: &mut String, template: &str, whole: &str) {
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
            continue;
        }
        match extract_name(rest) {
            Some((name, r)) => {
                if name == "0" {
                    out.push_str(whole);
                }
                rest = r;
            }
            None => out.push('$'),
        }
    }
    out.push_str(rest);
}

/// A `$name` or `${name}` reference at the start of `s`: the name and what
/// follows it.
fn extract_name(s: &str) -> Option<(&str, &str)> {
    let (brace, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let len: usize = body
        .chars()
        .take_while(|c| c.is_alphabetic() || c.is_numeric() || *c == '_')
        .map(char::len_utf8)
        .sum();
    if len == 0 {
        return None;
    }
    let name = &body[..len];
    let rest = &body[len..];
    if brace {
        return rest.strip_prefix('}').map(|r| (name, r));
    }
    Some((name, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_patterns() {
        let re = to_regex(r"(()[]{\}^$.\*\?|\\", true, true).unwrap();
        assert_eq!(re.as_str(), r"^\(\(\)\[\]\{\}\^\$\.\*\?\|\\");
        assert_eq!(to_regex("*", false, true).unwrap().as_str(), "^.*?");
        for bad in ["\\", "\\x", "\\\\\\"] {
            assert!(to_regex(bad, true, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn reverses_patterns_keeping_escapes() {
        assert_eq!(reverse_pattern(r"a\*c"), r"c\*a");
        assert_eq!(reverse_pattern(r"\\\ab"), r"b\a\\");
        assert_eq!(reverse_pattern("ab\\"), "\\ba");
        assert_eq!(reverse_pattern(""), "");
    }

    #[test]
    fn replace_all_follows_go() {
        let re = Regex::new("").unwrap();
        assert_eq!(replace_all(&re, "ab", "-"), "-a-b-");
        let re = Regex::new("a*").unwrap();
        assert_eq!(replace_all(&re, "baaac", "-"), "-b-c-");
        let re = Regex::new("o").unwrap();
        assert_eq!(replace_all(&re, "foo", "[$0]$$"), "f[o]$[o]$");
        assert_eq!(replace_all(&re, "foo", "${1}x$"), "fx$x$");
    }
}
