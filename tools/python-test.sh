#!/usr/bin/env bash
# Builds the Python package (python/, PyO3 + maturin) as a wheel in the shared cargo target dir,
# installs it with pytest into a fresh venv, and runs its tests (python/tests), which compare it
# with the samplemix binary the same target dir holds.
#   tools/python-test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/env.sh
export SAMPLEMIX_MODEL="${SAMPLEMIX_MODEL:-$SAMPLEMIX_MODEL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf}"
maturin=$(command -v maturin || echo "$SAMPLEMIX_PY_TOOLS/bin/maturin")
[ -x "$maturin" ] || { echo "python-test: maturin not found: run tools/setup.sh" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$maturin" build --release --locked -m python/Cargo.toml -o "$work/wheels"
cargo build --release --locked   # the CLI the tests compare with (a no-op when built)
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "$work"/wheels/samplemix-*.whl pytest
SAMPLEMIX_BIN="$CARGO_TARGET_DIR/release/samplemix" "$work/venv/bin/python" -m pytest -q python/tests "$@"
