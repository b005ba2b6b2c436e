//! Downloads for `ADD <url>` (the builder does no network I/O itself).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use strata_builder::{Fetched, Fetcher};

/// Fetches over HTTP(S) into files under a scratch directory.
pub(crate) struct HttpFetcher {
    dir: PathBuf,
    n: AtomicU32,
}

impl HttpFetcher {
    pub(crate) fn new(dir: &Path) -> HttpFetcher {
        HttpFetcher {
            dir: dir.to_path_buf(),
            n: AtomicU32::new(0),
        }
    }
}

impl Fetcher for HttpFetcher {
    fn fetch(&self, url: &str) -> Result<Fetched, String> {
        let fail = |e: &dyn std::fmt::Display| format!("failed to fetch {url}: {e}");
        let mut resp = reqwest::blocking::get(url).map_err(|e| fail(&e))?;
        if !resp.status().is_success() {
            return Err(fail(&format!("status {}", resp.status())));
        }
        let last_modified = resp
            .headers()
            .get(reqwest::header::LAST_MODIFIED)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date);
        let path = self
            .dir
            .join(format!("fetch-{}", self.n.fetch_add(1, Ordering::Relaxed)));
        let mut file = fs_err::File::create(&path).map_err(|e| fail(&e))?;
        resp.copy_to(&mut file).map_err(|e| fail(&e))?;
        Ok(Fetched {
            path,
            last_modified,
        })
    }
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to Unix seconds.
fn parse_http_date(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 6 {
        return None;
    }
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[2])?
        + 1;
    let text = format!("{}-{month:02}-{:0>2}T{}Z", parts[3], parts[1], parts[4]);
    text.parse::<strata_core::Timestamp>()
        .ok()
        .map(|t| t.unix_secs())
}

#[cfg(test)]
mod tests {
    #[test]
    fn http_dates() {
        assert_eq!(
            super::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784111777)
        );
        assert_eq!(super::parse_http_date("garbage"), None);
    }
}
