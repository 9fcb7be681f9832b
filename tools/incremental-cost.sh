#!/usr/bin/env bash
# The cost of new data: on a copy of a scored store with topics and a mix (the store itself is
# not touched), appends NEW (a JSONL file, e.g. 1% of the pool), then scores and computes topics
# of the new samples and re-draws MIX, timing each step. Compare the total with the cost of the
# first build of the same store (its first `score --json` and `topics --json` report seconds).
#   tools/incremental-cost.sh STORE MIX NEW.jsonl [MAX_TOKENS (128)]
set -euo pipefail
store=$(realpath "$1") mix="$2" new=$(realpath "$3") max_tokens="${4:-128}"
cd "$(dirname "$0")/.."
. tools/env.sh
bin="$CARGO_TARGET_DIR/release/samplemix"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
step() { # LABEL STORE ARGS...: runs one command and prints its wall time
    local label="$1" st="$2"
    shift 2
    local t0
    t0=$(now)
    "$bin" --store "$st" "$@" >/dev/null
    local dt
    dt=$(python3 -c "print($(now) - $t0)")
    printf '%-34s %8.2f s\n' "$label" "$dt"
    echo "$dt" >>"$work/$(basename "$st").times"
}
total() { python3 -c "import sys; print(sum(float(x) for x in open(sys.argv[1])))" "$1"; }

cp -a "$store" "$work/incremental"
echo "incremental: $(wc -l <"$new") new records"
step "append" "$work/incremental" append "$new"
step "score (new samples only)" "$work/incremental" score --max-tokens "$max_tokens"
step "topics (new samples only)" "$work/incremental" topics
step "mix $mix (re-draw)" "$work/incremental" mix "$mix"
inc=$(total "$work/incremental.times")
printf '%-34s %8.2f s\n' "total" "$inc"

