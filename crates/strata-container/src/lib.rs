//! Containers made from images: their definition and records (`create`),
//! their union file system (`rootfs`), their life through a shim process
//! (`lifecycle`), logs, volumes, `exec`, `commit`, `diff` and `cp`.
//!
//! The store keeps the records; `strata-snapshot` the layers;
//! `strata-runtime` runs the processes. The CLI only parses flags and
//! prints what this crate returns.
#![deny(missing_docs)]

pub mod commit;
pub mod cp;
pub mod create;
pub mod diff;
mod error;
pub mod exec;
pub mod host_view;
pub mod lifecycle;
pub mod logs;
pub mod model;
mod names;
pub mod parse;
pub mod rootfs;
pub mod user;
pub mod volumes;

pub use create::{CreateOptions, create};
pub use error::{ContainerError, Result};
pub use model::Definition;
