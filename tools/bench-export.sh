#!/usr/bin/env bash
# Throughput of `export` in its three formats, side by side on the same store and mix: a
# natural mix of the demo corpus's part1.jsonl (all its tokens), exported as zstd JSONL, as
# Parquet and as token ids (`--format tokens --token-layout megatron`, tokenizing on 2 rayon
# threads: RAYON_NUM_THREADS=2), each timed with GNU time (wall, user CPU, peak RSS).
#   tools/bench-export.sh [JSONL]
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
for format in jsonl parquet tokens; do
  extra=()
  [ "$format" = tokens ] && extra=(--token-layout megatron)
  RAYON_NUM_THREADS=2 /usr/bin/time -f "%e %U %M" -o "$dir/time-$format" \
    "$bin" --store "$dir/store" export m --out "$dir/$format" --format "$format" "${extra[@]}" \
    --json >"$dir/m-$format.json"
  python3 - "$dir/m-$format.json" "$dir/time-$format" "$format" "$dir/$format" <<'PY'
import json, os, sys
m = json.load(open(sys.argv[1]))
wall, user, rss = open(sys.argv[2]).read().split()
wall = float(wall)
# The document exports count the stored (scorer) tokens; the token export counts ids + EOS.
tokens = m["tokens"]
docs = m.get("documents", m.get("lines"))
size = sum(os.path.getsize(os.path.join(sys.argv[4], f)) for f in os.listdir(sys.argv[4]))
print(f"{sys.argv[3]:8} documents {docs} tokens {tokens} shards {len(m['shards'])} "
      f"wall {wall:.2f} s user {float(user):.2f} s tokens/s {tokens / wall:,.0f} "
      f"peak RSS {int(rss) // 1024} MiB output {size / 1e6:.1f} MB")
PY
done
