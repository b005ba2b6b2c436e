#!/usr/bin/env bash
# Issue 5's server benchmark: wrk against strata's registry and against
# Debian's docker-registry (CNCF Distribution 2.8) serving the same image,
# on the same machine in one run: manifest GET by tag, blob GET (the
# layer), blob HEAD, as requests/s and p99 latency, plus each server's
# peak memory (VmHWM).
#   benches/registry-wrk.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}
work=$(mktemp -d /tmp/strata-bench-registry.XXXXXX)
cargo build --release --locked -p strata >/dev/null
strata=${CARGO_TARGET_DIR:-$PWD/target}/release/strata
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# strata's registry over its own store.
"$strata" --root "$work/reg" registry serve --addr 127.0.0.1:0 2>"$work/strata.log" &
pids+=($!); spid=$!
for _ in $(seq 100); do grep -q listening "$work/strata.log" && break; sleep 0.1; done
shost=$(grep -o '127.0.0.1:[0-9]*' "$work/strata.log" | head -1)

# Distribution, with its defaults and logging at error level (its info
# access log would cost it throughput).
dport=$(port)
cat >"$work/dist.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/dist
http:
  addr: 127.0.0.1:$dport
YML
docker-registry serve "$work/dist.yml" >"$work/dist.log" 2>&1 &
pids+=($!); dpid=$!
dhost=127.0.0.1:$dport
for _ in $(seq 100); do curl -sf "http://$dhost/v2/" >/dev/null && break; sleep 0.1; done

# One busybox image, pushed to both by strata's client.
export STRATA_ROOT=$work/client
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc"
cp /usr/bin/busybox "$rootfs/bin/"
tar -C "$rootfs" -cf "$work/rootfs.tar" .
SOURCE_DATE_EPOCH=0 "$strata" import "$work/rootfs.tar" bench/bb:1 >/dev/null
for h in "$shost" "$dhost"; do
  "$strata" tag bench/bb:1 "$h/bench/bb:1"
  "$strata" push -q "$h/bench/bb:1" >/dev/null
done
layer=$("$strata" image inspect -f '{{index .RootFS.Layers 0}}' bench/bb:1)
manifest_digest=$("$strata" image inspect -f '{{.Descriptor.digest}}' bench/bb:1)
blob=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$shost/v2/bench/bb/manifests/1" | python3 -c 'import json,sys;print(json.load(sys.stdin)["layers"][0]["digest"])')
size=$(curl -sI "http://$shost/v2/bench/bb/blobs/$blob" | tr -d '\r' | awk 'tolower($1)=="content-length:"{print $2}')

# HEAD is timed on the empty blob: wrk 4.1 waits for a HEAD answer's
# Content-Length worth of body and never finishes otherwise, and what a
# HEAD costs a server does not depend on the blob's size.
empty=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
for h in "$shost" "$dhost"; do
  loc=$(curl -si -X POST "http://$h/v2/bench/bb/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
  case $loc in http*) ;; *) loc="http://$h$loc" ;; esac
  sep='?'; case $loc in *\?*) sep='&' ;; esac
  curl -sf -X PUT -H 'Content-Length: 0' "$loc${sep}digest=$empty" >/dev/null
done

cat >"$work/head.lua" <<'LUA'
wrk.method = "HEAD"
LUA
cat >"$work/accept.lua" <<'LUA'
wrk.headers["Accept"] = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
LUA

hwm() { awk '/VmHWM/{print $2/1024 " MB"}' "/proc/$1/status"; }
bench() { # name url script -> "req/s p99"
  local out
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency ${3:+-s "$3"} "$2")
  local rps p99
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  local errs
  errs=$(awk '/Non-2xx/{print $4}' <<<"$out")
  [ -z "$errs" ] || { echo "$1: $errs non-2xx answers" >&2; echo "$out" >&2; exit 1; }
  echo "$rps $p99"
}

printf 'image bench/bb:1: manifest %s, layer %s (%s bytes)\n' "$manifest_digest" "$blob" "$size"
printf '%-14s %-12s %12s %10s\n' endpoint server req/s p99
declare -A R
for what in manifest blob head; do
  for srv in strata distribution; do
    h=$shost; [ $srv = distribution ] && h=$dhost
    case $what in
      manifest) r=$(bench $what "http://$h/v2/bench/bb/manifests/1" "$work/accept.lua") ;;
      blob) r=$(bench $what "http://$h/v2/bench/bb/blobs/$blob") ;;
      head) r=$(bench $what "http://$h/v2/bench/bb/blobs/$empty" "$work/head.lua") ;;
    esac
    R[$what.$srv]=$r
    printf '%-14s %-12s %12s %10s\n' "$what" "$srv" $r
  done
  s=${R[$what.strata]%% *}; d=${R[$what.distribution]%% *}
  printf '%-14s %-12s %11.2fx\n' "$what" "ratio" "$(python3 -c "print($s/$d)")"
done
printf 'peak memory: strata %s, distribution %s\n' "$(hwm $spid)" "$(hwm $dpid)"
