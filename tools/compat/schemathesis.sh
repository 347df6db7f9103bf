#!/usr/bin/env bash
# Generated requests against a live server from its own OpenAPI document: every operation of
# /api/v1 gets schema examples, boundary values and fuzzed inputs (valid and invalid). The run
# fails on any 5xx, on a status the document does not list, and on an answer whose body or
# content type differs from the documented one.
#
# Needs SLIPWAY_URL (http://127.0.0.1:PORT) and SLIPWAY_ADMIN_TOKEN (slw_…); tools/compat-tests.sh
# sets both. Knobs: SLIPWAY_SCHEMATHESIS_EXAMPLES (per operation, default 30),
# SLIPWAY_SCHEMATHESIS_SECONDS (time budget, default 180), SLIPWAY_SCHEMATHESIS_SEED.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${SLIPWAY_URL:?set SLIPWAY_URL to the server, e.g. http://127.0.0.1:8420}"
: "${SLIPWAY_ADMIN_TOKEN:?set SLIPWAY_ADMIN_TOKEN to an admin token (slw_…)}"
case "$SLIPWAY_URL" in
    http://127.0.0.1:* | http://localhost:* | http://\[::1\]:*) ;;
    *) echo "schemathesis.sh only runs against a server on this machine, not $SLIPWAY_URL" >&2; exit 2 ;;
esac
ST=$PWD/.venvs/schemathesis/bin/schemathesis
[ -x "$ST" ] || { echo "$ST is missing: run tools/python-envs.sh" >&2; exit 2; }
# Schemathesis keeps a cache in .schemathesis/ under the current folder: give it a scratch one.
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

EXAMPLES=${SLIPWAY_SCHEMATHESIS_EXAMPLES:-30}
SECONDS_BUDGET=${SLIPWAY_SCHEMATHESIS_SECONDS:-180}
SEED=${SLIPWAY_SCHEMATHESIS_SEED:-20261127}

# One run of schemathesis: a time budget, the phases, then arguments that select operations.
# The stateful phase follows the document's links (create a model, then use its name, …).
run_schemathesis() {
    local budget=$1 phases=$2; shift 2
    # --max-time bounds the generation; timeout bounds everything else (a hung request, a stuck shrink).
    # One worker: with two threads, CPython 3.11 can fail inside schemathesis' own code generation
    # ("AST constructor recursion depth mismatch"), which is reported as a runtime error of the run.
    (cd "$SCRATCH" && timeout --kill-after=30 $((budget + 120)) "$ST" run "$SLIPWAY_URL/api/v1/openapi.json" \
        --url "$SLIPWAY_URL" \
        --header "Authorization: Bearer $SLIPWAY_ADMIN_TOKEN" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
        --phases "$phases" \
        --max-examples "$EXAMPLES" \
        --max-time "$budget" \
        --seed "$SEED" \
        --workers 1 \
        --request-timeout 20 \
        --generation-database none \
        --suppress-health-check all \
        --no-color "$@")
}

status=0
# Schemathesis reuses identifiers it has seen in answers, so fuzzing DELETE /api/v1/tokens/{id} next to
# GET /api/v1/tokens would revoke the token the run uses. That operation gets a run of its own, which
# never sees a real token id.
run_schemathesis "$SECONDS_BUDGET" examples,coverage,fuzzing,stateful --exclude-operation-id revokeToken || status=$?
run_schemathesis 30 coverage,fuzzing --include-operation-id revokeToken || status=$?
if [ "$status" -ne 0 ]; then
    echo "schemathesis found failures (exit $status); rerun with SLIPWAY_SCHEMATHESIS_SEED=$SEED to reproduce" >&2
    exit "$status"
fi
echo "schemathesis: no server errors or schema violations"
