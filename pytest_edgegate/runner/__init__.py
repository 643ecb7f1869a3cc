"""Emulated execution: run an ONNX model under a device profile's thread and memory caps.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/runner/__init__.py``.
"""

from __future__ import annotations

from pytest_edgegate.runner.launch import run_model
from pytest_edgegate.runner.run_error import RunError
from pytest_edgegate.runner.run_result import RunResult
from pytest_edgegate.runner.spec import RunSpec

__all__ = ["RunError", "RunResult", "RunSpec", "run_model"]
