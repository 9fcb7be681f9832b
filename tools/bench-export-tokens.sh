#!/usr/bin/env bash
# Throughput of `export --format tokens` (tokens/s, wall clock, tokenizing on 2 rayon
# threads: RAYON_NUM_THREADS=2) on a natural mix of the demo corpus's part1.jsonl.
#   tools/bench-export-tokens.sh [JSONL]
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
bin="$CARGO_TARGET_DIR/release/samplemix"
input="${1:-$HOME/.cache/samplemix/data/demo13/part1.jsonl}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" --store "$dir/store" append "$input" >/dev/null
tokens=$("$bin" --store "$dir/store" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"])')
"$bin" --store "$dir/store" mix m --tokens "$tokens" --kernel natural >/dev/null
start=$(date +%s.%N)
RAYON_NUM_THREADS=2 "$bin" --store "$dir/store" export m --out "$dir/out" --format tokens \
  --token-layout megatron --json >"$dir/m.json"
end=$(date +%s.%N)
python3 - "$dir/m.json" "$start" "$end" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
s = float(sys.argv[3]) - float(sys.argv[2])
print(f"documents {m['documents']} tokens {m['tokens']} shards {len(m['shards'])} "
      f"seconds {s:.2f} tokens/s {m['tokens'] / s:,.0f}")
PY
