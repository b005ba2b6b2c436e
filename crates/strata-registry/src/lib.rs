//! An OCI distribution (registry) server over the strata store.
//!
//! Blobs are the store's blobs, kept once however many repositories link
//! them; which repository holds which blob, manifest and tag is in the
//! store's database (see `strata_store::RegistryManifest`). Upload sessions
//! live in memory: each holds a store lease and a partial file, so a
//! session lost with the process (`kill -9`) leaves nothing GC does not
//! clean.
//!
//! - [`path`]: `/v2/...` paths, matched from the right (names may have any
//!   number of components); name and tag grammar.
//! - [`api`]: the endpoints: blobs (GET/HEAD with Range, DELETE), uploads
//!   (monolithic POST, chunked PATCH with `Content-Range`, streamed PATCH,
//!   final PUT, status, cancel, cross-repository mount), manifests (PUT
//!   with validation, GET/HEAD by tag or digest, DELETE), tags and catalog
//!   with pagination, referrers.
//! - [`auth`]: htpasswd Basic, token auth with a built-in `/token`
//!   endpoint, access rules.
//! - [`retention`]: per-repository policies dropping old tags and
//!   untagged manifests, planned then applied conditionally.
//! - [`error`]: the spec's error codes and JSON.
//! - [`metrics`]: Prometheus counters at `GET /metrics`; every request is
//!   also logged (target `strata_registry::access`) with remote address,
//!   user, method, path, status, bytes and time.
#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod metrics;
pub mod path;
pub mod retention;
pub mod s3;
pub mod tls;
mod upload;

use std::sync::Arc;

pub use config::Config;
use strata_store::Store;

/// Why a collection failed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The store.
    #[error(transparent)]
    Store(#[from] strata_store::StoreError),
    /// The bucket.
    #[error(transparent)]
    S3(#[from] s3::S3Error),
    /// The blocking task died.
    #[error("garbage collection task: {0}")]
    Task(String),
}

/// Retention then garbage collection, as `registry gc` and the server's
/// GC interval run them (blobs in a bucket included). With `dry_run`
/// nothing changes and the blob report is what collection would free now
/// (before retention's drops).
pub async fn collect(
    store: &Store,
    config: &Config,
    dry_run: bool,
) -> Result<(retention::Plan, strata_store::GcReport), CollectError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (s, policies, grace) = (store.clone(), config.retention.clone(), config.gc_grace);
    let (plan, mut report) = tokio::task::spawn_blocking(move || {
        let plan = retention::plan(&s, &policies, now)?;
        if !dry_run {
            retention::apply(&s, &plan)?;
        }
        let report = s.registry_gc(grace.as_secs() as i64, dry_run)?;
        Ok::<_, strata_store::StoreError>((plan, report))
    })
    .await
    .map_err(|e| CollectError::Task(e.to_string()))??;
    if let Some(bucket) = &config.s3 {
        report
            .removed_blobs
            .extend(bucket.sweep(store, dry_run).await?);
        report.removed_blobs.sort();
    }
    Ok((plan, report))
}

/// A registry: its store, settings and upload sessions. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: Config,
    uploads: upload::Sessions,
    metrics: metrics::Metrics,
    pulls: PullTimes,
}

/// When this process last recorded a pull of each tag: the store keeps
/// pull times to the minute for retention, so a tag pulled again within a
/// minute needs no database write (a manifest GET stays read-only).
#[derive(Default)]
struct PullTimes {
    last: std::sync::Mutex<std::collections::HashMap<(String, String), std::time::Instant>>,
}

impl PullTimes {
    /// Whether a pull of `repo:tag` should be written now.
    fn due(&self, repo: &str, tag: &str) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let key = (repo.to_owned(), tag.to_owned());
        let now = std::time::Instant::now();
        match last.get(&key) {
            Some(t) if now.duration_since(*t) < std::time::Duration::from_secs(60) => false,
            _ => {
                last.insert(key, now);
                true
            }
        }
    }
}

impl Registry {
    /// A registry over `store`.
    pub fn new(store: Store, config: Config) -> Registry {
        Registry {
            inner: Arc::new(Inner {
                store,
                config,
                uploads: upload::Sessions::default(),
                metrics: metrics::Metrics::default(),
                pulls: PullTimes::default(),
            }),
        }
    }

    /// Its store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Its settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The axum application.
    pub fn router(&self) -> axum::Router {
        api::router(self.clone())
    }

    /// Serves on `listener` until `shutdown` resolves, over TLS when the
    /// config has a certificate.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.spawn_background();
        match &self.inner.config.tls {
            Some(tls) => {
                let listener = tls::TlsListener::new(listener, tls.clone())?;
                let app = self
                    .router()
                    .into_make_service_with_connect_info::<tls::RemoteAddr>();
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            None => {
                let app = self
                    .router()
                    .into_make_service_with_connect_info::<tls::RemoteAddr>();
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
        }
    }

    fn spawn_background(&self) {
        let reaper = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                reaper
                    .inner
                    .uploads
                    .expire(reaper.inner.config.upload_timeout);
            }
        });
        let interval = self.inner.config.gc_interval;
        if !interval.is_zero() {
            let reg = self.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(interval);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    match collect(reg.store(), reg.config(), false).await {
                        Ok((plan, r)) => tracing::info!(
                            dropped_tags = plan.tags.len(),
                            dropped_manifests = plan.manifests.len(),
                            unlinked = r.unlinked.len(),
                            removed = r.removed_blobs.len(),
                            freed = r.freed_bytes(),
                            "garbage collected"
                        ),
                        Err(e) => tracing::error!("garbage collection: {e}"),
                    }
                }
            });
        }
    }
}
