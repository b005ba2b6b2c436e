//! Docker's `--format` handling: `table …` templates rendered through Go's
//! tabwriter with a header line, `json` as one object per line, and plain
//! templates one line per row.

use anyhow::{Context, Result};
use serde_json::Value;
use strata_format::{Template, is_table, strip_table, unescape_cli};

/// How one listing renders by default.
pub(crate) struct FormatSpec<'a> {
    /// The `table …` format used when none (or `table`) is given.
    pub(crate) default_table: &'a str,
    /// The header row: field name to column title.
    pub(crate) header: &'a Value,
}

/// Renders `rows` with the user's `--format` (or the default table).
pub(crate) fn render(
    format: Option<&str>,
    spec: &FormatSpec<'_>,
    rows: &[Value],
) -> Result<String> {
    let format = match format {
        None | Some("") | Some("table") => spec.default_table,
        Some(f) if f.trim() == "json" => "{{json .}}",
        Some(f) => f,
    };
    let table = is_table(format);
    let tmpl =
        Template::parse(&unescape_cli(strip_table(format))).context("template parsing error")?;
    let text = if table {
        tmpl.render_table(spec.header, rows)
    } else {
        tmpl.render_rows(rows)
    };
    text.context("template parsing error")
}
