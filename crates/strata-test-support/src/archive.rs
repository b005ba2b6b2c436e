//! `docker save` archives built in memory, in both of Docker's layouts.

use serde_json::json;
use strata_core::Digest;

use crate::tarball::TarBuilder;

/// Which `docker save` layout to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Docker before 25: `<id>/layer.tar`, `<config>.json`, `manifest.json`.
    Legacy,
    /// Docker 25 and later: an OCI layout plus `manifest.json`.
    Docker25,
    /// A plain OCI image layout (as skopeo writes), no `manifest.json`.
    OciOnly,
}

/// One image of an archive.
#[derive(Debug, Clone)]
pub struct ArchiveImage {
    /// Uncompressed layer tars, base first.
    pub layers: Vec<Vec<u8>>,
    /// The config JSON bytes.
    pub config: Vec<u8>,
    /// Tags such as `busybox:latest`.
    pub repo_tags: Vec<String>,
}

impl ArchiveImage {
    /// An image with a generated config whose diff IDs match `layers`.
    pub fn new(layers: Vec<Vec<u8>>, repo_tags: &[&str]) -> ArchiveImage {
        let diff_ids: Vec<String> = layers
            .iter()
            .map(|l| Digest::sha256(l).to_string())
            .collect();
        let history: Vec<_> = layers
            .iter()
            .enumerate()
            .map(|(i, _)| json!({"created": "2024-01-01T00:00:00Z", "created_by": format!("layer {i}")}))
            .collect();
        let config = json!({
            "architecture": "amd64",
            "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
            "created": "2024-01-01T00:00:00Z",
            "history": history,
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        });
        ArchiveImage {
            layers,
            config: serde_json::to_vec(&config).expect("plain data"),
            repo_tags: repo_tags.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The config, parsed.
    pub fn config_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.config).expect("fixture config is JSON")
    }

    /// The image ID (config digest).
    pub fn id(&self) -> Digest {
        Digest::sha256(&self.config)
    }
}

/// A `docker save` archive of several images.
pub struct DockerArchive {
    /// The images.
    pub images: Vec<ArchiveImage>,
    /// The layout to write.
    pub layout: Layout,
}

impl DockerArchive {
    /// The archive bytes.
    pub fn build(&self) -> Vec<u8> {
        self.build_with(false)
    }

    /// The archive with gzip-compressed layer blobs (as pulled images and
    /// skopeo's OCI layouts have them). Not for [`Layout::Legacy`].
    pub fn build_gzip(&self) -> Vec<u8> {
        assert_ne!(
            self.layout,
            Layout::Legacy,
            "legacy archives hold plain layer tars"
        );
        self.build_with(true)
    }

    fn build_with(&self, gzip: bool) -> Vec<u8> {
        let mut t = TarBuilder::new();
        let mut manifest = Vec::new();
        let mut index = Vec::new();
        let mut written = std::collections::BTreeSet::new();
        if self.layout != Layout::Legacy {
            t.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
            t.dir("blobs/").dir("blobs/sha256/");
        }
        for img in &self.images {
            let config_digest = img.id();
            let mut layer_paths = Vec::new();
            let mut descs = Vec::new();
            for plain in &img.layers {
                let compressed;
                let (layer, media_type) = if gzip {
                    compressed = crate::tarball::gzip(plain);
                    (&compressed, "application/vnd.oci.image.layer.v1.tar+gzip")
                } else {
                    (plain, "application/vnd.oci.image.layer.v1.tar")
                };
                let d = Digest::sha256(layer);
                let path = match self.layout {
                    Layout::Legacy => format!("{}/layer.tar", d.hex()),
                    _ => format!("blobs/sha256/{}", d.hex()),
                };
                if written.insert(path.clone()) {
                    if self.layout == Layout::Legacy {
                        t.dir(&format!("{}/", d.hex()));
                        t.file(&format!("{}/VERSION", d.hex()), b"1.0");
                        t.file(
                            &format!("{}/json", d.hex()),
                            format!("{{\"id\":\"{}\"}}", d.hex()).as_bytes(),
                        );
                    }
                    t.file(&path, layer);
                }
                descs.push(
                    json!({"mediaType": media_type, "digest": d.to_string(), "size": layer.len()}),
                );
                layer_paths.push(path);
            }
            let config_path = match self.layout {
                Layout::Legacy => format!("{}.json", config_digest.hex()),
                _ => format!("blobs/sha256/{}", config_digest.hex()),
            };
            if written.insert(config_path.clone()) {
                t.file(&config_path, &img.config);
            }
            manifest.push(
                json!({"Config": config_path, "RepoTags": img.repo_tags, "Layers": layer_paths}),
            );
            if self.layout != Layout::Legacy {
                let m = serde_json::to_vec(&json!({
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": img.config.len()},
                    "layers": descs,
                }))
                .expect("plain data");
                let md = Digest::sha256(&m);
                if written.insert(md.to_string()) {
                    t.file(&format!("blobs/sha256/{}", md.hex()), &m);
                }
                for tag in &img.repo_tags {
                    index.push(json!({
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": md.to_string(), "size": m.len(),
                        "annotations": {"io.containerd.image.name": format!("docker.io/library/{tag}"), "org.opencontainers.image.ref.name": tag.rsplit(':').next().unwrap_or("latest")},
                    }));
                }
                if img.repo_tags.is_empty() {
                    index.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md.to_string(), "size": m.len()}));
                }
            }
        }
        if self.layout != Layout::Legacy {
            let idx = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": index});
            t.file("index.json", &serde_json::to_vec(&idx).expect("plain data"));
        }
        if self.layout != Layout::OciOnly {
            t.file(
                "manifest.json",
                &serde_json::to_vec(&manifest).expect("plain data"),
            );
        }
        t.finish()
    }
}
