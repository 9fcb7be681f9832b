# Shared settings of the tools/ scripts (sourced, not run). The cargo target dir and the model
# cache live outside the clone so that every clone and CI run on this machine reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/samplemix/target}"
export SAMPLEMIX_MODEL_DIR="${SAMPLEMIX_MODEL_DIR:-$HOME/.cache/samplemix/models}"
export SAMPLEMIX_DATA_DIR="${SAMPLEMIX_DATA_DIR:-$HOME/.cache/samplemix/data}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-$(nproc)}"
# A venv holding maturin (tools/setup.sh makes it when maturin is not on PATH).
export SAMPLEMIX_PY_TOOLS="${SAMPLEMIX_PY_TOOLS:-$HOME/.cache/samplemix/python-tools}"
