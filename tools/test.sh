#!/usr/bin/env bash
# Runs the whole test suite (release build: llama.cpp and RocksDB are unusably slow unoptimised).
#   tools/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
export SAMPLEMIX_MODEL="${SAMPLEMIX_MODEL:-$SAMPLEMIX_MODEL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf}"
cargo test --release --locked "$@"
