#!/usr/bin/env bash
# Peak memory of appending a large Parquet file: writes a Parquet file of about SIZE_MB
# megabytes with pyarrow (zstd, row groups of 100,000 rows, synthetic varied texts of
# 1-4 KB and a struct metadata column), then appends it to a fresh store under
# `/usr/bin/time -v` and prints the peak RSS, the wall time and the samples added, and the peaks of
# the process's anonymous memory (RssAnon: heap, the allocations) and of its file-backed pages
# (RssFile: mostly the tantivy segments it maps while merging, page cache the kernel can drop),
# sampled from /proc every half second. GNU time's peak RSS counts both.
#   tools/parquet-bench.sh [SIZE_MB (default 2000)] [WORK_DIR (default a temporary folder)]
# A bench.parquet already in WORK_DIR is reused.
# Needs python3 with pyarrow (tools/setup.sh installs it) and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
size_mb="${1:-2000}"
work="${2:-$(mktemp -d)}"
mkdir -p "$work"
bin="$CARGO_TARGET_DIR/release/samplemix"
[ -x "$bin" ] || cargo build --release --locked
# An earlier run's file in WORK_DIR is reused (delete it to write a new one).
[ -s "$work/bench.parquet" ] || python3 - "$work/bench.parquet" "$size_mb" <<'PY'
import random, sys
import pyarrow as pa, pyarrow.parquet as pq
path, size_mb = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
         for _ in range(50000)]
schema = pa.schema([("id", pa.string()), ("text", pa.string()),
                    ("meta", pa.struct([("url", pa.string()), ("lang", pa.string())]))])
writer = pq.ParquetWriter(path, schema, compression="zstd")
rows, i = 100_000, 0
import os
while True:
    texts = [" ".join(rng.choices(vocab, k=rng.randint(200, 700))) for _ in range(rows)]
    writer.write_table(pa.table({
        "id": [f"d{i + k}" for k in range(rows)],
        "text": texts,
        "meta": [{"url": f"http://example.com/{i + k}", "lang": "en"} for k in range(rows)],
    }, schema=schema))
    i += rows
    print(f"bench: {i} rows written", file=sys.stderr, flush=True)
    if os.path.getsize(path) >= size_mb * 1_000_000:
        break
writer.close()
print(f"bench: {path}: {i} rows, {os.path.getsize(path) / 1e6:.0f} MB", file=sys.stderr)
PY
rm -rf "$work/store"
/usr/bin/time -v "$bin" --store "$work/store" append "$work/bench.parquet" --json \
  > "$work/append.json" 2> "$work/time.txt" &
sampler() {
  local anon=0 file=0 a f pid
  while sleep 0.5; do
    pid=$(pgrep -f -n "samplemix --store $work/store append") || break
    a=$(awk '/RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
    f=$(awk '/RssFile/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
    [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
    [ -n "$f" ] && [ "$f" -gt "$file" ] && file=$f
  done
  echo "peak RssAnon ${anon} kB, peak RssFile ${file} kB (sampled every 0.5 s)"
}
sampler > "$work/rss.txt" &
wait
cat "$work/rss.txt"
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$work/time.txt"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("added", r["added"], "input_bytes", r["input_bytes"], "seconds", round(r["seconds"], 1))' "$work/append.json"
