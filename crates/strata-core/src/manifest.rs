//! Image manifests and indexes (OCI and Docker schema 2 share one shape).
//!
//! Anything we received is kept as [`crate::Raw`] so its digest stays the
//! digest of the bytes we got; these structs are for reading fields and for
//! writing manifests of our own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Descriptor, MediaType};

/// An image manifest: one config and its layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// OCI makes it optional; Docker requires it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<MediaType>,
    /// Artifact type, for artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// Layers, base first.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (referrers API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl ImageManifest {
    /// An OCI image manifest of our own, with nothing optional set.
    pub fn oci(config: Descriptor, layers: Vec<Descriptor>) -> ImageManifest {
        ImageManifest {
            schema_version: 2,
            media_type: Some(crate::media_type::OCI_MANIFEST.into()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: None,
            extra: BTreeMap::new(),
        }
    }
}

/// An image index or Docker manifest list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// OCI makes it optional; Docker requires it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<MediaType>,
    /// Artifact type, for artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifests, each usually with a platform.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to (referrers API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The fields every manifest-like document shares, to tell them apart
/// before parsing the rest.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestProbe {
    /// 1 for the obsolete Docker schema 1, 2 otherwise.
    #[serde(default)]
    pub schema_version: Option<u32>,
    /// The declared media type, if any.
    #[serde(default)]
    pub media_type: Option<MediaType>,
    /// Present on an index.
    #[serde(default)]
    pub manifests: Option<serde_json::Value>,
    /// Present on a manifest.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
}

/// What kind of document a manifest blob holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    /// An image manifest.
    Manifest,
    /// An index or manifest list.
    Index,
}

impl ManifestProbe {
    /// Classifies by media type, falling back to the shape (OCI allows an
    /// absent `mediaType`). `None` for schema 1 or anything else.
    pub fn kind(&self) -> Option<ManifestKind> {
        if self.schema_version != Some(2) {
            return None;
        }
        match &self.media_type {
            Some(m) if m.is_manifest() => Some(ManifestKind::Manifest),
            Some(m) if m.is_index() => Some(ManifestKind::Index),
            Some(_) => None,
            None if self.manifests.is_some() => Some(ManifestKind::Index),
            None if self.config.is_some() => Some(ManifestKind::Manifest),
            None => None,
        }
    }
}
