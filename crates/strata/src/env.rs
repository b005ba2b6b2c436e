//! Every environment variable strata reads, in one place.

/// Store root, same as `--root`.
pub(crate) const STRATA_ROOT: &str = "STRATA_ROOT";
/// Log filter (`debug`, `strata_store=trace`, ...).
pub(crate) const STRATA_LOG: &str = "STRATA_LOG";
/// `RATIO[:FLOOR]`: how far compressed input may expand (default 200:1
/// past 1 GiB); see `strata_store::ExpansionLimit`.
pub(crate) const STRATA_EXPANSION_LIMIT: &str = "STRATA_EXPANSION_LIMIT";
/// Comma-separated registries (`host[:port]`, host, or CIDR) reached over
/// plain HTTP, besides Docker's `daemon.json` `insecure-registries`.
pub(crate) const STRATA_INSECURE_REGISTRIES: &str = "STRATA_INSECURE_REGISTRIES";
/// Colon-separated directories of per-registry CA files
/// (`<dir>/<host[:port]>/*.crt`), instead of `/etc/docker/certs.d` and
/// `/etc/strata/certs.d`.
pub(crate) const STRATA_CERTS_D: &str = "STRATA_CERTS_D";
/// Unix seconds to record as creation time (reproducible imports).
pub(crate) const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// The expansion limit from the environment, or the default.
pub(crate) fn expansion_limit() -> anyhow::Result<strata_store::ExpansionLimit> {
    let mut limit = strata_store::ExpansionLimit::default();
    let Ok(v) = std::env::var(STRATA_EXPANSION_LIMIT) else {
        return Ok(limit);
    };
    let bad =
        || anyhow::anyhow!("{STRATA_EXPANSION_LIMIT}={v:?}: expected RATIO or RATIO:FLOOR_BYTES");
    let (ratio, floor) = match v.split_once(':') {
        Some((r, f)) => (r, Some(f)),
        None => (v.as_str(), None),
    };
    limit.ratio = ratio.parse().map_err(|_| bad())?;
    if let Some(f) = floor {
        limit.floor = f.parse().map_err(|_| bad())?;
    }
    Ok(limit)
}

/// `SOURCE_DATE_EPOCH` if set.
pub(crate) fn source_date_epoch() -> anyhow::Result<Option<i64>> {
    match std::env::var(SOURCE_DATE_EPOCH) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{SOURCE_DATE_EPOCH}={v:?} is not a number of seconds")),
        _ => Ok(None),
    }
}

/// How registries are reached: Docker's settings plus
/// `STRATA_INSECURE_REGISTRIES`, CA directories from `STRATA_CERTS_D`.
pub(crate) fn client_options() -> anyhow::Result<strata_registry_client::ClientOptions> {
    let mut opts = strata_registry_client::ClientOptions::system()?;
    if let Ok(v) = std::env::var(STRATA_INSECURE_REGISTRIES) {
        opts.insecure.extend(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
    }
    if let Some(v) = std::env::var_os(STRATA_CERTS_D) {
        opts.certs_dirs = std::env::split_paths(&v)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
    }
    Ok(opts)
}
