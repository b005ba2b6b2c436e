//! Source positions and the diagnostics attached to them.
//!
//! BuildKit only tracks line ranges; we also keep a column so the rendered
//! diagnostic can point at the offending flag or word.

use serde::Serialize;

/// A place in the Dockerfile: where something starts and the last line it
/// covers (continuation lines and heredoc bodies included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Span {
    /// First line, 1-based.
    pub line: usize,
    /// Column on `line`, 1-based, counted in characters.
    pub column: usize,
    /// Last line, 1-based; equal to `line` for a one-line construct.
    pub end_line: usize,
}

impl Span {
    /// A span covering one position on one line.
    pub fn at(line: usize, column: usize) -> Self {
        Self {
            line,
            column,
            end_line: line,
        }
    }
}

/// How bad a diagnostic is. Any [`Severity::Error`] stops a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Severity {
    /// The Dockerfile is invalid; BuildKit would refuse it.
    Error,
    /// The Dockerfile works, but BuildKit would warn about it.
    Warning,
}

/// A problem found while parsing, located in the source.
///
/// Messages are BuildKit's wording, so what users see matches `docker
/// build` (several of BuildKit's messages start with a capital letter or an
/// instruction name; they are kept as they are).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(message: impl Into<String>, span: Span) -> Self {
        Self {
            severity: Severity::Error,
            message: message.into(),
            span,
        }
    }

    /// A warning at `span`.
    pub fn warning(message: impl Into<String>, span: Span) -> Self {
        Self {
            severity: Severity::Warning,
            message: message.into(),
            span,
        }
    }

    /// Whether this diagnostic stops a build.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic against the Dockerfile it came from:
    ///
    /// ```text
    /// Dockerfile:3:1: unknown instruction: FOO
    ///     3 | FOO bar
    ///       | ^
    /// ```
    ///
    /// Warnings carry a `warning: ` prefix before the message. When the
    /// line does not exist in `src` (an empty file) only the first line is
    /// printed. There is no trailing newline.
    pub fn render(&self, file_name: &str, src: &str) -> String {
        let Span { line, column, .. } = self.span;
        let prefix = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        let mut out = format!("{file_name}:{line}:{column}: {prefix}{}", self.message);
        let src = src.strip_prefix('\u{feff}').unwrap_or(src);
        let Some(text) = line.checked_sub(1).and_then(|i| src.split('\n').nth(i)) else {
            return out;
        };
        let text = text.trim_end_matches(['\r', '\n']);
        let row = format!("{line:>5} | {text}");
        out.push('\n');
        out.push_str(row.trim_end());
        // Copy tabs from the source so the caret lines up however wide the
        // terminal draws them.
        let pad: String = text
            .chars()
            .chain(std::iter::repeat(' '))
            .take(column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        out.push_str(&format!("\n{:>5} | {pad}^", ""));
        out
    }
}

/// Renders every diagnostic, one after the other, separated by newlines.
pub fn render_all(diagnostics: &[Diagnostic], file_name: &str, src: &str) -> String {
    diagnostics
        .iter()
        .map(|d| d.render(file_name, src))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_caret() {
        let src = "FROM a\n\nFOO bar\n";
        let d = Diagnostic::error("unknown instruction: FOO", Span::at(3, 1));
        assert_eq!(
            d.render("Dockerfile", src),
            "Dockerfile:3:1: unknown instruction: FOO\n    3 | FOO bar\n      | ^"
        );
    }

    #[test]
    fn caret_follows_tabs_and_columns() {
        let src = "\tRUN --x y";
        let d = Diagnostic::warning("w", Span::at(1, 6));
        assert_eq!(
            d.render("D", src),
            "D:1:6: warning: w\n    1 | \tRUN --x y\n      | \t    ^"
        );
    }

    #[test]
    fn missing_line_prints_header_only() {
        let d = Diagnostic::error("file with no instructions", Span::at(4, 1));
        assert_eq!(d.render("D", "a\n"), "D:4:1: file with no instructions");
        assert_eq!(
            render_all(&[d.clone(), d], "D", ""),
            "D:4:1: file with no instructions\nD:4:1: file with no instructions"
        );
    }
}
