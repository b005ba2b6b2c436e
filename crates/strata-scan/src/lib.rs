//! Analysis of images in the store.
//!
//! - [`analyze`]: what each layer adds, the bytes wasted by files that a
//!   later layer overwrites or deletes (they still ship in the image), an
//!   efficiency score and the largest paths, like dive; read from the
//!   stored layers in one streaming pass each, nothing unpacked.
#![deny(missing_docs)]

pub mod analyze;

pub use analyze::{Analysis, AnalyzeError, LayerReport, PathWaste, analyze};
