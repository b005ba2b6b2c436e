#!/usr/bin/env bash
# The main job, on a fresh Debian machine (as root): build strata, make a
# busybox image from Debian's busybox-static, list it, inspect it, save it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cargo build --release --locked -p strata
strata=$PWD/target/release/strata
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export STRATA_ROOT=${STRATA_ROOT:-$PWD/target/demo-store}

mkdir -p "$work/rootfs/bin"
cp /usr/bin/busybox "$work/rootfs/bin/"
for applet in sh echo cat ls true false; do ln -sf busybox "$work/rootfs/bin/$applet"; done
tar -C "$work/rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/rootfs.tar" .

echo "+ strata import -c 'CMD [\"/bin/sh\"]' rootfs.tar busybox:demo"
SOURCE_DATE_EPOCH=0 "$strata" import -c 'CMD ["/bin/sh"]' -m "busybox from Debian's busybox-static" "$work/rootfs.tar" busybox:demo
echo "+ strata images"
"$strata" images
echo "+ strata history busybox:demo"
"$strata" history busybox:demo
echo "+ strata save -o target/busybox-demo.tar busybox:demo"
"$strata" save -o target/busybox-demo.tar busybox:demo
tar -tvf target/busybox-demo.tar
echo "store: $STRATA_ROOT; archive: target/busybox-demo.tar (load it with: docker load -i target/busybox-demo.tar)"
