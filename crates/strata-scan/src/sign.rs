//! Signing images the way cosign does with a key pair.
//!
//! Keys are cosign's files: an ECDSA P-256 private key in the
//! `ENCRYPTED SIGSTORE PRIVATE KEY` PEM (scrypt + NaCl secretbox, read and
//! written through the sigstore crate) and a PKIX public key PEM. A
//! signature is cosign's "simple signing" payload naming the repository
//! and the manifest digest, signed with ASN.1 ECDSA-SHA256, stored as a
//! one-layer OCI manifest tagged `sha256-<hex>.sig` whose layer is the
//! payload and whose annotation `dev.cosignproject.cosign/signature` holds
//! the base64 signature. This module makes and checks those documents; the
//! CLI moves them to and from registries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::crypto::{CosignVerificationKey, Signature, SigningScheme};
use strata_core::Digest;

/// The payload layer's media type.
pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The annotation holding the signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// Why signing or verifying failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// A key that cannot be read (or a wrong password).
    #[error("reading the key: {0}")]
    Key(String),
    /// The signature does not match the payload and key.
    #[error("invalid signature: {0}")]
    BadSignature(String),
    /// The payload does not name this image.
    #[error("the signed payload does not match the image: {0}")]
    Claims(String),
}

/// A new key pair: the encrypted private key PEM and the public key PEM.
pub fn generate_key_pair(password: &[u8]) -> Result<(String, String), SignError> {
    let signer = SigningScheme::ECDSA_P256_SHA256_ASN1
        .create_signer()
        .map_err(|e| SignError::Key(e.to_string()))?;
    let pair = signer
        .to_sigstore_keypair()
        .map_err(|e| SignError::Key(e.to_string()))?;
    let private = pair
        .private_key_to_encrypted_pem(password)
        .map_err(|e| SignError::Key(e.to_string()))?;
    let public = pair
        .public_key_to_pem()
        .map_err(|e| SignError::Key(e.to_string()))?;
    Ok((private.to_string(), public))
}

/// The public key PEM of an encrypted private key.
pub fn public_key(private_pem: &[u8], password: &[u8]) -> Result<String, SignError> {
    let pair = SigStoreKeyPair::from_encrypted_pem(private_pem, password)
        .map_err(|e| SignError::Key(e.to_string()))?;
    pair.public_key_to_pem()
        .map_err(|e| SignError::Key(e.to_string()))
}

/// cosign's simple-signing payload for `digest` in `repository`.
pub fn payload(repository: &str, digest: &Digest) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": {"docker-reference": repository},
            "image": {"docker-manifest-digest": digest.to_string()},
            "type": "cosign container image signature",
        },
        "optional": null,
    }))
    .unwrap_or_default()
}

/// Signs `payload`; returns the base64 signature.
pub fn sign(private_pem: &[u8], password: &[u8], payload: &[u8]) -> Result<String, SignError> {
    let pair = SigStoreKeyPair::from_encrypted_pem(private_pem, password)
        .map_err(|e| SignError::Key(e.to_string()))?;
    let signer = pair
        .to_sigstore_signer(&SigningScheme::ECDSA_P256_SHA256_ASN1)
        .map_err(|e| SignError::Key(e.to_string()))?;
    let sig = signer
        .sign(payload)
        .map_err(|e| SignError::Key(e.to_string()))?;
    Ok(STANDARD.encode(sig))
}

/// Checks a base64 signature of `payload` with a public key PEM.
pub fn verify(public_pem: &[u8], payload: &[u8], signature_b64: &str) -> Result<(), SignError> {
    let key = CosignVerificationKey::try_from_pem(public_pem)
        .map_err(|e| SignError::Key(e.to_string()))?;
    key.verify_signature(Signature::Base64Encoded(signature_b64.as_bytes()), payload)
        .map_err(|e| SignError::BadSignature(e.to_string()))
}

/// Checks that a payload is a cosign image signature of `digest`.
pub fn check_claims(payload: &[u8], digest: &Digest) -> Result<serde_json::Value, SignError> {
    let v: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| SignError::Claims(format!("not JSON: {e}")))?;
    if v["critical"]["type"] != "cosign container image signature" {
        return Err(SignError::Claims("not a cosign image signature".into()));
    }
    let signed = v["critical"]["image"]["docker-manifest-digest"]
        .as_str()
        .unwrap_or("");
    if signed != digest.to_string() {
        return Err(SignError::Claims(format!(
            "it signs {signed}, the image is {digest}"
        )));
    }
    Ok(v)
}

/// The tag cosign stores signatures of `digest` under.
pub fn signature_tag(digest: &Digest) -> String {
    format!("{}-{}.sig", digest.algorithm().as_str(), digest.hex())
}

/// cosign's artifact type for signatures stored as OCI 1.1 referrers.
pub const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// An OCI 1.1 referrer holding one signature of the image described by
/// `subject` (its media type, digest and size): the empty config, the
/// payload layer with its signature annotation. Returns (config, manifest).
pub fn referrer_manifest(
    subject: (&str, &Digest, u64),
    payload: (&Digest, u64),
    signature: &str,
) -> (Vec<u8>, Vec<u8>) {
    let config = b"{}".to_vec();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": SIGNATURE_ARTIFACT_TYPE,
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "size": 2,
            "digest": Digest::sha256(&config).to_string(),
        },
        "layers": [{
            "mediaType": PAYLOAD_MEDIA_TYPE,
            "size": payload.1,
            "digest": payload.0.to_string(),
            "annotations": {SIGNATURE_ANNOTATION: signature},
        }],
        "subject": {"mediaType": subject.0, "digest": subject.1.to_string(), "size": subject.2},
    }))
    .unwrap_or_default();
    (config, manifest)
}

/// The signature manifest's config and manifest bytes for payload layers
/// `(payload digest, size, signature)`.
pub fn signature_manifest(layers: &[(Digest, u64, String)]) -> (Vec<u8>, Vec<u8>) {
    let diff_ids: Vec<String> = layers.iter().map(|(d, _, _)| d.to_string()).collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "",
        "config": {},
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap_or_default();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": config.len(),
            "digest": Digest::sha256(&config).to_string(),
        },
        "layers": layers.iter().map(|(d, size, sig)| serde_json::json!({
            "mediaType": PAYLOAD_MEDIA_TYPE,
            "size": size,
            "digest": d.to_string(),
            "annotations": {SIGNATURE_ANNOTATION: sig},
        })).collect::<Vec<_>>(),
    }))
    .unwrap_or_default();
    (config, manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_its_key_only_and_claims_name_the_digest() {
        let (private, public) = generate_key_pair(b"pw").unwrap();
        assert!(private.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
        assert_eq!(public_key(private.as_bytes(), b"pw").unwrap(), public);
        assert!(matches!(
            public_key(private.as_bytes(), b"wrong"),
            Err(SignError::Key(_))
        ));
        let d = Digest::sha256(b"manifest");
        let p = payload("example.com/app", &d);
        let sig = sign(private.as_bytes(), b"pw", &p).unwrap();
        verify(public.as_bytes(), &p, &sig).unwrap();
        check_claims(&p, &d).unwrap();
        assert!(check_claims(&p, &Digest::sha256(b"other")).is_err());
        let (_, other) = generate_key_pair(b"").unwrap();
        assert!(matches!(
            verify(other.as_bytes(), &p, &sig),
            Err(SignError::BadSignature(_))
        ));
        let mut tampered = p.clone();
        tampered[5] ^= 1;
        assert!(verify(public.as_bytes(), &tampered, &sig).is_err());
        assert_eq!(signature_tag(&d), format!("sha256-{}.sig", d.hex()));
    }
}
