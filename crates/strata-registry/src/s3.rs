//! Blobs on S3-compatible object storage (`[storage.s3]`).
//!
//! Layers and configs live in the bucket under
//! `<prefix>/blobs/sha256/<hex>`, once each; manifests stay in the local
//! store beside the registry's tables (they are small, and GC and the
//! referrers API read them). An upload is received into a partial file
//! under a store lease (hashed as it arrives), verified, then sent to the
//! bucket (in 8 MiB parts when large) before it is linked, so a blob is
//! visible only once it is complete. Collection deletes objects that no
//! repository links and no live lease protects, listing the bucket before
//! reading what to keep, so an upload finishing meanwhile is never lost.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use serde::Deserialize;
use strata_core::Digest;
use strata_store::Store;

/// The `[storage.s3]` section. Unset values come from the usual `AWS_*`
/// environment variables.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Endpoint URL for S3-compatible servers (MinIO, Ceph, ...).
    pub endpoint: Option<String>,
    /// Region (default `us-east-1`).
    pub region: Option<String>,
    /// Access key ID.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
    /// Key prefix inside the bucket.
    #[serde(default)]
    pub prefix: String,
}

/// A bucket holding blobs.
#[derive(Clone)]
pub struct S3Blobs {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

impl std::fmt::Debug for S3Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Blobs({}, {:?})", self.store, self.prefix)
    }
}

/// A failure talking to the bucket.
#[derive(Debug, thiserror::Error)]
#[error("object storage: {0}")]
pub struct S3Error(String);

impl From<object_store::Error> for S3Error {
    fn from(e: object_store::Error) -> S3Error {
        S3Error(e.to_string())
    }
}

const PART: usize = 8 << 20;

impl S3Blobs {
    /// Connects (lazily) to the configured bucket.
    pub fn new(c: &S3Config) -> Result<S3Blobs, S3Error> {
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&c.bucket)
            .with_region(c.region.clone().unwrap_or_else(|| "us-east-1".to_owned()));
        if let Some(e) = &c.endpoint {
            b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
        }
        if let Some(k) = &c.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &c.secret_access_key {
            b = b.with_secret_access_key(k);
        }
        Ok(S3Blobs {
            store: Arc::new(b.build()?),
            prefix: c.prefix.trim_matches('/').to_owned(),
        })
    }

    fn key(&self, d: &Digest) -> ObjectPath {
        let k = format!("blobs/{}/{}", d.algorithm().as_str(), d.hex());
        if self.prefix.is_empty() {
            ObjectPath::from(k)
        } else {
            ObjectPath::from(format!("{}/{k}", self.prefix))
        }
    }

    /// Sends a verified partial file to the bucket, unless an object of
    /// that size is already there.
    pub async fn put_file(
        &self,
        d: &Digest,
        file: &std::path::Path,
        size: u64,
    ) -> Result<(), S3Error> {
        let key = self.key(d);
        if let Ok(meta) = self.store.head(&key).await
            && meta.size == size
        {
            return Ok(());
        }
        if size as usize <= PART {
            let bytes = tokio::fs::read(file)
                .await
                .map_err(|e| S3Error(e.to_string()))?;
            self.store.put(&key, PutPayload::from(bytes)).await?;
            return Ok(());
        }
        let upload = self.store.put_multipart(&key).await?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut f = tokio::fs::File::open(file)
            .await
            .map_err(|e| S3Error(e.to_string()))?;
        let mut buf = vec![0u8; PART];
        loop {
            let n = tokio::io::AsyncReadExt::read(&mut f, &mut buf)
                .await
                .map_err(|e| S3Error(e.to_string()))?;
            if n == 0 {
                break;
            }
            w.wait_for_capacity(4).await?;
            w.write(&buf[..n]);
        }
        w.finish().await?;
        Ok(())
    }

    /// The bytes `start..=end` of a blob as a response body.
    pub async fn body(&self, d: &Digest, start: u64, end: u64) -> Result<Body, S3Error> {
        let opts = GetOptions {
            range: Some(GetRange::Bounded(start..end + 1)),
            ..GetOptions::default()
        };
        let r = self.store.get_opts(&self.key(d), opts).await?;
        let stream = r
            .into_stream()
            .map(|c| c.map_err(|e| std::io::Error::other(e.to_string())));
        Ok(Body::from_stream(stream))
    }

    /// Deletes every blob object that `store` does not keep; returns the
    /// deleted digests with their sizes (or what would go, with `dry_run`).
    pub async fn sweep(&self, store: &Store, dry_run: bool) -> Result<Vec<(Digest, u64)>, S3Error> {
        let prefix = if self.prefix.is_empty() {
            ObjectPath::from("blobs")
        } else {
            ObjectPath::from(format!("{}/blobs", self.prefix))
        };
        // List first, then read what to keep: anything listed was put
        // after its lease protected it.
        let mut listed = Vec::new();
        let mut stream = self.store.list(Some(&prefix));
        while let Some(meta) = stream.next().await {
            let meta = meta?;
            let mut parts = meta.location.parts().collect::<Vec<_>>();
            let (Some(hex), Some(alg)) = (parts.pop(), parts.pop()) else {
                continue;
            };
            let Ok(d) = format!("{}:{}", alg.as_ref(), hex.as_ref()).parse::<Digest>() else {
                continue;
            };
            listed.push((d, meta.size, meta.location));
        }
        let keep: BTreeSet<Digest> = store
            .registry_kept_blobs()
            .map_err(|e| S3Error(e.to_string()))?;
        let mut out = Vec::new();
        for (d, size, location) in listed {
            if keep.contains(&d) {
                continue;
            }
            if !dry_run {
                self.store.delete(&location).await?;
            }
            out.push((d, size));
        }
        out.sort();
        Ok(out)
    }
}
