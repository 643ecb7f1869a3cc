"""Accuracy of an optimized model against its reference, and where it was lost.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/accuracy/__init__.py``.
"""

from __future__ import annotations

from pytest_edgegate.accuracy.accuracy_error import AccuracyError
from pytest_edgegate.accuracy.accuracy_result import AccuracyResult
from pytest_edgegate.accuracy.eval_spec import AccuracySpec
from pytest_edgegate.accuracy.evaluate import evaluate_accuracy
from pytest_edgegate.accuracy.layers import LayerSQNR

__all__ = ["AccuracyError", "AccuracyResult", "AccuracySpec", "LayerSQNR", "evaluate_accuracy"]
