"""Accuracy through ``edge.evaluate(candidate, reference=..., dataset=...)`` in a real run."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent.parent / "example_project"


def test_accuracy_budget_and_bad_data(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import numpy as np
        import pytest

        MODELS = {str(EXAMPLE / "models")!r}
        DATA = {str(EXAMPLE / "data" / "digits_test.npz")!r}

        @pytest.mark.edge_budget(accuracy_drop=0.01, min_sqnr_db=20)
        def test_int8(edge):
            r = edge.evaluate(MODELS + "/digits_int8.onnx", reference=MODELS + "/digits_fp32.onnx",
                              dataset=DATA, metric="top1")
            assert r.sources["accuracy_drop"] == "measured"
            assert r.details["accuracy"]["layers"]

        @pytest.mark.edge_budget(accuracy_drop=0.01)
        def test_overcompressed(edge):
            edge.evaluate(MODELS + "/digits_overcompressed.onnx",
                          reference=MODELS + "/digits_fp32.onnx", dataset=DATA, metric="top1")

        @pytest.mark.edge_budget(accuracy_drop=0.01)
        def test_no_metric(edge):  # integer class labels: top1 by default
            r = edge.evaluate(MODELS + "/digits_int8.onnx",
                              reference=MODELS + "/digits_fp32.onnx", dataset=DATA)
            assert r.details["accuracy"]["metric"] == "top1"

        def test_empty_dataset(edge):
            edge.evaluate(MODELS + "/digits_int8.onnx", reference=MODELS + "/digits_fp32.onnx",
                          dataset=[])

        @pytest.mark.edge_budget(min_top1_agreement=0.9)
        def test_fidelity_without_labels(edge):
            images = np.load(DATA)["x"]  # inputs only: output fidelity, no labels
            r = edge.evaluate(MODELS + "/digits_int8.onnx", reference=MODELS + "/digits_fp32.onnx",
                              dataset=[images])
            assert "accuracy_drop" not in r.metrics and r.metrics["top1_agreement"] > 0.9
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a53")
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*accuracy_drop: 0.663, measured on cortex-a53, limit <= 0.01",
            "*worst layers: conv3*",
            "edgegate: *empty*",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
