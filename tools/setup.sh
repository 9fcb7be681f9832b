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
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
# numpy: tests/export_tokens.rs memory-maps the exported token arrays with it.
python3 -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The apt numpy serves the system python3; another python3 first on PATH (pyenv) gets pip's.
python3 -c 'import numpy' 2>/dev/null || python3 -m pip install -q numpy
# Python packages the tests and benches use (pyarrow writes the Parquet fixtures).
for pkg in pyarrow; do
  python3 -c "import $pkg" 2>/dev/null && continue
  echo "setup: installing Python package $pkg" >&2
  python3 -m pip install --quiet "$pkg" 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages "$pkg"
done
command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust (rustup) first" >&2; exit 1; }

# maturin builds the Python package (python/); from PyPI into its own venv when not on PATH.
if ! command -v maturin >/dev/null && [ ! -x "$SAMPLEMIX_PY_TOOLS/bin/maturin" ]; then
  echo "setup: installing maturin into $SAMPLEMIX_PY_TOOLS" >&2
  python3 -m venv "$SAMPLEMIX_PY_TOOLS"
  "$SAMPLEMIX_PY_TOOLS/bin/pip" install -q --disable-pip-version-check "maturin>=1.9,<2"
fi

echo "setup: default model: $(tools/fetch-model.sh)" >&2
echo "setup: building (first build compiles RocksDB and llama.cpp from C++: ~25 min on 2 cores)" >&2
cargo build --release --locked
echo "setup: binary at $CARGO_TARGET_DIR/release/samplemix" >&2
