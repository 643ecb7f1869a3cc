"""Fixtures of the accuracy tests: model files and fast evaluation settings."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from accuracy_models import save  # noqa: E402


@pytest.fixture
def model_file(tmp_path: Path) -> Callable[..., str]:
    """Save a model proto under ``tmp_path`` and return its path."""

    def _save(model, name: str = "model.onnx") -> str:
        return save(model, tmp_path / name)

    return _save
