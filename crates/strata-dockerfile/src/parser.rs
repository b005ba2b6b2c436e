//! Layer 1: Dockerfile text to a flat list of instruction nodes, as
//! BuildKit's `parser.Parse` does it (comments, continuations, directives,
//! heredocs). Nothing is validated beyond what BuildKit's parser checks;
//! [`crate::instructions()`] gives the nodes meaning.

pub(crate) mod args;
pub(crate) mod heredoc;
mod lines;
pub(crate) mod split;

use serde::Serialize;

pub use heredoc::Heredoc;

use crate::diagnostic::{Diagnostic, Span};
use crate::directives::{self, DirectiveParser, Directives};
use lines::LineMap;

/// The result of [`parse`]: always produced, problems are diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parsed {
    /// The parser directives from the top of the file.
    pub directives: Directives,
    /// Every instruction, in order. Lines that failed to parse are left
    /// out (and reported).
    pub nodes: Vec<Node>,
    /// Errors and warnings, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// One instruction line (continuations joined) with its heredocs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// The keyword in lower case (`run`); unknown keywords are kept too.
    pub keyword: String,
    /// Flags before the arguments, with quotes and escapes processed, as
    /// BuildKit keeps them: `--from=build`.
    pub flags: Vec<String>,
    /// Where each flag starts; same length as `flags`.
    pub flag_spans: Vec<Span>,
    /// Everything after the flags, trimmed. Continuation lines are joined
    /// without their escape character and line break; comment lines and
    /// blank lines inside a continuation are dropped.
    pub args: String,
    /// Where `args` starts.
    pub args_span: Span,
    /// Heredoc bodies following the line (`RUN`, `COPY`, `ADD`, and
    /// `ONBUILD` with one of those), in marker order.
    pub heredocs: Vec<Heredoc>,
    /// The joined line as BuildKit's `Node.Original` holds it: leading
    /// blanks removed, trailing ones kept. Heredoc bodies are not part of
    /// it.
    pub original: String,
    /// The keyword's position; `end_line` is the last line of the
    /// instruction, heredoc delimiter included.
    pub span: Span,
    /// For `ONBUILD`: the trigger instruction, parsed from `args`.
    pub trigger: Option<Box<Node>>,
}

impl Node {
    /// The keyword as written in the file (`Run`), for messages.
    pub fn keyword_as_written(&self) -> &str {
        let t = self.original.trim_start();
        let end = t.find(split::is_split_space).unwrap_or(t.len());
        &t[..end]
    }
}

/// Parses a Dockerfile. Never fails: malformed lines become diagnostics.
pub fn parse(src: &str) -> Parsed {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let lines = lines::physical_lines(src);
    let mut parsed = Parsed {
        directives: Directives::default(),
        nodes: Vec::new(),
        diagnostics: Vec::new(),
    };
    // Go's scanner gives up on the whole file at an over-long line.
    if let Some(i) = lines
        .iter()
        .position(|l| l.strip_suffix('\n').unwrap_or(l).len() > lines::MAX_LINE)
    {
        parsed.diagnostics.push(Diagnostic::error(
            format!(
                "dockerfile line greater than max allowed size of {}",
                lines::MAX_LINE
            ),
            Span::at(i + 1, 1),
        ));
        return parsed;
    }
    let mut parser = Parser {
        lines: &lines,
        next: 0,
        directive_parser: DirectiveParser::default(),
        parsed,
    };
    parser.run();
    let mut parsed = parser.parsed;
    if parsed.nodes.is_empty() && !parsed.diagnostics.iter().any(Diagnostic::is_error) {
        parsed.diagnostics.push(Diagnostic::error(
            "file with no instructions",
            Span::at(lines.len().max(1), 1),
        ));
    }
    parsed.diagnostics.sort_by_key(|d| d.span);
    parsed
}

/// Walks the physical lines, joining continuations and reading heredoc
/// bodies, as BuildKit's scanner loop does.
struct Parser<'s, 'l> {
    lines: &'l [&'s str],
    /// Index of the next physical line to read.
    next: usize,
    directive_parser: DirectiveParser,
    parsed: Parsed,
}

impl Parser<'_, '_> {
    fn escape(&self) -> char {
        self.parsed.directives.escape
    }

    fn run(&mut self) {
        while self.next < self.lines.len() {
            let idx = self.next;
            self.next += 1;
            let content = lines::trim_newline(self.lines[idx]);
            // Only the first line of an instruction loses its indentation;
            // continuation lines keep theirs (BuildKit joins them as is).
            let stripped = content.trim_start();
            self.directive(stripped, idx);
            if lines::is_comment(stripped) {
                continue;
            }
            let (text, mut ended) = lines::trim_continuation(stripped, self.escape());
            if ended && text.is_empty() {
                continue;
            }
            let mut joined = text.to_owned();
            let mut map = LineMap::default();
            map.push(0, idx, content.len() - stripped.len());
            let mut empty_line = None;
            while !ended && self.next < self.lines.len() {
                let idx = self.next;
                self.next += 1;
                let content = lines::trim_newline(self.lines[idx]);
                // Comment and blank lines do not end a continuation; they
                // are dropped. Blank ones are deprecated, hence the warning
                // (placed on the blank line rather than, as BuildKit does,
                // on the instruction's last line).
                if lines::is_comment(content) {
                    continue;
                }
                if content.trim_start().is_empty() {
                    empty_line.get_or_insert(idx + 1);
                    continue;
                }
                let (text, e) = lines::trim_continuation(content, self.escape());
                ended = e;
                map.push(joined.len(), idx, 0);
                joined.push_str(text);
            }
            if let Some(line) = empty_line {
                self.parsed.diagnostics.push(Diagnostic::warning(
                    "Empty continuation line",
                    Span::at(line, 1),
                ));
            }
            if !self.instruction(&joined, &map) {
                return;
            }
        }
    }

    /// Feeds a line to the directive parser while the header is open.
    fn directive(&mut self, line: &str, idx: usize) {
        let span = Span::at(idx + 1, 1);
        match self.directive_parser.parse_line(line) {
            Ok(None) => {}
            Ok(Some(d)) => {
                let dirs = &mut self.parsed.directives;
                match d.name.as_str() {
                    "escape" => match directives::escape_char(&d.value) {
                        Ok(c) => dirs.escape = c,
                        Err(e) => self.parsed.diagnostics.push(Diagnostic::error(e, span)),
                    },
                    "syntax" => dirs.syntax = Some(d.value),
                    _ => dirs.check = Some(d.value),
                }
            }
            Err(e) => self.parsed.diagnostics.push(Diagnostic::error(e, span)),
        }
    }

    /// Turns a joined line into a node and reads its heredocs. Returns
    /// false when the rest of the file cannot be parsed.
    fn instruction(&mut self, line: &str, map: &LineMap) -> bool {
        let pos = |offset: usize| {
            let (line, column) = map.position(offset, self.lines);
            Span::at(line, column)
        };
        let mut node = match node_from_line(line, 0, self.escape(), &pos) {
            Ok(node) => node,
            Err(d) => {
                self.parsed.diagnostics.push(d);
                return true;
            }
        };
        if can_contain_heredoc(&node, self.escape()) && line.contains("<<") {
            let markers = match heredoc::markers_in_line(line) {
                Ok(m) => m,
                Err(e) => {
                    // The bodies cannot be located, so the following lines
                    // cannot be parsed either; BuildKit stops here too.
                    self.parsed
                        .diagnostics
                        .push(Diagnostic::error(e, node.span));
                    return false;
                }
            };
            for mut doc in markers {
                if !self.read_heredoc(&mut doc) {
                    let mut span = node.span;
                    span.end_line = self.lines.len();
                    self.parsed
                        .diagnostics
                        .push(Diagnostic::error("unterminated heredoc", span));
                    return false;
                }
                node.heredocs.push(doc);
            }
            if let Some(trigger) = node.trigger.as_mut() {
                trigger.heredocs.clone_from(&node.heredocs);
            }
        }
        node.span.end_line = self.next;
        if let Some(trigger) = node.trigger.as_mut() {
            trigger.span.end_line = self.next;
        }
        self.parsed.nodes.push(node);
        true
    }

    /// Reads body lines up to the delimiter. False at end of file.
    fn read_heredoc(&mut self, doc: &mut Heredoc) -> bool {
        while self.next < self.lines.len() {
            let raw = self.lines[self.next];
            self.next += 1;
            let mut candidate = lines::trim_newline(raw);
            if doc.chomp {
                candidate = candidate.trim_start_matches('\t');
            }
            if candidate == doc.name {
                return true;
            }
            doc.content.push_str(raw);
        }
        false
    }
}

/// Builds a node from a logical line; `base` is the line's offset within
/// the joined text `pos` maps (non-zero for an `ONBUILD` trigger).
fn node_from_line(
    line: &str,
    base: usize,
    escape: char,
    pos: &dyn Fn(usize) -> Span,
) -> Result<Node, Diagnostic> {
    let s = split::split_command(line, escape);
    let keyword = s.cmd.to_lowercase();
    let args_span = pos(base + s.args_offset);
    args::parse_args(&keyword, s.args, escape).map_err(|e| Diagnostic::error(e, args_span))?;
    let trigger = if keyword == "onbuild" && !s.args.is_empty() {
        Some(Box::new(node_from_line(
            s.args,
            base + s.args_offset,
            escape,
            pos,
        )?))
    } else {
        None
    };
    Ok(Node {
        keyword,
        flag_spans: s.flags.iter().map(|(_, off)| pos(base + off)).collect(),
        flags: s.flags.into_iter().map(|(f, _)| f).collect(),
        args: s.args.to_owned(),
        args_span,
        heredocs: Vec::new(),
        original: line.to_owned(),
        span: pos(base + s.cmd_offset),
        trigger,
    })
}

/// Heredocs belong to `RUN`, `COPY` and `ADD` in shell form, directly or
/// as an `ONBUILD` trigger.
fn can_contain_heredoc(node: &Node, escape: char) -> bool {
    let node = node.trigger.as_deref().unwrap_or(node);
    matches!(node.keyword.as_str(), "run" | "copy" | "add")
        && !args::parse_args(&node.keyword, &node.args, escape).is_ok_and(|a| a.json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_long_lines_stop_the_parse() {
        let ok = format!("FROM a\nLABEL x={}\n", "a".repeat(lines::MAX_LINE - 8));
        assert!(parse(&ok).diagnostics.is_empty());
        let long = format!("FROM a\nLABEL x={}\n", "a".repeat(lines::MAX_LINE - 7));
        let parsed = parse(&long);
        assert!(parsed.nodes.is_empty());
        assert_eq!(
            parsed.diagnostics,
            [Diagnostic::error(
                "dockerfile line greater than max allowed size of 65535",
                Span::at(2, 1)
            )]
        );
    }

    #[test]
    fn onbuild_trigger_is_a_node() {
        let parsed = parse("FROM a\nONBUILD  COPY --from=x <<EOF /d\nbody\nEOF\n");
        let node = &parsed.nodes[1];
        let trigger = node.trigger.as_deref().unwrap();
        assert_eq!(trigger.keyword, "copy");
        assert_eq!(trigger.flags, ["--from=x"]);
        assert_eq!(trigger.flag_spans, [Span::at(2, 15)]);
        assert_eq!(
            trigger.span,
            Span {
                line: 2,
                column: 10,
                end_line: 4
            }
        );
        assert_eq!(node.heredocs, trigger.heredocs);
        assert_eq!(node.keyword_as_written(), "ONBUILD");
    }
}
