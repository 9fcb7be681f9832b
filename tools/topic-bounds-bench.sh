#!/usr/bin/env bash
# Topic bounds (mix --topic-bounds 0.5,2) against the default kernel and natural on a scored,
# topic-assigned store: 3 seeds each at 33% of the pool's tokens; one mix JSON per draw in $OUT
# (with the command's wall time added). BENCHMARKS.md, "Topic bounds", has the table and how the
# store was made. Usage: B=path/to/samplemix S=STORE OUT=DIR tools/topic-bounds-bench.sh
set -euo pipefail
B=${B:?binary}; S=${S:?store}; OUT=${OUT:-/tmp/qb-out}
mkdir -p "$OUT"
"$B" --store "$S" topics --json > "$OUT/topics.json"
T=$("$B" --store "$S" stats --json | python3 -c "import json,sys; print(int(json.load(sys.stdin)['tokens'] * 0.33))")
echo "budget $T" >&2
for seed in 0 1 2; do
  for variant in default bounded natural; do
    case $variant in
      default) args=();;
      bounded) args=(--topic-bounds 0.5,2);;
      natural) args=(--kernel natural);;
    esac
    s0=$(date +%s.%N)
    "$B" --store "$S" mix "$variant-$seed" --fresh --tokens "$T" --seed "$seed" "${args[@]}" --json > "$OUT/$variant-$seed.json"
    s1=$(date +%s.%N)
    python3 - "$OUT/$variant-$seed.json" "$s0" "$s1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["wall_seconds"] = float(sys.argv[3]) - float(sys.argv[2])
json.dump(r, open(sys.argv[1], "w"))
PY
  done
done
