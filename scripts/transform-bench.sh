#!/usr/bin/env bash
# Transform benchmark (issue 14): dry-run with --preset mixpanel on N generated Mixpanel raw-export
# records, against `jq -c` running the same preset program piped into `dry-run -`, in one run; and
# dry-run without a transform, this build against BASE_BIN (an earlier build, when given).
#
#   scripts/transform-bench.sh                 # 1,000,000 records
#   RECORDS=100000 BASE_BIN=path/to/old/cio-replay scripts/transform-bench.sh
#
# Reports only; nothing here asserts on time.
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-1000000}
WORK=${BENCH_DIR:-target/bench}
mkdir -p "$WORK"
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)" >&2; exit 2; }
cargo build --release --quiet --bin cio-replay --example gen-events
TARGET=$(realpath "${CARGO_TARGET_DIR:-target}")
BIN=$TARGET/release/cio-replay
unset CIO_SITE_ID CIO_API_KEY CIO_REGION CIO_ENDPOINT
MP=$WORK/mixpanel-$RECORDS.ndjson
python3 - "$RECORDS" "$MP" <<'PY'
import json, random, sys
n, path = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(7)
events = ["Viewed Page", "Signed Up", "Added To Cart", "Played Song", "Searched"]
with open(path, "w") as f:
    for i in range(n):
        p = {"time": 1600000000 + i * 13, "distinct_id": f"user-{rnd.randrange(50000)}",
             "$insert_id": f"ins-{i}", "$os": rnd.choice(["Mac OS X", "Windows", "iOS"]),
             "$browser": "Chrome", "$city": "Berlin", "$region": "Berlin", "mp_country_code": "DE",
             "$current_url": "https://example.com/p/%d" % rnd.randrange(1000),
             "$screen_width": 1440, "$screen_height": 900, "mp_lib": "web", "$lib_version": "2.47.0",
             "mp_processing_time_ms": rnd.randrange(100), "plan": rnd.choice(["free", "pro"]),
             "amount": round(rnd.random() * 100, 2), "items": rnd.randrange(10)}
        f.write(json.dumps({"event": rnd.choice(events), "properties": p}, separators=(",", ":")) + "\n")
PY
PRESET=$WORK/mixpanel.jq
"$BIN" dry-run --preset mixpanel --print-transform > "$PRESET"
timed() { # label, command...: wall seconds and peak RSS
    local label=$1; shift
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$WORK/rss" "$@" > /dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" -v n="$RECORDS" -v rss="$(cat "$WORK/rss")" -v l="$label" \
        'BEGIN { t = e - s; printf "%-48s %8.2f s  %9.0f records/s  %6.1f MiB\n", l, t, n / t, rss / 1024 }'
}
echo "$RECORDS Mixpanel records, $(nproc) cores"
timed "dry-run --preset mixpanel" "$BIN" dry-run "$MP" --preset mixpanel -q --output /dev/null
timed "jq -c -f preset | dry-run -" sh -c "jq -c -f '$PRESET' '$MP' | '$BIN' dry-run - -q --output /dev/null"
EV=$WORK/events-$RECORDS.ndjson
[ -f "$EV" ] || "$TARGET/release/examples/gen-events" --records "$RECORDS" --seed 7 -o "$EV"
timed "dry-run, no transform (this build)" "$BIN" dry-run "$EV" -q --output /dev/null
if [ -n "${BASE_BIN:-}" ]; then
    timed "dry-run, no transform (BASE_BIN)" "$BASE_BIN" dry-run "$EV" -q --output /dev/null
    timed "dry-run, no transform (this build, again)" "$BIN" dry-run "$EV" -q --output /dev/null
    timed "dry-run, no transform (BASE_BIN, again)" "$BASE_BIN" dry-run "$EV" -q --output /dev/null
fi
