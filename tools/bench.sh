#!/usr/bin/env bash
# Runs one benchmark binary from benches/ with the shared target dir and caches.
#   tools/bench.sh ingest
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
name="${1:?usage: tools/bench.sh BENCH (see benches/)}"
shift
cargo bench --locked --bench "$name" -- "$@"
