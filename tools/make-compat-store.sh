#!/usr/bin/env bash
# Builds the small frozen store of store format 1 that tests/compat.rs opens.
#
#   tools/make-compat-store.sh [OUT]      (default OUT: tests/compat_data/format-1/store)
#
# The committed store must NEVER be regenerated: it stands for the stores users already have.
# A new store format gets a new folder (tests/compat_data/format-N) made by the binary of that
# format, and the old folders stay. Run this only to make a store for a new format, or into a
# scratch folder to see what the current binary would write.
#
# What goes in (lines of tests/fixtures/demo-mini.jsonl, 8 sources), so that every table has data:
#   append lines 1-40, a repeated line (a duplicate) and a bad record (a reject)
#   score --max-tokens 16; topics --topics 4; mix main (bivariate-beta, source bounds 0.5,2)
#   append lines 41-48; score; topics (the new samples join the topics); mix main again
#   mix natural (the natural kernel)
# From store format 2 on (the binary's stats say which), also:
#   quality compute repetition; quality train --reference tests/fixtures/demo-mini-reference.jsonl;
#   quality compute classifier; mix combined (quality-threshold, --quality combined,
#   --rank-within source, --topic-bounds 0.5,2)
# Then what a store opens without is removed: RocksDB's info logs (LOG, LOG.old.*), its OPTIONS
# files and LOCK, samplemix's writer.lock and tantivy's writer lock. tantivy's empty
# .tantivy-meta.lock stays: every reader creates it, so keeping it lets tests read the committed
# store in place without leaving a new file behind.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
out="${1:-tests/compat_data/format-1/store}"
bin="${SAMPLEMIX_BIN:-$CARGO_TARGET_DIR/release/samplemix}"
[ -x "$bin" ] || { echo "no samplemix binary at $bin: cargo build --release first" >&2; exit 1; }
if [ -e "$out" ]; then
    echo "$out exists: a frozen store is never regenerated (see tests/compat_data/README.md)" >&2
    exit 1
fi
export SAMPLEMIX_MODEL="${SAMPLEMIX_MODEL:-$SAMPLEMIX_MODEL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fixture=tests/fixtures/demo-mini.jsonl
sed -n '1,40p' "$fixture" > "$tmp/part1.jsonl"
sed -n '1p' "$fixture" >> "$tmp/part1.jsonl"
echo '{"text": 5, "id": "not-text"}' >> "$tmp/part1.jsonl"
sed -n '41,48p' "$fixture" > "$tmp/part2.jsonl"

sm() { "$bin" --store "$out" "$@"; }
sm append "$tmp/part1.jsonl" --source fallback
sm score --max-tokens 16 --threads 2
sm topics --topics 4
tokens=$(sm stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"] // 3)')
sm mix main --tokens "$tokens" --kernel bivariate-beta --seed 7 --source-bounds 0.5,2
sm append "$tmp/part2.jsonl"
sm score --max-tokens 16 --threads 2
sm topics
sm mix main
sm mix natural --kernel natural --tokens "$tokens" --seed 3
format=$(sm stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["format_version"])')
if [ "$format" -ge 2 ]; then
    sm quality compute repetition
    sm quality train --reference tests/fixtures/demo-mini-reference.jsonl
    sm quality compute classifier
    sm mix combined --tokens "$tokens" --kernel quality-threshold --quality combined \
        --rank-within source --topic-bounds 0.5,2 --seed 5
fi
rm -f "$out"/db/LOG "$out"/db/LOG.old.* "$out"/db/OPTIONS-* "$out"/db/LOCK "$out"/writer.lock \
    "$out"/index/.tantivy-writer.lock
sm stats
du -sh "$out"
