#!/usr/bin/env bash
# Judges samplemix's mixes against domain-level baselines on the demo corpus.
#
# Builds (or reuses) a store of the whole demo pool (part 1 + part 2), scores it with the default
# model and computes topics (only what is missing: a second run reuses every score), draws one
# mix per kernel at the same token budget, and judges every mix on the held-out split, which is
# not in the pool: bits per byte of a byte-level 5-gram Kneser-Ney model trained on each mix,
# DSIR's hashed n-gram KL reduction, distinct word 4-gram ratio, near-duplicate and redundancy
# rates, the share of the corpus's labelled synthetic junk, topic evenness, mean q and d, and
# per-source shares. Prints one table and writes it with the JSON to STORE-eval/.
#   tools/evaluate.sh [STORE]    (default $SAMPLEMIX_DATA_DIR/eval-store; kept between runs)
# EVAL_MAX_TOKENS (128): tokens scored per sample. EVAL_BUDGET (0.33): the budget as a fraction
# of the pool's tokens. EVAL_GRID=0 draws only the kernels at their defaults, not the
# bivariate-beta parameter grid. EVAL_DATA: a folder with part1.jsonl, part2.jsonl and
# heldout.jsonl to use instead of the demo corpus. EVAL_JUDGE=transformer also trains the
# transformer judge (3 seeds; EVAL_JUDGE_SEEDS) on natural, default, domain, quality-threshold, linear and
# bivariate-beta at their defaults (4-6 minutes a model on 2 busy cores; BENCHMARKS.md) into
# STORE-eval/judge.txt and judge.json. Scoring the whole pool (8,571 samples) takes
# about an hour on 2 cores the first time; later runs only draw and judge (a few minutes).
# EVAL_EMBEDDING=hashed|model: the embedding topics are clustered on (`topics --embedding`;
# changing it refits the store's topics). The `default` rows (3 seeds) are new mixes with every
# default; the kernel rows set `--topic-bounds off`, so they keep their meaning.
# EVAL_LM=0 skips the LM scoring: the q kernels then read EVAL_QUALITY (default `lm`; for
# example `repetition`, `classifier` or `combined`) within EVAL_RANK_WITHIN (default `pool`).
# EVAL_SIGNALS=1 computes the cheap signals first (repetition; the classifier trained on the
# corpus's reference split) and adds rows for each signal and rank scope (3 seeds for
# bivariate-beta and quality-threshold).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
store="${1:-$SAMPLEMIX_DATA_DIR/eval-store}"
bin="$CARGO_TARGET_DIR/release/samplemix"
cargo build --release --locked -q
data="${EVAL_DATA:-$SAMPLEMIX_DATA_DIR/demo}"
max_tokens="${EVAL_MAX_TOKENS:-128}"
fraction="${EVAL_BUDGET:-0.33}"
grid="${EVAL_GRID:-1}"
out="$store-eval"

[ -n "${EVAL_DATA:-}" ] || python3 tools/build-corpus.py --out "$data" >&2
tools/fetch-model.sh >/dev/null
sm() { "$bin" --store "$store" "$@"; }

echo "== pool: demo part 1 + part 2 (duplicates are skipped on a re-run)" >&2
sm append "$data/part1.jsonl" "$data/part2.jsonl" >&2
echo "== score (max-tokens $max_tokens) and topics: only what is missing" >&2
[ "${EVAL_LM:-1}" = 0 ] || sm score --max-tokens "$max_tokens" >&2
sm topics ${EVAL_EMBEDDING:+--embedding "$EVAL_EMBEDDING"} >&2
if [ "${EVAL_SIGNALS:-0}" = 1 ]; then
    echo "== cheap quality signals: repetition, and the classifier trained on the reference split" >&2
    sm quality compute repetition >&2
    sm quality train --reference "$data/reference.jsonl" >&2
    sm quality compute classifier >&2
fi
quality=(--quality "${EVAL_QUALITY:-lm}" --rank-within "${EVAL_RANK_WITHIN:-pool}")

budget=$(sm stats --json | python3 -c "import json,sys; print(int(json.load(sys.stdin)['tokens'] * $fraction))")
# The domain-level baseline gets the held-out split's own source shares (estimated tokens):
# the best that fixed per-domain weights can know about the target.
domain=$(python3 - "$data/heldout.jsonl" <<'EOF'
import json, sys
tok = {}
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    tok[r["source"]] = tok.get(r["source"], 0) + (len(r["text"].encode()) + 3) // 4
total = sum(tok.values())
print(",".join(f"{s}={t / total:.6f}" for s, t in sorted(tok.items())))
EOF
)

# The mixes are drawn in a copy of the pool, with --fresh (drawing an existing mix name again
# would otherwise reuse its saved parameters instead of the current defaults).
draws="$out/draws"
rm -rf "$draws"
mkdir -p "$out"
cp -a "$store" "$draws"
names=()
seed=1
draw() { # NAME ARGS...: draws a mix at the shared budget and $seed
    local name="$1"
    shift
    "$bin" --store "$draws" mix "$name" --fresh --tokens "$budget" --seed "$seed" "$@" --json >/dev/null
    names+=("$name")
}
echo "== draw every kernel at $budget tokens" >&2
# The kernel rows keep their own meaning: no default topic bounds (`off`); `default` is a new
# mix with every default (kernel, quality signal, topic bounds).
nob=(--topic-bounds off)
draw default
draw natural --kernel natural
draw domain --kernel domain --domain-weights "$domain" --normalise
draw quality-threshold --kernel quality-threshold "${quality[@]}" "${nob[@]}"
draw topic-balanced --kernel topic-balanced
draw linear --kernel linear "${quality[@]}" "${nob[@]}"
draw bivariate-beta --kernel bivariate-beta "${quality[@]}" "${nob[@]}"
draw bivariate-beta+bounds --kernel bivariate-beta --source-bounds 0.5,2 "${quality[@]}" "${nob[@]}"
# Seed-to-seed spread: the same kernels with other seeds (differences between kernels smaller
# than these are noise).
for seed in 2 3; do
    draw "default-s$seed"
    draw "natural-s$seed" --kernel natural
    draw "bivariate-beta-s$seed" --kernel bivariate-beta "${quality[@]}" "${nob[@]}"
done
if [ "${EVAL_SIGNALS:-0}" = 1 ]; then
    for sig in repetition classifier combined; do
        for scope in pool source; do
            for seed in 1 2 3; do
                sfx=""; [ "$seed" = 1 ] || sfx="-s$seed"
                draw "bb-$sig-$scope$sfx" --kernel bivariate-beta --quality "$sig" --rank-within "$scope" "${nob[@]}"
                draw "qt-$sig-$scope$sfx" --kernel quality-threshold --quality "$sig" --rank-within "$scope" "${nob[@]}"
            done
            draw "bb-$sig-$scope+topics" --kernel bivariate-beta --quality "$sig" --rank-within "$scope" --topic-bounds 0.5,2
        done
    done
fi
seed=1
if [ "$grid" = 1 ]; then
    draw linear-a0.5 --kernel linear --alpha 0.5 "${quality[@]}" "${nob[@]}"
    draw linear-a0.2 --kernel linear --alpha 0.2 "${quality[@]}" "${nob[@]}"
    draw quality-threshold-0.5 --kernel quality-threshold --fraction 0.5 "${quality[@]}" "${nob[@]}"
    for abc in 1,1,1 1.5,1.5,1 2,1,1 3,1,1 1,2,1 2,2,1 3,3,1 3,1.5,1 2,1,0.5 \
        1.5,1.5,1.5 3,2,2 4,2,2 2,3,2 2,2,3 3,3,3 3,2,3 4,4,4; do
        IFS=, read -r a b c <<<"$abc"
        draw "bb-$a-$b-$c" --kernel bivariate-beta --a "$a" --b "$b" --c "$c" "${quality[@]}" "${nob[@]}"
        draw "bb-$a-$b-$c+bounds" --kernel bivariate-beta --a "$a" --b "$b" --c "$c" --source-bounds 0.5,2 "${quality[@]}" "${nob[@]}"
    done
fi

echo "== judge ${#names[@]} mixes on the held-out split" >&2
"$bin" --store "$draws" eval "${names[@]}" --heldout "$data/heldout.jsonl" --label-key synthetic_noise \
    --write-json "$out/eval.json" | tee "$out/eval.txt"

if [ "${EVAL_JUDGE:-ngram}" = transformer ]; then
    echo "== trained judge: 6 mixes x seeds ${EVAL_JUDGE_SEEDS:-1,2,3}" >&2
    start=$(date +%s)
    "$bin" --store "$draws" eval natural default domain quality-threshold linear bivariate-beta \
        --heldout "$data/heldout.jsonl" --label-key synthetic_noise \
        --judge transformer --judge-seeds "${EVAL_JUDGE_SEEDS:-1,2,3}" --judge-curve 6 \
        --write-json "$out/judge.json" | tee "$out/judge.txt"
    echo "trained judge: $(($(date +%s) - start)) s for the table" | tee -a "$out/judge.txt"
fi

# Where each kind of sample sits in (q, d): the corpus's sources, with its planted junk by kind.
"$bin" --store "$store" query --limit 1000000 "${quality[@]}" >"$out/samples.jsonl"
python3 - "$data" "$out/samples.jsonl" <<'EOF' | tee "$out/kinds.txt"
import collections, json, sys
data, hits = sys.argv[1:]
kind = {}
for part in ("part1", "part2"):
    for line in open(f"{data}/{part}.jsonl", encoding="utf-8"):
        r = json.loads(line)
        kind[r["id"]] = (r.get("metadata") or {}).get("synthetic_noise") or r["source"]
agg = collections.defaultdict(lambda: [0, 0.0, 0.0])
for line in open(hits, encoding="utf-8"):
    h = json.loads(line)
    a = agg[kind.get(h["id"], "?")]
    a[0] += 1
    a[1] += h["quality"] or 0.0
    a[2] += h["diversity"] or 0.0
print("\nmean q and d by kind of sample (web = boilerplate, spam, shuffled, gibberish):")
print(f"{'kind':<12} {'samples':>7} {'q':>6} {'d':>6}")
for k, (n, q, d) in sorted(agg.items(), key=lambda x: -x[1][1] / x[1][0]):
    print(f"{k:<12} {n:>7} {q / n:>6.3f} {d / n:>6.3f}")
EOF
echo >&2
echo "written: $out/eval.txt, $out/eval.json, $out/kinds.txt" >&2
