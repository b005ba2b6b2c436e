//! One node to one typed instruction, with BuildKit's per-instruction
//! checks in BuildKit's order (so the first error reported is the same).

use super::flags::{self, Kind};
use super::{Add, ArgDef, Copy, Instruction, Run, ShellOrExec, healthcheck, mount};
use crate::diagnostic::Diagnostic;
use crate::gofmt;
use crate::parser::args::{LineArgs, parse_args};
use crate::parser::{Heredoc, Node, heredoc};

/// Every instruction keyword, for "did you mean" suggestions.
const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Builds the instruction for a non-`FROM` node.
pub(super) fn build(node: &Node, escape: char) -> Result<Instruction, Diagnostic> {
    let line = parse_args(&node.keyword, &node.args, escape)
        .map_err(|e| Diagnostic::error(e, node.args_span))?;
    let err = |msg: String| Diagnostic::error(msg, node.span);
    let exactly_one = |name: &str| -> Result<String, Diagnostic> {
        match line.args.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(err(format!("{name} requires exactly one argument"))),
        }
    };
    let at_least_one = |name: &str| err(format!("{name} requires at least one argument"));
    Ok(match node.keyword.as_str() {
        "env" => {
            flags::parse(node, &[])?;
            Instruction::Env(key_values(node, &line, "ENV")?)
        }
        "label" => {
            flags::parse(node, &[])?;
            Instruction::Label(key_values(node, &line, "LABEL")?)
        }
        "maintainer" => {
            let value = exactly_one("MAINTAINER")?;
            flags::parse(node, &[])?;
            Instruction::Maintainer(value)
        }
        "workdir" => {
            let value = exactly_one("WORKDIR")?;
            flags::parse(node, &[])?;
            Instruction::Workdir(value)
        }
        "user" => {
            let value = exactly_one("USER")?;
            flags::parse(node, &[])?;
            Instruction::User(value)
        }
        // BuildKit never looks at STOPSIGNAL's or ARG's flags.
        "stopsignal" => Instruction::Stopsignal(exactly_one("STOPSIGNAL")?),
        "arg" => Instruction::Arg(arg_defs(node, &line)?),
        "add" => Instruction::Add(add(node, &line)?),
        "copy" => Instruction::Copy(copy(node, &line)?),
        "run" => Instruction::Run(run(node, &line)?),
        "cmd" => {
            flags::parse(node, &[])?;
            Instruction::Cmd(shell_or_exec(&line))
        }
        "entrypoint" => {
            flags::parse(node, &[])?;
            Instruction::Entrypoint(shell_or_exec(&line))
        }
        "healthcheck" => Instruction::Healthcheck(healthcheck::healthcheck(node, &line)?),
        "expose" => {
            if line.args.is_empty() {
                return Err(at_least_one("EXPOSE"));
            }
            flags::parse(node, &[])?;
            let mut ports = line.args.clone();
            ports.sort();
            Instruction::Expose(ports)
        }
        "volume" => {
            if line.args.is_empty() {
                return Err(at_least_one("VOLUME"));
            }
            flags::parse(node, &[])?;
            let mut volumes = Vec::with_capacity(line.args.len());
            for v in &line.args {
                let v = v.trim();
                if v.is_empty() {
                    return Err(err("VOLUME specified can not be an empty string".to_owned()));
                }
                volumes.push(v.to_owned());
            }
            Instruction::Volume(volumes)
        }
        "shell" => {
            flags::parse(node, &[])?;
            match (shell_or_exec(&line), line.args.is_empty()) {
                (_, true) => return Err(at_least_one("SHELL")),
                (ShellOrExec::Exec(args), false) => Instruction::Shell(args),
                (ShellOrExec::Shell(_), false) => {
                    return Err(Diagnostic::error(
                        "SHELL requires the arguments to be in JSON form",
                        node.args_span,
                    ));
                }
            }
        }
        "onbuild" => {
            return Err(err(
                "internal: ONBUILD is built by the stage builder".to_owned()
            ));
        }
        "from" => return Err(err("FROM is not a command type".to_owned())),
        _ => {
            let written = node.keyword_as_written();
            return Err(err(gofmt::with_suggestion(
                format!("unknown instruction: {written}"),
                written,
                KEYWORDS,
                false,
            )));
        }
    })
}

/// Shell form joins nothing: the parser kept the whole rest as one string.
fn shell_or_exec(line: &LineArgs) -> ShellOrExec {
    if line.json {
        ShellOrExec::Exec(line.args.clone())
    } else {
        ShellOrExec::Shell(line.args.join(" "))
    }
}

/// `ENV`/`LABEL` triples to pairs.
fn key_values(
    node: &Node,
    line: &LineArgs,
    name: &str,
) -> Result<Vec<(String, String)>, Diagnostic> {
    let err = |msg: String| Diagnostic::error(msg, node.span);
    if line.args.is_empty() {
        return Err(err(format!("{name} requires at least one argument")));
    }
    if !line.args.len().is_multiple_of(3) {
        return Err(err(format!("Bad input to {name}, too many arguments")));
    }
    line.args
        .chunks(3)
        .map(|kv| {
            if kv[0].is_empty() {
                return Err(err(format!("{name} names can not be blank")));
            }
            Ok((kv[0].clone(), kv[1].clone()))
        })
        .collect()
}

fn arg_defs(node: &Node, line: &LineArgs) -> Result<Vec<ArgDef>, Diagnostic> {
    let err = |msg: &str| Diagnostic::error(msg, node.span);
    if line.args.is_empty() {
        return Err(err("ARG requires at least one argument"));
    }
    line.args
        .iter()
        .map(|arg| match arg.split_once('=') {
            Some(("", _)) => Err(err("ARG names can not be blank")),
            Some((name, value)) => Ok(ArgDef {
                name: name.to_owned(),
                default: Some(value.to_owned()),
            }),
            None => Ok(ArgDef {
                name: arg.clone(),
                default: None,
            }),
        })
        .collect()
}

/// Sources, destination and inline files of `COPY`/`ADD`.
struct Sources {
    sources: Vec<String>,
    dest: String,
    heredocs: Vec<Heredoc>,
}

fn sources_and_dest(node: &Node, line: &LineArgs, name: &str) -> Result<Sources, Diagnostic> {
    let marker = |s: &str| heredoc::parse_marker(s).ok().flatten();
    let (dest, srcs) = line.args.split_last().unwrap_or((&node.args, &[]));
    if marker(dest).is_some() {
        return Err(Diagnostic::error(
            format!("{name} cannot accept a heredoc as a destination"),
            node.span,
        ));
    }
    let mut out = Sources {
        sources: Vec::new(),
        dest: dest.clone(),
        heredocs: Vec::new(),
    };
    for src in srcs {
        let Some(m) = marker(src) else {
            out.sources.push(src.clone());
            continue;
        };
        // The last body with that name wins, as in BuildKit's lookup map;
        // a marker without a body (JSON form) is an empty file.
        let content = node
            .heredocs
            .iter()
            .rev()
            .find(|h| h.name == m.name)
            .map(|h| h.content.clone())
            .unwrap_or_default();
        out.heredocs.push(Heredoc {
            content: if m.chomp {
                heredoc::chomp(&content)
            } else {
                content
            },
            ..m
        });
    }
    Ok(out)
}

fn no_destination(node: &Node, name: &str) -> Diagnostic {
    Diagnostic::error(
        format!(
            "{name} requires at least two arguments, but only one was provided. Destination could not be determined"
        ),
        node.span,
    )
}

fn add(node: &Node, line: &LineArgs) -> Result<Add, Diagnostic> {
    if line.args.len() < 2 {
        return Err(no_destination(node, "ADD"));
    }
    let f = flags::parse(
        node,
        &[
            ("chown", Kind::Str),
            ("chmod", Kind::Str),
            ("link", Kind::Bool),
            ("keep-git-dir", Kind::Bool),
            ("checksum", Kind::Str),
            ("unpack", Kind::Bool),
            ("exclude", Kind::Strings),
        ],
    )?;
    let s = sources_and_dest(node, line, "ADD")?;
    Ok(Add {
        sources: s.sources,
        dest: s.dest,
        chown: f.non_empty("chown"),
        chmod: f.non_empty("chmod"),
        checksum: f.non_empty("checksum"),
        keep_git_dir: f.boolean("keep-git-dir").unwrap_or(false),
        link: f.boolean("link").unwrap_or(false),
        excludes: f.strings("exclude"),
        unpack: f.boolean("unpack"),
        heredocs: s.heredocs,
    })
}

fn copy(node: &Node, line: &LineArgs) -> Result<Copy, Diagnostic> {
    if line.args.len() < 2 {
        return Err(no_destination(node, "COPY"));
    }
    let f = flags::parse(
        node,
        &[
            ("chown", Kind::Str),
            ("from", Kind::Str),
            ("chmod", Kind::Str),
            ("link", Kind::Bool),
            ("exclude", Kind::Strings),
            ("parents", Kind::Bool),
        ],
    )?;
    let s = sources_and_dest(node, line, "COPY")?;
    Ok(Copy {
        sources: s.sources,
        dest: s.dest,
        from: f.non_empty("from"),
        chown: f.non_empty("chown"),
        chmod: f.non_empty("chmod"),
        link: f.boolean("link").unwrap_or(false),
        parents: f.boolean("parents").unwrap_or(false),
        excludes: f.strings("exclude"),
        heredocs: s.heredocs,
    })
}

fn run(node: &Node, line: &LineArgs) -> Result<Run, Diagnostic> {
    let f = flags::parse(
        node,
        &[
            ("device", Kind::Strings),
            ("mount", Kind::Strings),
            ("network", Kind::Str),
            ("security", Kind::Str),
        ],
    )?;
    let at = |name: &str, msg: String| Diagnostic::error(msg, flags::span_of(node, name));
    if !f.strings("device").is_empty() {
        return Err(at(
            "device",
            "device feature is only supported in Dockerfile frontend 1.14.0-labs or later"
                .to_owned(),
        ));
    }
    let mounts = f.strings("mount");
    let spans = flags::spans_of(node, "mount");
    for (i, m) in mounts.iter().enumerate() {
        mount::precheck(m)
            .map_err(|e| Diagnostic::error(e, spans.get(i).copied().unwrap_or(node.span)))?;
    }
    let network = f.string("network");
    if let Some(n) = network
        .as_deref()
        .filter(|n| !matches!(*n, "default" | "none" | "host"))
    {
        return Err(at(
            "network",
            format!("invalid network mode {}", gofmt::quote(n)),
        ));
    }
    let security = f.string("security");
    if let Some(s) = security
        .as_deref()
        .filter(|s| !matches!(*s, "sandbox" | "insecure"))
    {
        return Err(at(
            "security",
            format!("security {} is not valid", gofmt::quote(s)),
        ));
    }
    Ok(Run {
        command: shell_or_exec(line),
        mounts,
        network,
        security,
        heredocs: node.heredocs.clone(),
    })
}
