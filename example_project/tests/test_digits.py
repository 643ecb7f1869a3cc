"""Accuracy gate of the digit classifier: quantizing it to int8 must cost at most one point.

The models and the held-out test split come from ``train_digits.py`` (committed; the script
regenerates them byte for byte).  ``edge.evaluate`` runs the candidate and its fp32 reference
on the same samples under each target's thread and memory caps, records ``accuracy_drop``
(and the output fidelity ``sqnr_db``, ``top1_agreement``) and fails the test, with the layers
that lost the most precision, when a budget is broken.
"""

import pytest

INT8 = "models/digits_int8.onnx"
FP32 = "models/digits_fp32.onnx"
ONE_IMAGE = {"image": [1, 1, 8, 8]}  # the batch dimension is dynamic: price one image


@pytest.mark.edge_budget(accuracy_drop=0.01, min_sqnr_db=30, min_top1_agreement=0.98)
def test_int8_digits_keep_their_accuracy(edge):
    result = edge.evaluate(
        INT8,
        input_shapes=ONE_IMAGE,
        reference=FP32,
        dataset="data/digits_test.npz",
        metric="top1",
    )
    assert result.metrics["accuracy_drop"] <= 0.01


@pytest.mark.edge_budget(size_mb=0.1)
def test_int8_digits_are_small(edge):
    edge.evaluate(INT8, input_shapes=ONE_IMAGE)
