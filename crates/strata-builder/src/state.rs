//! The state of one stage while it builds: its image config so far, its
//! layers, the cache key of its last layer, and the build arguments in
//! scope. Finishing a stage writes its config and manifest to the store.

use std::collections::BTreeMap;

use strata_core::media_type::{OCI_CONFIG, OCI_LAYER_TAR};
use strata_core::{
    ContainerConfig, Descriptor, Digest, History, ImageConfig, ImageManifest, Platform, Raw,
    RootFs, Timestamp, chain_ids,
};

/// Docker's default `PATH` for Linux containers.
pub(crate) const DEFAULT_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One layer of a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LayerRef {
    /// The stored blob.
    pub(crate) blob: Digest,
    /// Its uncompressed digest.
    pub(crate) diff_id: Digest,
    /// Blob size in bytes.
    pub(crate) size: u64,
    /// Its media type.
    pub(crate) media_type: String,
}

/// A stage being built (or finished).
#[derive(Debug, Clone)]
pub(crate) struct StageState {
    pub(crate) config: ImageConfig,
    pub(crate) layers: Vec<LayerRef>,
    /// Cache key of the last step that made a layer (or of the base).
    pub(crate) key: Digest,
    /// `ARG`s declared in this stage, with their values.
    pub(crate) args: Vec<(String, String)>,
    /// Whether this stage set CMD (ENTRYPOINT resets an inherited CMD).
    pub(crate) cmd_set: bool,
    /// The source date epoch, for `created` fields.
    pub(crate) epoch: i64,
}

impl StageState {
    /// A stage starting from `config` (a base image's, or empty for scratch).
    pub(crate) fn new(
        mut config: ImageConfig,
        layers: Vec<LayerRef>,
        key: Digest,
        platform: &Platform,
        epoch: i64,
    ) -> StageState {
        // Only the fields an image config defines are inherited; Docker's
        // extras (container_config, docker_version, ...) are not ours.
        config.extra.clear();
        config.created = None;
        if config.architecture.is_empty() {
            config.architecture = platform.architecture.clone();
            config.os = platform.os.clone();
            config.variant = platform.variant.clone();
        }
        let c = config.config.get_or_insert_with(ContainerConfig::default);
        // BuildKit puts a default PATH first in the image's Env when the
        // base has none.
        let env = c.env.get_or_insert_with(Vec::new);
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.insert(0, format!("PATH={DEFAULT_PATH}"));
        }
        StageState {
            config,
            layers,
            key,
            args: Vec::new(),
            cmd_set: false,
            epoch,
        }
    }

    /// The run configuration.
    pub(crate) fn container(&mut self) -> &mut ContainerConfig {
        self.config
            .config
            .get_or_insert_with(ContainerConfig::default)
    }

    fn container_ref(&self) -> Option<&ContainerConfig> {
        self.config.config.as_ref()
    }

    /// `ENV` values, in order.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        self.container_ref()
            .and_then(|c| c.env.as_ref())
            .map(|env| {
                env.iter()
                    .map(|e| match e.split_once('=') {
                        Some((k, v)) => (k.to_owned(), v.to_owned()),
                        None => (e.clone(), String::new()),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sets one `ENV` value, replacing an earlier one in place.
    pub(crate) fn set_env(&mut self, key: &str, value: &str) {
        let env = self.container().env.get_or_insert_with(Vec::new);
        let entry = format!("{key}={value}");
        match env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
            Some(e) => *e = entry,
            None => env.push(entry),
        }
    }

    /// What `$VAR` means in this stage's instructions: build args, with ENV
    /// winning over an ARG of the same name (BuildKit's rule).
    pub(crate) fn expansion_vars(&self) -> Vec<(String, String)> {
        let mut vars = self.args.clone();
        vars.extend(self.env());
        vars
    }

    /// The environment of a RUN: ENV, then build args ENV does not set, and
    /// a default PATH when there is none.
    pub(crate) fn run_env(&self) -> Vec<String> {
        let env = self.env();
        let mut out: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for (k, v) in &self.args {
            if !env.iter().any(|(ek, _)| ek == k) {
                out.push(format!("{k}={v}"));
            }
        }
        if !out.iter().any(|e| e.starts_with("PATH=")) {
            out.push(format!("PATH={DEFAULT_PATH}"));
        }
        out
    }

    /// The working directory (`/` when unset).
    pub(crate) fn workdir(&self) -> String {
        self.container_ref()
            .and_then(|c| c.working_dir.clone())
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "/".to_owned())
    }

    /// The user (`root` when unset).
    pub(crate) fn user(&self) -> String {
        self.container_ref()
            .and_then(|c| c.user.clone())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "root".to_owned())
    }

    /// The shell for shell-form commands.
    pub(crate) fn shell(&self) -> Vec<String> {
        self.container_ref()
            .and_then(|c| c.shell.clone())
            .unwrap_or_else(|| vec!["/bin/sh".to_owned(), "-c".to_owned()])
    }

    fn epoch_string(&self) -> String {
        Timestamp::from_unix(self.epoch, 0).to_string()
    }

    /// Records a history entry.
    pub(crate) fn history(&mut self, created_by: String, empty_layer: bool) {
        let created = self.epoch_string();
        self.config
            .history
            .get_or_insert_with(Vec::new)
            .push(History {
                created: Some(created),
                created_by: Some(created_by),
                comment: Some("buildkit.dockerfile.v0".to_owned()),
                empty_layer: empty_layer.then_some(true),
                ..History::default()
            });
    }

    /// Adds a layer made by a step whose cache key is `key`.
    pub(crate) fn push_layer(&mut self, layer: LayerRef, key: Digest) {
        self.config.rootfs.diff_ids.push(layer.diff_id.clone());
        self.layers.push(layer);
        self.key = key;
    }

    /// Chain IDs of the layers, base first.
    pub(crate) fn chain_ids(&self) -> Vec<Digest> {
        chain_ids(&self.config.rootfs.diff_ids)
    }

    /// The blobs of the layers, base first.
    pub(crate) fn blobs(&self) -> Vec<Digest> {
        self.layers.iter().map(|l| l.blob.clone()).collect()
    }

    /// The final config and manifest of this stage as an image.
    pub(crate) fn image(
        &self,
        labels: &BTreeMap<String, String>,
    ) -> (Raw<ImageConfig>, Raw<ImageManifest>) {
        let mut config = self.config.clone();
        config.created = Some(self.epoch_string());
        if !labels.is_empty() {
            let c = config.config.get_or_insert_with(ContainerConfig::default);
            c.labels
                .get_or_insert_with(BTreeMap::new)
                .extend(labels.clone());
        }
        if config.rootfs.kind.is_empty() {
            config.rootfs = RootFs::default();
        }
        let config = Raw::from_value(config);
        let layers = self
            .layers
            .iter()
            .map(|l| Descriptor::new(l.media_type.as_str(), l.blob.clone(), l.size))
            .collect();
        let manifest = Raw::from_value(ImageManifest::oci(config.descriptor(OCI_CONFIG), layers));
        (config, manifest)
    }
}

/// A layer made by this build: an uncompressed OCI tar.
pub(crate) fn built_layer(blob: Digest, size: u64) -> LayerRef {
    LayerRef {
        diff_id: blob.clone(),
        blob,
        size,
        media_type: OCI_LAYER_TAR.to_owned(),
    }
}
