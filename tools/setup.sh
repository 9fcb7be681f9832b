#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and run samplemix, fetches the default
# model, and builds the release binary. Safe to re-run: each step is skipped when done.
#   tools/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v clang >/dev/null || need+=(clang)
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || need+=(libclang-dev)
command -v python3 >/dev/null || need+=(python3 python3-pip)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Python packages the tests and benches use (pyarrow writes the Parquet fixtures).
for pkg in pyarrow; do
  python3 -c "import $pkg" 2>/dev/null && continue
  echo "setup: installing Python package $pkg" >&2
  python3 -m pip install --quiet "$pkg" 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages "$pkg"
done
command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust (rustup) first" >&2; exit 1; }

echo "setup: default model: $(tools/fetch-model.sh)" >&2
echo "setup: building (first build compiles RocksDB and llama.cpp from C++: ~25 min on 2 cores)" >&2
cargo build --release --locked
echo "setup: binary at $CARGO_TARGET_DIR/release/samplemix" >&2
