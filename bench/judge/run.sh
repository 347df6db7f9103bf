#!/usr/bin/env bash
# Judge benchmark: 1,000 simulated canaries whose truth is known (half as good as stable, half worse by a
# stated amount in error rate, latency or prediction distribution), at five traffic levels from very low
# (50 canary requests) to 20,000, judged look by look by Slipway's default analysis — the same
# DefaultAnalysis and AnalysisRun code the rollout controller runs — and by a plain threshold check
# as Argo Rollouts and Flagger users write it (error rate < 5%, p99 < 500 ms, failureLimit 0).
# Targets at the defaults: < 1% false promotions, < 2% false rollbacks, Inconclusive at very low traffic.
#
# Writes the tables into BENCHMARKS.md between the <!-- bench:judge --> markers (appends the section
# the first time) and prints them.
#
# Usage: bench/judge/run.sh [SEED]
#   JUDGE_ARGS    simulation arguments (default "--per-level 200 --looks 4")
#   SCRATCH_PATH  build in this folder instead of .build (keeps a long release build off the shared one)
set -euo pipefail
cd "$(dirname "$0")/../.."
SEED="${1:-20240601}"
ARGS="${JUDGE_ARGS:---per-level 200 --looks 4}"

BUILD=(swift build -c release ${SCRATCH_PATH:+--scratch-path "$SCRATCH_PATH"})
"${BUILD[@]}" --product JudgeBench >&2
BIN="$("${BUILD[@]}" --show-bin-path)/JudgeBench"
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT

# shellcheck disable=SC2086
"$BIN" --seed "$SEED" $ARGS >"$OUT"

SECTION="$(mktemp)"
trap 'rm -f "$OUT" "$SECTION"' EXIT
{
  echo "<!-- bench:judge -->"
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Machine: \`nproc\` = $(nproc 2>/dev/null || sysctl -n hw.ncpu); \`uname -srm\`: $(uname -srm)"
  echo "- Toolchain: $(swift --version 2>/dev/null | head -1)"
  echo "- Command: \`bench/judge/run.sh $SEED\` (release build of \`JudgeBench\`, arguments \`$ARGS\`)"
  echo
  cat "$OUT"
  echo "<!-- /bench:judge -->"
} >"$SECTION"

python3 - "$SECTION" <<'PY'
import re, sys
section = open(sys.argv[1]).read().rstrip("\n")
path = "BENCHMARKS.md"
text = open(path).read()
pattern = re.compile(r"<!-- bench:judge -->.*?<!-- /bench:judge -->", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
else:
    text = text.rstrip("\n") + "\n\n## Canary judge (bench/judge)\n\n" + section + "\n"
open(path, "w").write(text)
PY
cat "$SECTION"
