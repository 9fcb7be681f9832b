"""Shared paths of the Python API tests: the committed fixture, the samplemix binary the CLI
comparisons run, and the default model (LM-scored with few tokens to stay fast)."""

import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "demo-mini.jsonl"


def _cache() -> pathlib.Path:
    return pathlib.Path(os.environ.get("HOME", "~")) / ".cache" / "samplemix"


@pytest.fixture(scope="session")
def cli() -> pathlib.Path:
    """The samplemix binary: $SAMPLEMIX_BIN, else $CARGO_TARGET_DIR/release/samplemix, else the
    default target dir's (tools/env.sh). Missing is a failure, not a skip."""
    if "SAMPLEMIX_BIN" in os.environ:
        path = pathlib.Path(os.environ["SAMPLEMIX_BIN"])
    else:
        target = os.environ.get("CARGO_TARGET_DIR", str(_cache() / "target"))
        path = pathlib.Path(target) / "release" / "samplemix"
    if not path.is_file():
        pytest.fail(f"no samplemix binary at {path}: run `cargo build --release --locked` "
                    "or set SAMPLEMIX_BIN")
    return path


@pytest.fixture(scope="session")
def model() -> pathlib.Path:
    """The default model: $SAMPLEMIX_MODEL, else the model cache's SmolLM2 (tools/fetch-model.sh)."""
    default = _cache() / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    models = os.environ.get("SAMPLEMIX_MODEL_DIR")
    if models:
        default = pathlib.Path(models) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    path = pathlib.Path(os.environ.get("SAMPLEMIX_MODEL", str(default)))
    if not path.is_file():
        pytest.fail(f"no model at {path}: run tools/fetch-model.sh or set SAMPLEMIX_MODEL")
    return path
