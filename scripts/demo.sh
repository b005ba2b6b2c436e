#!/usr/bin/env bash
# The main job, on a fresh Debian machine (as root): build strata, make a
# busybox base image from Debian's busybox-static, build the example image
# from examples/hello/Dockerfile, run it, and save it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cargo build --release --locked -p strata
strata=$PWD/target/release/strata
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export STRATA_ROOT=${STRATA_ROOT:-$PWD/target/demo-store}

# A base image: busybox with every applet linked.
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp"
cp /usr/bin/busybox "$work/rootfs/bin/"
for applet in $(/usr/bin/busybox --list | grep -vx busybox); do ln -sf busybox "$work/rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$work/rootfs/etc/passwd"
printf 'root:x:0:\n' > "$work/rootfs/etc/group"
chmod 1777 "$work/rootfs/tmp"
tar -C "$work/rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/rootfs.tar" .

run() { echo "+ $*"; "$@"; }
SOURCE_DATE_EPOCH=0 run "$strata" import -m "busybox from Debian's busybox-static" "$work/rootfs.tar" busybox:demo
run "$strata" build --progress plain -t hello:demo examples/hello
run "$strata" images
run "$strata" run --rm hello:demo
run "$strata" save -o target/hello-demo.tar hello:demo
echo "store: $STRATA_ROOT; archive: target/hello-demo.tar (docker load -i target/hello-demo.tar && docker run --rm hello:demo)"
