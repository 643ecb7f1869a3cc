"""The example project's digit classifier, checked through the accuracy API directly.

The models and the held-out test split are committed (``example_project/train_digits.py``
regenerates them); these tests pin what the example's gate relies on: the int8 model stays
within one point of accuracy of the fp32 model, and the over-compressed one loses far more,
in the two layers whose weights were crushed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from pytest_edgegate.accuracy import AccuracySpec, evaluate_accuracy

EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"
MODELS = EXAMPLE / "models"
TEST_SET = EXAMPLE / "data" / "digits_test.npz"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the evaluation needs POSIX")


def evaluate(candidate: str):
    return evaluate_accuracy(
        AccuracySpec(
            MODELS / candidate,
            reference=MODELS / "digits_fp32.onnx",
            dataset=TEST_SET,
            metric="top1",
            threads=4,  # cortex-a72's cores, capped at the host's
            memory_limit_mb=100.0,
            target_id="cortex-a72",
        )
    )


def test_the_test_split_is_the_committed_held_out_set():
    with np.load(TEST_SET) as npz:
        x, y = npz["x"], npz["y"]
    assert x.shape == (359, 1, 8, 8) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert sorted(set(y.tolist())) == list(range(10))


def test_int8_model_stays_within_one_point():
    result = evaluate("digits_int8.onnx")
    assert result.n_samples == 359
    assert result.reference_accuracy > 0.95
    assert result.accuracy_drop <= 0.01, result.diagnosis()
    assert result.sqnr_db > 30 and result.top1_agreement > 0.98
    # every quantized activation is matched through onnxruntime's QDQ names
    assert [layer.name for layer in result.layers] == [
        "input image",
        "conv1",
        "conv2",
        "conv3",
        "fc1",
        "fc2",
    ]
    assert all(layer.sqnr_db > 30 for layer in result.layers)


def test_overcompressed_model_loses_accuracy_in_its_crushed_layers():
    result = evaluate("digits_overcompressed.onnx")
    assert result.accuracy_drop > 0.3
    assert result.sqnr_db < 10 and result.top1_agreement < 0.7
    worst = [layer.name for layer in result.worst_layers]
    assert worst[:2] == ["conv3", "fc1"], result.diagnosis()
    conv3 = next(layer for layer in result.layers if layer.name == "conv3")
    assert conv3.drop_db > 20 and conv3.previous == "conv2"
    assert "worst layers: conv3 " in result.diagnosis()
