//! Splits a template into tokens the way Go's `text/template/parse` lexer
//! does: text between actions, and inside `{{ }}` fields, variables,
//! literals, identifiers and punctuation.
//!
//! Lexing errors do not abort: they become a final [`Tok::Error`] token, so
//! the parser reports whichever problem Go would reach first (Go's lexer and
//! parser run in lockstep, so `{{.X}` fails on the stray `}` before the
//! missing delimiter is noticed).

use super::token::{Keyword, Tok, Token};

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

/// Go's `isSpace`: the characters that separate arguments and that trim
/// markers remove.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Tokenizes `src`; the result always ends in `Eof` or `Error`.
pub(super) fn lex(src: &str) -> Vec<Token> {
    let mut lx = Lexer {
        src,
        pos: 0,
        tokens: Vec::new(),
        paren_depth: 0,
    };
    if let Err(msg) = lx.run() {
        let pos = lx.pos;
        lx.tokens.push(Token {
            tok: Tok::Error(msg),
            pos,
        });
    } else {
        lx.tokens.push(Token {
            tok: Tok::Eof,
            pos: src.len(),
        });
    }
    lx.tokens
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    paren_depth: usize,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn emit(&mut self, tok: Tok, pos: usize) {
        self.tokens.push(Token { tok, pos });
    }

    /// Alternates between text and actions until the input runs out.
    fn run(&mut self) -> Result<(), String> {
        let mut trim_leading = false;
        while self.pos < self.src.len() {
            let start = self.pos;
            let (text_end, next) = match self.rest().find(LEFT) {
                Some(i) => (start + i, Some(start + i)),
                None => (self.src.len(), None),
            };
            let mut text = &self.src[start..text_end];
            if trim_leading {
                text = text.trim_start_matches(is_space);
            }
            let Some(delim) = next else {
                if !text.is_empty() {
                    self.emit(Tok::Text(text.to_owned()), start);
                }
                self.pos = self.src.len();
                break;
            };
            // "{{- " trims the text before it; the marker needs a space
            // after it so that "{{-3}}" stays a negative number.
            let after = &self.src[delim + LEFT.len()..];
            let trim_trailing = after.starts_with('-') && after[1..].starts_with(is_space);
            if trim_trailing {
                text = text.trim_end_matches(is_space);
            }
            if !text.is_empty() {
                self.emit(Tok::Text(text.to_owned()), start);
            }
            self.pos = delim + LEFT.len() + if trim_trailing { 2 } else { 0 };
            trim_leading = if self.rest().starts_with("/*") {
                self.comment()?
            } else {
                self.emit(Tok::LeftDelim, delim);
                self.action()?
            };
        }
        Ok(())
    }

    /// If the input is at a right delimiter, consumes it and says whether
    /// it carried a trim marker (" -}}").
    fn at_right_delim(&self) -> Option<(usize, bool)> {
        let rest = self.rest();
        let mut chars = rest.chars();
        if let (Some(c), Some('-')) = (chars.next(), chars.next())
            && is_space(c)
            && rest[c.len_utf8() + 1..].starts_with(RIGHT)
        {
            return Some((c.len_utf8() + 1 + RIGHT.len(), true));
        }
        rest.starts_with(RIGHT).then_some((RIGHT.len(), false))
    }

    /// Skips a `/* */` comment, which must end right at the delimiter.
    fn comment(&mut self) -> Result<bool, String> {
        let Some(end) = self.rest().find("*/") else {
            return Err("unclosed comment".to_owned());
        };
        self.pos += end + 2;
        match self.at_right_delim() {
            Some((len, trim)) => {
                self.pos += len;
                Ok(trim)
            }
            None => Err("comment ends before closing delimiter".to_owned()),
        }
    }

    /// Lexes the inside of an action up to and including `}}`; returns
    /// whether the following text is to be trimmed.
    fn action(&mut self) -> Result<bool, String> {
        loop {
            if let Some((len, trim)) = self.at_right_delim() {
                if self.paren_depth > 0 {
                    return Err("unclosed left paren".to_owned());
                }
                // The delimiter's position is where "}}" itself starts.
                let pos = self.pos + len - RIGHT.len();
                self.emit(Tok::RightDelim, pos);
                self.pos += len;
                return Ok(trim);
            }
            let start = self.pos;
            let Some(c) = self.peek() else {
                return Err("unclosed action".to_owned());
            };
            self.pos += c.len_utf8();
            let tok = match c {
                c if is_space(c) => {
                    self.pos = start;
                    self.spaces();
                    if self.pos == start {
                        continue; // Only a trim marker follows.
                    }
                    Tok::Space
                }
                '=' => Tok::Assign,
                ':' => {
                    if self.peek() != Some('=') {
                        return Err("expected :=".to_owned());
                    }
                    self.pos += 1;
                    Tok::Declare
                }
                '|' => Tok::Pipe,
                '"' => Tok::Str(self.quoted('"', "unterminated quoted string")?),
                '\'' => Tok::CharConst(self.quoted('\'', "unterminated character constant")?),
                '`' => Tok::RawStr(self.raw()?),
                '$' => Tok::Variable(format!("${}", self.word()?)),
                '.' if !self.peek().is_some_and(|d| d.is_ascii_digit()) => {
                    let name = self.word()?;
                    if name.is_empty() {
                        Tok::Dot
                    } else {
                        Tok::Field(name)
                    }
                }
                '.' | '+' | '-' | '0'..='9' => {
                    self.pos = start;
                    Tok::Number(self.number()?)
                }
                c if is_alphanumeric(c) => {
                    self.pos = start;
                    let word = self.word()?;
                    match word.as_str() {
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        w => Keyword::from_word(w).map_or(Tok::Ident(word), Tok::Keyword),
                    }
                }
                '(' => {
                    self.paren_depth += 1;
                    Tok::LeftParen
                }
                ')' => {
                    if self.paren_depth == 0 {
                        return Err("unexpected right paren".to_owned());
                    }
                    self.paren_depth -= 1;
                    Tok::RightParen
                }
                c if c.is_ascii_graphic() => Tok::Char(c),
                c => return Err(format!("unrecognized character in action: {}", go_u(c))),
            };
            self.emit(tok, start);
        }
    }

    /// Consumes spaces, but leaves the one that belongs to a " -}}" marker.
    fn spaces(&mut self) {
        while let Some(c) = self.peek() {
            if !is_space(c) || self.at_right_delim().is_some_and(|(_, trim)| trim) {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    /// Consumes alphanumerics (for fields, variables and identifiers) and
    /// checks that a terminator follows, as Go's lexer does.
    fn word(&mut self) -> Result<String, String> {
        let start = self.pos;
        while self.peek().is_some_and(is_alphanumeric) {
            self.pos += self.peek().map_or(1, char::len_utf8);
        }
        let word = self.src[start..self.pos].to_owned();
        match self.peek() {
            None => Ok(word),
            // Go only checks the first character of the delimiter, so a
            // lone "}" ends a word too (and then fails in the parser).
            Some(c) if is_space(c) || matches!(c, '.' | ',' | '|' | ':' | ')' | '(' | '}') => {
                Ok(word)
            }
            Some(c) => Err(format!("bad character {}", go_u(c))),
        }
    }

    /// Consumes a quoted string or character constant (the opening quote
    /// is already consumed); escapes are checked later, when unquoting.
    fn quoted(&mut self, quote: char, unterminated: &str) -> Result<String, String> {
        let start = self.pos - 1;
        loop {
            let Some(c) = self.peek() else {
                return Err(unterminated.to_owned());
            };
            self.pos += c.len_utf8();
            match c {
                '\\' => match self.peek() {
                    Some(e) if e != '\n' => self.pos += e.len_utf8(),
                    _ => return Err(unterminated.to_owned()),
                },
                '\n' => return Err(unterminated.to_owned()),
                c if c == quote => return Ok(self.src[start..self.pos].to_owned()),
                _ => {}
            }
        }
    }

    /// Consumes a raw string, which may span lines (the backquote is
    /// already consumed).
    fn raw(&mut self) -> Result<String, String> {
        let start = self.pos - 1;
        match self.rest().find('`') {
            Some(end) => {
                self.pos += end + 1;
                Ok(self.src[start..self.pos].to_owned())
            }
            None => Err("unterminated raw quoted string".to_owned()),
        }
    }

    /// Consumes one character if it is in `set`.
    fn accept(&mut self, set: &str) -> bool {
        match self.peek() {
            Some(c) if set.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    /// Consumes something number-shaped: sign, base prefix, digits with
    /// underscores, fraction, exponent, imaginary suffix. The parser decides
    /// whether it is a valid number.
    fn number(&mut self) -> Result<String, String> {
        let start = self.pos;
        self.accept("+-");
        let mut digits = "0123456789_";
        // Only decimal and hexadecimal numbers take an exponent.
        let mut exp = "eE";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
                exp = "pP";
            } else if self.accept("oO") {
                digits = "01234567_";
                exp = "";
            } else if self.accept("bB") {
                digits = "01_";
                exp = "";
            }
        }
        while self.accept(digits) {}
        if self.accept(".") {
            while self.accept(digits) {}
        }
        if self.accept(exp) {
            self.accept("+-");
            while self.accept("0123456789_") {}
        }
        self.accept("i");
        if self.peek().is_some_and(is_alphanumeric) {
            self.pos += self.peek().map_or(1, char::len_utf8);
            return Err(format!(
                "bad number syntax: {:?}",
                &self.src[start..self.pos]
            ));
        }
        Ok(self.src[start..self.pos].to_owned())
    }
}

/// Go's `%#U` rendering of a character, used in lexer errors.
fn go_u(c: char) -> String {
    format!("U+{:04X} '{c}'", u32::from(c))
}
