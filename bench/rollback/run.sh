#!/usr/bin/env bash
# Rollback benchmark: how long after the failing analysis measurement the candidate is out of the
# gateway's routing table (target: under 100 ms). ROUNDS canary rollouts against an upstream that
# answers 500 are rolled back by the controller while traffic flows; the controller measures each
# rollback (`rollbackMilliseconds` in the rollout's status). Release build.
#
# Usage: bench/rollback/run.sh [ROUNDS]    (default 20)
#   SLIPWAY_BIN   a release slipway binary (default: build one into SCRATCH_PATH, default /tmp/slw-release)
#   WRITE         1 (default): replace the rollback section of BENCHMARKS.md; 0: only print it
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-20}
WRITE=${WRITE:-1}
if [ -z "${SLIPWAY_BIN:-}" ]; then
    SCRATCH=${SCRATCH_PATH:-/tmp/slw-release}
    echo "building slipway (release)…" >&2
    swift build -c release --product slipway --scratch-path "$SCRATCH" >&2
    SLIPWAY_BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/slipway"
fi
RESULT=$(python3 bench/rollback/run.py "$SLIPWAY_BIN" "$ROUNDS")
echo "$RESULT"
SECTION=$(python3 - "$RESULT" "$ROUNDS" <<'PY'
import json, sys, platform, os, datetime, subprocess
r = json.loads(sys.argv[1])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
if subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "Sources", "Package.swift"]).returncode != 0:
    commit += " with local changes"
print(f"""<!-- bench:rollback -->
## Rollback time (bench/rollback)

Machine: {cpu}, {os.cpu_count()} cores · Date: {datetime.date.today()} · Commit: {commit} · Command: `bench/rollback/run.sh {sys.argv[2]}` (release)

From the failing analysis measurement to the installed routing table without the candidate, measured
by the controller in each of {r['rounds']} rollbacks under traffic (4 clients):

| median | p90 | max | target |
|---:|---:|---:|---:|
| {r['median_ms']:.2f} ms | {r['p90_ms']:.2f} ms | {r['max_ms']:.2f} ms | < 100 ms |

The time covers the endpoint's compare-and-set update in SQLite (with its audit event) and the
gateway's reload of the routing table; the next request after it goes to the stable variant.
Argo Rollouts and Flagger cannot be run here (no Kubernetes); their rollback acts through the
Kubernetes API and the service mesh, and their analysis intervals are the floor of their reaction.
<!-- /bench:rollback -->""")
PY
)
echo "$SECTION"
if [ "$WRITE" = 1 ]; then
    python3 - "$SECTION" <<'PY'
import re, sys
section = sys.argv[1]
text = open("BENCHMARKS.md").read()
pattern = re.compile(r"<!-- bench:rollback -->.*?<!-- /bench:rollback -->", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
open("BENCHMARKS.md", "w").write(text)
PY
fi
