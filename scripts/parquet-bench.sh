#!/usr/bin/env bash
# Parquet benchmark (issue 14): dry-run of N generated rows (gen-parquet, snappy, row groups of
# 100,000) in three shapes, each to dry-run output, with wall time, rows/s and peak RSS:
#   flat      Segment-spec columns, properties and context as JSON text (the column readers)
#   segment   the same with properties and context as groups, tags a list (the row API)
#   warehouse Segment's warehouse `tracks` table under fixtures/exports/tracks.jq (jq-bound)
#
#   scripts/parquet-bench.sh              # 1,000,000 rows
#   ROWS=100000 scripts/parquet-bench.sh
#
# Reports only; nothing here asserts on time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
WORK=${BENCH_DIR:-target/bench}
mkdir -p "$WORK"
cargo build --release --quiet --bin cio-replay --example gen-parquet
TARGET=$(realpath "${CARGO_TARGET_DIR:-target}")
BIN=$TARGET/release/cio-replay
unset CIO_SITE_ID CIO_API_KEY CIO_REGION CIO_ENDPOINT
timed() { # label, command...: wall seconds, rows/s and peak RSS
    local label=$1; shift
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$WORK/rss" "$@" > /dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" -v n="$ROWS" -v rss="$(cat "$WORK/rss")" -v l="$label" \
        'BEGIN { t = e - s; printf "%-44s %8.2f s  %9.0f rows/s  %6.1f MiB\n", l, t, n / t, rss / 1024 }'
}
echo "$ROWS rows, $(nproc) cores"
for shape in flat segment warehouse; do
    file=$WORK/$shape-$ROWS.parquet
    [ -f "$file" ] || "$TARGET/release/examples/gen-parquet" --rows "$ROWS" --shape "$shape" -o "$file"
    if [ "$shape" = warehouse ]; then
        timed "dry-run $shape (--transform-file tracks.jq)" \
            "$BIN" dry-run "$file" --transform-file fixtures/exports/tracks.jq -q --output /dev/null
    else
        timed "dry-run $shape" "$BIN" dry-run "$file" -q --output /dev/null
    fi
done
