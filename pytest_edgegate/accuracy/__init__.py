"""Accuracy of an optimized model against its reference, and where it was lost.

The public API is pytest-free::

    from pytest_edgegate.accuracy import AccuracySpec, evaluate_accuracy

    result = evaluate_accuracy(AccuracySpec(
        "models/digits_int8.onnx", reference="models/digits_fp32.onnx",
        dataset="data/digits_test.npz", metric="top1",
        threads=4, memory_limit_mb=837.8, target_id="cortex-a53"))
    result.accuracy_drop, result.sqnr_db, result.metrics(), result.diagnosis()

Each model runs in a child process of its own under the device's thread and memory caps
(:mod:`.worker`, :mod:`.child`, reusing the runner's session options and memory cap); the
data set streams to both children batch by batch over pipes (:mod:`.channel`,
:mod:`.dataset`); the parent accumulates the metric (:mod:`.metrics`) and the output
fidelity (:mod:`.fidelity`); the layer diagnosis matches intermediate tensors through
onnxruntime's quantization renaming and ranks the layers by the noise they add
(:mod:`.layers`).  Every failure is an :class:`AccuracyError` whose ``kind`` says what
happened.

Importing this package imports numpy, not onnx or onnxruntime; the plugin should still
import it lazily, when an evaluation is asked for.
"""

from __future__ import annotations

from pytest_edgegate.accuracy.accuracy_error import AccuracyError
from pytest_edgegate.accuracy.accuracy_result import AccuracyResult
from pytest_edgegate.accuracy.evaluate import evaluate_accuracy
from pytest_edgegate.accuracy.layers import LayerSQNR
from pytest_edgegate.accuracy.spec import AccuracySpec

__all__ = ["AccuracyError", "AccuracyResult", "AccuracySpec", "LayerSQNR", "evaluate_accuracy"]
