#!/usr/bin/env bash
# Sets up a fresh Debian machine (as root) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cargo test --workspace --locked "$@"
