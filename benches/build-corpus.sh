#!/usr/bin/env bash
# Build benchmark of issue 3: the shared harness (../shared/bench) run for
# Docker BuildKit and strata on the same machine, one after the other, then
# strata/Docker ratios of cold, warm and one-file-changed wall times.
#
#   benches/build-corpus.sh [ITEM...]      (default: every corpus item)
#
# Results go to $BENCH_RESULTS (default /tmp/strata-bench-results) because
# the shared results directory is read-only. Needs root and a running
# dockerd; makes the bases with ../shared/bench/make-bases.sh when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bench=$(cd "$here/../shared/bench" && pwd)
export BENCH_RESULTS=${BENCH_RESULTS:-/tmp/strata-bench-results}
mkdir -p "$BENCH_RESULTS"
target=${CARGO_TARGET_DIR:-$here/target}
(cd "$here" && cargo build --release -q -p strata)
export STRATA=$target/release/strata
[ -f "$bench/base/busybox-local.docker.tar" ] || "$bench/make-bases.sh"
items=("$@")
# SKIP_DOCKER=1 reuses Docker's figures already in $BENCH_RESULTS.
[ "${SKIP_DOCKER:-0}" = 1 ] || "$bench/run.sh" docker-buildkit "${items[@]}"
"$bench/run.sh" strata "${items[@]}"
python3 - "$BENCH_RESULTS" <<'PY'
import json, sys, pathlib
res = pathlib.Path(sys.argv[1])
def load(tool):
    out = {}
    p = res / f"{tool}.jsonl"
    if p.exists():
        for line in p.read_text().splitlines():
            r = json.loads(line)
            out[(r["item"], r["metric"])] = r
    return out
d, s = load("docker-buildkit"), load("strata")
print(f"{'item':12} {'metric':20} {'docker':>8} {'strata':>8} {'ratio':>6}")
for (item, metric), r in sorted(s.items()):
    if metric not in ("cold_build_s", "warm_build_s", "incremental_build_s", "push_s", "pull_s", "save_s") or (item, metric) not in d:
        continue
    dv, sv = d[(item, metric)].get("value"), r.get("value")
    if isinstance(dv, (int, float)) and isinstance(sv, (int, float)) and dv:
        print(f"{item:12} {metric:20} {dv:8.2f} {sv:8.2f} {sv/dv:6.2f}")
PY
