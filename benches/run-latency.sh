#!/usr/bin/env bash
# Times `run --rm IMAGE true` (20 runs each, median) for strata against
# docker (Debian's docker.io, a private dockerd started here, the same
# busybox image loaded into both) and podman when it is installed, and
# measures the disk used by 50 created containers of one image.
# Needs root. Usage: benches/run-latency.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/strata-bench-run}
rm -rf "$work"; mkdir -p "$work"
cargo build --release --locked -p strata >/dev/null
strata=${CARGO_TARGET_DIR:-$PWD/target}/release/strata
export STRATA_ROOT=$work/strata-store

# One busybox image, built once, loaded into both.
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
cp /usr/bin/busybox "$rootfs/bin/"
for a in $(/usr/bin/busybox --list | grep -vx busybox); do ln -sf busybox "$rootfs/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$rootfs/etc/passwd"
tar -C "$rootfs" -cf "$work/rootfs.tar" .
"$strata" import "$work/rootfs.tar" bench/bb:1 >/dev/null
"$strata" save -o "$work/bb.tar" bench/bb:1

dk=$work/docker
mkdir -p "$dk"
dockerd --iptables=false --bridge=none --data-root "$dk/data" --exec-root "$dk/exec" \
  --pidfile "$dk/pid" --host "unix://$dk/sock" >"$dk/log" 2>&1 &
dpid=$!
trap 'kill $dpid 2>/dev/null; wait $dpid 2>/dev/null || true' EXIT
docker() { /usr/bin/docker -H "unix://$dk/sock" "$@"; }
for _ in $(seq 400); do docker version >/dev/null 2>&1 && break; sleep 0.3; done
docker version >/dev/null || { echo "dockerd did not start (see $dk/log)" >&2; exit 1; }
docker load -q -i "$work/bb.tar" >/dev/null

t() {
  local s e
  s=$(date +%s%N)
  "$@" >/dev/null || { echo "failed: $*" >&2; exit 1; }
  e=$(date +%s%N)
  echo $(((e - s) / 1000000))
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
series() { local out=() i; for i in $(seq 20); do out+=("$(t "$@")"); done; median "${out[@]}"; }

"$strata" run --rm bench/bb:1 true; docker run --rm --network none bench/bb:1 true # warm up
s=$(series "$strata" run --rm bench/bb:1 true)
d=$(series docker run --rm --network none bench/bb:1 true)
printf '%-22s %8s\n' "run --rm true" "ms (median of 20)"
printf '%-22s %8s\n' strata "$s" docker "$d"
if command -v podman >/dev/null; then
  podman load -q -i "$work/bb.tar" >/dev/null
  # Podman's default rlimits (nofile 1048576, nproc) exceed this
  # machine's hard limits; runc then refuses to start anything.
  p=$(series podman run --rm --network none --ulimit nofile=1024:1024 \
    --ulimit nproc=4096:4096 bench/bb:1 true)
  printf '%-22s %8s\n' podman "$p"
fi
awk -v s="$s" -v d="$d" 'BEGIN{printf "ratio strata/docker: %.2f\n", s/d}'
[ -n "${p:-}" ] && awk -v s="$s" -v p="$p" 'BEGIN{printf "ratio strata/podman: %.2f\n", s/p}'

before=$(du -sk "$STRATA_ROOT" | cut -f1)
for i in $(seq 50); do "$strata" create bench/bb:1 true >/dev/null; done
after=$(du -sk "$STRATA_ROOT" | cut -f1)
dbefore=$(du -sk "$dk/data" | cut -f1)
for i in $(seq 50); do docker create --network none bench/bb:1 true >/dev/null; done
dafter=$(du -sk "$dk/data" | cut -f1)
printf '50 containers: strata +%s KiB, docker +%s KiB (image itself: %s KiB)\n' \
  "$((after - before))" "$((dafter - dbefore))" "$(du -sk "$rootfs" | cut -f1)"
"$strata" ps -a -q | xargs -r "$strata" rm >/dev/null
docker rm $(docker ps -a -q) >/dev/null
