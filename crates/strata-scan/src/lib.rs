//! Analysis of images in the store.
//!
//! - [`analyze`]: what each layer adds, the bytes wasted by files that a
//!   later layer overwrites or deletes (they still ship in the image), an
//!   efficiency score and the largest paths, like dive; read from the
//!   stored layers in one streaming pass each, nothing unpacked.
//! - [`lint`]: Dockerfile lint on the builder's own parser: hadolint's and
//!   BuildKit's rules plus strata's, with inline and config suppression.
//! - [`sbom`]: Debian, Alpine, Python and Node packages with the layer
//!   that added each, as a table, SPDX 2.3 or CycloneDX 1.6 JSON.
//! - [`vuln`]: an SBOM's Debian and Alpine packages matched against a
//!   local database of OSV advisories ([`version`]: dpkg's and apk's
//!   version ordering).
//! - [`sign`]: cosign-compatible keys, payloads and signature manifests.
//! - [`secrets`]: private keys, cloud credentials and tokens in layer
//!   files (deleted ones included), the config's `Env` and the history.
#![deny(missing_docs)]

pub mod analyze;
pub mod lint;
pub mod sbom;
pub mod secrets;
pub mod sign;
pub mod version;
pub mod vuln;

pub use analyze::{Analysis, AnalyzeError, LayerReport, PathWaste, analyze};
pub use secrets::{Finding, Location, SecretReport, Severity, scan_secrets};
