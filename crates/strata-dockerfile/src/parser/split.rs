//! Splitting one logical line: the instruction keyword, its `--flags`, and
//! the words of `ENV`/`LABEL`/`ARG` (BuildKit's `splitCommand`,
//! `extractBuilderFlags` and `parseWords`).
//!
//! Offsets are byte offsets into the line so the parser can turn them into
//! source positions.

/// BuildKit splits keywords and word lists on `[\t\v\f\r ]+`, a narrower set
/// than Unicode whitespace.
pub(crate) fn is_split_space(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

/// Splits on runs of [`is_split_space`], dropping empty pieces at the start.
/// Returns each piece with its byte offset; at most `limit` pieces (the
/// last one keeps the rest of the string).
pub(crate) fn split_spaces(s: &str, limit: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (is_split_space(c), start) {
            (false, None) => {
                if out.len() + 1 == limit {
                    out.push((i, &s[i..]));
                    return out;
                }
                start = Some(i);
            }
            (true, Some(b)) => {
                out.push((b, &s[b..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(b) = start {
        out.push((b, &s[b..]));
    }
    out
}

/// A logical line taken apart.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Split<'a> {
    /// The keyword as written.
    pub(crate) cmd: &'a str,
    pub(crate) cmd_offset: usize,
    /// Each flag with quotes and escapes processed, and its offset.
    pub(crate) flags: Vec<(String, usize)>,
    /// Everything after the flags, trimmed.
    pub(crate) args: &'a str,
    pub(crate) args_offset: usize,
}

/// BuildKit's `splitCommand`: keyword, flags, rest.
pub(crate) fn split_command(line: &str, escape: char) -> Split<'_> {
    let lead = line.len() - line.trim_start().len();
    let trimmed = line.trim();
    let (cmd, rest, rest_offset) = match trimmed.char_indices().find(|(_, c)| is_split_space(*c)) {
        Some((i, _)) => {
            let after = &trimmed[i..];
            let skip = after.len() - after.trim_start_matches(is_split_space).len();
            (&trimmed[..i], &after[skip..], lead + i + skip)
        }
        None => (trimmed, "", lead + trimmed.len()),
    };
    let (flags, args_pos) = extract_flags(rest, escape);
    let raw_args = &rest[args_pos..];
    let args_lead = raw_args.len() - raw_args.trim_start().len();
    Split {
        cmd,
        cmd_offset: lead,
        flags: flags
            .into_iter()
            .map(|(f, off)| (f, off + rest_offset))
            .collect(),
        args: raw_args.trim(),
        args_offset: rest_offset + args_pos + args_lead,
    }
}

/// Reads leading `--flag` words: quotes group, the escape character takes
/// the next character literally, a bare `--` ends the flags. Returns the
/// flags with their offsets and where the arguments start.
fn extract_flags(line: &str, escape: char) -> (Vec<(String, usize)>, usize) {
    let mut flags = Vec::new();
    let mut chars = line.char_indices().peekable();
    loop {
        // Looking for the start of a word.
        let Some(&(start, c)) = chars.peek() else {
            return (flags, line.len());
        };
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if !line[start..].starts_with("--") {
            return (flags, start);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        let mut blank_ok = false;
        let mut end = line.len();
        while let Some((i, c)) = chars.next() {
            match quote {
                None if c.is_whitespace() => {
                    end = i;
                    break;
                }
                None if c == '\'' || c == '"' => {
                    quote = Some(c);
                    blank_ok = true;
                }
                Some(q) if c == q => quote = None,
                _ if c == escape => match chars.next() {
                    Some((_, e)) => word.push(e),
                    // A trailing escape is dropped (and closes a quote).
                    None => quote = None,
                },
                _ => word.push(c),
            }
        }
        if word == "--" {
            return (flags, end);
        }
        if blank_ok || !word.is_empty() {
            flags.push((word, start));
        }
    }
}

/// BuildKit's `parseWords` for `ENV`, `LABEL` and `ARG`: splits at
/// unquoted whitespace but keeps quotes and escapes in the words (they are
/// removed later, by expansion).
pub(crate) fn parse_words(rest: &str, escape: char) -> Vec<String> {
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut blank_ok = false;
    let mut in_word = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let last = i + 1 == chars.len();
        i += 1;
        match quote {
            None if !in_word && c.is_whitespace() => {}
            None if c.is_whitespace() => {
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                blank_ok = false;
                in_word = false;
            }
            None => {
                in_word = true;
                if c == '\'' || c == '"' {
                    quote = Some(c);
                    blank_ok = true;
                }
                if c == escape {
                    if last {
                        continue;
                    }
                    // An escaped character (even a quote) is kept with its
                    // escape, unquoted.
                    word.push(c);
                    word.push(chars[i]);
                    i += 1;
                    continue;
                }
                word.push(c);
            }
            Some(q) => {
                if c == q {
                    quote = None;
                }
                // Nothing can be escaped inside single quotes.
                if c == escape && q != '\'' {
                    if last {
                        quote = None;
                        continue;
                    }
                    word.push(c);
                    word.push(chars[i]);
                    i += 1;
                    continue;
                }
                word.push(c);
            }
        }
    }
    if in_word && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_keyword_flags_and_args() {
        let s = split_command("  COPY --from=a  --chown=\"x y\" src dst ", '\\');
        assert_eq!(s.cmd, "COPY");
        assert_eq!(s.cmd_offset, 2);
        assert_eq!(
            s.flags,
            [("--from=a".to_owned(), 7), ("--chown=x y".to_owned(), 17)]
        );
        assert_eq!(s.args, "src dst");
        assert_eq!(s.args_offset, 31);
    }

    #[test]
    fn double_dash_ends_flags() {
        let s = split_command("COPY --a -- --b c", '\\');
        assert_eq!(s.flags, [("--a".to_owned(), 5)]);
        assert_eq!(s.args, "--b c");
        let s = split_command("CMD --doit --", '\\');
        assert_eq!(s.flags, [("--doit".to_owned(), 4)]);
        assert_eq!(s.args, "");
        let s = split_command("RUN", '\\');
        assert_eq!((s.cmd, s.args, s.args_offset), ("RUN", "", 3));
    }

    #[test]
    fn words_keep_quotes_and_escapes() {
        let w = |s| parse_words(s, '\\');
        assert_eq!(w("foo bar 'abc xyz'"), ["foo", "bar", "'abc xyz'"]);
        assert_eq!(w(r"foo\ bar"), [r"foo\ bar"]);
        assert_eq!(w(r#"a="x\"y" b=''"#), [r#"a="x\"y""#, "b=''"]);
        assert_eq!(w(r"a='x\'b"), [r"a='x\'b"]);
        assert_eq!(w("föo bàr"), ["föo", "bàr"]);
        assert_eq!(w("a\\"), ["a"]);
        assert!(w("   ").is_empty());
    }

    #[test]
    fn splits_on_ascii_spaces_only() {
        assert_eq!(split_spaces("a  b\tc", 0), [(0, "a"), (3, "b"), (5, "c")]);
        assert_eq!(split_spaces("a  b c", 2), [(0, "a"), (3, "b c")]);
        assert_eq!(split_spaces("a\u{a0}b", 0), [(0, "a\u{a0}b")]);
        assert!(split_spaces("", 0).is_empty());
    }
}
