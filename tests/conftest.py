"""Shared fixtures of edgegate's own test suite."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from modelgen import big_dense_model, conv_model, save, with_external_location  # noqa: E402

MODELGEN = Path(__file__).parent / "modelgen.py"


@pytest.fixture
def models_dir(pytester: pytest.Pytester) -> Path:
    """A ``models/`` folder inside the pytester project with a small and a big model."""
    models = pytester.path / "models"
    save(conv_model(), models / "tiny.onnx")
    save(big_dense_model(2.0), models / "big.onnx")
    (models / "not_onnx.onnx").write_text("this is not a protobuf\n")
    data = (models / "tiny.onnx").read_bytes()
    (models / "truncated.onnx").write_bytes(data[: len(data) // 2])
    secret = pytester.path / "secret.bin"
    secret.write_bytes(b"\0" * 4096)
    save(with_external_location(conv_model(), "../secret.bin"), models / "escape.onnx")
    shutil.copy(MODELGEN, pytester.path / "modelgen.py")
    return models
