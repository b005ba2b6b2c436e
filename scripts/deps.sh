#!/usr/bin/env bash
# Installs the Debian packages strata's demo and tests drive (idempotent):
# busybox-static for fixture images, docker.io, docker-registry, skopeo, podman and umoci for
# interop tests, runc for containers, tini for `run --init`, jq for scripts, openssl and curl
# for TLS and S3 fixtures; then moto's S3 server (pip) for the registry's S3 storage tests.
set -euo pipefail
need=(busybox-static debootstrap docker.io docker-registry skopeo podman umoci runc tini jq ca-certificates xz-utils bzip2 openssl curl)
missing=()
for p in "${need[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v moto_server >/dev/null 2>&1; then
  if ! command -v pip3 >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
  fi
  pip3 install -q --break-system-packages 'moto[server]' 2>/dev/null || pip3 install -q 'moto[server]'
fi
# The SBOM tests validate against the SPDX and CycloneDX JSON schemas.
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends python3-jsonschema >/dev/null 2>&1 || true
  python3 -c 'import jsonschema' 2>/dev/null \
    || pip3 install -q --break-system-packages jsonschema 2>/dev/null || pip3 install -q jsonschema
fi
