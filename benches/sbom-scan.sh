#!/usr/bin/env bash
# Issue 6's benchmark: SBOM and vulnerability scan time of the Debian
# minbase image (../shared/bench/base/debian-local.docker.tar, made by
# make-bases.sh with debootstrap --variant=minbase). The advisory database
# is synthetic (three OSV advisories per source package, one of them
# fixed above the installed version): no network here. Median of 5.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=$(cd ../shared/bench && pwd)
[ -f "$bench/base/debian-local.docker.tar" ] || "$bench/make-bases.sh"
cargo build --release --locked -q -p strata
strata=${CARGO_TARGET_DIR:-$PWD/target}/release/strata
work=$(mktemp -d /tmp/strata-bench-scan.XXXXXX)
trap 'rm -rf "$work"' EXIT
export STRATA_ROOT=$work/store
"$strata" load -q -i "$bench/base/debian-local.docker.tar" >/dev/null
"$strata" sbom --format json debian:local >"$work/sbom.json"
python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
sbom = json.load(open(os.path.join(work, "sbom.json")))
os.makedirs(os.path.join(work, "osv"))
n = 0
for p in sbom["packages"]:
    src = p.get("source") or p["name"]
    for k, fixed in enumerate(["0.1", p["version"] + "+fix1", "99:1"]):
        n += 1
        doc = {"id": f"SYN-{n}", "summary": f"{src} synthetic {k}",
               "affected": [{"package": {"ecosystem": "Debian:12", "name": src},
                             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
               "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}
        json.dump(doc, open(os.path.join(work, "osv", f"SYN-{n}.json"), "w"))
print(f"{len(sbom['packages'])} packages, {n} synthetic advisories", file=sys.stderr)
PY
"$strata" db import "$work/osv" >/dev/null
t() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
sb=$(for _ in 1 2 3 4 5; do t "$strata" sbom --format spdx-json debian:local; done | median)
sc=$(for _ in 1 2 3 4 5; do t "$strata" scan --format json debian:local; done | median)
found=$("$strata" scan --format json debian:local | python3 -c 'import json,sys;print(len(json.load(sys.stdin)))')
echo "sbom (spdx-json): ${sb} ms; scan (sbom + match): ${sc} ms; ${found} findings"
