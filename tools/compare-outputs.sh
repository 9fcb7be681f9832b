#!/usr/bin/env bash
# Checks that two samplemix binaries give byte-identical mixes, exports, reports and queries on
# the same store (a restructuring must not change results):
#   tools/compare-outputs.sh OLD_BIN NEW_BIN STORE MIX...
# Each binary works on its own copy of STORE: it re-draws every MIX with its saved parameters,
# exports and reports it, and runs a quality query. Exit 0 when every output is identical; the
# first differences are printed otherwise. `stats --json` is compared without the fields that
# name the copy or measure it (store, size_on_disk); keys only the new binary prints are listed,
# not counted as differences.
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,7p' "$0" >&2; exit 2; }
old=$1 new=$2 store=$3; shift 3
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for side in old new; do
  bin=${!side}; out="$work/$side"; mkdir -p "$out"; cp -a "$store" "$out/store"
  sm() { "$bin" --store "$out/store" "$@"; }
  for mix in "$@"; do
    sm mix "$mix" --json > "$out/mix-$mix.json"
    sm export "$mix" --out "$out/export-$mix" > /dev/null
    sm report "$mix" --out "$out/report-$mix" > /dev/null
  done
  sm query --min-quality 0.5 --sort quality --limit 50 --json > "$out/query.json"
  sm stats --json > "$work/stats-$side.json"
  rm -rf "$out/store"
done
python3 - "$work/stats-old.json" "$work/stats-new.json" <<'PY' || exit 1
import json, sys
old, new = (json.load(open(p)) for p in sys.argv[1:3])
def walk(a, b, path):
    bad = 0
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}"
            if k in ("store", "size_on_disk") and path == "":
                continue
            if k not in b:
                print(f"stats: {p} missing in the new output"); bad += 1
            elif k not in a:
                print(f"stats: {p} only in the new output: {json.dumps(b[k])}", file=sys.stderr)
            else:
                bad += walk(a[k], b[k], p)
        return bad
    if a != b:
        print(f"stats: {path}: {json.dumps(a)} != {json.dumps(b)}"); return 1
    return 0
sys.exit(1 if walk(old, new, "") else 0)
PY
if diff -r "$work/old" "$work/new" > "$work/diff"; then
  echo "identical: mixes, exports, reports and query of $* on $store" >&2
else
  head -40 "$work/diff"; exit 1
fi
