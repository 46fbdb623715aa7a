#!/usr/bin/env bash
# The benchmark suite: one command, figures into docs/performance.md.
#
#   scripts/bench.sh            # 1,000,000 and 100,000 records, about 5-10 minutes on 2 cores
#
# Builds release, generates deterministic events (benches/support/gen_events.rs), then measures:
#   - dry-run throughput (records/s, MB/s), output to /dev/null, against `jq -c` doing a comparable
#     per-record reshaping (route on type, pick identifiers, parse the timestamp, rename fields);
#   - peak RSS of dry-run and send on 100,000 and 1,000,000 records;
#   - batch-mode send throughput against the sandbox, rate limit off, at --concurrency 1, 4 and 8.
# and writes the table between the bench markers of docs/performance.md (also to target/bench/results.md).
#
# Environment knobs: RECORDS (default 1000000), SMALL (100000), RUNS (hyperfine runs, default 3),
# SEED (7), BENCH_DIR (target/bench), NO_DOC=1 to leave docs/performance.md alone.
# Nothing here asserts on time: it reports, and marks each target met or not.
set -euo pipefail
cd "$(dirname "$0")/.."

RECORDS=${RECORDS:-1000000}
SMALL=${SMALL:-100000}
RUNS=${RUNS:-3}
SEED=${SEED:-7}
WORK=${BENCH_DIR:-target/bench}
# "Rate limit off": a token bucket far above anything a 2-core machine reaches.
RATE_OFF=${RATE_OFF:-10000000}
mkdir -p "$WORK"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

say() { printf '\n== %s\n' "$*" >&2; }

# --- tools ---------------------------------------------------------------------------------------
install_pkg() {
    local pkg=$1
    say "installing $pkg (Debian package)"
    local sudo=""
    if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
    $sudo apt-get install -y -q "$pkg" >/dev/null || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$pkg" >/dev/null; }
}
command -v hyperfine >/dev/null || install_pkg hyperfine
command -v jq >/dev/null || install_pkg jq
[ -x /usr/bin/time ] || install_pkg time

# --- build and generate --------------------------------------------------------------------------
say "building release"
cargo build --release --quiet --bin cio-replay --example gen-events
TARGET=$(realpath "${CARGO_TARGET_DIR:-target}")
BIN=$TARGET/release/cio-replay
GEN=$TARGET/release/examples/gen-events
# Nothing from the caller's environment may steer the runs.
unset CIO_SITE_ID CIO_API_KEY CIO_REGION CIO_ENDPOINT

BIG=$WORK/events-$RECORDS.ndjson
LITTLE=$WORK/events-$SMALL.ndjson
say "generating $RECORDS and $SMALL records (seed $SEED)"
"$GEN" --records "$RECORDS" --seed "$SEED" -o "$BIG"
"$GEN" --records "$SMALL" --seed "$SEED" -o "$LITTLE"
BYTES=$(stat -c %s "$BIG")

fmt() { LC_ALL=C awk -v x="$1" 'BEGIN { s = sprintf("%.0f", x); n = length(s); o = "";
    for (i = 1; i <= n; i++) { o = o substr(s, i, 1); if ((n - i) % 3 == 0 && i < n) o = o "," } print o }'; }
calc() { LC_ALL=C awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
mb() { calc "$1 / 1024" 1; }   # KiB (time's %M) -> MiB
ok() { if LC_ALL=C awk "BEGIN { exit !($1) }"; then echo "yes"; else echo "**no**"; fi; }

# Peak RSS in KiB, wall seconds and CPU seconds of one command (its stdout to /dev/null):
# "KIB SECONDS EXIT CPU_SECONDS".
measure() {
    local log=$WORK/time.log status=0
    /usr/bin/time -f '%M %e %U %S' -o "$log" "$@" >/dev/null 2>"$WORK/stderr.log" || status=$?
    read -r kib secs user sys <<<"$(tail -n 1 "$log")"
    echo "$kib $secs $status $(calc "$user + $sys" 2)"
}

# --- dry-run ---------------------------------------------------------------------------------------
DRY=(dry-run --progress never --quiet)
say "dry-run once for its summary"
"$BIN" "${DRY[@]}" --summary-json "$WORK/dry-summary.json" -o /dev/null "$BIG" || true
if [ -s "$WORK/dry-summary.json" ]; then jq -c . "$WORK/dry-summary.json" >&2; fi

# A per-record reshaping in jq comparable to the mapper's core: route on type/event, identifiers from
# userId (cio_/email/id) or anonymousId, the timestamp to integer seconds, attributes from traits or
# properties plus anonymous_id, and one output object per record.
JQ_PROGRAM='
def ident: if (.userId // "") != "" then
    (if (.userId | startswith("cio_")) then {cio_id: .userId[4:]}
     elif (.userId | test("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$")) then {email: .userId} else {id: .userId} end)
  else {anonymous_id: .anonymousId} end;
def ts: if .timestamp then (.timestamp | sub("\\.[0-9]+"; "") | fromdateiso8601) else null end;
if .type == "identify" then {type: "person", action: "identify", identifiers: ident, timestamp: ts,
    attributes: (.traits + {anonymous_id: .anonymousId})}
elif .type == "page" then {type: "person", action: "page", identifiers: ident, name: .name, id: .messageId,
    timestamp: ts, attributes: .properties}
elif .type == "screen" then {type: "person", action: "screen", identifiers: ident, name: .name, id: .messageId,
    timestamp: ts, attributes: .properties}
elif .type == "group" then {type: "object", action: "identify",
    identifiers: {object_type_id: (.traits.object_type_id // "1"), object_id: .groupId},
    attributes: (.traits | del(.relationshipAttributes, .object_type_id)),
    cio_relationships: [{identifiers: ident, relationship_attributes: .traits.relationshipAttributes}]}
elif .type == "alias" then {type: "person", action: "merge", primary: ident, secondary: {id: .previousId}}
elif .event == "Report Delivery Event" then {delivery_id: .properties.deliveryId, metric: .properties.metric,
    timestamp: ts}
else {type: "person", action: "event", identifiers: ident, name: .event, id: .messageId, timestamp: ts,
    attributes: .properties} end'

say "dry-run vs jq: hyperfine, $RUNS runs each, $RECORDS records"
hyperfine --style basic --warmup 1 --runs "$RUNS" -i --export-json "$WORK/hyperfine.json" \
    --command-name "cio-replay dry-run" "$BIN ${DRY[*]} $BIG" \
    --command-name "jq -c reshaping" "jq -c '$JQ_PROGRAM' $BIG" >&2
DRY_S=$(jq '.results[0].mean' "$WORK/hyperfine.json")
DRY_SD=$(jq '.results[0].stddev // 0' "$WORK/hyperfine.json")
JQ_S=$(jq '.results[1].mean' "$WORK/hyperfine.json")
DRY_CPU=$(jq '.results[0].user + .results[0].system' "$WORK/hyperfine.json")
JQ_CPU=$(jq '.results[1].user + .results[1].system' "$WORK/hyperfine.json")
DRY_RPS=$(calc "$RECORDS / $DRY_S" 0)
DRY_CPU_RPS=$(calc "$RECORDS / $DRY_CPU" 0)
JQ_CPU_RPS=$(calc "$RECORDS / $JQ_CPU" 0)
CPU_RATIO=$(calc "$JQ_CPU / $DRY_CPU" 1)
DRY_MBS=$(calc "$BYTES / 1000000 / $DRY_S" 1)
JQ_RPS=$(calc "$RECORDS / $JQ_S" 0)
RATIO=$(calc "$JQ_S / $DRY_S" 1)

say "peak RSS of dry-run"
read -r DRY_RSS_SMALL _ _ <<<"$(measure "$BIN" "${DRY[@]}" "$LITTLE")"
read -r DRY_RSS_BIG _ _ <<<"$(measure "$BIN" "${DRY[@]}" "$BIG")"

# --- send ------------------------------------------------------------------------------------------
SEND=(send --progress never --quiet --mode batch --rate "$RATE_OFF" --retries 0)
send_rows=""
send_status="measured"
probe=$WORK/probe.ndjson
head -n 200 "$LITTLE" >"$probe"
rm -f "$WORK"/*.rejected.ndjson
# Wall time of the whole process (read, map, send); operations = what the report says was accepted.
send_run() { # LABEL RECORDS FILE ARGS... -> sets ROW (a table row) and LAST_RSS (KiB)
    local label=$1 n=$2 file=$3 rss secs status cpu ops requests
    shift 3
    rm -f "$WORK/send.rejected.ndjson" "$WORK/send-report.json"
    read -r rss secs status cpu <<<"$(measure "$BIN" "${SEND[@]}" "$@" --dead-letter "$WORK/send.rejected.ndjson" \
        --report "$WORK/send-report.json" "$file")"
    ops=$(jq -r '.accepted // empty' "$WORK/send-report.json" 2>/dev/null || true)
    ops=${ops:-0}
    requests=$(jq -r '.requests_sent // empty' "$WORK/send-report.json" 2>/dev/null || true)
    LAST_RSS=$rss
    ROW="| $label | $(fmt "$n") | $(fmt "$(calc "$ops / $secs" 0)") operations/s ($(fmt "$ops") accepted in ${secs} s, ${cpu} CPU s, $(fmt "${requests:-0}") requests, exit $status), $(mb "$rss") MiB | ≥ 50,000 operations/s | $(ok "$ops / $secs >= 50000") |"$'\n'
}
if "$BIN" "${SEND[@]}" --sandbox --dead-letter "$WORK/probe.rejected.ndjson" "$probe" >/dev/null 2>"$WORK/send-probe.log"; then
    for c in 1 4 8; do
        say "send --sandbox --concurrency $c, $RECORDS records"
        send_run "send, batch, \`--concurrency $c\`, in-process sandbox" "$RECORDS" "$BIG" --sandbox --concurrency "$c"
        send_rows+=$ROW
    done
    # Peak RSS of the sender alone: the sandbox in a process of its own (the in-process sandbox keeps
    # every event id it has seen, as Customer.io does, so its memory grows with the input).
    say "send to a separate sandbox process: peak RSS of the sender alone"
    start_sandbox() { # a fresh `cio-replay sandbox` process; sets SANDBOX_PID and url
        "$BIN" sandbox >"$WORK/sandbox.out" 2>"$WORK/sandbox.err" &
        SANDBOX_PID=$!
        trap 'kill "$SANDBOX_PID" 2>/dev/null || true' EXIT
        url=""
        for _ in $(seq 50); do
            url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/sandbox.out" | head -n 1 || true)
            [ -n "$url" ] && break
            sleep 0.1
        done
    }
    # Without --allow-recent, send first reads and maps the whole input once more (the campaign
    # safety pre-scan; the in-process sandbox skips it). Measured both ways, each on a fresh sandbox.
    start_sandbox
    CIO_API_KEY=sandbox-key send_run "send, batch, \`--concurrency 4\`, separate sandbox process, \`--allow-recent\` (no pre-scan)" "$RECORDS" "$BIG" \
        --endpoint "$url" --site-id sandbox --concurrency 4 --allow-recent
    send_rows+=$ROW
    kill "$SANDBOX_PID" 2>/dev/null || true
    start_sandbox
    for n in "$SMALL" "$RECORDS"; do
        file=$LITTLE
        [ "$n" = "$RECORDS" ] && file=$BIG
        CIO_API_KEY=sandbox-key send_run "send, batch, \`--concurrency 4\`, separate sandbox process, safety pre-scan included" "$n" "$file" \
            --endpoint "$url" --site-id sandbox --concurrency 4
        send_rows+=$ROW
        send_rows+="| send peak RSS (sender alone) | $(fmt "$n") | $(mb "$LAST_RSS") MiB | < 50 MB, flat | $(ok "$LAST_RSS < 48828") |"$'\n'
    done
    kill "$SANDBOX_PID" 2>/dev/null || true
    say "send --sandbox peak RSS, $SMALL records"
    send_run "send, batch, \`--concurrency 4\`, in-process sandbox" "$SMALL" "$LITTLE" --sandbox --concurrency 4
    send_rows+=$ROW
    send_rows+="| send \`--sandbox\` peak RSS (sender + in-process sandbox) | $(fmt "$SMALL") | $(mb "$LAST_RSS") MiB | — | — |"$'\n'
else
    send_status="not measured: \`send --sandbox\` failed on 200 records ($(head -c 200 "$WORK/send-probe.log" | tr '\n|' '  '))"
    send_rows="| send (batch, sandbox, rate limit off; RSS) | — | not measured | ≥ 50,000 operations/s, < 50 MB | — |"$'\n'
fi

# --- report ----------------------------------------------------------------------------------------
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (uncommitted changes)" || true)
{
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, $CPU, $MEM RAM (load average"
    echo "before the run: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg));"
    echo "$(rustc --version), commit $REV$DIRTY. Input: \`gen-events --seed $SEED\`, $(fmt "$RECORDS") records,"
    echo "$(calc "$BYTES / 1000000" 1) MB ($(calc "$BYTES / $RECORDS" 0) bytes a record). Send: $send_status."
    echo
    echo "| Measurement | Records | Result | Target | Met |"
    echo "| --- | ---: | --- | --- | --- |"
    echo "| dry-run throughput, output to /dev/null | $(fmt "$RECORDS") | $(fmt "$DRY_RPS") records/s, $DRY_MBS MB/s ($(calc "$DRY_S" 2) s ± $(calc "$DRY_SD" 2)) | ≥ 200,000 records/s | $(ok "$DRY_RPS >= 200000") |"
    echo "| dry-run throughput per CPU second (user + sys; parsing and mapping run on every core) | $(fmt "$RECORDS") | $(fmt "$DRY_CPU_RPS") records/s | — | — |"
    echo "| \`jq -c\` comparable reshaping | $(fmt "$RECORDS") | $(fmt "$JQ_RPS") records/s ($(calc "$JQ_S" 2) s; $(fmt "$JQ_CPU_RPS") per CPU second) | — | — |"
    echo "| dry-run speed-up over jq (wall; CPU) | | ${RATIO}x; ${CPU_RATIO}x | ≥ 5x | $(ok "$RATIO >= 5") |"
    echo "| dry-run peak RSS | $(fmt "$SMALL") | $(mb "$DRY_RSS_SMALL") MiB | < 50 MB | $(ok "$DRY_RSS_SMALL < 48828") |"
    echo "| dry-run peak RSS | $(fmt "$RECORDS") | $(mb "$DRY_RSS_BIG") MiB | < 50 MB, flat | $(ok "$DRY_RSS_BIG < 48828 && $DRY_RSS_BIG < 1.5 * $DRY_RSS_SMALL + 2048") |"
    printf '%s' "$send_rows"
} >"$WORK/results.md"

cat "$WORK/results.md"
DOC=docs/performance.md
if [ -z "${NO_DOC:-}" ] && [ -f "$DOC" ] && grep -q '<!-- bench:start -->' "$DOC"; then
    awk -v results="$WORK/results.md" '
        /<!-- bench:start -->/ { print; while ((getline line < results) > 0) print line; skip = 1; next }
        /<!-- bench:end -->/ { skip = 0 }
        !skip { print }' "$DOC" >"$DOC.tmp" && mv "$DOC.tmp" "$DOC"
    say "updated $DOC"
fi
