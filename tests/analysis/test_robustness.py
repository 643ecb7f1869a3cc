"""Every model shipped in onnx's backend test data analyses without an unexpected error."""

from __future__ import annotations

import glob
import os

import onnx
import pytest

from pytest_edgegate.analysis import analyze, load_model

DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
MODELS = sorted(glob.glob(os.path.join(DATA, "**", "*.onnx"), recursive=True))


@pytest.mark.skipif(not MODELS, reason="this onnx build ships no backend test data")
def test_every_backend_test_model_analyses():
    for path in MODELS:
        result = analyze(load_model(path))
        assert result.macs >= 0 and result.flops >= 2 * result.macs, path
        assert sum(result.op_histogram.values()) == len(result.nodes), path
