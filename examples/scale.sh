#!/usr/bin/env bash
# The scale benchmark of BENCHMARKS.md ("100k, 1M and 10M events"): for each
# size, a generated tenant spread over a year is synced by the release binary
# (bench_sync), then verified, timed by bench_query (DuckDB copy, every saved
# report on both engines, refreshes, export) and by bench_detect, in place.
# Prints figures, asserts nothing. Needs about 2.5 KB of disk per event.
#
#   export CARGO_TARGET_DIR=$HOME/.cache/auth0-archive/target
#   cargo build --release --examples && bash examples/scale.sh [DIR] [SIZES...]
#   # default: /tmp/auth0-archive-scale 100000 1000000 10000000
set -euo pipefail
dir=${1:-/tmp/auth0-archive-scale}
shift || true
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100000 1000000 10000000)
bin=${CARGO_TARGET_DIR:-target}/release
mkdir -p "$dir"
for n in "${sizes[@]}"; do
    out="$dir/$n"
    rm -rf "$out"
    mkdir -p "$out"
    echo "######## $n events over 365 days"
    BENCH_KEEP="$out" "$bin/examples/bench_sync" one --events "$n" --days 365 --no-reference --no-floor
    db="$out/ours.db"
    echo "== verify"
    /usr/bin/time -f "verify: %e s wall, %U+%S s CPU, %M KB peak RSS" \
        "$bin/auth0-archive" --db "$db" verify
    echo "== queries"
    "$bin/examples/bench_query" --archive "$db" --rounds 2
    echo "== detect"
    "$bin/examples/bench_detect" --archive "$db"
    echo "== sizes"
    du -b "$db" "$db.duckdb" 2>/dev/null || true
    if [ "$n" != "${sizes[-1]}" ] && [ -z "${KEEP_ALL:-}" ]; then
        rm -rf "$out"
    fi
done
