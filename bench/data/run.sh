#!/usr/bin/env bash
# Data versioning: Slipway against DVC on the same inputs, release build, the two sides alternating,
# REPS rounds, medians. Prints a Markdown section for BENCHMARKS.md and writes bench/out/data.json.
#
# Usage: bench/data/run.sh            (FILES=50000 BIG_MIB=2048 REPS=3 by default)
#        FILES=20000 REPS=2 bench/data/run.sh
# Needs python3 (for the DVC virtualenv, .venvs/dvc) and git.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
FILES=${FILES:-50000}
BIG_MIB=${BIG_MIB:-2048}
REPS=${REPS:-3}
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

WORK=$(mktemp -d /tmp/slipway-data-bench.XXXXXX)
cleanup() { chmod -R u+w "$WORK" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
RESULTS=$WORK/results.txt
: >"$RESULTS"

echo "generating inputs: one ${BIG_MIB} MiB file, ${FILES} small files" >&2
mkdir -p "$WORK/input/files"
head -c $((BIG_MIB << 20)) /dev/urandom >"$WORK/input/big.bin"
python3 - "$WORK/input/files" "$FILES" <<'PY'
import os, sys, random
root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
for i in range(count):
    folder = os.path.join(root, f"d{i // 1000:03d}")
    if i % 1000 == 0:
        os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"f{i:06d}.txt"), "wb") as f:
        f.write(rng.randbytes(rng.randint(200, 4000)))
PY

now() { date +%s.%N; }
record() { echo "$1 $2 $3" >>"$RESULTS"; }  # side task seconds
timed() { # side task command...
    local side=$1 task=$2; shift 2
    local start end
    start=$(now)
    "$@" >/dev/null 2>"$WORK/last.err" || { echo "$side $task failed:" >&2; cat "$WORK/last.err" >&2; exit 1; }
    end=$(now)
    record "$side" "$task" "$(echo "$end - $start" | bc -l)"
}

# The machine's limit for the big file: openssl and a plain read (page cache warm, like the runs).
for _ in $(seq 1 "$REPS"); do
    timed limit openssl openssl dgst -sha256 "$WORK/input/big.bin"
    timed limit cat sh -c "cat '$WORK/input/big.bin' > /dev/null"
done

new_project() { # side → prints the project folder
    local side=$1 dir
    dir=$(mktemp -d "$WORK/$side.XXXXXX")
    git -C "$dir" init -q
    # Hard links: both tools read the same (cached) inodes, and setting up takes no copying.
    cp -al "$WORK/input/big.bin" "$dir/big.bin"
    cp -al "$WORK/input/files" "$dir/files"
    mkdir -p "$WORK/remote-$side-$(basename "$dir")"
    if [ "$side" = slipway ]; then
        mkdir "$dir/.slipway"
        (cd "$dir" && "$BIN" data remote add local "$WORK/remote-$side-$(basename "$dir")" >/dev/null)
    else
        (cd "$dir" && "$DVC" init -q && "$DVC" config core.analytics false && "$DVC" config core.check_update false \
            && "$DVC" remote add -d local "$WORK/remote-$side-$(basename "$dir")" >/dev/null)
    fi
    echo "$dir"
}

change_one() { # dir: replaces one small file (a new inode; hard-linked inputs are shared and read-only)
    local file=$1/files/d000/f000001.txt
    rm -f "$file"
    head -c 1234 /dev/urandom >"$file"
}

run_side() { # side
    local side=$1 dir
    dir=$(new_project "$side")
    cd "$dir"
    if [ "$side" = slipway ]; then
        timed slipway add-big "$BIN" data add big.bin
        timed slipway add-files "$BIN" data add files
        change_one "$dir"
        timed slipway add-one-changed "$BIN" data add files
        timed slipway status "$BIN" data status
        timed slipway push-files "$BIN" data push files
    else
        timed dvc add-big "$DVC" add -q big.bin
        timed dvc add-files "$DVC" add -q files
        change_one "$dir"
        timed dvc add-one-changed "$DVC" add -q files
        timed dvc status "$DVC" status -q
        timed dvc push-files "$DVC" push -q files.dvc
    fi
    cd "$REPO"
    chmod -R u+w "$dir" 2>/dev/null || true
    rm -rf "$dir" "$WORK"/remote-"$side"-*
}

for round in $(seq 1 "$REPS"); do
    if [ $((round % 2)) -eq 1 ]; then order="slipway dvc"; else order="dvc slipway"; fi
    for side in $order; do
        echo "round $round: $side" >&2
        run_side "$side"
    done
done

mkdir -p bench/out
python3 - "$RESULTS" "$FILES" "$BIG_MIB" "$REPS" "$("$DVC" --version)" <<'PY'
import json, statistics, sys, platform, os, subprocess, datetime
path, files, big, reps, dvc_version = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
runs = {}
for line in open(path):
    side, task, seconds = line.split()
    runs.setdefault((side, task), []).append(float(seconds))
med = {k: statistics.median(v) for k, v in runs.items()}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
json.dump({"files": files, "big_mib": big, "reps": reps, "runs": {f"{s}/{t}": v for (s, t), v in runs.items()}}, open("bench/out/data.json", "w"), indent=2)
tasks = [("add-big", f"`add` of one {big // 1024 if big >= 1024 else big} {'GiB' if big >= 1024 else 'MiB'} file"),
         ("add-files", f"`add` of {files:,} small files"),
         ("add-one-changed", "`add` again after changing one file"),
         ("status", "`status`, nothing changed"),
         ("push-files", f"`push` of the {files:,} files to a local folder remote")]
print(f"Machine: {cpu}, {os.cpu_count()} cores; {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; DVC {dvc_version}; "
      f"{reps} rounds, sides alternating, medians in seconds.\n")
print("| task | Slipway | DVC | DVC / Slipway |")
print("|---|---:|---:|---:|")
for key, label in tasks:
    s, d = med.get(("slipway", key)), med.get(("dvc", key))
    if s is None or d is None:
        continue
    print(f"| {label} | {s:.3f} | {d:.3f} | {d / s:.1f}× |")
o, c, s = med[("limit", "openssl")], med[("limit", "cat")], med.get(("slipway", "add-big"))
mib = big
print(f"\nMachine limit on the big file: `openssl dgst -sha256` {o:.3f} s ({mib / o:.0f} MiB/s), `cat > /dev/null` {c:.3f} s "
      f"({mib / c:.0f} MiB/s); Slipway's `add` takes {s / o:.2f}× openssl's time.")
PY
