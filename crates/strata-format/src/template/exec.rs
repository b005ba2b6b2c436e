//! Executes a parse tree against JSON data with Go's `text/template`
//! semantics: dot, variables and their scopes, field chains on objects,
//! pipelines, `if`/`with`/`range` (with `break`/`continue`), and `%v`
//! printing.
//!
//! Where JSON data differs from Go structs, this behaves like Go does on
//! `map[string]interface{}` data: a missing key is `<no value>`, not an
//! error. Beyond Go, a field of `null` is also `<no value>` (Go reports
//! "nil pointer evaluating"), and ranging over `null` runs the `else`
//! branch, as ranging over a nil slice does in Go.

use std::fmt::Display;

use serde_json::Value;

use super::ast::{Arg, ArgKind, Cmd, ControlKind, List, Node, Number, Pipe};
use super::funcs::Mode;
use super::printf::format_v;
use super::value::{Val, float_value, int_value, type_name};

/// Whether a list ran to its end or hit `{{break}}`/`{{continue}}`.
#[derive(PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

pub(super) struct State<'a> {
    src: &'a str,
    pub(super) mode: Mode,
    vars: Vec<(String, Val)>,
    out: String,
}

/// Renders `list` with `data` as both dot and `$`.
pub(super) fn execute(src: &str, list: &List, data: &Value, mode: Mode) -> Result<String, String> {
    let root = Val::Data(data.clone());
    let mut state = State {
        src,
        mode,
        vars: vec![("$".to_owned(), root.clone())],
        out: String::new(),
    };
    state.walk(&root, list)?;
    Ok(state.out)
}

pub(super) type Res<T> = Result<T, String>;

impl State<'_> {
    /// An execution error in Go's format:
    /// `template: :LINE:COL: executing "" at <NODE>: MSG`.
    pub(super) fn fail(&self, pos: usize, node: &dyn Display, msg: &str) -> String {
        let before = &self.src[..pos.min(self.src.len())];
        let line = 1 + before.matches('\n').count();
        let col = before.rfind('\n').map_or(pos, |nl| pos - nl - 1);
        let mut context = node.to_string();
        if context.len() > 20 {
            context = format!("{}...", context.chars().take(20).collect::<String>());
        }
        format!("template: :{line}:{col}: executing \"\" at <{context}>: {msg}")
    }

    fn walk(&mut self, dot: &Val, list: &List) -> Res<Flow> {
        for node in list {
            let flow = match node {
                Node::Text(text) => {
                    self.out.push_str(text);
                    Flow::Normal
                }
                Node::Action(pipe) => {
                    let v = self.eval_pipeline(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        match v {
                            Val::Missing => self.out.push_str("<no value>"),
                            Val::Data(v) => self.out.push_str(&format_v(&v)),
                        }
                    }
                    Flow::Normal
                }
                Node::Control {
                    kind: ControlKind::Range,
                    pipe,
                    list,
                    else_list,
                } => self.walk_range(dot, node, pipe, list, else_list.as_ref())?,
                Node::Control {
                    kind,
                    pipe,
                    list,
                    else_list,
                } => {
                    let scope = self.vars.len();
                    let v = self.eval_pipeline(dot, pipe)?;
                    let flow = if v.truthy() {
                        let dot = if *kind == ControlKind::With { &v } else { dot };
                        self.walk(dot, list)?
                    } else if let Some(else_list) = else_list {
                        self.walk(dot, else_list)?
                    } else {
                        Flow::Normal
                    };
                    self.vars.truncate(scope);
                    flow
                }
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
            };
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    /// Runs `range` (the whole `node`, which Go names in its errors).
    fn walk_range(
        &mut self,
        dot: &Val,
        node: &Node,
        pipe: &Pipe,
        list: &List,
        else_list: Option<&List>,
    ) -> Res<Flow> {
        let scope = self.vars.len();
        let v = self.eval_pipeline(dot, pipe)?;
        // Each item is (key or index, element).
        let items: Vec<(Value, Value)> = match v.as_value() {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, e)| (int_value(i64::try_from(i).unwrap_or(i64::MAX)), e.clone()))
                .collect(),
            Value::Object(o) => {
                // Go ranges over maps in sorted key order.
                let mut entries: Vec<_> = o.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                entries
                    .into_iter()
                    .map(|(k, e)| (Value::String(k.clone()), e.clone()))
                    .collect()
            }
            Value::Null => Vec::new(),
            Value::Number(n) if n.as_i64().is_some() && !n.is_f64() => {
                if pipe.decl.len() > 1 {
                    let msg = format!("can't use {n} to iterate over more than one variable");
                    return Err(self.fail(pipe.pos, node, &msg));
                }
                (0..n.as_i64().unwrap_or(0))
                    .map(|i| (int_value(i), int_value(i)))
                    .collect()
            }
            other => {
                return Err(self.fail(
                    pipe.pos,
                    node,
                    &format!("range can't iterate over {}", format_v(other)),
                ));
            }
        };
        if items.is_empty() {
            let flow = match else_list {
                Some(else_list) => self.walk(dot, else_list)?,
                None => Flow::Normal,
            };
            self.vars.truncate(scope);
            return Ok(flow);
        }
        for (key, elem) in items {
            // The pipeline's declarations (or assigned variables) take the
            // element, or the key and the element.
            match pipe.decl.as_slice() {
                [e] => self.set_var(e, Val::Data(elem.clone()), pipe)?,
                [k, e] => {
                    self.set_var(k, Val::Data(key), pipe)?;
                    self.set_var(e, Val::Data(elem.clone()), pipe)?;
                }
                _ => {}
            }
            let body_scope = self.vars.len();
            let flow = self.walk(&Val::Data(elem), list)?;
            self.vars.truncate(body_scope);
            if flow == Flow::Break {
                break;
            }
        }
        self.vars.truncate(scope);
        Ok(Flow::Normal)
    }

    /// Sets the innermost variable called `name`.
    fn set_var(&mut self, name: &str, v: Val, pipe: &Pipe) -> Res<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = v;
                Ok(())
            }
            None => Err(self.fail(pipe.pos, pipe, &format!("undefined variable: {name}"))),
        }
    }

    fn var(&self, name: &str, arg: &Arg) -> Res<Val> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.fail(arg.pos, arg, &format!("undefined variable: {name}"))),
        }
    }

    fn eval_pipeline(&mut self, dot: &Val, pipe: &Pipe) -> Res<Val> {
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Val::Missing);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone(), pipe)?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    /// Evaluates one pipeline stage; `last` is the previous stage's result,
    /// passed as the final argument.
    fn eval_command(&mut self, dot: &Val, cmd: &Cmd, last: Option<Val>) -> Res<Val> {
        let first = &cmd.args[0];
        let has_args = cmd.args.len() > 1 || last.is_some();
        let not_a_function = |state: &Self| -> Res<()> {
            if has_args {
                let msg = format!("can't give argument to non-function {first}");
                return Err(state.fail(first.pos, first, &msg));
            }
            Ok(())
        };
        match &first.kind {
            ArgKind::Func(name) => {
                self.eval_function(dot, (name, first), cmd, &cmd.args[1..], last)
            }
            ArgKind::Field(fields) => self.eval_fields(dot, fields, first, has_args),
            ArgKind::Variable(name, fields) if !fields.is_empty() => {
                let v = self.var(name, first)?;
                self.eval_fields(&v, fields, first, has_args)
            }
            ArgKind::Chain(inner, fields) if !matches!(inner.kind, ArgKind::Nil) => {
                let v = self.eval_arg(dot, inner)?;
                self.eval_fields(&v, fields, first, has_args)
            }
            ArgKind::Nil => Err(self.fail(first.pos, first, "nil is not a command")),
            _ => {
                not_a_function(self)?;
                self.eval_arg(dot, first)
            }
        }
    }

    /// Looks up a chain of fields. Only the last may receive arguments,
    /// and object keys are not methods, so arguments are an error.
    fn eval_fields(&self, v: &Val, fields: &[String], node: &Arg, has_args: bool) -> Res<Val> {
        // Walk by reference and clone only the result: dot is often a whole
        // `inspect` document.
        let mut cur = match v {
            Val::Missing => None,
            Val::Data(d) => Some(d),
        };
        for (i, name) in fields.iter().enumerate() {
            cur = match cur {
                None | Some(Value::Null) => None,
                Some(Value::Object(map)) => {
                    if has_args && i + 1 == fields.len() {
                        let msg = format!("{name} is not a method but has arguments");
                        return Err(self.fail(node.pos, node, &msg));
                    }
                    map.get(name)
                }
                Some(other) => {
                    let msg = format!("can't evaluate field {name} in type {}", type_name(other));
                    return Err(self.fail(node.pos, node, &msg));
                }
            };
        }
        Ok(cur.map_or(Val::Missing, |d| Val::Data(d.clone())))
    }

    /// Evaluates an operand used as an argument.
    pub(super) fn eval_arg(&mut self, dot: &Val, arg: &Arg) -> Res<Val> {
        Ok(match &arg.kind {
            ArgKind::Dot => dot.clone(),
            ArgKind::Nil => Val::Data(Value::Null),
            ArgKind::Bool(b) => Val::Data(Value::Bool(*b)),
            ArgKind::Str(_, s) => Val::Data(Value::String(s.clone())),
            ArgKind::Number(text, n) => Val::Data(match *n {
                Number::Int(i) => int_value(i),
                Number::Float(f) => float_value(f)
                    .ok_or_else(|| self.fail(arg.pos, arg, &format!("{text} overflows float64")))?,
                Number::Uint(_) => {
                    return Err(self.fail(arg.pos, arg, &format!("{text} overflows int")));
                }
            }),
            ArgKind::Field(fields) => self.eval_fields(dot, fields, arg, false)?,
            ArgKind::Variable(name, fields) => {
                let v = self.var(name, arg)?;
                self.eval_fields(&v, fields, arg, false)?
            }
            ArgKind::Chain(inner, fields) => {
                if let ArgKind::Nil = inner.kind {
                    return Err(self.fail(
                        arg.pos,
                        arg,
                        &format!("indirection through explicit nil in {arg}"),
                    ));
                }
                let v = self.eval_arg(dot, inner)?;
                self.eval_fields(&v, fields, arg, false)?
            }
            ArgKind::Pipe(pipe) => self.eval_pipeline(dot, pipe)?,
            // A function named as an argument is called without arguments.
            ArgKind::Func(name) => {
                let cmd = Cmd {
                    pos: arg.pos,
                    args: vec![arg.clone()],
                };
                self.eval_function(dot, (name, arg), &cmd, &[], None)?
            }
        })
    }
}
