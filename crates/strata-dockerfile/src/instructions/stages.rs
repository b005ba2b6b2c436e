//! Grouping instructions into stages: meta `ARG`s before the first `FROM`,
//! `FROM` validation, and `ONBUILD` triggers.
//!
//! Unlike BuildKit, which stops at the first error, every independent
//! error is reported; instructions after a broken `FROM` are dropped
//! silently so one mistake does not cascade.

use super::build::build;
use super::flags::{self, Kind};
use super::{Dockerfile, Instruction, Spanned, Stage};
use crate::diagnostic::{Diagnostic, Span};
use crate::gofmt;
use crate::parser::args::parse_args;
use crate::parser::{Node, Parsed};

/// Builds the typed Dockerfile. The returned diagnostics include
/// `parsed.diagnostics`, sorted by position; any error means the
/// Dockerfile must not be built.
pub fn instructions(parsed: &Parsed) -> (Dockerfile, Vec<Diagnostic>) {
    let escape = parsed.directives.escape;
    let mut diagnostics = parsed.diagnostics.clone();
    let mut df = Dockerfile {
        directives: parsed.directives.clone(),
        meta_args: Vec::new(),
        stages: Vec::new(),
    };
    let mut saw_from = false;
    let mut broken_stage = false;
    for node in &parsed.nodes {
        if node.keyword == "from" {
            saw_from = true;
            match stage(node, escape) {
                Ok(s) => {
                    df.stages.push(s);
                    broken_stage = false;
                }
                Err(d) => {
                    diagnostics.push(d);
                    broken_stage = true;
                }
            }
            continue;
        }
        let ins = match instruction(node, escape) {
            Ok(ins) => ins,
            Err(d) => {
                diagnostics.push(d);
                continue;
            }
        };
        match (df.stages.last_mut(), ins.node) {
            (_, Instruction::Arg(args)) if !saw_from => df.meta_args.extend(args),
            (None, _) if !saw_from => diagnostics.push(Diagnostic::error(
                "no build stage in current context",
                node.span,
            )),
            (Some(stage), node) if !broken_stage => stage.instructions.push(Spanned {
                node,
                span: ins.span,
                original: ins.original,
            }),
            _ => {}
        }
    }
    if !saw_from && !diagnostics.iter().any(Diagnostic::is_error) {
        let span = parsed.nodes.first().map_or(Span::at(1, 1), |n| n.span);
        diagnostics.push(Diagnostic::error(
            "dockerfile contains no stages to build",
            span,
        ));
    }
    diagnostics.sort_by_key(|d| d.span);
    (df, diagnostics)
}

/// Builds one instruction from one node (not `FROM`); for example an
/// `ONBUILD` trigger read back from a base image, parsed with
/// [`crate::parse`].
pub fn instruction(node: &Node, escape: char) -> Result<Spanned<Instruction>, Diagnostic> {
    let built = if node.keyword == "onbuild" {
        onbuild(node, escape)?
    } else {
        build(node, escape)?
    };
    Ok(Spanned {
        node: built,
        span: node.span,
        original: node.original.trim().to_owned(),
    })
}

/// `FROM [--platform=p] image [AS name]`.
fn stage(node: &Node, escape: char) -> Result<Stage, Diagnostic> {
    let args = parse_args("from", &node.args, escape)
        .map_err(|e| Diagnostic::error(e, node.args_span))?
        .args;
    let name = match args.as_slice() {
        [_, as_, name] if as_.to_lowercase() == "as" => {
            let lower = name.to_lowercase();
            if !valid_stage_name(&lower) {
                return Err(Diagnostic::error(
                    format!(
                        "invalid name for build stage: {}, name can't start with a number or contain symbols",
                        gofmt::quote(name)
                    ),
                    node.args_span,
                ));
            }
            Some(lower)
        }
        [_] => None,
        _ => {
            return Err(Diagnostic::error(
                "FROM requires either one or three arguments",
                node.span,
            ));
        }
    };
    let flags = flags::parse(node, &[("platform", Kind::Str)])?;
    Ok(Stage {
        name,
        base: args[0].clone(),
        platform: flags.non_empty("platform"),
        instructions: Vec::new(),
        span: node.span,
        original: node.original.trim().to_owned(),
    })
}

/// BuildKit's `^[a-z][a-z0-9-_.]*$` (on the lower-cased name).
fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// `ONBUILD trigger`: the trigger is parsed now (BuildKit only checks its
/// keyword and stores the text), so a malformed trigger is reported here
/// instead of in the image that inherits it.
fn onbuild(node: &Node, escape: char) -> Result<Instruction, Diagnostic> {
    let Some(trigger) = node.trigger.as_deref() else {
        return Err(Diagnostic::error(
            "ONBUILD requires at least one argument",
            node.span,
        ));
    };
    flags::parse(node, &[])?;
    let keyword = trigger.keyword_as_written().trim().to_uppercase();
    match keyword.as_str() {
        "ONBUILD" => {
            return Err(Diagnostic::error(
                "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
                node.span,
            ));
        }
        "MAINTAINER" | "FROM" => {
            return Err(Diagnostic::error(
                format!("{keyword} isn't allowed as an ONBUILD trigger"),
                node.span,
            ));
        }
        _ => {}
    }
    let inner = instruction(trigger, escape)?;
    Ok(Instruction::Onbuild(Box::new(Spanned {
        node: inner.node,
        span: trigger.span,
        original: onbuild_expression(node),
    })))
}

/// The trigger text BuildKit stores in the image config: the line without
/// `ONBUILD` (trailing blanks kept), each heredoc appended as `\n`, body,
/// delimiter.
fn onbuild_expression(node: &Node) -> String {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\u{c}' | '\r');
    let s = node.original.trim_start_matches(is_space);
    let mut expr = match s.get(..7) {
        Some(k) if k.eq_ignore_ascii_case("onbuild") => s[7..].trim_start_matches(is_space),
        _ => s,
    }
    .to_owned();
    for h in &node.heredocs {
        expr.push('\n');
        expr.push_str(&h.content);
        expr.push_str(&h.name);
    }
    expr
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn single_instruction_from_a_trigger() {
        let parsed = parse("RUN echo from the base image");
        let ins = instruction(&parsed.nodes[0], '\\').unwrap();
        assert_eq!(ins.original, "RUN echo from the base image");
        assert!(matches!(ins.node, Instruction::Run(_)));
        let parsed = parse("FROM x");
        assert!(instruction(&parsed.nodes[0], '\\').is_err());
    }

    #[test]
    fn onbuild_expression_keeps_trailing_blanks() {
        let (df, diags) = instructions(&parse("FROM a\nonbuild\tRUN x  \n"));
        assert!(diags.is_empty());
        let Instruction::Onbuild(t) = &df.stages[0].instructions[0].node else {
            panic!("not onbuild");
        };
        assert_eq!(t.original, "RUN x  ");
    }
}
