//! [`Raw`]: a JSON document together with the exact bytes it came from.
//!
//! The digest of a manifest or config is computed over its bytes. Parsing and
//! re-serializing changes them (key order, spacing, escapes), so anything we
//! did not create travels as `Raw` and is written back byte for byte.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Digest;

/// A parsed document and the bytes it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw<T> {
    bytes: Vec<u8>,
    digest: Digest,
    value: T,
}

impl<T: DeserializeOwned> Raw<T> {
    /// Parses received bytes, keeping them.
    pub fn parse(bytes: Vec<u8>) -> Result<Raw<T>, serde_json::Error> {
        let value = serde_json::from_slice(&bytes)?;
        Ok(Raw {
            digest: Digest::sha256(&bytes),
            bytes,
            value,
        })
    }
}

impl<T: Serialize> Raw<T> {
    /// Serializes a document of our own. Our types use structs and ordered
    /// maps only, so the bytes (and digest) are the same on every machine.
    pub fn from_value(value: T) -> Raw<T> {
        let bytes = serde_json::to_vec(&value).expect("serializing plain data cannot fail");
        Raw {
            digest: Digest::sha256(&bytes),
            bytes,
            value,
        }
    }
}

impl<T> Raw<T> {
    /// The bytes as received (or as we wrote them).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The sha256 digest of [`Raw::bytes`].
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// A descriptor of these bytes with the given media type.
    pub fn descriptor(&self, media_type: &str) -> crate::Descriptor {
        crate::Descriptor::new(media_type, self.digest.clone(), self.bytes.len() as u64)
    }

    /// The parsed value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// Splits into bytes and value.
    pub fn into_parts(self) -> (Vec<u8>, T) {
        (self.bytes, self.value)
    }
}

impl<T> std::ops::Deref for Raw<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}
