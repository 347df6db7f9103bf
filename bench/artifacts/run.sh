#!/usr/bin/env bash
# Moves a large artifact through a real `slipway server` (upload with `versions create`, download
# with `versions download`) and reports the peak resident memory of the client (/usr/bin/time -v)
# and of the server (VmHWM from /proc), plus throughput. Usage: bench/artifacts/run.sh [SIZE_MIB]
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MIB=${1:-2048}
if [ -n "${SLIPWAY_BIN:-}" ]; then
    BIN=$SLIPWAY_BIN
else
    swift build -c release --product slipway >/dev/null
    BIN=$(swift build -c release --show-bin-path)/slipway
fi
WORK=$(mktemp -d /tmp/slipway-artifact-bench.XXXXXX)
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
GATEWAY_FLAG=(); "$BIN" server --help | grep -q gateway-port && GATEWAY_FLAG=(--gateway-port 0)
"$BIN" server --port 0 "${GATEWAY_FLAG[@]}" --data-dir "$WORK/server" --ready-file "$WORK/ready.json" --log-level warning >"$WORK/server.out" 2>&1 &
PID=$!
for _ in $(seq 1 200); do [ -s "$WORK/ready.json" ] && break; sleep 0.05; done
URL=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['api'])" "$WORK/ready.json")
TOKEN=$(grep -o 'slw_[0-9a-f]*' "$WORK/server.out" | head -1)
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/model.bin"
"$BIN" models create big --server "$URL" --token "$TOKEN" >/dev/null

measure() { # label, command...
    local label=$1; shift
    /usr/bin/time -v "$@" >/dev/null 2>"$WORK/time.txt"
    local rss wall
    rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$WORK/time.txt")
    wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$WORK/time.txt")
    echo "$label: client peak RSS $((rss / 1024)) MiB, wall $wall"
}
measure "upload ${SIZE_MIB} MiB" "$BIN" versions create big --artifact "$WORK/model.bin" --no-probe --server "$URL" --token "$TOKEN"
measure "download ${SIZE_MIB} MiB" "$BIN" versions download big 1 --out "$WORK/back.bin" --server "$URL" --token "$TOKEN"
cmp -s "$WORK/model.bin" "$WORK/back.bin" && echo "round trip: identical bytes"
echo "server: peak RSS $(( $(awk '/VmHWM/ {print $2}' /proc/$PID/status) / 1024 )) MiB"
