#!/usr/bin/env bash
# Times `load` and `save` of a ~1.5 GB image: strata against docker (Debian's
# docker.io, a private dockerd started here) on the same machine, same input,
# warm page cache. Prints medians of 3 runs and strata/docker ratios.
# Needs root. Usage: benches/load-save.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/strata-bench}
mkdir -p "$work"
cargo build --release --locked -p strata >/dev/null
strata=$PWD/target/release/strata
archive=$work/big.tar
[ -f "$archive" ] || python3 benches/make-archive.py "$archive" "$work/gen" >/dev/null
size=$(stat -c %s "$archive")

dk=$work/docker
mkdir -p "$dk"
dockerd --iptables=false --bridge=none --data-root "$dk/data" --exec-root "$dk/exec" \
  --pidfile "$dk/pid" --host "unix://$dk/sock" >"$dk/log" 2>&1 &
dpid=$!
trap 'kill $dpid 2>/dev/null; wait $dpid 2>/dev/null || true' EXIT
docker() { /usr/bin/docker -H "unix://$dk/sock" "$@"; }
for _ in $(seq 100); do docker version >/dev/null 2>&1 && break; sleep 0.3; done

export STRATA_ROOT=$work/strata-store
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f", e-s}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", a/b}'; }
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

declare -a sl ss dl ds
for i in 1 2 3; do
  rm -rf "$STRATA_ROOT"; rm -f "$work/s.tar" "$work/d.tar"
  sl+=("$(t "$strata" load -q -i "$archive")")
  ss+=("$(t "$strata" save -o "$work/s.tar" bench/big:1)")
  docker rmi -f bench/big:1 >/dev/null 2>&1 || true
  dl+=("$(t docker load -q -i "$archive")")
  ds+=("$(t docker save -o "$work/d.tar" bench/big:1)")
  sync
done
msl=$(median "${sl[@]}"); mss=$(median "${ss[@]}"); mdl=$(median "${dl[@]}"); mds=$(median "${ds[@]}")
printf 'archive: %s bytes\n' "$size"
printf '%-6s %10s %10s %8s\n' op strata docker ratio
printf '%-6s %10.2f %10.2f %8s\n' load "$msl" "$mdl" "$(ratio "$msl" "$mdl")"
printf '%-6s %10.2f %10.2f %8s\n' save "$mss" "$mds" "$(ratio "$mss" "$mds")"
printf 'runs: strata load %s | save %s | docker load %s | save %s\n' "${sl[*]}" "${ss[*]}" "${dl[*]}" "${ds[*]}"
rm -f "$work/s.tar" "$work/d.tar"
