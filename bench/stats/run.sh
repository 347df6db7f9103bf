#!/usr/bin/env bash
# Side-by-side benchmark of SlipwayStats against scipy/statsmodels on the same inputs:
#   KS two-sample 10^6 vs 10^6, Mann–Whitney 10^5 vs 10^5, 10,000 two-proportion z-tests.
# Builds StatsBench in release mode, then alternates the two sides ROUNDS times (default 7)
# and prints the median seconds per workload and the ratio scipy/slipway (> 1: Slipway is faster).
#
# Usage: bench/stats/run.sh [ROUNDS]      (PYTHON=/path/to/python with scipy, statsmodels, numpy)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${1:-7}"
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c "import scipy, statsmodels, numpy" 2>/dev/null || {
  echo "need scipy, statsmodels and numpy: $PYTHON -m pip install -r tools/stats_fixtures/requirements.txt" >&2; exit 1; }

swift build -c release --product StatsBench >&2
BIN="$(swift build -c release --show-bin-path)/StatsBench"
DATA="$(mktemp -d)"
trap 'rm -rf "$DATA"' EXIT

"$PYTHON" - "$DATA" <<'PY'
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
rng.normal(0.0, 1.0, 1_000_000).tofile(d + "/a.f64")
rng.normal(0.002, 1.0, 1_000_000).tofile(d + "/b.f64")
n1 = rng.integers(1_000, 1_000_000, 10_000); n2 = rng.integers(1_000, 1_000_000, 10_000)
p = rng.uniform(0.01, 0.5, 10_000)
s1 = rng.binomial(n1, p); s2 = rng.binomial(n2, p * rng.uniform(0.95, 1.05, 10_000))
np.stack([s1, n1, s2, n2], axis=1).astype(np.float64).tofile(d + "/proportions.f64")
PY

RESULTS="$DATA/results.jsonl"
for ((round = 1; round <= ROUNDS; round++)); do
  if ((round % 2)); then
    "$BIN" "$DATA" >>"$RESULTS"; "$PYTHON" bench/stats/scipy_side.py "$DATA" >>"$RESULTS"
  else
    "$PYTHON" bench/stats/scipy_side.py "$DATA" >>"$RESULTS"; "$BIN" "$DATA" >>"$RESULTS"
  fi
done

"$PYTHON" - "$RESULTS" "$ROUNDS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for r in rows:
    med.setdefault((r["side"], r["name"]), []).append(r["seconds"])
med = {k: statistics.median(v) for k, v in med.items()}
print(f"rounds: {sys.argv[2]} (sides alternating), median seconds")
print(f"{'workload':40} {'slipway':>12} {'scipy':>12} {'scipy/slipway':>14}")
pairs = [("ks_1e6_vs_1e6", "ks_1e6_vs_1e6", "ks_1e6_vs_1e6"),
         ("mannwhitney_1e5_vs_1e5", "mannwhitney_1e5_vs_1e5", "mannwhitney_1e5_vs_1e5"),
         ("proportions: loop vs statsmodels loop", "proportions_10000_tests", "proportions_10000_tests"),
         ("proportions: loop vs numpy vectorised", "proportions_10000_tests", "proportions_10000_vectorised"),
         ("proportions: batch vs numpy vectorised", "proportions_10000_batch", "proportions_10000_vectorised")]
for name in ["hodges_lehmann_1e5_vs_1e5"]:
    if ("slipway", name) in med:
        print(f"{name:40} {med[('slipway', name)]:12.6f} {'(none)':>12}")
for label, mine, theirs in pairs:
    s = med.get(("slipway", mine)); p = med.get(("scipy", theirs))
    if s is None or p is None:
        continue
    print(f"{label:40} {s:12.6f} {p:12.6f} {p / s:13.2f}x")
checks = {}
for r in rows:
    checks.setdefault(r["name"], set()).add((r["side"], round(r["check"], 9)))
for name, values in checks.items():
    print(f"check {name}: " + ", ".join(f"{side}={value}" for side, value in sorted(values)))
PY
