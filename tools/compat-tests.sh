#!/usr/bin/env bash
# Starts a real `slipway server` on a free port and drives it with the official mlflow client
# and with schemathesis (generated requests from /api/v1/openapi.json); puts the gateway of a
# server of its own in front of real MLServer backends and drives it with the official Triton
# client. Any failure fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)/slipway
WORK=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$BIN" server --port 0 --gateway-port 0 --data-dir "$WORK/data" --ready-file "$WORK/ready.json" --log-level warning >"$WORK/server.out" 2>"$WORK/server.err" &
PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/ready.json" ] && break; sleep 0.1; done
[ -s "$WORK/ready.json" ] || { echo "server did not start"; cat "$WORK/server.err"; exit 1; }
URL=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['api'])" "$WORK/ready.json")
TOKEN=$(grep -o 'slw_[0-9a-f]*' "$WORK/server.out" | head -1)
export SLIPWAY_URL="$URL" SLIPWAY_ADMIN_TOKEN="$TOKEN"

echo "mlflow client against $URL"
.venvs/mlflow/bin/python tools/compat/mlflow_client_test.py

echo "Triton client through the gateway to MLServer (a server of its own)"
SLIPWAY_BIN="$BIN" timeout --kill-after=30 300 .venvs/mlserver/bin/python tools/compat/mlserver_gateway_test.py

echo "schemathesis against $URL/api/v1/openapi.json"
bash tools/compat/schemathesis.sh

kill -TERM "$PID"; wait "$PID" || true
[ ! -e "$WORK/data/server.json" ] || { echo "server.json left behind after SIGTERM"; exit 1; }
echo "compatibility suites passed"
