#!/usr/bin/env bash
# Smoke test of a deployment: held-out rows go through the gateway to ENDPOINT as real predictions,
# and every answer must come back well-formed (HTTP 200, from $MODEL@VERSION, a label and one
# probability per class). It first waits, up to $SMOKE_TIMEOUT seconds (default 120), until the
# new version answers: a deployment switches once its model server is ready.
#
#   GATEWAY_URL=http://127.0.0.1:8081 MODEL=cancer-classifier scripts/smoke.sh cancer-staging 3 data/test.csv
#
# The CSV's last column must be `target`; the others are the features. Needs bash and curl.
set -euo pipefail
usage="usage: smoke.sh ENDPOINT VERSION DATA.csv [ROWS]"
endpoint="${1:?$usage}"
version="${2:?$usage}"
data="${3:?$usage}"
rows="${4:-10}"
: "${MODEL:?set MODEL to the name of the registered model}"
gateway="${GATEWAY_URL:-http://127.0.0.1:8081}"
url="${gateway%/}/v2/models/$endpoint/infer"
expected="$MODEL@$version"
timeout="${SMOKE_TIMEOUT:-120}"

fail() {
  echo "::error::smoke test of $endpoint: $*"
  exit 1
}
[[ "$rows" =~ ^[1-9][0-9]*$ ]] || fail "ROWS must be a positive number, not '$rows'"
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || fail "SMOKE_TIMEOUT must be a positive number of seconds, not '$timeout'"
[[ -r "$data" ]] || fail "cannot read $data"
header="$(head -n 1 "$data" | tr -d '\r')"
[[ "${header##*,}" == "target" ]] || fail "the last column of $data is '${header##*,}', not 'target'"
features=$(($(tr -cd ',' <<<"$header" | wc -c)))
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Sends one row; sets status, served (the model version that answered) and answer (the body, on one line).
predict() {
  local values="$1"
  : >"$work/body"
  : >"$work/headers"
  printf '{"inputs":[{"name":"features","shape":[1,%d],"datatype":"FP64","data":[%s]}]}' "$features" "$values" >"$work/request.json"
  status="$(curl -sS -o "$work/body" -D "$work/headers" -w '%{http_code}' --max-time 10 \
    -H 'Content-Type: application/json' --data-binary @"$work/request.json" "$url" 2>"$work/curl.err" || true)"
  served="$(tr -d '\r' <"$work/headers" 2>/dev/null | sed -n 's/^[Xx]-[Ss]lipway-[Mm]odel-[Vv]ersion: *//p' | tail -n 1)"
  answer="$(tr -d '\n\r' <"$work/body" 2>/dev/null || true)"
}

# The value array (without brackets) of the output tensor NAME in the answer.
tensor() {
  grep -o "{[^{}]*\"name\" *: *\"$1\"[^{}]*}" <<<"$answer" | head -n 1 | grep -o '"data" *: *\[[^]]*\]' | sed 's/^[^[]*\[//; s/\]$//; s/[" ]//g'
}

first="$(sed -n 2p "$data" | tr -d '\r')"
[[ -n "$first" ]] || fail "$data has no rows"
deadline=$((SECONDS + timeout))
while :; do
  predict "${first%,*}"
  [[ "$status" == "200" && "$served" == "$expected" ]] && break
  if ((SECONDS >= deadline)); then
    fail "$expected does not answer at $url after ${timeout}s: last answer HTTP ${status:-none} from ${served:-no model} $(head -c 300 "$work/body" 2>/dev/null) $(cat "$work/curl.err")"
  fi
  sleep 0.2
done
echo "$expected answers at $url"

answered=0
correct=0
while IFS= read -r line; do
  line="${line%$'\r'}"
  [[ -n "$line" ]] || continue
  truth="${line##*,}"
  predict "${line%,*}"
  [[ "$status" == "200" ]] || fail "row $((answered + 1)): HTTP $status: $(head -c 300 "$work/body")"
  [[ "$served" == "$expected" ]] || fail "row $((answered + 1)): answered by '${served:-nothing}', not $expected"
  label="$(tensor label)"
  probabilities="$(tensor probabilities)"
  [[ -n "$label" && "$label" != *,* ]] || fail "row $((answered + 1)): no single label in the answer: $answer"
  [[ "$probabilities" == *,* ]] || fail "row $((answered + 1)): no class probabilities in the answer: $answer"
  answered=$((answered + 1))
  [[ "$label" == "$truth" ]] && correct=$((correct + 1))
done < <(tail -n +2 "$data" | head -n "$rows")

((answered > 0)) || fail "$data has no rows"
echo "$answered predictions from $expected through the gateway, all well-formed; $correct match the true diagnosis"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "answered=$answered"
    echo "correct=$correct"
  } >>"$GITHUB_OUTPUT"
fi
