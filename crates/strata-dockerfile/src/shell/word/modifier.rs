//! The `${name<op>operand}` forms: defaults (`-`), alternatives (`+`),
//! required values (`?`), prefix/suffix removal (`#`, `%`) and replacement
//! (`/`), with BuildKit's error messages.
//!
//! Operands are scanned recursively, so they may hold quotes and further
//! `$` expansions; pattern operands keep their escape characters because
//! `\*` must reach the pattern matcher as a literal star.

use super::Word;
use crate::shell::pattern;

impl Word<'_> {
    /// `${name<op>word}` for `-`, `+`, `?`, `#` and `%`, with or without a
    /// leading colon (`null_is_unset`).
    pub(super) fn process_modifier(
        &mut self,
        name: &str,
        op: Option<char>,
        chs: &str,
        null_is_unset: bool,
    ) -> Result<String, String> {
        // Patterns keep their escapes so `\*` can mean a literal star.
        let raw = matches!(op, Some('#' | '%'));
        if null_is_unset && raw {
            return Err(format!("unsupported modifier ({chs}) in substitution"));
        }
        let word = self.operand('}', raw, "syntax error: missing '}'")?;
        let value = self.get_env(name);
        if self.lex.skip_unset_env && value.is_none() {
            return Ok(format!("${{{name}{chs}{word}}}"));
        }
        let empty = value
            .as_deref()
            .is_none_or(|v| null_is_unset && v.is_empty());
        match op {
            Some('-') => Ok(if empty {
                word
            } else {
                value.unwrap_or_default()
            }),
            Some('+') => Ok(if empty { String::new() } else { word }),
            Some('?') => {
                let default = match value {
                    None => "is not allowed to be unset",
                    Some(v) if null_is_unset && v.is_empty() => "is not allowed to be empty",
                    Some(v) => return Ok(v),
                };
                let message = if word.is_empty() { default } else { &word };
                Err(format!("{name}: {message}"))
            }
            Some(c @ ('#' | '%')) => {
                // `##` and `%%` match the longest pattern, `#`/`%` the shortest.
                let (pat, greedy) = match word.strip_prefix(c) {
                    Some(rest) => (rest, true),
                    None => (word.as_str(), false),
                };
                let value = value.unwrap_or_default();
                if c == '%' {
                    pattern::trim_suffix(pat, &value, greedy)
                } else {
                    pattern::trim_prefix(pat, &value, greedy)
                }
            }
            _ => Err(format!("unsupported modifier ({chs}) in substitution")),
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`.
    pub(super) fn process_replace(&mut self, name: &str) -> Result<String, String> {
        let all = self.peek() == Some('/');
        if all {
            self.next();
        }
        let pat = self.operand('/', true, "syntax error: missing '/' in ${}")?;
        let replacement = self.operand('}', true, "syntax error: missing '}'")?;
        let value = self.get_env(name);
        if self.lex.skip_unset_env && value.is_none() {
            return Ok(format!("${{{name}/{pat}/{replacement}}}"));
        }
        pattern::replace(&pat, &value.unwrap_or_default(), &replacement, all)
    }

    /// Scans an operand up to `stop`; running out of input reports
    /// `at_eof` rather than the generic message.
    fn operand(&mut self, stop: char, raw: bool, at_eof: &str) -> Result<String, String> {
        match self.process_stop_on(Some(stop), raw) {
            Ok((word, _)) => Ok(word),
            Err(_) if self.peek().is_none() => Err(at_eof.to_owned()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::shell::Lexer;

    fn skip_unset(word: &str) -> String {
        let env = vec![("SET".to_owned(), "v".to_owned())];
        Lexer::new('\\')
            .with_skip_unset_env(true)
            .process_word(word, &env)
            .unwrap()
    }

    #[test]
    fn unset_operands_are_kept_verbatim_when_skipping() {
        // The operand is still expanded; only the unset reference stays.
        assert_eq!(skip_unset("${NOPE:-$SET}"), "${NOPE:-v}");
        assert_eq!(skip_unset("${NOPE+x}"), "${NOPE+x}");
        assert_eq!(skip_unset("${NOPE%%*.gz}"), "${NOPE%%*.gz}");
        assert_eq!(skip_unset("${NOPE//a/b}"), "${NOPE/a/b}");
        assert_eq!(skip_unset("${SET:-x}"), "v");
    }

    #[test]
    fn colon_forms_treat_empty_as_unset() {
        let env = vec![("E".to_owned(), String::new())];
        let lex = Lexer::new('\\');
        assert_eq!(lex.process_word("${E:-d}|${E-d}", &env).unwrap(), "d|");
        assert_eq!(lex.process_word("${E:+a}|${E+a}", &env).unwrap(), "|a");
        assert_eq!(lex.process_word("${E?}", &env).unwrap(), "");
    }
}
