//! `strata builder prune [-a] [-f] [--keep-storage SIZE]`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use strata_store::{CachePrune, Store};

use crate::cli::BuilderPruneArgs;
use crate::output;

/// go-units `RAMInBytes`: a number with an optional binary unit
/// (`512`, `500MB`, `2GiB`, `1g`).
pub(crate) fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("invalid size: '{s}'"))?;
    let mult: u64 = match unit
        .to_lowercase()
        .trim_end_matches('b')
        .trim_end_matches('i')
    {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        "p" => 1 << 50,
        _ => bail!("invalid size: '{s}'"),
    };
    Ok((n * mult as f64) as u64)
}

pub(crate) fn run(store: &Store, args: BuilderPruneArgs) -> Result<ExitCode> {
    let keep_storage = args.keep_storage.as_deref().map(parse_size).transpose()?;
    let mut out = std::io::stdout().lock();
    if !args.force {
        let what = if args.all {
            "all build cache"
        } else {
            "all dangling build cache"
        };
        if !super::confirm(&format!(
            "WARNING! This will remove {what}.\nAre you sure you want to continue? [y/N] "
        ))? {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let report = strata_builder::prune(
        store,
        CachePrune {
            all: args.all,
            keep_storage,
        },
    )?;
    if !report.removed.is_empty() {
        writeln!(out, "Deleted build cache objects:")?;
        for k in &report.removed {
            writeln!(out, "{}", &k.hex()[..25])?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Total reclaimed space: {}",
        output::size4(report.reclaimed)
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_like_go_units() {
        assert_eq!(parse_size("512").unwrap(), 512);
        assert_eq!(parse_size("1k").unwrap(), 1024);
        assert_eq!(parse_size("500MB").unwrap(), 500 << 20);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert!(parse_size("12XB").is_err());
    }
}
