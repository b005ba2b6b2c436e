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
pub mod tls;
mod upload;

use std::sync::Arc;

pub use config::Config;
use strata_store::Store;

/// Retention then garbage collection, as `registry gc` and the server's
/// GC interval run them. With `dry_run` nothing changes and the blob
/// report is what collection would free now (before retention's drops).
pub fn collect(
    store: &Store,
    config: &Config,
    dry_run: bool,
) -> strata_store::Result<(retention::Plan, strata_store::GcReport)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let plan = retention::plan(store, &config.retention, now)?;
    if !dry_run {
        retention::apply(store, &plan)?;
    }
    let report = store.registry_gc(config.gc_grace.as_secs() as i64, dry_run)?;
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
                    let r2 = reg.clone();
                    let job = move || collect(r2.store(), r2.config(), false);
                    match tokio::task::spawn_blocking(job).await {
                        Ok(Ok((plan, r))) => tracing::info!(
                            dropped_tags = plan.tags.len(),
                            dropped_manifests = plan.manifests.len(),
                            unlinked = r.unlinked.len(),
                            removed = r.removed_blobs.len(),
                            freed = r.freed_bytes(),
                            "garbage collected"
                        ),
                        Ok(Err(e)) => tracing::error!("garbage collection: {e}"),
                        Err(e) => tracing::error!("garbage collection: {e}"),
                    }
                }
            });
        }
    }
}
