#!/usr/bin/env bash
# Pipelines: a 50-stage pipeline with every stage cached, `slipway run` against `dvc repro` on the
# equivalent dvc.yaml, release build, the two sides alternating, REPS rounds, medians. Then, on
# Slipway alone, the time from a job being ready (the job it needs has finished its last process)
# to its first process starting, over a chain of uncached jobs.
#
# Usage: bench/pipeline/run.sh            (STAGES=50 REPS=10 by default)
# Needs python3 (for the DVC virtualenv, .venvs/dvc) and git. Prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
STAGES=${STAGES:-50}
REPS=${REPS:-10}
SCRATCH=${SCRATCH:-/tmp/slw-release}
if [ -n "${SLIPWAY_BIN:-}" ]; then
    BIN=$SLIPWAY_BIN
else
    swift build -c release --product slipway --scratch-path "$SCRATCH" >/dev/null
    BIN=$SCRATCH/release/slipway
fi
if [ ! -x .venvs/dvc/bin/dvc ]; then
    python3 -m venv .venvs/dvc
    .venvs/dvc/bin/pip install -q --disable-pip-version-check "dvc==3.67.1"
fi
DVC=$REPO/.venvs/dvc/bin/dvc
export DVC_NO_ANALYTICS=1 DVC_NO_UPDATER=1 GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
unset SLIPWAY_SERVER SLIPWAY_TOKEN SLIPWAY_DATA_DIR SLIPWAY_CONFIG

WORK=$(mktemp -d /tmp/slipway-pipeline-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# The same project for both: data/input.csv, stage k reads stage k-1's output (stage 1 reads the
# input) and writes out/stage-k.txt with a small shell command.
make_project() {
    local dir=$1
    mkdir -p "$dir/data" "$dir/out" "$dir/.slipway/workflows"
    python3 - "$dir/data/input.csv" <<'PY'
import sys, random
rng = random.Random(3)
with open(sys.argv[1], "w") as f:
    f.write("x,y\n")
    for _ in range(20000):
        f.write(f"{rng.random():.6f},{rng.random():.6f}\n")
PY
    python3 - "$dir" "$STAGES" <<'PY'
import sys, os
root, stages = sys.argv[1], int(sys.argv[2])
dvc = ["stages:"]
wf = ["name: stages", "on: [push, workflow_dispatch]", "jobs:"]
for k in range(1, stages + 1):
    dep = "data/input.csv" if k == 1 else f"out/stage-{k-1}.txt"
    out = f"out/stage-{k}.txt"
    cmd = f"wc -l {dep} > {out} && echo stage {k} >> {out}"
    dvc += [f"  stage{k}:", f"    cmd: {cmd}", "    deps:", f"      - {dep}", "    outs:", f"      - {out}"]
    wf += [f"  stage{k}:", "    runs-on: self-hosted"]
    if k > 1:
        wf.append(f"    needs: stage{k-1}")
    wf += ["    cache:", f"      inputs: [{dep}]", f"      outputs: [{out}]", "    steps:", f"      - run: {cmd}"]
open(os.path.join(root, "dvc.yaml"), "w").write("\n".join(dvc) + "\n")
open(os.path.join(root, ".slipway/workflows/stages.yml"), "w").write("\n".join(wf) + "\n")
PY
    (cd "$dir" && git init -q && printf 'out/\n.slipway/runs/\n.slipway/cache/\n.slipway/artifacts/\n' > .gitignore && git add -A && git commit -qm init)
}

make_project "$WORK/slipway"
make_project "$WORK/dvc"
(cd "$WORK/dvc" && $DVC init -q && git add -A && git commit -qm dvc)

now() { date +%s.%N; }
echo "populating both caches" >&2
(cd "$WORK/slipway" && "$BIN" run stages >/dev/null 2>&1)
(cd "$WORK/dvc" && $DVC repro -q >/dev/null 2>&1)

# Both must now skip every stage.
(cd "$WORK/slipway" && "$BIN" run stages --json 2>/dev/null) | python3 -c "
import json, sys
r = json.load(sys.stdin)
assert r['conclusion'] == 'success', r
assert all(j['cached'] for j in r['jobs'].values()), 'a stage was not cached'
print('slipway: all', len(r['jobs']), 'stages cached', file=sys.stderr)"
(cd "$WORK/dvc" && $DVC repro 2>&1 | grep -c "didn't change, skipping" | xargs -I{} echo "dvc: {} stages skipped" >&2)

: >"$WORK/times"
export LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
for rep in $(seq 1 "$REPS"); do
    if [ $((rep % 2)) -eq 1 ]; then order="slipway dvc"; else order="dvc slipway"; fi
    for side in $order; do
        start=$(now)
        if [ "$side" = slipway ]; then
            (cd "$WORK/slipway" && "$BIN" run stages >/dev/null 2>&1)
        else
            (cd "$WORK/dvc" && $DVC repro -q >/dev/null 2>&1)
        fi
        end=$(now)
        echo "$side $(echo "$end - $start" | bc -l)" >>"$WORK/times"
    done
done

# Overhead from ready to first process: a chain of uncached jobs, each step writing when it starts
# and when it ends ($EPOCHREALTIME, no extra process).
mkdir -p "$WORK/chain/.slipway/workflows" "$WORK/chain/stamps"
python3 - "$WORK/chain/.slipway/workflows/chain.yml" "$STAGES" <<'PY'
import sys
path, stages = sys.argv[1], int(sys.argv[2])
wf = ["name: chain", "on: [push, workflow_dispatch]", "jobs:"]
for k in range(1, stages + 1):
    wf += [f"  j{k}:", "    runs-on: self-hosted"]
    if k > 1:
        wf.append(f"    needs: j{k-1}")
    wf += ["    steps:", "      - shell: bash", f"        run: echo $EPOCHREALTIME > stamps/start-{k}; echo $EPOCHREALTIME > stamps/end-{k}"]
open(path, "w").write("\n".join(wf) + "\n")
PY
(cd "$WORK/chain" && for i in 1 2 3; do rm -f stamps/*; "$BIN" run chain >/dev/null 2>&1; python3 - "$STAGES" >>"$WORK/overhead" <<'PY'
import sys
n = int(sys.argv[1])
for k in range(2, n + 1):
    start = float(open(f"stamps/start-{k}").read())
    end = float(open(f"stamps/end-{k-1}").read())
    print((start - end) * 1000)
PY
done)

python3 - "$WORK/times" "$WORK/overhead" "$STAGES" "$REPS" "$("$BIN" --version 2>/dev/null || echo slipway)" "$($DVC --version)" <<'PY'
import statistics, sys, json, platform, os, datetime
times, overhead_file, stages, reps, slipway_version, dvc_version = sys.argv[1:7]
sides = {"slipway": [], "dvc": []}
for line in open(times):
    side, seconds = line.split()
    sides[side].append(float(seconds))
overhead = [float(x) for x in open(overhead_file)]
s, d = statistics.median(sides["slipway"]), statistics.median(sides["dvc"])
print(f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} CPUs, {platform.platform()}; "
      f"load average {os.environ.get('LOAD_START', '?')} when the timed rounds started, {os.getloadavg()[0]:.1f} at the end")
print(f"- Versions: slipway {slipway_version} (release build), DVC {dvc_version}")
print(f"- Command: `bench/pipeline/run.sh` (STAGES={stages}, REPS={reps}; the sides alternate which goes first)")
print()
print("| task | Slipway (s) | DVC (s) | DVC / Slipway |")
print("|---|---:|---:|---:|")
print(f"| {stages}-stage pipeline, every stage cached (`slipway run` / `dvc repro`), median of {reps} | {s:.3f} | {d:.3f} | **{d / s:.1f}×** |")
print()
print(f"Per round (s): Slipway {', '.join(f'{x:.3f}' for x in sides['slipway'])}; DVC {', '.join(f'{x:.3f}' for x in sides['dvc'])}.")
q = statistics.quantiles(overhead, n=20)
print()
print(f"Job ready → its first process running (chain of {stages} uncached jobs, 3 runs, {len(overhead)} hand-overs): "
      f"median {statistics.median(overhead):.2f} ms, p95 {q[18]:.2f} ms, max {max(overhead):.2f} ms.")
PY
