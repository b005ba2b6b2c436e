//! Validated value types for strata. No I/O happens in this crate.
//!
//! - [`Digest`]: `sha256:<hex>`, only constructible when valid.
//! - [`Reference`]: image names with Docker's normalization
//!   (`busybox` → `docker.io/library/busybox`).
//! - [`MediaType`], [`Descriptor`], [`Platform`]: the OCI vocabulary.
//! - [`ImageManifest`], [`ImageIndex`], [`ImageConfig`]: documents that keep
//!   unknown fields; [`Raw`] keeps the bytes they came from, because a
//!   digest is always computed over received bytes, never a re-encoding.
//! - [`Timestamp`]: RFC 3339 as Go prints it.
//!
//! ```
//! use strata_core::Reference;
//! let r: Reference = "busybox".parse().unwrap();
//! assert_eq!(r.with_default_tag().to_string(), "docker.io/library/busybox:latest");
//! ```
#![deny(missing_docs)]

mod config;
mod descriptor;
mod digest;
mod duration;
mod error;
mod manifest;
pub mod media_type;
mod path;
mod platform;
mod raw;
pub mod reference;
mod time;

pub use config::{ContainerConfig, HealthConfig, History, ImageConfig, RootFs};
pub use descriptor::Descriptor;
pub use digest::{Algorithm, Digest, DigestError, Sha256Hasher, chain_ids};
pub use duration::parse_go_duration;
pub use error::{Categorized, ErrorCategory};
pub use manifest::{ImageIndex, ImageManifest, ManifestKind, ManifestProbe};
pub use media_type::{Compression, MediaType};
pub use path::go_clean;
pub use platform::{Platform, PlatformError};
pub use raw::Raw;
pub use reference::{AnyReference, Reference, ReferenceError};
pub use time::{Timestamp, TimestampError};

#[cfg(test)]
mod tests {
    /// serde_json must not have `preserve_order` enabled anywhere in the
    /// build: our JSON output relies on maps being sorted.
    #[test]
    fn json_maps_serialize_sorted() {
        let v: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"d":1,"c":2}}"#).unwrap();
        assert_eq!(v.to_string(), r#"{"a":{"c":2,"d":1},"b":1}"#);
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let text = r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Cmd":["sh"],"Hostname":"x"},"docker_version":"20.10"}"#;
        let c: crate::ImageConfig = serde_json::from_str(text).unwrap();
        assert_eq!(c.extra["docker_version"], "20.10");
        let again = serde_json::to_string(&c).unwrap();
        let back: crate::ImageConfig = serde_json::from_str(&again).unwrap();
        assert_eq!(back, c);
        assert!(again.contains(r#""Hostname":"x""#));
    }
}
