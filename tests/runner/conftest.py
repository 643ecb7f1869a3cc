"""Fixtures of the runner's tests: fast run settings and model files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from runner_models import save


@pytest.fixture
def model_file(tmp_path: Path) -> Callable[..., str]:
    """Save a model proto under ``tmp_path`` and return its path."""

    def _save(model, name: str = "model.onnx") -> str:
        return save(model, tmp_path / name)

    return _save
