//! Instruction flags (`--from=x`, `--link`, `--link=false`, repeated
//! `--mount=...`), validated like BuildKit's `BFlags`.
//!
//! Each instruction declares the flags it knows; anything else is an error
//! that points at the offending flag.

use crate::diagnostic::{Diagnostic, Span};
use crate::gofmt;
use crate::parser::Node;

/// How a flag takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `--x` or `--x=true|false` (any case).
    Bool,
    /// `--x=value`, once.
    Str,
    /// `--x=value`, repeatable.
    Strings,
}

#[derive(Debug, Clone)]
enum Value {
    Unset,
    Bool(bool),
    Str(String),
    Strings(Vec<String>),
}

/// The parsed flags of one instruction.
#[derive(Debug)]
pub(super) struct Flags {
    values: Vec<(&'static str, Value)>,
}

impl Flags {
    fn get(&self, name: &str) -> &Value {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&Value::Unset, |(_, v)| v)
    }

    /// A string flag's value, `None` when not given.
    pub(super) fn string(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// A string flag's value, `None` when not given or empty (BuildKit
    /// treats an empty value as the default).
    pub(super) fn non_empty(&self, name: &str) -> Option<String> {
        self.string(name).filter(|s| !s.is_empty())
    }

    /// A boolean flag's value, `None` when not given.
    pub(super) fn boolean(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Every value of a repeatable flag, in order.
    pub(super) fn strings(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Value::Strings(v) => v.clone(),
            _ => Vec::new(),
        }
    }
}

/// Parses `node`'s flags against the declared ones. Errors carry the span
/// of the flag at fault.
pub(super) fn parse(node: &Node, declared: &[(&'static str, Kind)]) -> Result<Flags, Diagnostic> {
    let mut values: Vec<(&'static str, Value)> =
        declared.iter().map(|(n, _)| (*n, Value::Unset)).collect();
    for (i, arg) in node.flags.iter().enumerate() {
        let span = node.flag_spans.get(i).copied().unwrap_or(node.span);
        let err = |msg: String| Diagnostic::error(msg, span);
        if arg == "--" {
            break;
        }
        if !arg.starts_with("--") {
            return Err(err(format!("arg should start with -- : {arg}")));
        }
        let (flag, value) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (arg.as_str(), None),
        };
        let name = &flag[2..];
        let Some(&(_, kind)) = declared.iter().find(|(n, _)| *n == name) else {
            let mut options: Vec<&str> = declared.iter().map(|(n, _)| *n).collect();
            options.sort_unstable();
            return Err(err(gofmt::with_suggestion(
                format!("unknown flag: {flag}"),
                name,
                &options,
                true,
            )));
        };
        let slot = values
            .iter_mut()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| err(format!("unknown flag: {flag}")))?;
        if kind != Kind::Strings && !matches!(slot, Value::Unset) {
            return Err(err(format!("duplicate flag specified: {flag}")));
        }
        let missing = || err(format!("missing a value on flag: {flag}"));
        match kind {
            Kind::Bool => {
                let b = match value.map(str::to_lowercase).as_deref() {
                    Some("") => return Err(missing()),
                    None | Some("true") => true,
                    Some("false") => false,
                    Some(_) => {
                        return Err(err(format!(
                            "expecting boolean value for flag {flag}, not: {}",
                            value.unwrap_or_default()
                        )));
                    }
                };
                *slot = Value::Bool(b);
            }
            Kind::Str => *slot = Value::Str(value.ok_or_else(missing)?.to_owned()),
            Kind::Strings => {
                let v = value.ok_or_else(missing)?.to_owned();
                match slot {
                    Value::Strings(all) => all.push(v),
                    _ => *slot = Value::Strings(vec![v]),
                }
            }
        }
    }
    Ok(Flags { values })
}

/// The spans of every flag named `name`, in order.
pub(super) fn spans_of(node: &Node, name: &str) -> Vec<Span> {
    node.flags
        .iter()
        .zip(&node.flag_spans)
        .filter(|(f, _)| {
            f.strip_prefix("--")
                .is_some_and(|f| f.split('=').next() == Some(name))
        })
        .map(|(_, s)| *s)
        .collect()
}

/// The span of the first flag named `name` (the node's span when absent),
/// for errors about its value.
pub(super) fn span_of(node: &Node, name: &str) -> Span {
    spans_of(node, name).first().copied().unwrap_or(node.span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(line: &str) -> Node {
        crate::parse(line).nodes.remove(0)
    }

    const COPY: &[(&str, Kind)] = &[
        ("from", Kind::Str),
        ("link", Kind::Bool),
        ("exclude", Kind::Strings),
    ];

    fn message(line: &str) -> String {
        parse(&node(line), COPY).unwrap_err().message
    }

    #[test]
    fn parses_declared_flags() {
        let f = parse(
            &node("COPY --from=a --link=FALSE --exclude=x --exclude=y a b"),
            COPY,
        )
        .unwrap();
        assert_eq!(f.string("from").as_deref(), Some("a"));
        assert_eq!(f.boolean("link"), Some(false));
        assert_eq!(f.strings("exclude"), ["x", "y"]);
        let f = parse(&node("COPY --link --from= a b"), COPY).unwrap();
        assert_eq!(f.boolean("link"), Some(true));
        assert_eq!(f.non_empty("from"), None);
        assert_eq!(f.string("from").as_deref(), Some(""));
    }

    #[test]
    fn reports_bad_flags() {
        assert_eq!(
            message("COPY --form=a a b"),
            "unknown flag: --form (did you mean from?)"
        );
        assert_eq!(message("COPY --zzzzzz a b"), "unknown flag: --zzzzzz");
        assert_eq!(
            message("COPY --from=a --from=b a b"),
            "duplicate flag specified: --from"
        );
        assert_eq!(
            message("COPY --from a b"),
            "missing a value on flag: --from"
        );
        assert_eq!(
            message("COPY --link= a b"),
            "missing a value on flag: --link"
        );
        assert_eq!(
            message("COPY --link=yes a b"),
            "expecting boolean value for flag --link, not: yes"
        );
        let d = parse(&node("COPY --from=a \\\n  --bad a b"), COPY).unwrap_err();
        assert_eq!(d.span, Span::at(2, 3));
    }

    #[test]
    fn finds_flag_spans() {
        let n = node("COPY --link --from=x a b");
        assert_eq!(span_of(&n, "from"), Span::at(1, 13));
        assert_eq!(span_of(&n, "chmod"), n.span);
    }
}
