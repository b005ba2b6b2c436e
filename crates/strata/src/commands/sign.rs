//! `strata key generate|public-key`, `strata sign --key KEY IMAGE` and
//! `strata verify --key PUB IMAGE`: cosign's key files, payloads and
//! `sha256-<hex>.sig` signature storage, against any registry.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use strata_core::{Digest, ImageManifest, Reference};
use strata_registry_client::{Client, UploadOptions};
use strata_scan::sign;

use crate::cli::{KeyGenerateArgs, KeyPublicArgs, SignArgs, VerifyArgs};

/// cosign's password variable; it may be set and empty.
fn password() -> Result<Vec<u8>> {
    match std::env::var_os("COSIGN_PASSWORD") {
        Some(p) => Ok(p.into_encoded_bytes()),
        None => bail!("set COSIGN_PASSWORD to the key's password (it may be empty)"),
    }
}

pub(crate) fn key_generate(args: KeyGenerateArgs) -> Result<ExitCode> {
    let prefix = &args.output_key_prefix;
    let (private, public) = sign::generate_key_pair(&password()?)?;
    let (kf, pf) = (format!("{prefix}.key"), format!("{prefix}.pub"));
    for f in [&kf, &pf] {
        if std::path::Path::new(f).exists() {
            bail!("{f} already exists; not overwriting it");
        }
    }
    write_private(&kf, &private)?;
    fs_err::write(&pf, public)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Private key written to {kf}")?;
    writeln!(out, "Public key written to {pf}")?;
    Ok(ExitCode::SUCCESS)
}

fn write_private(path: &str, pem: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {path}"))?;
    f.write_all(pem.as_bytes())?;
    Ok(())
}

pub(crate) fn key_public(args: KeyPublicArgs) -> Result<ExitCode> {
    let private = fs_err::read(&args.key)?;
    let public = sign::public_key(&private, &password()?)?;
    write!(std::io::stdout(), "{public}")?;
    Ok(ExitCode::SUCCESS)
}

/// The image's repository, manifest digest, media type and size in its
/// registry.
fn resolve(client: &Client, image: &str) -> Result<(Reference, Digest, String, u64)> {
    let r = Reference::parse_normalized(image)
        .map_err(|e| anyhow::anyhow!("invalid reference format: {e}"))?;
    let reference = match r.digest() {
        Some(d) => d.to_string(),
        None => r
            .clone()
            .with_default_tag()
            .tag()
            .unwrap_or("latest")
            .to_owned(),
    };
    let m = client
        .manifest(&r, &reference)
        .with_context(|| format!("resolving {image}"))?;
    Ok((r, m.digest, m.media_type, m.bytes.len() as u64))
}

fn upload(client: &Client, repo: &Reference, bytes: Vec<u8>) -> Result<Digest> {
    let d = Digest::sha256(&bytes);
    if !client.has_blob(repo, &d, "pull,push")? {
        let size = bytes.len() as u64;
        client.upload_blob(
            repo,
            &d,
            size,
            std::io::Cursor::new(bytes),
            &UploadOptions::default(),
        )?;
    }
    Ok(d)
}

pub(crate) fn sign(args: SignArgs) -> Result<ExitCode> {
    let private = fs_err::read(&args.key)?;
    let password = password()?;
    let client = Client::new(crate::env::client_options()?)?;
    let (repo, digest, media_type, manifest_size) = resolve(&client, &args.image)?;
    let payload = sign::payload(&repo.name(), &digest);
    let signature = sign::sign(&private, &password, &payload)?;
    // Earlier signatures of the same digest are kept: their layers come
    // first, as cosign appends.
    let tag = sign::signature_tag(&digest);
    let mut layers: Vec<(Digest, u64, String)> = Vec::new();
    if let Ok(existing) = client.manifest(&repo, &tag)
        && let Ok(m) = serde_json::from_slice::<ImageManifest>(&existing.bytes)
    {
        for l in m.layers {
            if l.media_type.as_str() != sign::PAYLOAD_MEDIA_TYPE {
                continue;
            }
            if let Some(s) = l.annotation(sign::SIGNATURE_ANNOTATION) {
                layers.push((l.digest.clone(), l.size, s.to_owned()));
            }
        }
    }
    let size = payload.len() as u64;
    let payload_digest = upload(&client, &repo, payload)?;
    // Also an OCI 1.1 referrer, for registries with the referrers API.
    let (rconfig, referrer) = sign::referrer_manifest(
        (&media_type, &digest, manifest_size),
        (&payload_digest, size),
        &signature,
    );
    upload(&client, &repo, rconfig)?;
    let referrer_digest = Digest::sha256(&referrer);
    client.put_manifest(
        &repo,
        &referrer_digest.to_string(),
        referrer,
        "application/vnd.oci.image.manifest.v1+json",
    )?;
    layers.retain(|(d, _, s)| !(d == &payload_digest && s == &signature));
    layers.push((payload_digest, size, signature));
    let (config, manifest) = sign::signature_manifest(&layers);
    upload(&client, &repo, config)?;
    client.put_manifest(
        &repo,
        &tag,
        manifest,
        "application/vnd.oci.image.manifest.v1+json",
    )?;
    writeln!(
        std::io::stdout(),
        "Pushing signature to: {}:{tag}",
        repo.name()
    )?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn verify(args: VerifyArgs) -> Result<ExitCode> {
    let public = fs_err::read(&args.key)?;
    let client = Client::new(crate::env::client_options()?)?;
    let (repo, digest, _, _) = resolve(&client, &args.image)?;
    let tag = sign::signature_tag(&digest);
    // The tag cosign writes, then OCI 1.1 referrers.
    let mut manifests: Vec<ImageManifest> = Vec::new();
    if let Ok(m) = client.manifest(&repo, &tag) {
        manifests.push(
            serde_json::from_slice(&m.bytes)
                .with_context(|| format!("reading the signature manifest {tag}"))?,
        );
    }
    if let Ok(Some(list)) = client.referrers(&repo, &digest, Some(sign::SIGNATURE_ARTIFACT_TYPE)) {
        for d in list {
            let m = client.manifest(&repo, &d.digest.to_string())?;
            if let Ok(m) = serde_json::from_slice::<ImageManifest>(&m.bytes) {
                manifests.push(m);
            }
        }
    }
    if manifests.is_empty() {
        bail!("no signatures found for {} ({digest})", args.image);
    }
    let mut verified = Vec::new();
    let mut errors = Vec::new();
    // The same signature may be stored both ways: check it once.
    let mut seen = std::collections::BTreeSet::new();
    for l in manifests.iter().flat_map(|m| &m.layers) {
        if l.media_type.as_str() != sign::PAYLOAD_MEDIA_TYPE {
            continue;
        }
        let Some(sig) = l.annotation(sign::SIGNATURE_ANNOTATION) else {
            continue;
        };
        if !seen.insert((l.digest.clone(), sig.to_owned())) {
            continue;
        }
        let mut body = client.blob(&repo, &l.digest, 0)?;
        let mut payload = Vec::new();
        std::io::Read::read_to_end(&mut body, &mut payload)?;
        if Digest::sha256(&payload) != l.digest {
            errors.push(format!(
                "payload blob {} does not match its digest",
                l.digest
            ));
            continue;
        }
        match sign::verify(&public, &payload, sig)
            .and_then(|()| sign::check_claims(&payload, &digest))
        {
            Ok(claims) => verified.push(claims),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if verified.is_empty() {
        let why = if errors.is_empty() {
            "no cosign signatures in the signature manifest".to_owned()
        } else {
            errors.join("; ")
        };
        bail!("no matching signatures: {why}");
    }
    let mut err = std::io::stderr().lock();
    writeln!(err, "\nVerification for {} --", args.image)?;
    writeln!(
        err,
        "The following checks were performed on each of these signatures:"
    )?;
    writeln!(err, "  - The cosign claims were validated")?;
    writeln!(
        err,
        "  - The signatures were verified against the specified public key"
    )?;
    drop(err);
    writeln!(std::io::stdout(), "{}", serde_json::to_string(&verified)?)?;
    Ok(ExitCode::SUCCESS)
}
