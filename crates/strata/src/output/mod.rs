//! Everything the CLI prints goes through here: Docker-style tables and
//! `--format` templates, Go-compatible JSON, and human sizes and times.

mod gojson;
mod progress;
mod table;
mod transfer;

pub(crate) use gojson::to_go_json_pretty;
pub(crate) use progress::PlainProgress;
pub(crate) use table::{FormatSpec, render};
pub(crate) use transfer::{Direction, TransferProgress};

use strata_core::Timestamp;

/// Seconds since the epoch, now.
pub(crate) fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_unix(d.as_secs() as i64, d.subsec_nanos())
}

/// Docker's `CreatedSince`: "2 hours ago", or "N/A" when unknown.
pub(crate) fn created_since(created_unix: Option<i64>) -> String {
    match created_unix {
        Some(c) => format!(
            "{} ago",
            strata_format::units::human_duration(now().unix_secs() - c)
        ),
        None => "N/A".to_owned(),
    }
}

/// Docker's `CreatedAt`: Go's `time.Time.String()` (in UTC here).
pub(crate) fn created_at(created_unix: Option<i64>) -> String {
    created_unix
        .map(|c| Timestamp::from_unix(c, 0).go_string_utc())
        .unwrap_or_default()
}

/// Docker's image size: 3 significant digits, decimal units.
pub(crate) fn size3(bytes: u64) -> String {
    strata_format::units::human_size_with_precision(bytes as f64, 3)
}

/// go-units `HumanSize`: 4 significant digits.
pub(crate) fn size4(bytes: u64) -> String {
    strata_format::units::human_size(bytes as f64)
}
