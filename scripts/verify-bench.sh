#!/usr/bin/env bash
# Benchmark `verify`: PEOPLE people (default 100,000, one identify each with three attributes) sent
# to a separate `cio-replay sandbox` process, then read back through its App API with `verify`,
# everyone and `--sample SAMPLE` (default 10,000). The time is bound by the App API's 10 requests
# a second (100 people a request: 100,000 people ≈ 1,000 requests ≈ 100 s); peak RSS of the verify
# process comes from /usr/bin/time -v.
#
#   scripts/verify-bench.sh                # about two minutes
#   PEOPLE=20000 scripts/verify-bench.sh   # about twenty seconds
set -euo pipefail
cd "$(dirname "$0")/.."

PEOPLE=${PEOPLE:-100000}
SAMPLE=${SAMPLE:-10000}
WORK=${BENCH_DIR:-target/bench}
mkdir -p "$WORK"
unset CIO_SITE_ID CIO_API_KEY CIO_REGION CIO_ENDPOINT CIO_APP_API_KEY

cargo build --release --quiet --bin cio-replay
BIN=$(realpath "${CARGO_TARGET_DIR:-target}")/release/cio-replay
INPUT=$WORK/verify-people-$PEOPLE.ndjson
awk -v n="$PEOPLE" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"type\":\"identify\",\"userId\":\"p-%d\",\"timestamp\":\"2023-01-01T00:00:00Z\",\"traits\":{\"email\":\"p%d@example.com\",\"plan\":\"pro\",\"seats\":%d,\"signed_up_at\":\"2022-06-01T00:00:00Z\"}}\n", i, i, i % 50 }' > "$INPUT"

"$BIN" sandbox --port 0 > "$WORK/verify-sandbox.log" 2>&1 &
SANDBOX=$!
trap 'kill "$SANDBOX" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    URL=$(sed -n 's/^cio-replay sandbox listening on //p' "$WORK/verify-sandbox.log")
    [ -n "$URL" ] && break
    sleep 0.1
done
[ -n "${URL:-}" ] || { echo "the sandbox did not start" >&2; exit 1; }

CIO_SITE_ID=sandbox CIO_API_KEY=sandbox-key "$BIN" send "$INPUT" --endpoint "$URL" --allow-recent \
    --rate 0 --progress never --quiet --dead-letter "$WORK/verify-dead.ndjson"

measure() {
    local label=$1; shift
    local timing=$WORK/verify-time-$label.txt
    set +e
    CIO_APP_API_KEY=sandbox-app-key /usr/bin/time -v "$BIN" verify "$INPUT" --app-endpoint "$URL" \
        --progress never --quiet --report "$WORK/verify-$label.json" "$@" \
        > "$WORK/verify-$label.ndjson" 2> "$timing"
    local code=$?
    set -e
    local wall rss requests checked
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$timing")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$timing")
    requests=$(jq '.requests.total' "$WORK/verify-$label.json" 2>/dev/null || echo '?')
    checked=$(jq '.people_checked' "$WORK/verify-$label.json" 2>/dev/null || echo '?')
    printf '| verify %s | %s | %s | %s | %s | %.1f MiB | %s |\n' "$label" "$PEOPLE" "$checked" \
        "$requests" "$wall" "$(echo "$rss / 1024" | bc -l)" "$code"
}

echo "| Run | People in input | Checked | Requests | Wall | Peak RSS | Exit |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
measure everyone
measure "sample-$SAMPLE" --sample "$SAMPLE"
