//! A Go `text/template` subset over `serde_json::Value` data, with Docker's
//! function set: the engine behind `--format`.
//!
//! Supported: text, `{{.}}`, field chains (`.A.B`), `$`, variables
//! (`$x := …`, `$x = …`, `range $i, $e := …`), pipelines, parenthesised
//! calls, string/raw-string/character/number/bool/nil literals, `{{- -}}`
//! trimming, `{{/* comments */}}`, `if`/`else if`/`else`, `with`/`else
//! with`, `range` (arrays, objects in sorted key order, integers; with
//! `else`, `break`, `continue`), and the functions `and or not len index
//! slice print printf println eq ne lt le gt ge` plus Docker's `json split
//! join title lower upper pad truncate`. Not supported: `define`,
//! `template`, `block`, and Go's `html`, `js`, `urlquery`, `call`.
//!
//! Values print as Go's `%v` prints them (`[a b]`, `map[k:v]`, `<nil>`); an
//! absent object key prints `<no value>`, as it does for Go maps.
//!
//! ```
//! use serde_json::json;
//! use strata_format::template::Template;
//!
//! let t = Template::parse("{{.Repository}}:{{.Tag}} {{.Labels | len}} labels").unwrap();
//! let row = json!({"Repository": "busybox", "Tag": "latest", "Labels": {"a": "b"}});
//! assert_eq!(t.render(&row).unwrap(), "busybox:latest 1 labels");
//! ```

mod ast;
mod builtins;
mod call;
mod cli;
mod exec;
mod funcs;
mod json;
mod lex;
mod literal;
mod parse;
mod pipeline;
mod printf;
mod token;
mod value;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_funcs;

use serde_json::Value;

pub use cli::{is_table, strip_table, unescape_cli};

/// Why a template could not be parsed or rendered. The message is Go's:
/// `template: :1: function "foo" not defined`. Docker prints both kinds
/// as `template parsing error: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template text is malformed.
    #[error("{0}")]
    Parse(String),
    /// Rendering failed (a wrong argument type, an index out of range).
    #[error("{0}")]
    Exec(String),
}

/// A parsed template, ready to render any number of values.
#[derive(Debug, Clone)]
pub struct Template {
    src: String,
    body: ast::List,
}

impl Template {
    /// Parses `src` with Go's grammar and Docker's function set. Unknown
    /// functions and undefined variables are parse errors, as in Go.
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let body = parse::parse(src).map_err(TemplateError::Parse)?;
        Ok(Template {
            src: src.to_owned(),
            body,
        })
    }

    /// Renders the template with `data` as dot and `$`.
    pub fn render(&self, data: &Value) -> Result<String, TemplateError> {
        exec::execute(&self.src, &self.body, data, funcs::Mode::Normal).map_err(TemplateError::Exec)
    }

    /// Renders one row of a Docker listing: like [`Template::render`], but
    /// `{{json .}}` escapes `<`, `>` and `&` as Docker's row contexts do.
    pub fn render_row(&self, row: &Value) -> Result<String, TemplateError> {
        exec::execute(&self.src, &self.body, row, funcs::Mode::Row).map_err(TemplateError::Exec)
    }

    /// Renders a table header the way Docker does: `data` maps each field
    /// name to its column title, and Docker's header function variants are
    /// in force, so `json`, `split`, `join`, `title`, `lower`, `upper` and
    /// `truncate` return the title unchanged (`{{json .ID}}` prints
    /// `IMAGE ID`, not `"IMAGE ID"`). Use [`Template::render`] to apply the
    /// ordinary functions to a header object instead.
    pub fn render_header(&self, header: &Value) -> Result<String, TemplateError> {
        exec::execute(&self.src, &self.body, header, funcs::Mode::Header)
            .map_err(TemplateError::Exec)
    }
}
