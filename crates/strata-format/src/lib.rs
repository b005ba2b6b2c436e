//! Docker-exact output formatting for the strata CLI.
//!
//! - [`template`]: Go's `text/template` over `serde_json::Value` data, with
//!   Docker's functions — what `--format` evaluates.
//! - [`tabwriter`]: Go's `text/tabwriter` column alignment, and
//!   [`docker_table`] with Docker's settings.
//! - [`units`]: go-units sizes (`1.98MB`) and durations (`2 hours`).
//!
//! A `docker images`-style table: parse the format, render a header object
//! (field name → column title) and each row, one line each, and align the
//! result.
//!
//! ```
//! use serde_json::json;
//! use strata_format::{Template, docker_table, is_table, strip_table, unescape_cli};
//!
//! let format = r"table {{.Repository}}\t{{.Tag}}";
//! assert!(is_table(format));
//! let t = Template::parse(&unescape_cli(strip_table(format))).unwrap();
//!
//! let header = json!({"Repository": "REPOSITORY", "Tag": "TAG"});
//! let rows = [
//!     json!({"Repository": "busybox", "Tag": "latest"}),
//!     json!({"Repository": "registry.example.com/team/app", "Tag": "v1.2.3"}),
//! ];
//! let mut lines = vec![t.render(&header).unwrap()];
//! for row in &rows {
//!     lines.push(t.render(row).unwrap());
//! }
//! let table = docker_table(&(lines.join("\n") + "\n"));
//! assert_eq!(
//!     table,
//!     "REPOSITORY                      TAG\n\
//!      busybox                         latest\n\
//!      registry.example.com/team/app   v1.2.3\n"
//! );
//! // The same, with Docker's header functions, in one call:
//! assert_eq!(t.render_table(&header, &rows).unwrap(), table);
//! ```
#![deny(missing_docs)]

mod float;
pub mod tabwriter;
pub mod template;
pub mod units;
mod width;

pub use tabwriter::{docker_table, tabwrite};
pub use template::{Template, TemplateError, is_table, strip_table, unescape_cli};
pub use units::{bytes_size, human_duration, human_size, human_size_with_precision};
