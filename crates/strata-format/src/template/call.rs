//! Calling template functions from the executor: Go's argument-count
//! check, `and`/`or` short-circuiting, and the wording and placement of
//! argument type errors.

use super::ast::{Arg, ArgKind, Cmd};
use super::exec::{Res, State};
use super::funcs::{self, CallError};
use super::value::{Val, type_name};

impl State<'_> {
    /// Calls function `name` (the identifier `ident`) as command `cmd`.
    pub(super) fn eval_function(
        &mut self,
        dot: &Val,
        (name, ident): (&str, &Arg),
        cmd: &Cmd,
        args: &[Arg],
        last: Option<Val>,
    ) -> Res<Val> {
        // Go checks the argument count before evaluating anything.
        let sig = funcs::signature(name);
        let count = args.len() + usize::from(last.is_some());
        if sig.variadic && count < sig.fixed {
            let msg = format!(
                "wrong number of args for {name}: want at least {} got {}",
                sig.fixed,
                args.len()
            );
            return Err(self.fail(ident.pos, ident, &msg));
        }
        if !sig.variadic && count != sig.fixed {
            let msg = format!(
                "wrong number of args for {name}: want {} got {count}",
                sig.fixed
            );
            return Err(self.fail(ident.pos, ident, &msg));
        }
        if name == "and" || name == "or" {
            return self.eval_and_or(dot, name, args, last);
        }
        let mut values = Vec::with_capacity(count);
        for arg in args {
            values.push(self.eval_arg(dot, arg)?);
        }
        values.extend(last);
        funcs::call(name, &values, self.mode).map_err(|e| match e {
            CallError::Call(msg) => {
                self.fail(cmd.pos, cmd, &format!("error calling {name}: {msg}"))
            }
            CallError::ArgType { index, want } => {
                // Go reports a bad argument at the argument itself (a piped
                // value at the last argument node, or the function name).
                let node = args.get(index).or(args.last()).unwrap_or(ident);
                self.fail(
                    node.pos,
                    node,
                    &arg_type_message(args.get(index), &values[index], want),
                )
            }
        })
    }

    /// `and`/`or` evaluate arguments left to right and stop at the first
    /// that decides the result (false for `and`, true for `or`), returning
    /// that value itself; otherwise they return the last.
    fn eval_and_or(&mut self, dot: &Val, name: &str, args: &[Arg], last: Option<Val>) -> Res<Val> {
        let stop_on = name == "or";
        let mut v = Val::Missing;
        for arg in args {
            v = self.eval_arg(dot, arg)?;
            if v.truthy() == stop_on {
                return Ok(v);
            }
        }
        Ok(last.unwrap_or(v))
    }
}

/// Go's wording for an argument that does not fit its parameter: literals
/// are checked as constants ("expected string; found 1"), everything else
/// as a value ("wrong type for value; expected string; got int").
fn arg_type_message(node: Option<&Arg>, value: &Val, want: &str) -> String {
    let literal = node.filter(|n| {
        matches!(
            n.kind,
            ArgKind::Bool(_) | ArgKind::Number(..) | ArgKind::Str(..) | ArgKind::Nil
        )
    });
    match (literal, value) {
        (Some(n), _) if matches!(n.kind, ArgKind::Nil) => format!("cannot assign nil to {want}"),
        (Some(n), _) if want == "string" => format!("expected string; found {n}"),
        (Some(n), _) if want == "int" => format!("expected integer; found {n}"),
        (Some(n), _) => format!("can't handle {n} for arg of type {want}"),
        (None, Val::Missing) => format!("invalid value; expected {want}"),
        (None, Val::Data(v)) => format!(
            "wrong type for value; expected {want}; got {}",
            type_name(v)
        ),
    }
}
