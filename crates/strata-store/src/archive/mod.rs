//! Image archives: docker-archive (`docker save`) and OCI layout tarballs.

mod load;
mod read;
mod save;
mod tar_writer;

pub use load::{LoadOptions, LoadedImage};
pub(crate) use read::is_truncation;
pub use save::{ArchiveFormat, SaveItem};
