"""A compression step gone too far: the accuracy gate fails it and names the layers.

``digits_overcompressed.onnx`` is the int8 digit classifier with the weights of ``conv3`` and
``fc1`` made ternary (see ``train_digits.py``).  Not part of the example's main run
(pytest.ini's testpaths is tests/); run it with ``pytest failing/`` from example_project/.
The failure message gives the drop and the per-layer diagnosis, e.g.::

    accuracy_drop: 0.663, ... limit <= 0.01
    top1 0.3120 vs 0.9749 for the reference (drop 0.6630 on 359 samples); output SQNR 0.7 dB,
    top-1 agreement 0.3120; worst layers: conv3 2.5 dB (-37.2 dB), fc1 0.9 dB (-1.6 dB), ...
"""

from pathlib import Path

import pytest

HERE = Path(__file__).parent.parent
MODELS = HERE / "models"
TEST_SET = HERE / "data" / "digits_test.npz"


@pytest.mark.edge_budget(accuracy_drop=0.01)
def test_overcompressed_digits_fail_the_accuracy_gate(edge):
    edge.evaluate(
        MODELS / "digits_overcompressed.onnx",
        reference=MODELS / "digits_fp32.onnx",
        dataset=TEST_SET,
        metric="top1",
    )
