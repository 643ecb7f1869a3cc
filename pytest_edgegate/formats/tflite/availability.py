"""Whether the ``[tflite]`` extra's runtimes are installed, and the error when they are not."""

from __future__ import annotations

import importlib.util

from ...errors import EdgeGateError

EXTRA = 'pip install "pytest-edgegate[tflite]"'
_MODULES = {"litert": "ai_edge_litert", "tflite-micro": "tflite_micro"}


def has_runtime(name: str) -> bool:
    try:
        return importlib.util.find_spec(_MODULES[name]) is not None
    except (ImportError, ValueError):
        return False


def require(name: str, model: str, why: str) -> None:
    """Raise an EdgeGateError naming the extra when runtime ``name`` is not installed."""
    if not has_runtime(name):
        raise EdgeGateError(
            f"{model}: {why} needs the {name} runtime ({_MODULES[name]}), which is not "
            f"installed: {EXTRA}"
        )
