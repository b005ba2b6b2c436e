//! Dockerfile parsing with the behaviour of BuildKit's Dockerfile frontend
//! (syntax 1.x): the parser, the typed instructions and the shell-word
//! expansion `docker build` applies. No I/O.
//!
//! Three layers, each usable alone:
//!
//! 1. [`parse`]: text to [`Node`]s, one per instruction. Handles parser
//!    directives ([`Directives`]: `# syntax=`, `# escape=`, `# check=`),
//!    comments, line continuations (comment and blank lines inside them
//!    included), CRLF, a BOM, and heredocs on `RUN`, `COPY` and `ADD`.
//!    Never fails; problems are [`Diagnostic`]s.
//! 2. [`instructions()`]: nodes to a typed [`Dockerfile`] of [`Stage`]s
//!    and [`Instruction`]s, with BuildKit's validation (argument counts,
//!    flags, JSON forms, `HEALTHCHECK` options, `ONBUILD` rules, stage
//!    names). Values stay unexpanded. A Dockerfile with any error
//!    diagnostic must not be built.
//! 3. [`shell::Lexer`]: BuildKit's word expansion (`$VAR`, `${VAR:-x}`,
//!    `${VAR#pattern}`, quotes, the escape character), for the builder to
//!    apply to each argument at dispatch time, plus [`RunMount`] for
//!    `RUN --mount` values.
//!
//! ```
//! use std::collections::BTreeMap;
//! use strata_dockerfile::{Instruction, ShellOrExec, instructions, parse, shell::Lexer};
//!
//! let src = "ARG BASE=alpine\nFROM $BASE AS Build\nENV GREETING=\"hello world\"\nRUN <<EOF\necho $GREETING\nEOF\n";
//! let (df, diagnostics) = instructions(&parse(src));
//! assert!(diagnostics.iter().all(|d| !d.is_error()));
//! assert_eq!(df.meta_args[0].name, "BASE");
//!
//! let stage = &df.stages[0];
//! assert_eq!((stage.name.as_deref(), stage.base.as_str()), (Some("build"), "$BASE"));
//! let Instruction::Env(pairs) = &stage.instructions[0].node else { panic!() };
//! // The builder expands values when it reaches them.
//! let lex = Lexer::new(df.directives.escape);
//! let value = lex.process_word(&pairs[0].1, &BTreeMap::new()).unwrap();
//! assert_eq!(value, "hello world");
//!
//! let Instruction::Run(run) = &stage.instructions[1].node else { panic!() };
//! assert_eq!(run.command, ShellOrExec::Shell("<<EOF".to_owned()));
//! assert_eq!(run.heredocs[0].content, "echo $GREETING\n");
//! ```
//!
//! Errors render like a compiler's:
//!
//! ```
//! use strata_dockerfile::{instructions, parse};
//!
//! let src = "FROM alpine\nCOPY --fromm=build /a /b\n";
//! let (_, diagnostics) = instructions(&parse(src));
//! assert_eq!(
//!     diagnostics[0].render("Dockerfile", src),
//!     "Dockerfile:2:6: unknown flag: --fromm (did you mean from?)\n\
//!      \x20   2 | COPY --fromm=build /a /b\n\
//!      \x20     |      ^"
//! );
//! ```
//!
//! # Where this differs from BuildKit
//!
//! - Every independent error is reported, not just the first; the first
//!   one in source order is the one BuildKit would print.
//! - `ONBUILD` triggers are parsed and validated when the Dockerfile is
//!   (BuildKit only checks the trigger's keyword and stores the text), so
//!   `ONBUILD FOO` is an error here instead of in the child image.
//! - `RUN --device` is rejected while parsing, with the error BuildKit's
//!   stable frontend gives when it runs the instruction.
//! - A [`Span`] starts at the instruction keyword; BuildKit starts the
//!   range at the first physical line, which differs only when an
//!   instruction begins with a line holding just the escape character.
//! - Non-ASCII text in flags is read as UTF-8 (BuildKit reads it byte by
//!   byte and mangles it), and [`shell::Lexer::process_words`] keeps the
//!   text before a `${VAR:-x}` in the same word (BuildKit drops it).
#![deny(missing_docs)]

mod diagnostic;
mod directives;
pub mod dockerignore;
mod gofmt;
pub mod instructions;
pub mod parser;
pub mod shell;

pub use diagnostic::{Diagnostic, Severity, Span, render_all};
pub use directives::Directives;
pub use instructions::{
    Add, ArgDef, CacheSharing, Copy, Dockerfile, Healthcheck, Instruction, MountError, MountType,
    Run, RunMount, ShellOrExec, Spanned, Stage, instruction, instructions,
};
pub use parser::{Heredoc, Node, Parsed, parse};
pub use shell::{ExpandError, Lexer, VarLookup, WordMatches};
