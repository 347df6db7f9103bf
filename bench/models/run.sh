#!/usr/bin/env bash
# Built-in models against scikit-learn on the same fixed splits (examples/data): held-out accuracy,
# log loss and fit time of
#   scikit-learn LogisticRegression (default C, max_iter=5000, StandardScaler in a pipeline)
#     vs  slipway train --algorithm logistic
#   scikit-learn HistGradientBoostingClassifier (defaults, random_state=0)
#     vs  slipway train --algorithm gbdt
# Target: Slipway within 2 points of accuracy of each. Writes bench/models/RESULTS.md.
#
# Usage: bench/models/run.sh [ROUNDS]
#   ROUNDS        how many times each fit is timed (median reported; default 5)
#   SLIPWAY_BIN   a slipway binary to use instead of building one (release build of the package)
#   OMP_NUM_THREADS  threads for scikit-learn's OpenMP code (default 1: Slipway trains on one core, and on
#                 2-core VMs OpenMP's spinning threads made HistGradientBoosting fits 6-10x slower, not faster)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${1:-5}"

VENV=.venvs/sklearn
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sklearn" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check scikit-learn
fi

if [ -z "${SLIPWAY_BIN:-}" ]; then
  swift build -c release --product slipway >&2
  SLIPWAY_BIN="$(swift build -c release --show-bin-path)/slipway"
fi

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
"$VENV/bin/python" bench/models/compare.py --slipway "$SLIPWAY_BIN" --rounds "$ROUNDS" --out bench/models/RESULTS.md
