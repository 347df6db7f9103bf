#!/usr/bin/env bash
# Search latency of the SQLite metadata store alone, release build, no HTTP.
#
#   bench/store-search/run.sh [DATABASE] [ROUNDS]
#
# Builds a small package (the store's three targets, linked from Sources/, and main.swift) in
# ${SCRATCH:-/tmp/slipway-store-search-bench}, fills DATABASE (default $SCRATCH/bench.sqlite) with
# 100 models x 1,000 versions on first use, then prints p50/p99 over ROUNDS (default 1000) searches
# of limit 100 in the default order, after 20 warm-up searches, for each filter of main.swift.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
scratch="${SCRATCH:-/tmp/slipway-store-search-bench}"
package="$scratch/package"
mkdir -p "$package/Sources/SearchBench"
cp "$here/Package.swift.in" "$package/Package.swift"
cp "$root/Package.resolved" "$package/Package.resolved"
cp "$here/main.swift" "$package/Sources/SearchBench/main.swift"
for target in SlipwayCore SlipwayStore SlipwayStoreSQLite; do
    ln -sfn "$root/Sources/$target" "$package/Sources/$target"
done
swift build -c release --package-path "$package" --scratch-path "$scratch/build" >&2
"$scratch/build/release/SearchBench" "${1:-$scratch/bench.sqlite}" "${2:-1000}"
