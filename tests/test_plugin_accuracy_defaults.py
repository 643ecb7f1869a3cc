"""What ``edge.evaluate`` compares when the test gives no data set or no metric (issue 14).

The fidelity uses the inputs the test passed (``inputs=``, arrays or ``.npz``), all of them;
only without any does it fall back to random inputs, and then says so.  Integer class labels
and ``[N, C]`` scores make top-1 the default metric; ambiguous labels name the missing metric.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

sys.path.insert(0, str(Path(__file__).parent / "accuracy"))

from quantized_classifier import float_classifier, int8_classifier, real_inputs  # noqa: E402


@pytest.fixture
def classifiers(pytester: pytest.Pytester) -> Path:
    onnx.save(float_classifier(), str(pytester.path / "fp32.onnx"))
    onnx.save(int8_classifier(), str(pytester.path / "int8.onnx"))
    x = real_inputs()
    np.savez(pytester.path / "real.npz", x=x)  # keyed by the model's input name, as runs take it
    return pytester.path


def test_fidelity_uses_the_inputs_given_and_says_when_it_had_none(
    pytester: pytest.Pytester, classifiers: Path
) -> None:
    pytester.makepyfile(
        """
        import numpy as np
        import pytest

        REAL = np.load("real.npz")["x"]

        @pytest.mark.edge_budget(min_sqnr_db=20, min_top1_agreement=0.95)
        def test_arrays(edge):
            r = edge.evaluate("int8.onnx", reference="fp32.onnx", inputs={"x": REAL})
            acc = r.details["accuracy"]
            assert acc["n_samples"] == 450 and acc["random_inputs"] is False
            assert acc["data"] == "the inputs given with inputs="
            assert r.metrics["sqnr_db"] > 40 and r.metrics["top1_agreement"] > 0.99

        @pytest.mark.edge_budget(min_sqnr_db=20, min_top1_agreement=0.95)
        def test_npz(edge):
            r = edge.evaluate("int8.onnx", reference="fp32.onnx", inputs="real.npz")
            assert r.details["accuracy"]["n_samples"] == 450
            assert r.details["accuracy"]["data"].startswith("the inputs file ")

        @pytest.mark.edge_budget(min_sqnr_db=20)
        def test_nothing_given(edge):
            r = edge.evaluate("int8.onnx", reference="fp32.onnx")
            assert r.details["accuracy"]["random_inputs"] is True
            assert any("random inputs" in n for n in r.notes)
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a53")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_nothing_given*",
            "*sqnr_db: * dB, measured on cortex-a53, limit >= 20*",
            "*on 64 seeded random inputs, measured on random inputs, not on real data: a weak "
            "test*int8*calibrated*",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def test_integer_labels_make_top1_the_default_and_float_targets_name_the_metric(
    pytester: pytest.Pytester, classifiers: Path
) -> None:
    pytester.makepyfile(
        """
        import numpy as np
        import onnxruntime as ort
        import pytest

        X = np.load("real.npz")["x"]
        Y = ort.InferenceSession("fp32.onnx").run(None, {"x": X})[0].argmax(axis=1)

        @pytest.mark.edge_budget(accuracy_drop=0.02)
        def test_labels(edge):
            r = edge.evaluate("int8.onnx", reference="fp32.onnx", dataset=[(X, Y)])
            acc = r.details["accuracy"]
            assert acc["metric"] == "top1" and acc["metric_default"] is True
            assert acc["reference_accuracy"] == 1.0 and r.metrics["accuracy_drop"] < 0.02
            assert any(n.startswith("metric: top1 by default") for n in r.notes)

        @pytest.mark.edge_budget(accuracy_drop=0.02)
        def test_float_targets(edge):
            edge.evaluate("int8.onnx", reference="fp32.onnx",
                          dataset=[(X, Y.astype(np.float32))])
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a53")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*accuracy_drop: not available on cortex-a53: labels were given (float32, 1-D) "
            "but no metric: float or other non-integer targets*pass metric=*",
        ]
    )
    result.stdout.no_fnmatch_line("*needs labels*")
