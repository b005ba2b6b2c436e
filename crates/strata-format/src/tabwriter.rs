//! Elastic tabstops with the exact semantics of Go's `text/tabwriter`, which
//! Docker feeds its table output through.
//!
//! The model, in Go's terms: every line is a list of cells; a cell ends at a
//! tab (`\t` or `\v`) or at the end of the line. Only tab-terminated cells
//! belong to columns: the last cell of a line is printed as is. A column
//! block is a run of consecutive lines that all have a cell in that column;
//! a line with fewer cells ends the block, so columns further right are
//! sized independently above and below it. A column is as wide as its widest
//! cell plus `padding`, but never narrower than `minwidth`.
//!
//! Only flags=0 is modelled (no right alignment, no empty-column discarding,
//! no HTML filtering, no escapes): that is what Docker uses. Go's `0xff`
//! escape byte cannot occur in a `&str`, so its absence changes nothing.

use crate::width::display_width;

/// Docker's table parameters: `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`.
const DOCKER_MINWIDTH: usize = 10;
const DOCKER_TABWIDTH: usize = 1;
const DOCKER_PADDING: usize = 3;

/// One cell: its text (without the terminator) and its width.
struct Cell<'a> {
    text: &'a str,
    width: usize,
}

/// The cell layout of a whole input, plus the geometry to print it with.
struct Layout<'a> {
    lines: Vec<Vec<Cell<'a>>>,
    minwidth: usize,
    tabwidth: usize,
    padding: usize,
    padchar: char,
}

/// Aligns tab-separated `input` as Go's `tabwriter.NewWriter(w, minwidth,
/// tabwidth, padding, padchar, 0)` followed by `Flush` would, measuring
/// cells in Unicode scalar values as the standard library does
/// (`utf8.RuneCount`).
///
/// ```
/// use strata_format::tabwriter::tabwrite;
/// let out = tabwrite("a\tb\nlonger\tc\n", 0, 1, 1, ' ');
/// assert_eq!(out, "a      b\nlonger c\n");
/// ```
pub fn tabwrite(
    input: &str,
    minwidth: usize,
    tabwidth: usize,
    padding: usize,
    padchar: char,
) -> String {
    tabwrite_with(input, minwidth, tabwidth, padding, padchar, |s| {
        s.chars().count()
    })
}

/// [`tabwrite`] with a caller-chosen cell width measure.
pub fn tabwrite_with(
    input: &str,
    minwidth: usize,
    tabwidth: usize,
    padding: usize,
    padchar: char,
    width: impl Fn(&str) -> usize,
) -> String {
    let mut out = String::with_capacity(input.len() * 2);
    // A formfeed flushes Go's writer: no column continues past it, so each
    // formfeed-terminated section is laid out on its own.
    for section in input.split_inclusive('\x0c') {
        let layout = Layout {
            lines: split_cells(section, &width),
            minwidth,
            tabwidth,
            padding,
            padchar,
        };
        let mut widths = Vec::new();
        layout.format(&mut out, &mut widths, 0, layout.lines.len());
    }
    out
}

/// Docker's table layout: minwidth 10, tabwidth 1, padding 3, space padding.
///
/// Docker's CLI vendors a copy of `text/tabwriter` that measures cells with
/// go-runewidth (terminal columns: CJK and emoji count 2, combining marks 0)
/// instead of counting runes, so this does too; for ASCII the two agree.
pub fn docker_table(input: &str) -> String {
    tabwrite_with(
        input,
        DOCKER_MINWIDTH,
        DOCKER_TABWIDTH,
        DOCKER_PADDING,
        ' ',
        display_width,
    )
}

/// Splits input into lines of cells. `\n` and `\f` end lines (both print as
/// `\n`); `\t` and `\v` end cells. Text after the last line break becomes a
/// final line without a newline, and an input ending in a line break gets a
/// trailing empty line, so output newlines mirror input newlines exactly.
fn split_cells<'a>(input: &'a str, width: &impl Fn(&str) -> usize) -> Vec<Vec<Cell<'a>>> {
    let mut lines = Vec::new();
    let mut line = Vec::new();
    let mut start = 0;
    for (i, ch) in input.char_indices() {
        if matches!(ch, '\t' | '\x0b' | '\n' | '\x0c') {
            let text = &input[start..i];
            line.push(Cell {
                text,
                width: width(text),
            });
            start = i + ch.len_utf8();
            if matches!(ch, '\n' | '\x0c') {
                lines.push(std::mem::take(&mut line));
            }
        }
    }
    // Go's Flush terminates a non-empty pending cell; an empty one adds
    // nothing, which matters for "a\tb\t" (b stays the line's last cell).
    if start < input.len() {
        let text = &input[start..];
        line.push(Cell {
            text,
            width: width(text),
        });
    }
    lines.push(line);
    lines
}

impl Layout<'_> {
    /// Prints lines `[from, to)`, all of which have cells in every column
    /// whose width is already in `widths`. Finds each block that has a cell
    /// in the next column, sizes it, and recurses into it; lines outside any
    /// such block are printed with the widths known so far.
    fn format(&self, out: &mut String, widths: &mut Vec<usize>, from: usize, to: usize) {
        let column = widths.len();
        let in_column = |line: &Vec<Cell<'_>>| line.len() > column + 1;
        let mut printed = from;
        let mut this = from;
        while this < to {
            if !in_column(&self.lines[this]) {
                this += 1;
                continue;
            }
            self.write_lines(out, widths, printed, this);
            let block_start = this;
            let mut width = self.minwidth;
            while this < to && in_column(&self.lines[this]) {
                width = width.max(self.lines[this][column].width + self.padding);
                this += 1;
            }
            widths.push(width);
            self.format(out, widths, block_start, this);
            widths.pop();
            printed = this;
        }
        self.write_lines(out, widths, printed, to);
    }

    /// Prints lines `[from, to)` with the column widths in `widths`. Cells
    /// beyond the known columns (only ever a line's last cell) get no padding.
    fn write_lines(&self, out: &mut String, widths: &[usize], from: usize, to: usize) {
        for (i, line) in self.lines.iter().enumerate().take(to).skip(from) {
            for (j, cell) in line.iter().enumerate() {
                out.push_str(cell.text);
                if let Some(&w) = widths.get(j) {
                    self.pad(out, cell.width, w);
                }
            }
            // The last line is whatever followed the final line break.
            if i + 1 < self.lines.len() {
                out.push('\n');
            }
        }
    }

    /// Pads a cell of `text_width` to `cell_width`. With tab padding Go
    /// rounds the cell up to a tab stop and writes as many tabs as needed.
    fn pad(&self, out: &mut String, text_width: usize, cell_width: usize) {
        if self.padchar == '\t' {
            if self.tabwidth == 0 {
                return; // Tabs have no width, so no padding is possible.
            }
            let cell_width = cell_width.div_ceil(self.tabwidth) * self.tabwidth;
            let n = cell_width.saturating_sub(text_width);
            out.extend(std::iter::repeat_n('\t', n.div_ceil(self.tabwidth)));
        } else {
            let n = cell_width.saturating_sub(text_width);
            out.extend(std::iter::repeat_n(self.padchar, n));
        }
    }
}

#[cfg(test)]
#[path = "tabwriter/tests.rs"]
mod tests;
