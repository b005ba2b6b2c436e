//! Dockerfile lint with the builder's own parser (heredocs and all).
//!
//! Rules carry hadolint's `DL` ids where hadolint has the rule, BuildKit's
//! check names where BuildKit has it, and `ST` ids for strata's own. A
//! finding is switched off by `# hadolint ignore=ID[,ID]` or
//! `# strata-lint ignore=ID[,ID]` on the comment lines right above its
//! instruction, by BuildKit's `# check=skip=Name[,Name]` directive
//! (`skip=all` too), or by the caller's ignore list (flags and config).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use strata_dockerfile::{Instruction, ShellOrExec, Span, instructions, parse};

/// How serious a finding is, most serious first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Breaks the build or is plainly wrong.
    Error,
    /// Likely a problem.
    Warning,
    /// Worth knowing.
    Info,
    /// Style.
    Style,
}

impl Level {
    /// The level's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
            Level::Style => "style",
        }
    }

    /// Parses a level name.
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "error" => Some(Level::Error),
            "warning" => Some(Level::Warning),
            "info" => Some(Level::Info),
            "style" => Some(Level::Style),
            _ => None,
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Rule id.
    pub code: &'static str,
    /// Severity.
    pub level: Level,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: &'static str,
}

/// A rule's id, alias, level, summary and fix hint.
pub struct RuleInfo {
    /// Id.
    pub code: &'static str,
    /// Another name that also switches it off (hadolint's or BuildKit's).
    pub alias: Option<&'static str>,
    /// Default level.
    pub level: Level,
    /// One line.
    pub summary: &'static str,
    /// How to fix.
    pub hint: &'static str,
}

macro_rules! rules {
    ($($code:literal $alias:expr, $level:ident, $summary:literal, $hint:literal;)*) => {
        /// Every rule.
        pub const RULES: &[RuleInfo] = &[$(RuleInfo {
            code: $code, alias: $alias, level: Level::$level, summary: $summary, hint: $hint,
        }),*];
    };
}

rules! {
    "syntax" None, Error, "The Dockerfile does not parse", "fix the instruction as the message says";
    "DL3006" None, Warning, "Always tag the version of an image explicitly", "use a tag or a digest, e.g. FROM debian:12";
    "DL3007" None, Warning, "Using latest is prone to errors if the image will ever update", "pin a version tag or a digest instead of :latest";
    "StageNameCasing" None, Warning, "Stage names should be lowercase", "write the stage name in lowercase";
    "FromAsCasing" None, Warning, "The 'as' keyword should match the case of the 'from' keyword", "write FROM ... AS ... (or from ... as ...)";
    "DL3024" Some("DuplicateStageName"), Error, "FROM aliases (stage names) must be unique", "give each stage its own name";
    "RedundantTargetPlatform" None, Info, "Setting platform to predefined $TARGETPLATFORM is redundant", "drop --platform=$TARGETPLATFORM";
    "UndefinedArgInFrom" None, Warning, "FROM argument is not declared", "declare it with ARG before the first FROM";
    "DL4000" Some("MaintainerDeprecated"), Warning, "MAINTAINER is deprecated", "use LABEL org.opencontainers.image.authors=...";
    "DL4003" Some("MultipleInstructionsDisallowed"), Warning, "Multiple CMD instructions found; only the last takes effect", "keep one CMD per stage";
    "DL4004" None, Error, "Multiple ENTRYPOINT instructions found; only the last takes effect", "keep one ENTRYPOINT per stage";
    "DL3025" Some("JSONArgsRecommended"), Warning, "Use arguments JSON notation for CMD and ENTRYPOINT", "write CMD [\"executable\", \"arg\"] so signals reach the process";
    "DL3000" Some("WorkdirRelativePath"), Warning, "Use absolute WORKDIR", "give WORKDIR an absolute path";
    "DL3020" None, Error, "Use COPY instead of ADD for files and folders", "ADD only for URLs and archives to extract";
    "DL3002" None, Warning, "Last USER should not be root", "switch to an unprivileged USER at the end of the final stage";
    "ST001" None, Info, "The final stage never sets USER, so it runs as root", "add USER with an unprivileged user";
    "SecretsUsedInArgOrEnv" None, Warning, "Sensitive data should not be used in ARG or ENV", "use RUN --mount=type=secret; ARG and ENV values stay in the image";
    "LegacyKeyValueFormat" None, Warning, "Legacy key/value format with whitespace separator", "write KEY=value";
    "DL3011" None, Error, "Valid UNIX ports range from 0 to 65535", "fix the port number";
    "DL3012" None, Error, "Multiple HEALTHCHECK instructions", "keep one HEALTHCHECK per stage";
    "DL3021" None, Error, "COPY with more than 2 arguments requires the last argument to end with /", "end the destination with /";
    "DL3022" None, Warning, "COPY --from should reference a previously defined FROM alias", "name a stage defined above, or a full image reference";
    "DL3023" None, Error, "COPY --from cannot reference its own FROM alias", "copy from another stage";
    "ConsistentInstructionCasing" None, Warning, "Instructions should be in consistent casing", "write all instructions in upper case";
    "UndefinedVar" None, Warning, "Usage of undefined variable", "define it with ARG or ENV first, or fix the name";
    "DL3015" None, Info, "Avoid additional packages by specifying --no-install-recommends", "apt-get install --no-install-recommends ...";
    "DL3009" None, Info, "Delete the apt-get lists after installing something", "end the RUN with && rm -rf /var/lib/apt/lists/*";
    "DL3005" None, Warning, "Do not use apt-get upgrade or dist-upgrade", "pin the base image and install what you need instead";
    "DL3014" None, Warning, "Use the -y switch to avoid manual input apt-get -y install <package>", "apt-get install -y ...";
    "DL3027" None, Warning, "Do not use apt as it is meant to be an end-user tool, use apt-get or apt-cache instead", "use apt-get";
    "DL3003" None, Warning, "Use WORKDIR to switch to a directory", "WORKDIR /dir instead of RUN cd /dir";
    "DL3004" None, Error, "Do not use sudo as it leads to unpredictable behavior", "RUN already runs as the current USER; switch USER instead";
    "DL3042" None, Warning, "Avoid use of cache directory with pip", "pip install --no-cache-dir ...";
    "DL3019" None, Info, "Use the --no-cache switch to avoid the need to use --update and remove /var/cache/apk/*", "apk add --no-cache ...";
    "DL4001" None, Warning, "Either use wget or curl but not both", "pick one download tool";
    "DL3001" None, Info, "Command does not make sense in a container", "remove it; containers run one process";
    "DL4006" None, Warning, "Set the SHELL option -o pipefail before RUN with a pipe in it", "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]";
    "ST002" None, Warning, "Piping a download into a shell runs unverified code", "download, verify a checksum, then run";
    "ST003" None, Info, "Copying the whole context before installing dependencies rebuilds them on every change", "COPY the dependency manifest first, install, then COPY . .";
}

/// The rule with this id or alias.
pub fn rule(code: &str) -> Option<&'static RuleInfo> {
    RULES
        .iter()
        .find(|r| r.code == code || r.alias == Some(code))
}

/// What to leave out.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// Rule ids or aliases switched off.
    pub ignore: Vec<String>,
    /// Level overrides by rule id.
    pub levels: BTreeMap<String, Level>,
}

struct Ctx {
    out: Vec<Finding>,
}

impl Ctx {
    fn add(&mut self, code: &'static str, span: Span, message: impl Into<String>) {
        let r = rule(code).expect("a known rule");
        self.out.push(Finding {
            line: span.line,
            column: span.column,
            code,
            level: r.level,
            message: message.into(),
            hint: r.hint,
        });
    }
}

const PREDEFINED: &[&str] = &[
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "ftp_proxy",
    "no_proxy",
    "all_proxy",
    "PATH",
    "HOME",
    "HOSTNAME",
    "TERM",
    "LANG",
    "USER",
    "PWD",
    "SHELL",
];

/// Variable names used in `s` (`$X`, `${X...}`), skipping escaped ones.
fn vars(s: &str, escape: char) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_single = false;
    while i < chars.len() {
        let c = chars[i];
        if c == escape {
            i += 2;
            continue;
        }
        if c == '\'' {
            in_single = !in_single;
        } else if c == '$' && !in_single {
            let (start, braced) = if chars.get(i + 1) == Some(&'{') {
                (i + 2, true)
            } else {
                (i + 1, false)
            };
            let mut j = start;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if j > start && !chars[start].is_ascii_digit() {
                out.push(chars[start..j].iter().collect());
            }
            i = if braced { j } else { j.max(i + 1) };
            continue;
        }
        i += 1;
    }
    out
}

/// A shell command line as pipelines of words: split at `&&`, `||`, `;`
/// and newlines, then at `|`, outside quotes.
fn shell_pipelines(cmd: &str) -> Vec<Vec<Vec<String>>> {
    let mut pipelines = vec![vec![Vec::new()]];
    let mut word = String::new();
    let (mut sq, mut dq) = (false, false);
    let chars: Vec<char> = cmd.chars().collect();
    let mut i = 0;
    let flush = |word: &mut String, pipes: &mut Vec<Vec<Vec<String>>>| {
        if !word.is_empty()
            && let Some(w) = pipes.last_mut().and_then(|p| p.last_mut())
        {
            w.push(std::mem::take(word));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\'' if !dq => sq = !sq,
            '"' if !sq => dq = !dq,
            '\\' if !sq => {
                if next == Some('\n') {
                    i += 2;
                    continue;
                }
                if let Some(n) = next {
                    word.push(n);
                }
                i += 2;
                continue;
            }
            _ if sq || dq => word.push(c),
            ' ' | '\t' => flush(&mut word, &mut pipelines),
            '&' if next == Some('&') => {
                flush(&mut word, &mut pipelines);
                pipelines.push(vec![Vec::new()]);
                i += 2;
                continue;
            }
            '|' if next == Some('|') => {
                flush(&mut word, &mut pipelines);
                pipelines.push(vec![Vec::new()]);
                i += 2;
                continue;
            }
            ';' | '\n' => {
                flush(&mut word, &mut pipelines);
                pipelines.push(vec![Vec::new()]);
            }
            '|' => {
                flush(&mut word, &mut pipelines);
                if let Some(p) = pipelines.last_mut() {
                    p.push(Vec::new());
                }
            }
            _ => word.push(c),
        }
        i += 1;
    }
    flush(&mut word, &mut pipelines);
    pipelines
        .into_iter()
        .map(|p| p.into_iter().filter(|c| !c.is_empty()).collect::<Vec<_>>())
        .filter(|p| !p.is_empty())
        .collect()
}

fn has(words: &[String], w: &str) -> bool {
    words.iter().any(|x| x == w)
}

/// The command words after `sudo`/`env` prefixes and variable assignments.
fn program(words: &[String]) -> (&str, &[String]) {
    let mut i = 0;
    while i < words.len() && words[i].contains('=') && !words[i].starts_with('-') {
        i += 1;
    }
    match words.get(i) {
        Some(p) => (p.rsplit('/').next().unwrap_or(p), &words[i + 1..]),
        None => ("", &[]),
    }
}

fn lint_run(ctx: &mut Ctx, span: Span, text: &str, pipefail: bool, seen_install: &mut bool) {
    let pipelines = shell_pipelines(text);
    let mut apt_install = false;
    let mut lists_removed = false;
    let (mut curl, mut wget) = (false, false);
    for pipeline in &pipelines {
        if pipeline.len() > 1 && !pipefail {
            ctx.add(
                "DL4006",
                span,
                "RUN has a pipe but the shell does not use -o pipefail",
            );
        }
        for (k, words) in pipeline.iter().enumerate() {
            let (prog, args) = program(words);
            match prog {
                "sudo" => ctx.add("DL3004", span, "Do not use sudo"),
                "cd" => ctx.add("DL3003", span, "Use WORKDIR to switch to a directory"),
                "curl" => curl = true,
                "wget" => wget = true,
                "apt" => ctx.add("DL3027", span, "Use apt-get instead of apt"),
                "ssh" | "vim" | "shutdown" | "service" | "ps" | "free" | "top" | "kill"
                | "mount" | "ifconfig" => ctx.add(
                    "DL3001",
                    span,
                    format!("'{prog}' does not make sense in a container build"),
                ),
                "apt-get" => {
                    if has(args, "install") {
                        apt_install = true;
                        *seen_install = true;
                        if !has(args, "--no-install-recommends") {
                            ctx.add(
                                "DL3015",
                                span,
                                "apt-get install without --no-install-recommends",
                            );
                        }
                        if !args.iter().any(|a| {
                            a == "-y"
                                || a == "--yes"
                                || a == "--assume-yes"
                                || a == "-qq"
                                || (a.starts_with('-') && !a.starts_with("--") && a.contains('y'))
                        }) {
                            ctx.add("DL3014", span, "apt-get install without -y");
                        }
                    }
                    if has(args, "upgrade") || has(args, "dist-upgrade") {
                        ctx.add("DL3005", span, "Do not use apt-get upgrade or dist-upgrade");
                    }
                }
                "rm" if args.iter().any(|a| a.starts_with("/var/lib/apt/lists")) => {
                    lists_removed = true
                }
                "pip" | "pip3" if has(args, "install") => {
                    *seen_install = true;
                    if !has(args, "--no-cache-dir") {
                        ctx.add("DL3042", span, "pip install without --no-cache-dir");
                    }
                }
                "apk" if has(args, "add") => {
                    *seen_install = true;
                    if !has(args, "--no-cache") {
                        ctx.add("DL3019", span, "apk add without --no-cache");
                    }
                }
                "npm" | "yarn" | "pnpm" | "bundle" | "composer" | "go" | "cargo" | "gem" => {
                    *seen_install = true
                }
                "sh" | "bash" | "ash" | "dash" | "zsh" if k > 0 => {
                    let (up, _) = program(&pipeline[k - 1]);
                    if up == "curl" || up == "wget" {
                        ctx.add("ST002", span, format!("{up} output is piped into {prog}"));
                    }
                }
                _ => {}
            }
        }
    }
    if curl && wget {
        ctx.add("DL4001", span, "Either use wget or curl but not both");
    }
    if apt_install && !lists_removed {
        ctx.add(
            "DL3009",
            span,
            "apt-get lists are not deleted in the RUN that installs",
        );
    }
}

fn secret_key(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "private_key",
        "access_key",
        "credential",
    ]
    .iter()
    .any(|k| n.contains(k))
}

/// The keyword as written in an instruction's original text.
fn keyword(original: &str) -> &str {
    original.split_whitespace().next().unwrap_or("")
}

/// Lints `src`. Suppressions in the file and `opts` are applied.
pub fn lint(src: &str, opts: &LintOptions) -> Vec<Finding> {
    let parsed = parse(src);
    let (df, diagnostics) = instructions(&parsed);
    let mut ctx = Ctx { out: Vec::new() };
    for d in diagnostics.iter().filter(|d| d.is_error()) {
        ctx.add("syntax", d.span, d.message.clone());
    }
    let escape = df.directives.escape;
    // Every name ARG or ENV defines anywhere: UndefinedVar stays quiet
    // about those (scoping mistakes are rarer than typos).
    let mut defined: BTreeSet<String> = df.meta_args.iter().map(|a| a.name.clone()).collect();
    for st in &df.stages {
        for i in &st.instructions {
            match &i.node {
                Instruction::Arg(a) => defined.extend(a.iter().map(|x| x.name.clone())),
                Instruction::Env(p) => defined.extend(p.iter().map(|x| x.0.clone())),
                _ => {}
            }
        }
    }
    let meta: BTreeSet<String> = df.meta_args.iter().map(|a| a.name.clone()).collect();
    let mut casings = BTreeSet::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let last = df.stages.len().saturating_sub(1);
    for (si, st) in df.stages.iter().enumerate() {
        let from_kw = keyword(&st.original);
        casings.insert(from_kw.chars().all(|c| c.is_ascii_uppercase()));
        let words: Vec<&str> = st.original.split_whitespace().collect();
        if let Some(pos) = words.iter().position(|w| w.eq_ignore_ascii_case("as")) {
            let as_kw = words[pos];
            let upper = from_kw.chars().all(|c| c.is_ascii_uppercase());
            let as_upper = as_kw.chars().all(|c| c.is_ascii_uppercase());
            if upper != as_upper {
                ctx.add(
                    "FromAsCasing",
                    st.span,
                    format!("'{as_kw}' and '{from_kw}' keywords' casing do not match"),
                );
            }
            if let Some(name) = words.get(pos + 1)
                && name.chars().any(|c| c.is_ascii_uppercase())
            {
                ctx.add(
                    "StageNameCasing",
                    st.span,
                    format!("Stage name '{name}' should be lowercase"),
                );
            }
        }
        if let Some(name) = &st.name {
            if names.contains_key(name) {
                ctx.add("DL3024", st.span, format!("Duplicate stage name '{name}'"));
            }
            names.insert(name.clone(), si);
        }
        if let Some(p) = &st.platform
            && (p == "$TARGETPLATFORM" || p == "${TARGETPLATFORM}")
        {
            ctx.add(
                "RedundantTargetPlatform",
                st.span,
                "Setting platform to predefined $TARGETPLATFORM in FROM is redundant",
            );
        }
        for v in vars(&st.base, escape) {
            if !meta.contains(&v) && !PREDEFINED.contains(&v.as_str()) {
                ctx.add(
                    "UndefinedArgInFrom",
                    st.span,
                    format!("FROM argument '{v}' is not declared"),
                );
            }
        }
        let base = st.base.to_ascii_lowercase();
        let earlier_stage = df.stages[..si]
            .iter()
            .any(|s| s.name.as_deref() == Some(base.as_str()));
        if !earlier_stage && base != "scratch" && !st.base.contains('$') {
            let last_part = st.base.rsplit('/').next().unwrap_or("");
            if st.base.contains('@') {
            } else if !last_part.contains(':') {
                ctx.add(
                    "DL3006",
                    st.span,
                    format!(
                        "Always tag the version of an image explicitly ({})",
                        st.base
                    ),
                );
            } else if last_part.ends_with(":latest") {
                ctx.add(
                    "DL3007",
                    st.span,
                    format!("Using latest is prone to errors ({})", st.base),
                );
            }
        }
        let (mut cmds, mut entrypoints, mut healthchecks) = (0, 0, 0);
        let mut last_user: Option<(String, Span)> = None;
        let mut pipefail = false;
        let mut copied_all = false;
        let mut warned_copy_all = false;
        for ins in &st.instructions {
            let span = ins.span;
            casings.insert(
                keyword(&ins.original)
                    .chars()
                    .all(|c| c.is_ascii_uppercase()),
            );
            match &ins.node {
                Instruction::Maintainer(_) => ctx.add("DL4000", span, "MAINTAINER is deprecated"),
                Instruction::Cmd(c) => {
                    cmds += 1;
                    if cmds > 1 {
                        ctx.add("DL4003", span, "Multiple CMD instructions found");
                    }
                    if matches!(c, ShellOrExec::Shell(s) if !s.is_empty()) {
                        ctx.add("DL3025", span, "Use JSON arguments for CMD");
                    }
                }
                Instruction::Entrypoint(c) => {
                    entrypoints += 1;
                    if entrypoints > 1 {
                        ctx.add("DL4004", span, "Multiple ENTRYPOINT instructions found");
                    }
                    if matches!(c, ShellOrExec::Shell(s) if !s.is_empty()) {
                        ctx.add("DL3025", span, "Use JSON arguments for ENTRYPOINT");
                    }
                }
                Instruction::Healthcheck(_) => {
                    healthchecks += 1;
                    if healthchecks > 1 {
                        ctx.add("DL3012", span, "Multiple HEALTHCHECK instructions");
                    }
                }
                Instruction::Workdir(w) => {
                    let w = w.trim_matches('"');
                    let windows_drive = w.len() > 1 && w.as_bytes()[1] == b':';
                    if !(w.starts_with('/') || w.starts_with('$') || windows_drive) {
                        ctx.add("DL3000", span, format!("Use absolute WORKDIR ({w})"));
                    }
                }
                Instruction::User(u) => last_user = Some((u.clone(), span)),
                Instruction::Shell(args) => {
                    pipefail = args.iter().any(|a| a.contains("pipefail"));
                }
                Instruction::Arg(defs) => {
                    for d in defs {
                        if secret_key(&d.name) {
                            ctx.add(
                                "SecretsUsedInArgOrEnv",
                                span,
                                format!(
                                    "Do not use ARG or ENV for sensitive data (ARG \"{}\")",
                                    d.name
                                ),
                            );
                        }
                    }
                }
                Instruction::Env(pairs) | Instruction::Label(pairs) => {
                    let is_env = matches!(ins.node, Instruction::Env(_));
                    let rest = ins
                        .original
                        .split_once(char::is_whitespace)
                        .map(|x| x.1.trim_start())
                        .unwrap_or("");
                    let first = rest.split_whitespace().next().unwrap_or("");
                    if !first.contains('=') && !first.is_empty() {
                        let kw = if is_env { "ENV" } else { "LABEL" };
                        ctx.add("LegacyKeyValueFormat", span, format!("\"{kw} key=value\" should be used instead of legacy \"{kw} key value\" format"));
                    }
                    for (k, v) in pairs {
                        if is_env && secret_key(k) {
                            ctx.add(
                                "SecretsUsedInArgOrEnv",
                                span,
                                format!("Do not use ARG or ENV for sensitive data (ENV \"{k}\")"),
                            );
                        }
                        undefined(&mut ctx, span, v, escape, &defined);
                    }
                }
                Instruction::Expose(ports) => {
                    for p in ports {
                        let num = p.split('/').next().unwrap_or("");
                        for part in num.split('-') {
                            if !part.contains('$')
                                && part.parse::<u32>().map(|n| n > 65535).unwrap_or(false)
                            {
                                ctx.add(
                                    "DL3011",
                                    span,
                                    format!("Valid UNIX ports range from 0 to 65535 ({p})"),
                                );
                            }
                        }
                    }
                }
                Instruction::Copy(c) => {
                    if c.sources.len() > 1 && !c.dest.ends_with('/') && c.heredocs.is_empty() {
                        ctx.add("DL3021", span, "COPY with more than 2 arguments requires the last argument to end with /");
                    }
                    if let Some(from) = &c.from {
                        let f = from.to_ascii_lowercase();
                        if st.name.as_deref() == Some(f.as_str()) {
                            ctx.add(
                                "DL3023",
                                span,
                                format!("COPY --from={from} refers to its own stage"),
                            );
                        } else if !f.contains([':', '/', '$', '@'])
                            && f.parse::<usize>().is_err()
                            && !df.stages[..si]
                                .iter()
                                .any(|s| s.name.as_deref() == Some(f.as_str()))
                        {
                            ctx.add(
                                "DL3022",
                                span,
                                format!("COPY --from={from} names no stage defined above"),
                            );
                        }
                    }
                    if c.from.is_none() && c.sources.iter().any(|s| s == "." || s == "./") {
                        copied_all = true;
                    }
                    for s in c.sources.iter().chain(std::iter::once(&c.dest)) {
                        undefined(&mut ctx, span, s, escape, &defined);
                    }
                }
                Instruction::Add(a) => {
                    for s in &a.sources {
                        let url = s.starts_with("http://")
                            || s.starts_with("https://")
                            || s.starts_with("git@");
                        let archive = [
                            ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz",
                            ".tar.zst", ".gz", ".bz2", ".xz", ".zst",
                        ]
                        .iter()
                        .any(|e| s.ends_with(e));
                        if !url && !archive && a.heredocs.is_empty() {
                            ctx.add(
                                "DL3020",
                                span,
                                format!("Use COPY instead of ADD for files and folders ({s})"),
                            );
                            break;
                        }
                    }
                    if a.sources.iter().any(|s| s == "." || s == "./") {
                        copied_all = true;
                    }
                }
                Instruction::Run(r) => {
                    let mut text = match &r.command {
                        ShellOrExec::Shell(s) => s.clone(),
                        ShellOrExec::Exec(v) => v.join(" "),
                    };
                    for h in &r.heredocs {
                        text.push('\n');
                        text.push_str(&h.content);
                    }
                    let mut installs = false;
                    lint_run(&mut ctx, span, &text, pipefail, &mut installs);
                    if installs && copied_all && !warned_copy_all {
                        warned_copy_all = true;
                        ctx.add(
                            "ST003",
                            span,
                            "Dependencies are installed after COPY . copied the whole context",
                        );
                    }
                }
                _ => {}
            }
        }
        if si == last {
            match &last_user {
                Some((u, span))
                    if u == "root" || u == "0" || u.starts_with("root:") || u.starts_with("0:") =>
                {
                    ctx.add("DL3002", *span, "Last USER should not be root");
                }
                None => ctx.add(
                    "ST001",
                    st.span,
                    "The final stage never sets USER, so it runs as root",
                ),
                _ => {}
            }
        }
    }
    if casings.len() > 1
        && let Some(st) = df.stages.first()
    {
        ctx.add(
            "ConsistentInstructionCasing",
            st.span,
            "Instructions are written in mixed case",
        );
    }
    suppress(src, &df.directives.check, opts, ctx.out)
}

fn undefined(ctx: &mut Ctx, span: Span, s: &str, escape: char, defined: &BTreeSet<String>) {
    for v in vars(s, escape) {
        if !defined.contains(&v) && !PREDEFINED.contains(&v.as_str()) {
            ctx.add(
                "UndefinedVar",
                span,
                format!("Usage of undefined variable '${v}'"),
            );
        }
    }
}

fn suppress(
    src: &str,
    check: &Option<String>,
    opts: &LintOptions,
    mut out: Vec<Finding>,
) -> Vec<Finding> {
    let lines: Vec<&str> = src.lines().collect();
    // Inline: comment lines right above the instruction.
    let inline = |line: usize| -> Vec<String> {
        let mut ids = Vec::new();
        let mut l = line.saturating_sub(1);
        while l >= 1 {
            let text = lines.get(l - 1).map(|t| t.trim()).unwrap_or("");
            if !text.starts_with('#') {
                break;
            }
            let body = text.trim_start_matches('#').trim();
            for prefix in ["hadolint ignore=", "strata-lint ignore="] {
                if let Some(list) = body.strip_prefix(prefix) {
                    ids.extend(list.split(',').map(|s| s.trim().to_owned()));
                }
            }
            l -= 1;
        }
        ids
    };
    let mut skip: Vec<String> = opts.ignore.clone();
    if let Some(c) = check {
        for part in c.split(';') {
            if let Some(list) = part.trim().strip_prefix("skip=") {
                skip.extend(list.split(',').map(|s| s.trim().to_owned()));
            }
        }
    }
    let all = skip.iter().any(|s| s == "all");
    let matches = |ids: &[String], f: &Finding| {
        let r = rule(f.code);
        ids.iter()
            .any(|i| i == f.code || r.and_then(|r| r.alias) == Some(i.as_str()))
    };
    out.retain(|f| {
        (f.code == "syntax" || !all) && !matches(&skip, f) && !matches(&inline(f.line), f)
    });
    for f in &mut out {
        if let Some(l) = opts.levels.get(f.code) {
            f.level = *l;
        }
    }
    out.sort_by(|a, b| (a.line, a.column, a.code).cmp(&(b.line, b.column, b.code)));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(src: &str) -> Vec<&'static str> {
        lint(src, &LintOptions::default())
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn shell_lines_split_into_pipelines_outside_quotes() {
        let p = shell_pipelines("a 'x && y' && curl -s u | sh; b \"c|d\"");
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].len(), 2);
        assert_eq!(p[2][0], ["b", "c|d"]);
    }

    #[test]
    fn a_careful_dockerfile_with_heredocs_is_clean() {
        let src = "# syntax=docker/dockerfile:1\n\
FROM debian:12 AS build\n\
RUN <<EOF\n\
set -e\n\
apt-get update\n\
apt-get install -y --no-install-recommends gcc\n\
rm -rf /var/lib/apt/lists/*\n\
EOF\n\
WORKDIR /src\n\
COPY main.c .\n\
RUN gcc -o /app main.c\n\
\n\
FROM debian:12-slim\n\
COPY --from=build /app /usr/local/bin/app\n\
USER 65534\n\
ENTRYPOINT [\"/usr/local/bin/app\"]\n";
        assert_eq!(codes(src), Vec::<&str>::new());
    }

    #[test]
    fn rules_fire_on_what_users_get_wrong() {
        let src = "FROM ubuntu\nMAINTAINER me\nRUN apt-get update && apt-get install curl\nRUN cd /tmp && curl -s https://x | sh\nCMD echo hi\n";
        let c = codes(src);
        for want in [
            "DL3006", "DL4000", "DL3015", "DL3014", "DL3009", "DL3003", "ST002", "DL4006",
            "DL3025", "ST001",
        ] {
            assert!(c.contains(&want), "{want} missing from {c:?}");
        }
    }

    #[test]
    fn inline_and_directive_suppressions_switch_rules_off() {
        let src = "# check=skip=JSONArgsRecommended\nFROM ubuntu:latest\n# hadolint ignore=DL3007\nFROM ubuntu:latest\nUSER app\nCMD echo\n";
        let c = codes(src);
        assert_eq!(c.iter().filter(|c| **c == "DL3007").count(), 1, "{c:?}");
        assert!(!c.contains(&"DL3025"), "{c:?}");
    }
}
