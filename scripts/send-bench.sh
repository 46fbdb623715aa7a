#!/usr/bin/env bash
# Benchmark of `cio-replay send` (not a test: it reports, it asserts nothing).
#
#   scripts/send-bench.sh                  # RECORDS=200000 by default
#
# 1. Operations/s in batch mode against the in-process sandbox (`send --sandbox`) with the rate
#    limit off (`--rate 0` means unlimited), at --concurrency 1, 4 and 8. The sandbox runs in the
#    same process, so the figure is a floor for the sender alone.
# 2. The achieved request rate with `--rate 50` over about 10 s: 500 operations in sequential mode,
#    one request each.
# Figures come from the `--report` JSON (requests_sent, send_seconds, accepted).
set -euo pipefail
cd "$(dirname "$0")/.."

RECORDS=${RECORDS:-200000}
OUT=${BENCH_DIR:-target/send-bench}
BIN=${CIO_BIN:-target/release/cio-replay}
GEN=${GEN_BIN:-target/release/examples/gen-events}
mkdir -p "$OUT"
if [ -z "${CIO_BIN:-}" ]; then
  cargo build --release --quiet --bin cio-replay --example gen-events
fi
"$GEN" --records "$RECORDS" --seed 7 -o "$OUT/events.ndjson"

figures() { # report.json label
  python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
secs = r["send_seconds"]
print(f"{sys.argv[2]:<34} {r['accepted']:>8} ops accepted  {r['requests_sent']:>6} requests  "
      f"{secs:7.2f} s  {r['accepted']/secs:9.0f} ops/s  {r['requests_sent']/secs:7.1f} req/s  "
      f"retries {r['retries']}  throttled {r['throttled']}")
PY
}

echo "cio-replay send benchmark: $RECORDS generated records, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for c in 1 4 8; do
  rm -f "$OUT/dead.ndjson"
  "$BIN" send "$OUT/events.ndjson" --sandbox --rate 0 --concurrency "$c" --quiet \
    --report "$OUT/off-c$c.json" --dead-letter "$OUT/dead.ndjson" || true
  figures "$OUT/off-c$c.json" "batch, --rate 0, --concurrency $c"
done

head -n 500 "$OUT/events.ndjson" > "$OUT/rate50.ndjson"
rm -f "$OUT/dead.ndjson"
"$BIN" send "$OUT/rate50.ndjson" --sandbox --mode sequential --rate 50 --quiet \
  --report "$OUT/rate50.json" --dead-letter "$OUT/dead.ndjson" || true
figures "$OUT/rate50.json" "sequential, --rate 50"
