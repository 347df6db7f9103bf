#!/usr/bin/env bash
# What SQLite costs per prediction record, below Slipway's code: bench/prediction-log/insert.c (the
# store's table, 64-row inserts, WAL) with every index, with fewer, and with larger batches, each
# variant ROUNDS times in turn on a fresh file; medians of CPU time per record.
#
# Usage: bench/prediction-log/run.sh [ROWS] [ROUNDS]     (defaults 196608 and 5; ROWS a multiple of 1024)
# Needs gcc and SQLite's header (Debian: libsqlite3-dev).
set -euo pipefail
ROWS=${1:-196608}
ROUNDS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
gcc -O2 -o "$WORK/insert" "$HERE/insert.c" -lsqlite3

# name, indexes, batch
VARIANTS=(
    "the store's table (3 indexes), 128-record batches|7|128"
    "without the (endpoint, id) index|5|128"
    "the request index only|1|128"
    "no index|0|128"
    "the store's table, 256-record batches|7|256"
    "the store's table, 1024-record batches|7|1024"
)
declare -A RESULTS
for round in $(seq "$ROUNDS"); do
    for variant in "${VARIANTS[@]}"; do
        IFS='|' read -r name indexes batch <<<"$variant"
        rm -f "$WORK"/log.sqlite*
        RESULTS[$name]+="$("$WORK/insert" "$WORK/log.sqlite" "$indexes" "$ROWS" "$batch") "
    done
    echo "round $round of $ROUNDS done" >&2
done

echo "SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || true), $(nproc) CPUs, $ROWS timed records after $((ROWS * 2)) untimed, $ROUNDS rounds"
echo
echo "| variant | CPU per record, median µs | all rounds |"
echo "|---|---|---|"
for variant in "${VARIANTS[@]}"; do
    IFS='|' read -r name _ _ <<<"$variant"
    python3 -c "import statistics,sys; v=[float(x) for x in sys.argv[2].split()]; print(f'| {sys.argv[1]} | {statistics.median(v):.2f} | ' + ', '.join(f'{x:.2f}' for x in v) + ' |')" "$name" "${RESULTS[$name]}"
done
