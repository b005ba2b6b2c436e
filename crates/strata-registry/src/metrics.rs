//! Prometheus metrics, served as text at `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Counters of one server.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, &'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
}

impl Metrics {
    /// Records one request: method, route kind, status, time, bytes.
    pub fn record(
        &self,
        method: &str,
        route: &'static str,
        status: u16,
        took: Duration,
        sent: u64,
        received: u64,
    ) {
        {
            let mut r = self.requests.lock().unwrap_or_else(|p| p.into_inner());
            *r.entry((method.to_owned(), route, status)).or_default() += 1;
        }
        {
            let secs = took.as_secs_f64();
            let mut l = self.latency.lock().unwrap_or_else(|p| p.into_inner());
            let h = l.entry(route).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        }
        self.bytes_sent.fetch_add(sent, Ordering::Relaxed);
        self.bytes_received.fetch_add(received, Ordering::Relaxed);
    }

    /// The exposition text; `uploads` is the number of open sessions.
    pub fn render(&self, uploads: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP strata_registry_requests_total HTTP requests by method, route and status."
        );
        let _ = writeln!(out, "# TYPE strata_registry_requests_total counter");
        for ((m, r, s), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "strata_registry_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP strata_registry_request_duration_seconds Request latency by route."
        );
        let _ = writeln!(
            out,
            "# TYPE strata_registry_request_duration_seconds histogram"
        );
        for (r, h) in self
            .latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "strata_registry_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "strata_registry_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "strata_registry_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "strata_registry_request_duration_seconds_count{{route=\"{r}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP strata_registry_sent_bytes_total Response body bytes."
        );
        let _ = writeln!(out, "# TYPE strata_registry_sent_bytes_total counter");
        let _ = writeln!(
            out,
            "strata_registry_sent_bytes_total {}",
            self.bytes_sent.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP strata_registry_received_bytes_total Request body bytes declared."
        );
        let _ = writeln!(out, "# TYPE strata_registry_received_bytes_total counter");
        let _ = writeln!(
            out,
            "strata_registry_received_bytes_total {}",
            self.bytes_received.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP strata_registry_uploads_in_progress Open upload sessions."
        );
        let _ = writeln!(out, "# TYPE strata_registry_uploads_in_progress gauge");
        let _ = writeln!(out, "strata_registry_uploads_in_progress {uploads}");
        out
    }
}
