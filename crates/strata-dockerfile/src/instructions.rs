//! Layer 2: typed instructions grouped into build stages, with BuildKit's
//! validation (`frontend/dockerfile/instructions`).
//!
//! Values stay unexpanded: `$VAR`, quotes and escapes in arguments are the
//! builder's to expand with [`crate::shell::Lexer`] at dispatch, in the
//! environment of that point of the build. Only JSON (exec) forms are
//! decoded here.

mod build;
mod flags;
mod healthcheck;
mod mount;
mod stages;

use std::time::Duration;

use serde::Serialize;

use crate::diagnostic::Span;
use crate::directives::Directives;
use crate::parser::Heredoc;

pub use mount::{CacheSharing, MountError, MountType, RunMount};
pub use stages::{instruction, instructions};

/// A Dockerfile as build stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dockerfile {
    /// The parser directives.
    pub directives: Directives,
    /// `ARG`s before the first `FROM`, usable in `FROM` lines.
    pub meta_args: Vec<ArgDef>,
    /// The stages, in order.
    pub stages: Vec<Stage>,
}

/// One `ARG` name with its optional default (unexpanded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArgDef {
    /// The name as written.
    pub name: String,
    /// The default value, unexpanded; `None` for `ARG name`, `Some("")` for
    /// `ARG name=`.
    pub default: Option<String>,
}

/// A `FROM` and the instructions up to the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// `AS name`, lower-cased as BuildKit does (stage names are
    /// case-insensitive).
    pub name: Option<String>,
    /// The base image or stage name, unexpanded.
    pub base: String,
    /// `--platform`, unexpanded.
    pub platform: Option<String>,
    /// The stage's instructions.
    pub instructions: Vec<Spanned<Instruction>>,
    /// Where the `FROM` is.
    pub span: Span,
    /// The `FROM` line as BuildKit prints it.
    pub original: String,
}

/// A value with the place it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where its instruction is.
    pub span: Span,
    /// The instruction as BuildKit prints it in build progress (the line,
    /// trimmed; for an `ONBUILD` trigger, the expression stored in the
    /// image config).
    pub original: String,
}

/// A command in shell form (run through the stage's `SHELL`) or exec form
/// (a JSON array).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ShellOrExec {
    /// The command line, unprocessed: the shell interprets it.
    Shell(String),
    /// The argument vector, JSON-decoded, not expanded.
    Exec(Vec<String>),
}

/// A Dockerfile instruction other than `FROM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Instruction {
    /// `ARG name[=default] ...`.
    Arg(Vec<ArgDef>),
    /// `ENV k=v ...` or `ENV k v`: raw keys and values. A value keeps its
    /// quotes and escapes; BuildKit removes them when it expands the value
    /// (with [`crate::shell::Lexer::process_word`]) at dispatch.
    Env(Vec<(String, String)>),
    /// `LABEL`: raw keys and values, like [`Instruction::Env`].
    Label(Vec<(String, String)>),
    /// `RUN`.
    Run(Run),
    /// `CMD`. A shell-form `CMD` with no text is `Shell("")`.
    Cmd(ShellOrExec),
    /// `ENTRYPOINT`. `ENTRYPOINT []` (`Exec` with no arguments) clears the
    /// entrypoint; BuildKit stores it as null in the image config.
    Entrypoint(ShellOrExec),
    /// `COPY`.
    Copy(Copy),
    /// `ADD`.
    Add(Add),
    /// `EXPOSE`: raw port specs, sorted as BuildKit sorts them (before
    /// expansion).
    Expose(Vec<String>),
    /// `VOLUME`: raw paths (surrounding whitespace trimmed).
    Volume(Vec<String>),
    /// `USER`, raw.
    User(String),
    /// `WORKDIR`, raw.
    Workdir(String),
    /// `ONBUILD`: the trigger. Its `original` is what goes into the image
    /// config's `OnBuild` list.
    Onbuild(Box<Spanned<Instruction>>),
    /// `STOPSIGNAL`, raw.
    Stopsignal(String),
    /// `HEALTHCHECK`.
    Healthcheck(Healthcheck),
    /// `SHELL`: the JSON array.
    Shell(Vec<String>),
    /// `MAINTAINER` (deprecated), raw.
    Maintainer(String),
}

/// `RUN [--mount=...] [--network=...] [--security=...] command`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    /// The command. With heredocs it is the shell line holding the markers
    /// (`<<EOF`, `python3 <<EOF`, `cat <<A <<B > f`).
    pub command: ShellOrExec,
    /// Each `--mount` value, unexpanded; expand, then [`RunMount::parse`].
    pub mounts: Vec<String>,
    /// `--network` (`default`, `none` or `host`), when given.
    pub network: Option<String>,
    /// `--security` (`sandbox` or `insecure`), when given.
    pub security: Option<String>,
    /// Heredoc bodies as written: for `<<-` the builder strips leading tabs
    /// when it runs a lone heredoc as a script, but passes them to the
    /// shell untouched when reconstructing a line with several heredocs,
    /// as BuildKit does (see [`Heredoc::chomped_content`]).
    pub heredocs: Vec<Heredoc>,
}

/// `COPY [flags] src... dest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Copy {
    /// Source paths, unexpanded; heredoc sources are in `heredocs` instead.
    pub sources: Vec<String>,
    /// The destination, unexpanded.
    pub dest: String,
    /// `--from` (stage, image or context name); `None` when absent or
    /// empty.
    pub from: Option<String>,
    /// `--chown`, unexpanded.
    pub chown: Option<String>,
    /// `--chmod`, unexpanded.
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// `--parents`.
    pub parents: bool,
    /// Each `--exclude` pattern.
    pub excludes: Vec<String>,
    /// Inline files from heredoc sources, in source order. The name is the
    /// file name; `content` already has `<<-` applied; `expand` says
    /// whether the builder expands variables in it.
    pub heredocs: Vec<Heredoc>,
}

/// `ADD [flags] src... dest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Add {
    /// Source paths or URLs, unexpanded; heredoc sources are in
    /// `heredocs`.
    pub sources: Vec<String>,
    /// The destination, unexpanded.
    pub dest: String,
    /// `--chown`, unexpanded.
    pub chown: Option<String>,
    /// `--chmod`, unexpanded.
    pub chmod: Option<String>,
    /// `--checksum`, unexpanded.
    pub checksum: Option<String>,
    /// `--keep-git-dir`.
    pub keep_git_dir: bool,
    /// `--link`.
    pub link: bool,
    /// Each `--exclude` pattern.
    pub excludes: Vec<String>,
    /// `--unpack`: `None` when absent (archives from the context are
    /// unpacked, remote ones are not).
    pub unpack: Option<bool>,
    /// Inline files, as for [`Copy::heredocs`].
    pub heredocs: Vec<Heredoc>,
}

/// `HEALTHCHECK`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disable any inherited check.
    None,
    /// `HEALTHCHECK [options] CMD command`.
    Check {
        /// The command (`CMD-SHELL` for shell form, `CMD` for exec form in
        /// the image config).
        test: ShellOrExec,
        /// `--interval`; `None` when absent or zero (the default applies).
        interval: Option<Duration>,
        /// `--timeout`; `None` when absent or zero.
        timeout: Option<Duration>,
        /// `--start-period`; `None` when absent or zero.
        start_period: Option<Duration>,
        /// `--start-interval`; `None` when absent or zero.
        start_interval: Option<Duration>,
        /// `--retries`, when given.
        retries: Option<u32>,
    },
}
