//! How the Docker CLI turns a `--format` argument into output: the
//! `table` prefix, its preprocessing of the format string, and the table
//! assembly (header, rows, tabwriter). Mirrors docker/cli's
//! `formatter.Context` (`preFormat` and `postFormat`).

use serde_json::Value;

use super::{Template, TemplateError};
use crate::tabwriter::docker_table;

const TABLE_KEY: &str = "table";

/// Whether a `--format` value asks for a table. Docker's test is a plain
/// prefix match on `table` (`Format.IsTable` is
/// `strings.HasPrefix(f, "table")`): leading whitespace is not skipped,
/// and `table` alone counts (commands then use their default columns).
pub fn is_table(src: &str) -> bool {
    src.starts_with(TABLE_KEY)
}

/// The template part of a `--format` value: without the `table` prefix,
/// and with leading and trailing spaces removed. Docker trims spaces (only
/// U+0020, not tabs or newlines) from every format, table or not, so this
/// does too. Apply [`unescape_cli`] afterwards, as Docker does.
pub fn strip_table(src: &str) -> &str {
    src.strip_prefix(TABLE_KEY).unwrap_or(src).trim_matches(' ')
}

/// Docker's escape handling for format strings: the two-character
/// sequences `\t` and `\n` become a tab and a newline, scanning left to
/// right (`strings.NewReplacer(`\t`, "\t", `\n`, "\n")`). Nothing else is
/// unescaped: `\\t` becomes a backslash and a tab.
pub fn unescape_cli(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.as_bytes().first() {
            Some(b't') => out.push('\t'),
            Some(b'n') => out.push('\n'),
            _ => {
                out.push('\\');
                rest = after;
                continue;
            }
        }
        rest = &after[1..];
    }
    out.push_str(rest);
    out
}

impl Template {
    /// Renders a complete Docker table: the header (see
    /// [`Template::render_header`]), then each row, every line ended by a
    /// newline, aligned with Docker's tabwriter settings. This is
    /// docker/cli's `postFormat`; the header is printed even with no rows.
    pub fn render_table(&self, header: &Value, rows: &[Value]) -> Result<String, TemplateError> {
        let mut text = self.render_header(header)?;
        text.push('\n');
        for row in rows {
            text.push_str(&self.render_row(row)?);
            text.push('\n');
        }
        Ok(docker_table(&text))
    }

    /// Renders rows for a non-table format: each row followed by a
    /// newline, with no alignment (docker/cli writes its buffer directly).
    pub fn render_rows(&self, rows: &[Value]) -> Result<String, TemplateError> {
        let mut text = String::new();
        for row in rows {
            text.push_str(&self.render_row(row)?);
            text.push('\n');
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn format_strings_like_docker() {
        assert!(is_table("table {{.ID}}"));
        assert!(is_table("table"));
        assert!(is_table("table\t{{.ID}}"));
        assert!(!is_table(" table {{.ID}}"));
        assert!(!is_table("{{.ID}} table"));
        assert_eq!(
            strip_table("table {{.ID}}\\t{{.Tag}} "),
            "{{.ID}}\\t{{.Tag}}"
        );
        assert_eq!(strip_table("table"), "");
        assert_eq!(strip_table("  {{.ID}} "), "{{.ID}}");
        assert_eq!(unescape_cli(r"{{.A}}\t{{.B}}\n"), "{{.A}}\t{{.B}}\n");
        assert_eq!(unescape_cli(r"a\\tb\x\"), "a\\\tb\\x\\");
        assert_eq!(unescape_cli("plain"), "plain");
    }

    #[test]
    fn tables_and_rows() {
        let t = Template::parse(&unescape_cli(strip_table(
            r"table {{.Repository}}\t{{.Size | upper}}",
        )))
        .unwrap();
        let header = json!({"Repository": "REPOSITORY", "Size": "SIZE"});
        let rows = [json!({"Repository": "busybox", "Size": "1.98mb"})];
        assert_eq!(
            t.render_table(&header, &rows).unwrap(),
            "REPOSITORY   SIZE\nbusybox      1.98MB\n"
        );
        assert_eq!(t.render_table(&header, &[]).unwrap(), "REPOSITORY   SIZE\n");
        assert_eq!(t.render_rows(&rows).unwrap(), "busybox\t1.98MB\n");
    }
}
