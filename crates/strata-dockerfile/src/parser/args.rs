//! Per-instruction argument shapes (BuildKit's `line_parsers.go`): JSON
//! arrays or shell strings, whitespace lists, key/value pairs.
//!
//! The parser runs these to report malformed lines; the instruction layer
//! runs them again to build typed instructions. They are pure and cheap.

use super::split::{parse_words, split_spaces};
use crate::gofmt;

/// The arguments of one instruction line, as BuildKit's AST holds them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct LineArgs {
    /// For `ENV`/`LABEL`: triples of key, value, and `=` (or empty for the
    /// legacy `KEY value` form). For `HEALTHCHECK`: the type, then the
    /// command. Otherwise the plain arguments.
    pub(crate) args: Vec<String>,
    /// The arguments came from a JSON array (exec form).
    pub(crate) json: bool,
}

impl LineArgs {
    fn plain(args: Vec<String>) -> Self {
        Self { args, json: false }
    }
}

/// Splits `rest` (the text after the keyword and flags) the way the
/// instruction `keyword` (lower case) wants it. Unknown instructions and
/// `ONBUILD` (whose trigger is a line of its own) get no arguments.
pub(crate) fn parse_args(keyword: &str, rest: &str, escape: char) -> Result<LineArgs, String> {
    match keyword {
        "add" | "copy" | "volume" => maybe_json_to_list(rest),
        "arg" => Ok(LineArgs::plain(parse_words(rest, escape))),
        "cmd" | "entrypoint" | "run" | "shell" => maybe_json(rest),
        "env" => name_val(rest, "ENV", escape),
        "label" => name_val(rest, "LABEL", escape),
        "expose" | "from" => Ok(whitespace_list(rest)),
        "healthcheck" => health_config(rest),
        "maintainer" | "stopsignal" | "user" | "workdir" => {
            Ok(LineArgs::plain(if rest.is_empty() {
                vec![]
            } else {
                vec![rest.to_owned()]
            }))
        }
        _ => Ok(LineArgs::default()),
    }
}

/// The JSON form: a JSON array of strings after optional whitespace.
/// `Ok(None)` when `rest` is not a JSON array at all (then it is the shell
/// form); an error when it is an array holding something other than
/// strings.
fn parse_json(rest: &str) -> Result<Option<Vec<String>>, String> {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return Ok(None);
    }
    let rest = lone_surrogates_replaced(rest);
    let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(&rest) else {
        return Ok(None);
    };
    values
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Ok(s),
            _ => Err(
                "when using JSON array syntax, arrays must be comprised of strings only".to_owned(),
            ),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Go's JSON decoder turns a `\u` escape of an unpaired UTF-16 surrogate
/// into U+FFFD where serde_json rejects the document; rewriting such escapes
/// to `\ufffd` first gives Go's result. (`\u` is only valid inside strings,
/// so a textual pass cannot change what is valid JSON.)
fn lone_surrogates_replaced(s: &str) -> std::borrow::Cow<'_, str> {
    let surrogate = |hex: &str| {
        u16::from_str_radix(hex, 16)
            .ok()
            .filter(|u| (0xd800..0xe000).contains(u))
    };
    let escape_at = |i: usize| {
        s.get(i..i + 6)
            .filter(|e| e.starts_with("\\u"))
            .and_then(|e| surrogate(&e[2..]))
    };
    if !s.contains("\\u") {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(off) = s[i..].find('\\') {
        let at = i + off;
        out.push_str(&s[i..at]);
        match escape_at(at) {
            Some(0xd800..=0xdbff) if escape_at(at + 6).is_some_and(|low| low >= 0xdc00) => {
                out.push_str(&s[at..at + 12]);
                i = at + 12;
            }
            Some(_) => {
                out.push_str("\\ufffd");
                i = at + 6;
            }
            None => {
                // Any other escape: copy it whole so `\\u...` stays text.
                let end = s[at + 1..]
                    .chars()
                    .next()
                    .map_or(at + 1, |c| at + 1 + c.len_utf8());
                out.push_str(&s[at..end]);
                i = end;
            }
        }
    }
    out.push_str(&s[i..]);
    out.into()
}

/// `CMD`, `ENTRYPOINT`, `RUN`, `SHELL`: a JSON array, or the whole rest as
/// one shell string.
fn maybe_json(rest: &str) -> Result<LineArgs, String> {
    if rest.is_empty() {
        return Ok(LineArgs::default());
    }
    Ok(match parse_json(rest)? {
        Some(args) => LineArgs { args, json: true },
        None => LineArgs::plain(vec![rest.to_owned()]),
    })
}

/// `ADD`, `COPY`, `VOLUME`: a JSON array, or whitespace-separated words.
fn maybe_json_to_list(rest: &str) -> Result<LineArgs, String> {
    Ok(match parse_json(rest)? {
        Some(args) => LineArgs { args, json: true },
        None => whitespace_list(rest),
    })
}

fn whitespace_list(rest: &str) -> LineArgs {
    LineArgs::plain(
        split_spaces(rest, 0)
            .into_iter()
            .map(|(_, w)| w.to_owned())
            .collect(),
    )
}

/// `ENV` and `LABEL`: either `KEY value with spaces` (the first word has no
/// `=`) or `k=v k2="v 2" ...`. Values keep their quotes and escapes.
fn name_val(rest: &str, key: &str, escape: char) -> Result<LineArgs, String> {
    let words = parse_words(rest, escape);
    let Some(first) = words.first() else {
        return Ok(LineArgs::default());
    };
    if !first.contains('=') {
        let parts = split_spaces(rest, 2);
        let [(_, name), (_, value)] = parts.as_slice() else {
            return Err(format!("{key} must have two arguments"));
        };
        return Ok(LineArgs::plain(vec![
            (*name).to_owned(),
            (*value).to_owned(),
            String::new(),
        ]));
    }
    let mut args = Vec::with_capacity(words.len() * 3);
    for word in &words {
        let Some((k, v)) = word.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                gofmt::quote(word)
            ));
        };
        args.extend([k.to_owned(), v.to_owned(), "=".to_owned()]);
    }
    Ok(LineArgs::plain(args))
}

/// `HEALTHCHECK`: the type word (`CMD`, `NONE`, ...) then a command in
/// either form.
fn health_config(rest: &str) -> Result<LineArgs, String> {
    let sep = rest.find(char::is_whitespace).unwrap_or(rest.len());
    if sep == 0 {
        return Ok(LineArgs::default());
    }
    let typ = &rest[..sep];
    let cmd = maybe_json(rest[sep..].trim_start())?;
    let mut args = vec![typ.to_owned()];
    args.extend(cmd.args);
    Ok(LineArgs {
        args,
        json: cmd.json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(keyword: &str, rest: &str) -> LineArgs {
        parse_args(keyword, rest, '\\').unwrap()
    }

    #[test]
    fn json_or_shell() {
        assert_eq!(args("cmd", r#"["a", "b"]"#).args, ["a", "b"]);
        assert!(args("cmd", "[]").json);
        assert_eq!(args("cmd", "[\"a\"] x").args, ["[\"a\"] x"]);
        assert!(!args("cmd", "['a']").json);
        assert_eq!(
            parse_args("cmd", "[1]", '\\').unwrap_err(),
            "when using JSON array syntax, arrays must be comprised of strings only"
        );
        assert_eq!(args("cmd", ""), LineArgs::default());
        assert_eq!(
            args("cmd", r#"["\ud800x", "\ud83d\ude00", "\\ud800"]"#).args,
            ["\u{fffd}x", "😀", "\\ud800"]
        );
        assert_eq!(
            args("cmd", r#"["\udc00\ud800"]"#).args,
            ["\u{fffd}\u{fffd}"]
        );
    }

    #[test]
    fn lists_and_strings() {
        assert_eq!(args("copy", "a  b\tc").args, ["a", "b", "c"]);
        assert_eq!(args("copy", "[\"a b\", \"c\"]").args, ["a b", "c"]);
        assert_eq!(args("user", "a b").args, ["a b"]);
        assert!(args("user", "").args.is_empty());
        assert!(args("frobnicate", "x").args.is_empty());
    }

    #[test]
    fn env_forms() {
        assert_eq!(args("env", "A  b c").args, ["A", "b c", ""]);
        assert_eq!(
            args("env", "A=1 B=\"x y\"").args,
            ["A", "1", "=", "B", "\"x y\"", "="]
        );
        assert_eq!(
            parse_args("env", "A", '\\').unwrap_err(),
            "ENV must have two arguments"
        );
        assert_eq!(
            parse_args("label", "a=1 b", '\\').unwrap_err(),
            r#"Syntax error - can't find = in "b". Must be of the form: name=value"#
        );
    }

    #[test]
    fn healthcheck_shapes() {
        assert_eq!(args("healthcheck", "CMD   a b").args, ["CMD", "a b"]);
        let h = args("healthcheck", "CMD [\"x\"]");
        assert_eq!(
            (h.args, h.json),
            (vec!["CMD".to_owned(), "x".to_owned()], true)
        );
        assert_eq!(args("healthcheck", "NONE").args, ["NONE"]);
        assert!(args("healthcheck", "").args.is_empty());
    }
}
