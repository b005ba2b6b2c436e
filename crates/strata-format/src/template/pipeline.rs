//! Parsing inside an action: pipelines with their declarations, commands,
//! operands with field chains, and terms (Go's `pipeline`, `command`,
//! `operand` and `term`).

use super::ast::{Arg, ArgKind, Cmd, Pipe};
use super::funcs;
use super::literal::{go_quote, number, unquote};
use super::parse::Parser;
use super::token::{Keyword, Tok};

impl Parser<'_> {
    /// Parses `[$v :=] cmd | cmd ...` up to `end` (`}}` or `)`).
    pub(super) fn pipeline(&mut self, context: &str, end: &Tok) -> Result<Pipe, String> {
        let pos = self.peek_non_space().pos;
        let mut pipe = Pipe {
            pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        self.declarations(&mut pipe, context)?;
        loop {
            let tok = self.next_non_space();
            if &tok.tok == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match tok.tok {
                Tok::Bool(_)
                | Tok::CharConst(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Keyword(Keyword::Nil)
                | Tok::RawStr(_)
                | Tok::Str(_)
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.backup();
                    pipe.cmds.push(self.command()?);
                }
                _ => return Err(self.unexpected(&tok, context)),
            }
        }
    }

    /// Parses `$x :=`, `$x =` or (in `range`) `$i, $e :=` if present.
    pub(super) fn declarations(&mut self, pipe: &mut Pipe, context: &str) -> Result<(), String> {
        loop {
            let start = self.mark();
            let var = self.peek_non_space();
            let Tok::Variable(name) = var.tok else {
                return Ok(());
            };
            self.next_non_space();
            let next = self.peek_non_space();
            match next.tok {
                Tok::Declare | Tok::Assign => {
                    self.next_non_space();
                    pipe.is_assign = next.tok == Tok::Assign;
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    return Ok(());
                }
                Tok::Char(',') => {
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().tok {
                            Tok::Variable(_) | Tok::RightDelim | Tok::RightParen => continue,
                            _ => return Err(self.err("range can only initialize variables")),
                        }
                    }
                    return Err(self.err(&format!("too many declarations in {context}")));
                }
                _ => {
                    // Not a declaration: the variable is the first operand.
                    self.reset(start);
                    return Ok(());
                }
            }
        }
    }

    pub(super) fn check_pipeline(&self, pipe: &Pipe, context: &str) -> Result<(), String> {
        if pipe.cmds.is_empty() {
            return Err(self.err(&format!("missing value for {context}")));
        }
        // Only the first stage may be a plain value; later stages receive
        // the previous result as an argument.
        for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
            if let Some(
                ArgKind::Bool(_)
                | ArgKind::Dot
                | ArgKind::Nil
                | ArgKind::Number(..)
                | ArgKind::Str(..),
            ) = cmd.args.first().map(|a| &a.kind)
            {
                return Err(self.err(&format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    pub(super) fn command(&mut self) -> Result<Cmd, String> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(arg) = self.operand()? {
                args.push(arg);
            }
            let tok = self.next();
            match tok.tok {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => self.backup(),
                Tok::Pipe => {}
                _ => return Err(self.unexpected(&tok, "operand")),
            }
            break;
        }
        if args.is_empty() {
            return Err(self.err("empty command"));
        }
        Ok(Cmd { pos, args })
    }

    /// A term followed by any `.Field` chain.
    pub(super) fn operand(&mut self) -> Result<Option<Arg>, String> {
        let Some(term) = self.term()? else {
            return Ok(None);
        };
        // Go positions a chained operand at its first added field.
        let pos = self.peek().pos;
        let mut fields = Vec::new();
        while let Tok::Field(f) = &self.peek().tok {
            fields.push(f.clone());
            self.next();
        }
        if fields.is_empty() {
            return Ok(Some(term));
        }
        let kind = match term.kind {
            ArgKind::Field(mut base) => {
                base.extend(fields);
                ArgKind::Field(base)
            }
            ArgKind::Variable(name, mut base) => {
                base.extend(fields);
                ArgKind::Variable(name, base)
            }
            ArgKind::Bool(_)
            | ArgKind::Str(..)
            | ArgKind::Number(..)
            | ArgKind::Nil
            | ArgKind::Dot => {
                return Err(self.err(&format!(
                    "unexpected . after term {}",
                    go_quote(&term.to_string())
                )));
            }
            _ => ArgKind::Chain(Box::new(term), fields),
        };
        Ok(Some(Arg { pos, kind }))
    }

    pub(super) fn term(&mut self) -> Result<Option<Arg>, String> {
        let tok = self.next_non_space();
        let kind = match tok.tok {
            Tok::Ident(name) => {
                if !funcs::is_defined(&name) {
                    return Err(self.err(&format!("function {} not defined", go_quote(&name))));
                }
                ArgKind::Func(name)
            }
            Tok::Dot => ArgKind::Dot,
            Tok::Keyword(Keyword::Nil) => ArgKind::Nil,
            Tok::Variable(name) => {
                if !self.vars.contains(&name) {
                    return Err(self.err(&format!("undefined variable {}", go_quote(&name))));
                }
                ArgKind::Variable(name, Vec::new())
            }
            Tok::Field(f) => ArgKind::Field(vec![f]),
            Tok::Bool(b) => ArgKind::Bool(b),
            Tok::Number(text) | Tok::CharConst(text) => {
                let n = number(&text).map_err(|msg| self.err(&msg))?;
                ArgKind::Number(text, n)
            }
            Tok::LeftParen => ArgKind::Pipe(Box::new(
                self.pipeline("parenthesized pipeline", &Tok::RightParen)?,
            )),
            Tok::Str(text) | Tok::RawStr(text) => match unquote(&text) {
                Some(s) => ArgKind::Str(text, s),
                None => return Err(self.err("invalid syntax")),
            },
            _ => {
                self.backup_unless_final(&tok);
                return Ok(None);
            }
        };
        Ok(Some(Arg { pos: tok.pos, kind }))
    }
}
