//! `strata history IMAGE`: one row per history entry, newest first, with
//! the size of the layer each entry made.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;
use strata_core::Timestamp;
use strata_store::Store;

use crate::cli::HistoryArgs;
use crate::output::{self, FormatSpec};

const TABLE: &str = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

/// The Docker CLI's `Ellipsis` for ASCII-width text: cut to `max` columns
/// with a trailing "…".
fn ellipsis(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max {
        return s.to_owned();
    }
    let mut out: String = chars[..max - 1].iter().collect();
    out.push('…');
    out
}

pub(crate) fn run(store: &Store, args: HistoryArgs) -> Result<ExitCode> {
    let image = store.resolve(&args.image)?;
    let config = store.config(&image)?;
    let manifest = store.manifest(&image)?;
    let history = config.history.clone().unwrap_or_default();
    let mut rows = Vec::new();
    let mut layer = 0;
    for h in &history {
        let size = if h.has_layer() {
            let size = match manifest.layers.get(layer) {
                Some(l) => store.layer_info(&l.digest)?.map_or(0, |i| i.unpacked_size),
                None => 0,
            };
            layer += 1;
            size
        } else {
            0
        };
        let created = h
            .created
            .as_deref()
            .and_then(|c| c.parse::<Timestamp>().ok());
        rows.push((created, h, size));
    }
    let mut values = Vec::new();
    for (i, (created, h, size)) in rows.iter().enumerate().rev() {
        let id = if i + 1 == rows.len() {
            if args.no_trunc {
                image.id.to_string()
            } else {
                image.id.short().to_owned()
            }
        } else {
            "<missing>".to_owned()
        };
        let created_at = created
            .map(|c| Timestamp::from_unix(c.unix_secs(), 0).to_string())
            .unwrap_or_default();
        let created_by = h.created_by.clone().unwrap_or_default();
        let created_by = if args.no_trunc {
            created_by
        } else {
            ellipsis(&created_by.replace('\t', " "), 45)
        };
        values.push(json!({
            "ID": id,
            "CreatedSince": if args.human { output::created_since(created.map(Timestamp::unix_secs)) } else { created_at.clone() },
            "CreatedAt": created_at,
            "CreatedBy": created_by,
            "Size": if args.human { output::size3(*size) } else { size.to_string() },
            "Comment": h.comment.clone().unwrap_or_default(),
        }));
    }
    let header = json!({
        "ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
        "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT",
    });
    let format = match (&args.format, args.quiet) {
        (Some(f), _) => Some(f.as_str()),
        (None, true) => Some("{{.ID}}"),
        (None, false) => None,
    };
    let spec = FormatSpec {
        default_table: TABLE,
        header: &header,
    };
    let text = output::render(format, &spec, &values)?;
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
