#!/usr/bin/env bash
# Registry benchmark: the same workload through the official mlflow client against
# `mlflow server` (SQLite backend) and `slipway server`, side by side, alternating which goes
# first in each round; then Slipway alone: start-up time and a filtered search over 100,000
# versions. Prints a JSON summary per part and leaves every raw result in $OUT (default:
# a temporary folder, printed at the end).
#
#   bench/registry/run.sh                  # 3 rounds, 100,000 versions
#   ROUNDS=5 LOAD_VERSIONS=20000 bench/registry/run.sh
#   SLIPWAY_BIN=/path/to/slipway bench/registry/run.sh   # skip the release build
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

ROUNDS=${ROUNDS:-3}
VERSIONS=${VERSIONS:-300}
ALIASES=${ALIASES:-1000}
SEARCHES=${SEARCHES:-200}
LOAD_VERSIONS=${LOAD_VERSIONS:-100000}
STARTS=${STARTS:-10}
OUT=${OUT:-$(mktemp -d -t slipway-bench-XXXXXX)}
mkdir -p "$OUT"
PY="$ROOT/.venvs/mlflow/bin/python"
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true

if [ -z "${SLIPWAY_BIN:-}" ]; then
    echo "building slipway (release)…" >&2
    swift build -c release --product slipway >&2
    SLIPWAY_BIN="$(swift build -c release --show-bin-path)/slipway"
fi
[ -x "$PY" ] || bash tools/python-envs.sh
"$PY" -c "import mlflow" >/dev/null

# Newer builds also start the inference gateway, on a fixed port unless told otherwise.
SERVER_EXTRA=()
if "$SLIPWAY_BIN" server --help 2>&1 | grep -q -- '--gateway-port'; then SERVER_EXTRA=(--gateway-port 0); fi

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() {
    "$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1]); s.close()"
}

# Waits (at most $2 seconds) until $1 answers any HTTP status below 500.
wait_http() {
    local url=$1 limit=$2 start=$SECONDS
    until curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$url" | grep -q '^[1-4]'; do
        if (( SECONDS - start > limit )); then echo "no answer from $url after ${limit}s" >&2; return 1; fi
        sleep 0.2
    done
}

start_slipway() {  # $1: data folder; sets SLIPWAY_URL and SLIPWAY_TOKEN
    local dir=$1
    mkdir -p "$dir"
    "$SLIPWAY_BIN" server --port 0 "${SERVER_EXTRA[@]}" --data-dir "$dir/data" --ready-file "$dir/ready.json" --log-level warning \
        >"$dir/server.out" 2>"$dir/server.err" &
    PIDS+=($!)
    local start=$SECONDS
    until [ -s "$dir/ready.json" ]; do
        if (( SECONDS - start > 60 )); then echo "slipway server did not start" >&2; cat "$dir/server.err" >&2; return 1; fi
        sleep 0.1
    done
    SLIPWAY_URL=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['api'])" "$dir/ready.json")
    SLIPWAY_TOKEN=$(cat "$dir/server.out" "$dir/server.err" | grep -o 'slw_[0-9a-f]*' | head -1)
    [ -n "$SLIPWAY_TOKEN" ] || { echo "no admin token in the server's output" >&2; return 1; }
}

# Part 1: the same workload against both servers.
MLFLOW_PORT=$(free_port)
MLFLOW_URL="http://127.0.0.1:$MLFLOW_PORT"
mkdir -p "$OUT/mlflow"
"$ROOT/.venvs/mlflow/bin/mlflow" server --backend-store-uri "sqlite:///$OUT/mlflow/mlflow.db" \
    --default-artifact-root "$OUT/mlflow/artifacts" --host 127.0.0.1 --port "$MLFLOW_PORT" \
    >"$OUT/mlflow/server.log" 2>&1 &
PIDS+=($!)
wait_http "$MLFLOW_URL/health" 180
start_slipway "$OUT/slipway"
echo "mlflow at $MLFLOW_URL, slipway at $SLIPWAY_URL" >&2

# Warm-up run on each side (not counted): imports, first connections, SQLite page cache.
"$PY" bench/registry/workload.py run --url "$MLFLOW_URL" --side mlflow --round 0 --versions 20 --aliases 20 --searches 5 >/dev/null
"$PY" bench/registry/workload.py run --url "$SLIPWAY_URL" --token "$SLIPWAY_TOKEN" --side slipway --round 0 --versions 20 --aliases 20 --searches 5 >/dev/null

: >"$OUT/workload.jsonl"
for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 == 1 )); then order="mlflow slipway"; else order="slipway mlflow"; fi
    for side in $order; do
        echo "round $round: $side" >&2
        if [ "$side" = mlflow ]; then
            "$PY" bench/registry/workload.py run --url "$MLFLOW_URL" --side mlflow --round "$round" \
                --versions "$VERSIONS" --aliases "$ALIASES" --searches "$SEARCHES" >>"$OUT/workload.jsonl"
        else
            "$PY" bench/registry/workload.py run --url "$SLIPWAY_URL" --token "$SLIPWAY_TOKEN" --side slipway --round "$round" \
                --versions "$VERSIONS" --aliases "$ALIASES" --searches "$SEARCHES" >>"$OUT/workload.jsonl"
        fi
    done
done
# Where a call's time goes on the Slipway side: the server's own time (Server-Timing) and a raw
# HTTP round trip for the same requests, and the mlflow client's decoding of the same answers.
MODEL=$("$PY" -c "import json,sys; print([json.loads(l)['model'] for l in open(sys.argv[1]) if json.loads(l)['side'] == 'slipway'][0])" "$OUT/workload.jsonl")
"$PY" bench/registry/workload.py client-cost --url "$SLIPWAY_URL" --token "$SLIPWAY_TOKEN" --side slipway --model "$MODEL" \
    | tee "$OUT/client-cost.json"
for path in "/api/2.0/mlflow/registered-models/alias?name=$MODEL&alias=champion" \
    "/api/2.0/mlflow/model-versions/search?filter=name%20%3D%20%27$MODEL%27%20AND%20tags.team%20%3D%20%27nlp%27&max_results=10000"; do
    "$PY" bench/registry/slipway_only.py search --url "$SLIPWAY_URL" --token "$SLIPWAY_TOKEN" --path "$path" --count 200
done | tee "$OUT/raw-http.jsonl"
cleanup
PIDS=()
"$PY" bench/registry/workload.py summarize "$OUT/workload.jsonl" | tee "$OUT/workload-summary.json"

# Part 2: Slipway alone, start-up on an empty folder.
"$PY" bench/registry/slipway_only.py startup --bin "$SLIPWAY_BIN" --runs "$STARTS" | tee "$OUT/startup.json"

# Part 3: Slipway alone, filtered search over $LOAD_VERSIONS versions.
start_slipway "$OUT/large"
"$PY" bench/registry/slipway_only.py load --url "$SLIPWAY_URL" --token "$SLIPWAY_TOKEN" --versions "$LOAD_VERSIONS" \
    | tee "$OUT/load.json"
"$PY" bench/registry/slipway_only.py search --url "$SLIPWAY_URL" --token "$SLIPWAY_TOKEN" | tee "$OUT/search.json"
cleanup
PIDS=()
echo "raw results in $OUT" >&2
