#!/usr/bin/env bash
# Build llama.cpp's own `llama-perplexity` as an independent reference for the quality scorer:
# the known-answer test's recorded value and the scoring benchmark were checked against it.
#
#   tools/build-llama-reference.sh     # installs into ${SAMPLEMIX_LLAMA_REF:-$HOME/.cache/samplemix/llama.cpp-ref}
#
# The llama.cpp sources bundled with the llama-cpp-2 crate leave out llama.cpp's tools, so the full
# tree comes from the PyPI sdist of llama-cpp-python 0.3.36 (vendor/llama.cpp). Only the
# llama-perplexity target is built (about 7 minutes on 2 cores). Needs cmake and a C++ compiler.
# Prints the path of the binary. Safe to re-run: an existing build is kept.
set -euo pipefail

SDIST_SPEC="llama-cpp-python==0.3.36"
prefix="${SAMPLEMIX_LLAMA_REF:-$HOME/.cache/samplemix/llama.cpp-ref}"
jobs="${JOBS:-2}"
bin="$prefix/bin/llama-perplexity"

if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$prefix"
src="$prefix/src"
if [ ! -d "$src/vendor/llama.cpp" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --no-binary :all: --disable-pip-version-check \
    -d "$tmp" "$SDIST_SPEC" >&2
  mkdir -p "$src"
  tar -xzf "$tmp"/llama_cpp_python-*.tar.gz -C "$src" --strip-components=1
fi

build="$prefix/build"
cmake -S "$src/vendor/llama.cpp" -B "$build" \
  -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF >&2
cmake --build "$build" --target llama-perplexity -j "$jobs" >&2
mkdir -p "$prefix/bin"
cp "$build/bin/llama-perplexity" "$bin"
echo "$bin"
