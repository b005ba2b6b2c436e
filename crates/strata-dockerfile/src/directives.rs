//! Parser directives: `# syntax=`, `# escape=` and `# check=` comments at
//! the very top of a Dockerfile.
//!
//! BuildKit's rules: directives are only recognized before the first line
//! that is not one (an instruction, an empty line, an ordinary comment, or
//! an unknown directive all end the header); keys are case-insensitive;
//! each key may appear once.

use serde::Serialize;

/// The parser directives of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Directives {
    /// `# syntax=...` as written (the frontend image). strata has one
    /// built-in frontend; callers report this as ignored.
    pub syntax: Option<String>,
    /// The escape character: `\` (default) or `` ` ``.
    pub escape: char,
    /// `# check=...` (linter configuration), as written.
    pub check: Option<String>,
}

impl Default for Directives {
    fn default() -> Self {
        Self {
            syntax: None,
            escape: '\\',
            check: None,
        }
    }
}

/// Recognizes directive lines until the header ends.
#[derive(Debug, Default)]
pub(crate) struct DirectiveParser {
    done: bool,
    seen: Vec<String>,
}

/// A line that was a directive.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Directive {
    pub(crate) name: String,
    pub(crate) value: String,
}

impl DirectiveParser {
    /// Looks at the next line (leading whitespace already removed). Returns
    /// the directive it holds, if the header is still open and it is one.
    pub(crate) fn parse_line(&mut self, line: &str) -> Result<Option<Directive>, String> {
        if self.done {
            return Ok(None);
        }
        let Some(rest) = line.strip_prefix('#') else {
            self.done = true;
            return Ok(None);
        };
        let Some((name, value)) = split_directive(rest.trim_start()) else {
            self.done = true;
            return Ok(None);
        };
        let name = name.to_ascii_lowercase();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            // An unknown directive is a comment, and a comment ends the
            // header.
            self.done = true;
            return Ok(None);
        }
        if self.seen.contains(&name) {
            return Err(format!("only one {name} parser directive can be used"));
        }
        self.seen.push(name.clone());
        Ok(Some(Directive {
            name,
            value: value.to_owned(),
        }))
    }
}

/// Splits `key = value` as BuildKit's `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`
/// does (`\s` being ASCII whitespace without `\v`).
fn split_directive(s: &str) -> Option<(&str, &str)> {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{c}');
    let mut chars = s.char_indices();
    let (_, first) = chars.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let key_end = s
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
        .map_or(s.len(), |(i, _)| i);
    let key = &s[..key_end];
    let rest = s[key_end..].trim_start_matches(is_space);
    let after_eq = rest.strip_prefix('=')?;
    let value = after_eq
        .trim_start_matches(is_space)
        .trim_end_matches(is_space);
    if value.is_empty() {
        // The lazy `(.+?)` still needs one character: with only whitespace
        // after `=`, the regex backtracks and takes the last one.
        let last = after_eq.char_indices().last()?.0;
        return Some((key, &after_eq[last..]));
    }
    Some((key, value))
}

/// Validates an `escape` directive value.
pub(crate) fn escape_char(value: &str) -> Result<char, String> {
    match value {
        "\\" => Ok('\\'),
        "`" => Ok('`'),
        _ => Err(format!(
            "invalid escape token '{value}' does not match ` or \\"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str, value: &str) -> Option<Directive> {
        Some(Directive {
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }

    #[test]
    fn recognizes_header_directives() {
        let mut p = DirectiveParser::default();
        assert_eq!(
            p.parse_line("# Syntax = docker/dockerfile:1 "),
            Ok(dir("syntax", "docker/dockerfile:1"))
        );
        assert_eq!(p.parse_line("#escape=`"), Ok(dir("escape", "`")));
        assert_eq!(
            p.parse_line("# ESCAPE=\\").unwrap_err(),
            "only one escape parser directive can be used"
        );
        assert_eq!(
            p.parse_line("# check=skip=all"),
            Ok(dir("check", "skip=all"))
        );
        assert_eq!(p.parse_line("FROM x"), Ok(None));
        assert_eq!(p.parse_line("# escape=`"), Ok(None));
    }

    #[test]
    fn unknown_directive_ends_the_header() {
        let mut p = DirectiveParser::default();
        assert_eq!(p.parse_line("# foo=bar"), Ok(None));
        assert_eq!(p.parse_line("# escape=`"), Ok(None));
        let mut p = DirectiveParser::default();
        assert_eq!(p.parse_line("# escape="), Ok(None));
        assert_eq!(p.parse_line("# syntax=x"), Ok(None));
        let mut p = DirectiveParser::default();
        assert_eq!(p.parse_line("# escape=  "), Ok(dir("escape", " ")));
    }

    #[test]
    fn escape_values() {
        assert_eq!(escape_char("`"), Ok('`'));
        assert_eq!(
            escape_char("x").unwrap_err(),
            "invalid escape token 'x' does not match ` or \\"
        );
    }
}
