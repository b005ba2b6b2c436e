//! The tokens of Go's template lexer, and how Go's parser quotes them in
//! "unexpected ..." errors.

use super::literal::go_quote;

/// What a token is. Literal tokens keep their source spelling; the parser
/// interprets it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// Plain text, already trimmed by any adjacent `-` markers.
    Text(String),
    LeftDelim,
    RightDelim,
    /// A run of spaces inside an action (it separates arguments).
    Space,
    /// `.Name` (stored without the dot).
    Field(String),
    /// `$name` or `$` (stored with the dollar sign).
    Variable(String),
    Dot,
    Ident(String),
    Keyword(Keyword),
    Bool(bool),
    Number(String),
    /// A quoted string, quotes and escapes included.
    Str(String),
    /// A back-quoted raw string, quotes included.
    RawStr(String),
    /// A character constant such as `'a'`, quotes included.
    CharConst(String),
    Pipe,
    Declare,
    Assign,
    /// Any other printable ASCII character (only `,` means anything).
    Char(char),
    LeftParen,
    RightParen,
    Eof,
    Error(String),
}

/// Go's action keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keyword {
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl Keyword {
    pub(super) fn from_word(word: &str) -> Option<Keyword> {
        Some(match word {
            "block" => Keyword::Block,
            "break" => Keyword::Break,
            "continue" => Keyword::Continue,
            "define" => Keyword::Define,
            "else" => Keyword::Else,
            "end" => Keyword::End,
            "if" => Keyword::If,
            "nil" => Keyword::Nil,
            "range" => Keyword::Range,
            "template" => Keyword::Template,
            "with" => Keyword::With,
            _ => return None,
        })
    }

    pub(super) fn word(self) -> &'static str {
        match self {
            Keyword::Block => "block",
            Keyword::Break => "break",
            Keyword::Continue => "continue",
            Keyword::Define => "define",
            Keyword::Else => "else",
            Keyword::End => "end",
            Keyword::If => "if",
            Keyword::Nil => "nil",
            Keyword::Range => "range",
            Keyword::Template => "template",
            Keyword::With => "with",
        }
    }
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) pos: usize,
}

/// Go's `item.String()`: how a token is quoted in "unexpected" errors.
pub(super) fn describe(tok: &Tok) -> String {
    let text: String = match tok {
        Tok::Eof => return "EOF".to_owned(),
        Tok::Error(msg) => return msg.clone(),
        Tok::Keyword(k) => return format!("<{}>", k.word()),
        Tok::Dot => return "<.>".to_owned(),
        Tok::Text(s) | Tok::Ident(s) | Tok::Variable(s) => s.clone(),
        Tok::Number(s) | Tok::Str(s) | Tok::RawStr(s) | Tok::CharConst(s) => s.clone(),
        Tok::Field(f) => format!(".{f}"),
        Tok::Bool(b) => b.to_string(),
        Tok::LeftDelim => "{{".to_owned(),
        Tok::RightDelim => "}}".to_owned(),
        Tok::Space => " ".to_owned(),
        Tok::Pipe => "|".to_owned(),
        Tok::Declare => ":=".to_owned(),
        Tok::Assign => "=".to_owned(),
        Tok::Char(c) => c.to_string(),
        Tok::LeftParen => "(".to_owned(),
        Tok::RightParen => ")".to_owned(),
    };
    // Go prints long tokens as %.10q followed by "...".
    if text.chars().count() > 10 {
        let short: String = text.chars().take(10).collect();
        format!("{}...", go_quote(&short))
    } else {
        go_quote(&text)
    }
}
