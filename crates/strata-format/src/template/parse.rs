//! Builds the parse tree from tokens, following the grammar and the error
//! messages of Go's `text/template/parse` (messages are what users see
//! after `template parsing error:`, so they are kept verbatim where known).

use super::ast::{ControlKind, List, Node};
use super::lex::lex;
use super::token::{Keyword, Tok, Token, describe};

/// Parses a template body. Errors are complete Go-style messages
/// (`template: :1: ...`).
pub(super) fn parse(src: &str) -> Result<List, String> {
    let mut p = Parser {
        src,
        tokens: lex(src),
        idx: 0,
        seen: 0,
        vars: vec!["$".to_owned()],
        range_depth: 0,
        action_pos: None,
    };
    let mut list = List::new();
    while p.peek().tok != Tok::Eof {
        match p.text_or_action()? {
            Item::Node(node) => list.push(node),
            Item::End => return Err(p.err("unexpected {{end}}")),
            Item::Else => return Err(p.err("unexpected {{else}}")),
        }
    }
    Ok(list)
}

/// What `text_or_action` found: a node, or the `{{end}}`/`{{else}}` that
/// closes the list being parsed.
enum Item {
    Node(Node),
    End,
    Else,
}

pub(super) struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    idx: usize,
    /// The furthest token looked at; Go reports errors at its line.
    seen: usize,
    /// Variables in scope, innermost last.
    pub(super) vars: Vec<String>,
    range_depth: usize,
    /// Where the current action's `{{` is, for multi-line lexer errors.
    action_pos: Option<usize>,
}

impl Parser<'_> {
    fn line_of(&self, pos: usize) -> usize {
        1 + self.src[..pos.min(self.src.len())].matches('\n').count()
    }

    /// A parse error in Go's format, at the line of the last token seen.
    pub(super) fn err(&self, msg: &str) -> String {
        let pos = self.tokens[self.seen.min(self.tokens.len() - 1)].pos;
        format!("template: :{}: {msg}", self.line_of(pos))
    }

    pub(super) fn unexpected(&self, tok: &Token, context: &str) -> String {
        if let Tok::Error(msg) = &tok.tok {
            let mut extra = String::new();
            if let Some(start) = self.action_pos {
                let line = self.line_of(start);
                if line != self.line_of(tok.pos) {
                    // Go avoids saying "action in action".
                    extra = if msg.ends_with(" action") {
                        format!(" started at :{line}")
                    } else {
                        format!(" in action started at :{line}")
                    };
                }
            }
            return self.err(&format!("{msg}{extra}"));
        }
        self.err(&format!("unexpected {} in {context}", describe(&tok.tok)))
    }

    pub(super) fn peek(&mut self) -> &Token {
        self.seen = self.seen.max(self.idx);
        &self.tokens[self.idx]
    }

    pub(super) fn next(&mut self) -> Token {
        let tok = self.peek().clone();
        // The final Eof/Error token repeats forever.
        if self.idx + 1 < self.tokens.len() {
            self.idx += 1;
        }
        tok
    }

    /// The current position, to return to with [`Parser::reset`].
    pub(super) fn mark(&self) -> usize {
        self.idx
    }

    pub(super) fn reset(&mut self, mark: usize) {
        self.idx = mark;
    }

    pub(super) fn backup(&mut self) {
        self.idx -= 1;
    }

    pub(super) fn next_non_space(&mut self) -> Token {
        loop {
            let tok = self.next();
            if tok.tok != Tok::Space {
                return tok;
            }
        }
    }

    pub(super) fn peek_non_space(&mut self) -> Token {
        let tok = self.next_non_space();
        self.backup_unless_final(&tok);
        tok
    }

    /// Undoes a `next` that returned `tok`, unless `tok` is the final
    /// token (which `next` never advanced past).
    pub(super) fn backup_unless_final(&mut self, tok: &Token) {
        if !matches!(tok.tok, Tok::Eof | Tok::Error(_)) {
            self.backup();
        }
    }

    fn expect_right_delim(&mut self, context: &str) -> Result<(), String> {
        let tok = self.next_non_space();
        if tok.tok == Tok::RightDelim {
            Ok(())
        } else {
            Err(self.unexpected(&tok, context))
        }
    }

    fn text_or_action(&mut self) -> Result<Item, String> {
        let tok = self.next_non_space();
        match tok.tok {
            Tok::Text(s) => Ok(Item::Node(Node::Text(s))),
            Tok::LeftDelim => {
                self.action_pos = Some(tok.pos);
                let item = self.action();
                self.action_pos = None;
                item
            }
            _ => Err(self.unexpected(&tok, "input")),
        }
    }

    /// Parses what follows `{{`: a control keyword or a pipeline.
    fn action(&mut self) -> Result<Item, String> {
        let tok = self.next_non_space();
        match tok.tok {
            Tok::Keyword(Keyword::Else) => {
                // "{{else if" and "{{else with" leave the keyword for the
                // enclosing control to chain on.
                let next = self.peek_non_space();
                if !matches!(next.tok, Tok::Keyword(Keyword::If | Keyword::With)) {
                    self.expect_right_delim("else")?;
                }
                Ok(Item::Else)
            }
            Tok::Keyword(Keyword::End) => {
                self.expect_right_delim("end")?;
                Ok(Item::End)
            }
            Tok::Keyword(Keyword::If) => self.control(ControlKind::If).map(Item::Node),
            Tok::Keyword(Keyword::With) => self.control(ControlKind::With).map(Item::Node),
            Tok::Keyword(Keyword::Range) => self.control(ControlKind::Range).map(Item::Node),
            Tok::Keyword(k @ (Keyword::Break | Keyword::Continue)) => {
                if self.range_depth == 0 {
                    return Err(self.err(&format!("{{{{{}}}}} outside {{{{range}}}}", k.word())));
                }
                self.expect_right_delim(&format!("{{{{{}}}}}", k.word()))?;
                Ok(Item::Node(if k == Keyword::Break {
                    Node::Break
                } else {
                    Node::Continue
                }))
            }
            Tok::Keyword(k @ (Keyword::Define | Keyword::Template | Keyword::Block)) => {
                // Docker's single anonymous template never needs these.
                Err(self.err(&format!("{{{{{}}}}} is not supported", k.word())))
            }
            _ => {
                self.backup_unless_final(&tok);
                Ok(Item::Node(Node::Action(
                    self.pipeline("command", &Tok::RightDelim)?,
                )))
            }
        }
    }

    /// Parses `if`/`with`/`range` after the keyword, through its `{{end}}`.
    /// Variables declared in the pipeline or body go out of scope at the end.
    fn control(&mut self, kind: ControlKind) -> Result<Node, String> {
        let scope = self.vars.len();
        let pipe = self.pipeline(kind.word(), &Tok::RightDelim)?;
        let is_range = kind == ControlKind::Range;
        self.range_depth += usize::from(is_range);
        let (list, closer) = self.item_list()?;
        self.range_depth -= usize::from(is_range);
        let mut else_list = None;
        if let Item::Else = closer {
            let chained = match (kind, &self.peek().tok) {
                (ControlKind::If, Tok::Keyword(Keyword::If)) => Some(ControlKind::If),
                (ControlKind::With, Tok::Keyword(Keyword::With)) => Some(ControlKind::With),
                _ => None,
            };
            if let Some(inner) = chained {
                // "{{else if x}}…{{end}}" is "{{else}}{{if x}}…{{end}}{{end}}":
                // the inner control consumes the shared {{end}}.
                self.next();
                else_list = Some(vec![self.control(inner)?]);
            } else {
                let (list, closer) = self.item_list()?;
                if !matches!(closer, Item::End) {
                    return Err(self.err("expected end; found {{else}}"));
                }
                else_list = Some(list);
            }
        }
        self.vars.truncate(scope);
        Ok(Node::Control {
            kind,
            pipe,
            list,
            else_list,
        })
    }

    /// Parses nodes up to the `{{end}}` or `{{else}}` that closes them.
    fn item_list(&mut self) -> Result<(List, Item), String> {
        let mut list = List::new();
        loop {
            if self.peek_non_space().tok == Tok::Eof {
                return Err(self.err("unexpected EOF"));
            }
            match self.text_or_action()? {
                Item::Node(node) => list.push(node),
                closer => return Ok((list, closer)),
            }
        }
    }
}
