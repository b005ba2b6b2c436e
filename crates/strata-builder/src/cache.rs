//! Cache keys, by BuildKit's rules: a step's key is its parent's key plus
//! what the step does after expansion (the command with its environment,
//! user, directory, network and mounts for RUN; the destination, owner,
//! mode and the content and metadata of exactly the selected files for
//! COPY/ADD). Instructions that only change the config do not change keys.
//! Resource limits and anything that does not change the output stay out.

use strata_core::{Digest, Sha256Hasher};

/// Builds one key from named fields; every field is length-prefixed so
/// that no two different field lists hash alike.
pub(crate) struct KeyBuilder(Sha256Hasher);

impl KeyBuilder {
    /// A key for a step of `kind` on top of `parent`.
    pub(crate) fn new(kind: &str, parent: &Digest) -> KeyBuilder {
        let mut k = KeyBuilder(Sha256Hasher::new());
        k.field("strata-cache-v1", kind);
        k.field("parent", &parent.to_string());
        k
    }

    /// Adds a named value.
    pub(crate) fn field(&mut self, name: &str, value: &str) -> &mut Self {
        for part in [name.as_bytes(), value.as_bytes()] {
            self.0.update(&(part.len() as u64).to_le_bytes());
            self.0.update(part);
        }
        self
    }

    /// Adds a list.
    pub(crate) fn list<S: AsRef<str>>(&mut self, name: &str, values: &[S]) -> &mut Self {
        self.field(name, &values.len().to_string());
        for v in values {
            self.field("item", v.as_ref());
        }
        self
    }

    /// The key.
    pub(crate) fn finish(self) -> Digest {
        self.0.finish()
    }
}

/// The key of a stage's starting point: its base image and platform.
pub(crate) fn base_key(base: Option<&Digest>, platform: &str) -> Digest {
    let zero = Digest::sha256(b"scratch");
    let mut k = KeyBuilder::new("from", &zero);
    k.field(
        "image",
        &base
            .map(ToString::to_string)
            .unwrap_or_else(|| "scratch".into()),
    );
    k.field("platform", platform);
    k.finish()
}
