#!/usr/bin/env bash
# Regenerate the committed shell completions and man pages in completions/ from the current binary.
#
#   scripts/gen-completions.sh
#
# tests/it/generated.rs fails when any file here differs from what the binary prints; run this after
# changing src/cli/mod.rs and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."

# CIO_REPLAY_BIN=target/debug/cio-replay uses an already built binary (the pages are the same).
if [ -n "${CIO_REPLAY_BIN:-}" ]; then
    bin=$CIO_REPLAY_BIN
else
    cargo build --release --quiet --bin cio-replay
    bin=${CARGO_TARGET_DIR:-target}/release/cio-replay
fi
out=completions
mkdir -p "$out"

# The pages must not depend on the caller's environment.
run() { env -u CIO_SITE_ID -u CIO_API_KEY -u CIO_APP_API_KEY -u CIO_REGION -u CIO_ENDPOINT "$bin" "$@"; }

run completions bash > "$out/cio-replay.bash"
run completions zsh > "$out/_cio-replay"
run completions fish > "$out/cio-replay.fish"
run completions powershell > "$out/_cio-replay.ps1"
run completions elvish > "$out/cio-replay.elv"

rm -f "$out"/cio-replay-*.1
run man > "$out/cio-replay.1"
# One page per subcommand, named as the top-level page's SUBCOMMANDS section lists them.
topics=$(sed -n 's/^cio\\-replay\\-\(.*\)(1)$/\1/p' "$out/cio-replay.1" | sed 's/\\-/-/g')
for topic in $topics; do
    run man "$topic" > "$out/cio-replay-$topic.1"
done

bash -n "$out/cio-replay.bash"
echo "wrote $(ls "$out" | wc -l) files to $out/"
