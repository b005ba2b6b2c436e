//! The expansion state machine: one pass over a word's characters, with
//! recursion for `${...}` operands, mirroring BuildKit's `shellWord`.
//!
//! Errors are plain messages here; `Lexer` wraps them with the word.

use std::collections::BTreeSet;

mod modifier;

use super::{Lexer, VarLookup};

/// What stops a nested scan: the end of input or a closing character.
type Stop = Option<char>;

/// Go prints a missing character (`text/scanner.EOF`) as U+FFFD.
const EOF_CHAR: char = '\u{fffd}';

pub(super) struct Word<'a> {
    lex: &'a Lexer,
    chars: Vec<char>,
    pos: usize,
    env: &'a dyn VarLookup,
    raw_escapes: bool,
    pub(super) matched: BTreeSet<String>,
    pub(super) unmatched: BTreeSet<String>,
}

/// Collects the words of a `process_words` call: whitespace from variable
/// values and plain text separates words, quoted text never does.
#[derive(Default)]
struct Words {
    buf: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, c: char) {
        if c.is_whitespace() {
            if self.in_word && !self.buf.is_empty() {
                self.words.push(std::mem::take(&mut self.buf));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(c);
        }
    }

    fn add_raw_char(&mut self, c: char) {
        self.buf.push(c);
        self.in_word = true;
    }

    fn add_string(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }

    fn add_raw_string(&mut self, s: &str) {
        self.buf.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.buf.is_empty() {
            self.words.push(self.buf);
        }
        self.words
    }
}

impl<'a> Word<'a> {
    pub(super) fn new(lex: &'a Lexer, word: &str, env: &'a dyn VarLookup) -> Self {
        Self {
            lex,
            chars: word.chars().collect(),
            pos: 0,
            env,
            raw_escapes: lex.raw_escapes,
            matched: BTreeSet::new(),
            unmatched: BTreeSet::new(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// Expands the whole word: the joined result and its split words.
    pub(super) fn process(&mut self) -> Result<(String, Vec<String>), String> {
        let raw = self.raw_escapes;
        self.process_stop_on(None, raw)
    }

    /// Scans until `stop` (consumed) or the end of input. Reaching the end
    /// while looking for a stop character is an error.
    ///
    /// BuildKit shares one word buffer between this function and its
    /// recursive calls for `${...}` operands, which makes
    /// `ProcessWords("ab${X:-y}")` lose the `ab`; each call here has its
    /// own buffer, so the word stays `aby`.
    fn process_stop_on(
        &mut self,
        stop: Stop,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let out = self.scan(stop);
        self.raw_escapes = saved;
        out
    }

    fn scan(&mut self, stop: Stop) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(c) = self.peek() {
            if stop == Some(c) {
                self.next();
                return Ok((result, words.finish()));
            }
            let special = match c {
                '$' => Some(self.process_dollar()?),
                '<' => Some(self.process_possible_heredoc()),
                '\'' if !self.lex.skip_process_quotes => Some(self.process_single_quote()?),
                '"' if !self.lex.skip_process_quotes => Some(self.process_double_quote()?),
                _ => None,
            };
            if let Some(tmp) = special {
                result.push_str(&tmp);
                if c == '$' {
                    words.add_string(&tmp);
                } else {
                    words.add_raw_string(&tmp);
                }
                continue;
            }
            self.next();
            if c == self.lex.escape {
                if self.raw_escapes {
                    words.add_raw_char(c);
                    result.push(c);
                }
                // The escape character escapes the next one; at the end of
                // the input it is dropped.
                let Some(escaped) = self.next() else { break };
                words.add_raw_char(escaped);
                result.push(escaped);
            } else {
                words.add_char(c);
                result.push(c);
            }
        }
        if let Some(s) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {s}"
            ));
        }
        Ok((result, words.finish()))
    }

    fn process_single_quote(&mut self) -> Result<String, String> {
        // Everything up to the next single quote is literal; there is no
        // way to escape a single quote inside one.
        let mut result = String::new();
        let open = self.next();
        if self.lex.raw_quotes {
            result.extend(open);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .to_owned(),
                    );
                }
                Some('\'') => {
                    if self.lex.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(c) => result.push(c),
            }
        }
    }

    fn process_double_quote(&mut self) -> Result<String, String> {
        // `$` expands inside double quotes, and the escape character only
        // escapes `"`, `$` and itself; before anything else it is literal.
        let mut result = String::new();
        let open = self.next();
        if self.lex.raw_quotes {
            result.extend(open);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .to_owned(),
                    );
                }
                Some('"') => {
                    self.next();
                    if self.lex.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => {
                    let value = self.process_dollar()?;
                    result.push_str(&value);
                }
                Some(_) => {
                    let mut c = self.next().unwrap_or(EOF_CHAR);
                    if c == self.lex.escape {
                        if self.raw_escapes {
                            result.push(c);
                        }
                        match self.peek() {
                            None => continue,
                            Some(n) if n == '"' || n == '$' || n == self.lex.escape => {
                                c = n;
                                self.next();
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(c);
                }
            }
        }
    }

    fn process_dollar(&mut self) -> Result<String, String> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".to_owned());
            }
            return Ok(match self.get_env(&name) {
                None if self.lex.skip_unset_env => format!("${name}"),
                value => value.unwrap_or_default(),
            });
        }
        self.next();
        match self.peek() {
            None => return Err("syntax error: missing '}'".to_owned()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".to_owned()),
            Some(_) => {}
        }
        let name = self.process_name();
        let mut ch = self.next();
        let mut chs = String::from(ch.unwrap_or(EOF_CHAR));
        let mut null_is_unset = false;
        match ch {
            Some('}') => Ok(match self.get_env(&name) {
                None if self.lex.skip_unset_env => format!("${{{name}}}"),
                value => value.unwrap_or_default(),
            }),
            Some(':' | '+' | '-' | '?' | '#' | '%') => {
                if ch == Some(':') {
                    null_is_unset = true;
                    ch = self.next();
                    chs.push(ch.unwrap_or(EOF_CHAR));
                }
                self.process_modifier(&name, ch, &chs, null_is_unset)
            }
            Some('/') => self.process_replace(&name),
            _ => Err(format!("unsupported modifier ({chs}) in substitution")),
        }
    }

    /// A variable name: letters, digits and `_`; or a run of digits
    /// (positional parameters); or one special parameter character.
    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if name.is_empty() && c.is_numeric() {
                while let Some(d) = self.peek().filter(|d| d.is_numeric()) {
                    name.push(d);
                    self.next();
                }
                return name;
            }
            if name.is_empty() && is_special_param(c) {
                self.next();
                return c.to_string();
            }
            if !c.is_alphabetic() && !c.is_numeric() && c != '_' {
                break;
            }
            name.push(c);
            self.next();
        }
        name
    }

    /// `<<` plus the whitespace after it is kept together so a heredoc
    /// marker (`<< EOF`) stays one word.
    fn process_possible_heredoc(&mut self) -> String {
        self.next();
        if self.peek() != Some('<') {
            return "<".to_owned();
        }
        self.next();
        let mut result = "<<".to_owned();
        while let Some(c) = self.peek().filter(|c| matches!(c, '\t' | '\r' | ' ')) {
            result.push(c);
            self.next();
        }
        result
    }

    fn get_env(&mut self, name: &str) -> Option<String> {
        let value = self.env.lookup(name);
        if value.is_some() {
            self.matched.insert(name.to_owned());
        } else {
            self.unmatched.insert(name.to_owned());
        }
        value
    }
}

/// POSIX special parameters (`$@`, `$*`, `$#`, ...); never set in a
/// Dockerfile, so they expand to nothing.
fn is_special_param(c: char) -> bool {
    matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')
}
