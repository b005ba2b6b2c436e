//! The parse tree of a template, shaped like Go's `text/template/parse`
//! nodes, with `Display` reproducing Go's `String()` forms (which appear in
//! execution errors as `at <...>`).

use std::fmt;

/// A sequence of nodes, such as a template body or an `if` branch.
pub(super) type List = Vec<Node>;

/// One element of a template body.
#[derive(Debug, Clone)]
pub(super) enum Node {
    /// Literal text, printed as is.
    Text(String),
    /// `{{pipeline}}`: printed unless it declares variables.
    Action(Pipe),
    /// `if`, `with` or `range` with its body and optional `else` branch.
    Control {
        kind: ControlKind,
        pipe: Pipe,
        list: List,
        else_list: Option<List>,
    },
    /// `{{break}}` inside `range`.
    Break,
    /// `{{continue}}` inside `range`.
    Continue,
}

/// Which control structure a [`Node::Control`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ControlKind {
    If,
    With,
    Range,
}

impl ControlKind {
    /// The keyword, which Go also uses as the parse-error context.
    pub(super) fn word(self) -> &'static str {
        match self {
            ControlKind::If => "if",
            ControlKind::With => "with",
            ControlKind::Range => "range",
        }
    }
}

/// A pipeline: optional variable declarations, then commands joined by `|`.
#[derive(Debug, Clone)]
pub(super) struct Pipe {
    pub(super) pos: usize,
    /// `=` rather than `:=`: the variables must already exist.
    pub(super) is_assign: bool,
    pub(super) decl: Vec<String>,
    pub(super) cmds: Vec<Cmd>,
}

/// One stage of a pipeline: an operand, or a function and its arguments.
#[derive(Debug, Clone)]
pub(super) struct Cmd {
    pub(super) pos: usize,
    pub(super) args: Vec<Arg>,
}

/// An operand with the byte offset where it starts.
#[derive(Debug, Clone)]
pub(super) struct Arg {
    pub(super) pos: usize,
    pub(super) kind: ArgKind,
}

/// The kinds of operand.
#[derive(Debug, Clone)]
pub(super) enum ArgKind {
    Dot,
    Nil,
    Bool(bool),
    /// A number literal: its source spelling and value.
    Number(String, Number),
    /// A string literal: its source spelling (quotes included) and value.
    Str(String, String),
    /// `.A.B`: a field chain on dot.
    Field(Vec<String>),
    /// `$x.A.B`: a variable and an optional field chain.
    Variable(String, Vec<String>),
    /// A function name.
    Func(String),
    /// `(pipeline).A.B`: fields of a parenthesised result.
    Chain(Box<Arg>, Vec<String>),
    /// `(pipeline)`.
    Pipe(Box<Pipe>),
}

/// A number literal's value. Go keeps integers exact and floats separate;
/// a literal is a float when it is spelled with a point or an exponent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Number {
    Int(i64),
    Uint(u64),
    Float(f64),
}

fn write_fields(f: &mut fmt::Formatter<'_>, fields: &[String]) -> fmt::Result {
    fields.iter().try_for_each(|name| write!(f, ".{name}"))
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ArgKind::Dot => f.write_str("."),
            ArgKind::Nil => f.write_str("nil"),
            ArgKind::Bool(b) => write!(f, "{b}"),
            ArgKind::Number(text, _) | ArgKind::Str(text, _) => f.write_str(text),
            ArgKind::Field(fields) => write_fields(f, fields),
            ArgKind::Variable(name, fields) => {
                f.write_str(name)?;
                write_fields(f, fields)
            }
            ArgKind::Func(name) => f.write_str(name),
            ArgKind::Chain(inner, fields) => {
                // Go parenthesises a pipeline operand inside a chain.
                match &inner.kind {
                    ArgKind::Pipe(_) => write!(f, "{inner}")?,
                    _ => write!(f, "({inner})")?,
                }
                write_fields(f, fields)
            }
            ArgKind::Pipe(pipe) => write!(f, "({pipe})"),
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{arg}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, cmd) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{cmd}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text(text) => f.write_str(text),
            Node::Action(pipe) => write!(f, "{{{{{pipe}}}}}"),
            Node::Control {
                kind,
                pipe,
                list,
                else_list,
            } => {
                write!(f, "{{{{{} {pipe}}}}}", kind.word())?;
                list.iter().try_for_each(|node| write!(f, "{node}"))?;
                if let Some(else_list) = else_list {
                    f.write_str("{{else}}")?;
                    else_list.iter().try_for_each(|node| write!(f, "{node}"))?;
                }
                f.write_str("{{end}}")
            }
            Node::Break => f.write_str("{{break}}"),
            Node::Continue => f.write_str("{{continue}}"),
        }
    }
}
