//! Physical lines and how they join into logical lines: comments, the
//! escape character as line continuation, and a map from positions in the
//! joined text back to the source.

/// BuildKit reads lines with Go's `bufio.Scanner`, whose longest line is
/// 64 KiB including the newline.
pub(crate) const MAX_LINE: usize = 65535;

/// Splits the source into physical lines, each keeping its `\n`.
pub(crate) fn physical_lines(src: &str) -> Vec<&str> {
    src.split_inclusive('\n').collect()
}

/// A line without its trailing `\r`/`\n` characters.
pub(crate) fn trim_newline(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// A comment is a line whose first non-blank character is `#`.
pub(crate) fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Removes a trailing line-continuation escape (and blanks after it).
/// Returns the remaining text and whether the logical line ends here.
///
/// Mirrors BuildKit's `([^E])E[ \t]*$|^E[ \t]*$`: an escape preceded by
/// another escape is a literal escaped escape, not a continuation.
pub(crate) fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let body = line.trim_end_matches([' ', '\t']);
    let Some(before) = body.strip_suffix(escape) else {
        return (line, true);
    };
    if before.is_empty() || !before.ends_with(escape) {
        (before, false)
    } else {
        (line, true)
    }
}

/// Where a piece of the joined logical line came from.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Byte offset in the joined line.
    joined: usize,
    /// 0-based source line index.
    line: usize,
    /// Byte offset of the piece within the source line.
    column: usize,
}

/// Maps byte offsets in a joined logical line to source positions.
#[derive(Debug, Default)]
pub(crate) struct LineMap {
    segments: Vec<Segment>,
}

impl LineMap {
    /// Records that joined text starting at `joined` is source line `line`
    /// (0-based) from byte `column` on.
    pub(crate) fn push(&mut self, joined: usize, line: usize, column: usize) {
        self.segments.push(Segment {
            joined,
            line,
            column,
        });
    }

    /// The 1-based line and character column of joined offset `offset`.
    pub(crate) fn position(&self, offset: usize, lines: &[&str]) -> (usize, usize) {
        let Some(seg) = self.segments.iter().rev().find(|s| s.joined <= offset) else {
            return (1, 1);
        };
        let text = trim_newline(lines[seg.line]);
        let mut byte = (seg.column + offset - seg.joined).min(text.len());
        while !text.is_char_boundary(byte) {
            byte -= 1;
        }
        (seg.line + 1, text[..byte].chars().count() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_rules() {
        assert_eq!(trim_continuation("RUN a \\", '\\'), ("RUN a ", false));
        assert_eq!(trim_continuation("RUN a\\  \t", '\\'), ("RUN a", false));
        assert_eq!(trim_continuation("\\", '\\'), ("", false));
        assert_eq!(trim_continuation("  \\", '\\'), ("  ", false));
        assert_eq!(trim_continuation("a\\\\", '\\'), ("a\\\\", true));
        assert_eq!(trim_continuation("a `", '`'), ("a ", false));
        assert_eq!(trim_continuation("a \\", '`'), ("a \\", true));
        assert_eq!(trim_continuation("", '\\'), ("", true));
    }

    #[test]
    fn maps_offsets_back() {
        let lines = ["RUN a \\\n", "# c\n", "  \tb\n"];
        let mut map = LineMap::default();
        map.push(0, 0, 0);
        map.push(6, 2, 0);
        assert_eq!(map.position(4, &lines), (1, 5));
        assert_eq!(map.position(9, &lines), (3, 4));
        assert_eq!(map.position(99, &lines), (3, 5));
    }

    #[test]
    fn lines_and_comments() {
        assert_eq!(physical_lines("a\r\nb"), ["a\r\n", "b"]);
        assert_eq!(trim_newline("a\r\r\n"), "a");
        assert!(is_comment("  # x"));
        assert!(!is_comment("x # y"));
    }
}
