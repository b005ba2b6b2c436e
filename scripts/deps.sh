#!/usr/bin/env bash
# Installs the Debian packages strata's demo and tests drive (idempotent):
# busybox-static for fixture images, docker.io, docker-registry, skopeo and umoci for interop
# tests, runc for containers, tini for `run --init`, jq for scripts.
set -euo pipefail
need=(busybox-static docker.io docker-registry skopeo umoci runc tini jq ca-certificates xz-utils bzip2)
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
