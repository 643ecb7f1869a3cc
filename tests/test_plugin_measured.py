"""Measured figures through the plugin: runs under the profile's caps, failures isolated."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from costmodel.test_estimate import CPU_TABLE
from modelgen import save
from onnx import TensorProto, helper

pytestmark = pytest.mark.usefixtures("models_dir")

SMALL_BOARD = """
id = "small-board"
version = "1"
name = "a board with 64 MiB of RAM"
kind = "cpu"
extends = "cortex-a72"
[memory]
ram_mib = 64
available_ram_mib = 64
"""


def hungry_model() -> onnx.ModelProto:
    """Expands a scalar to 64 M floats (256 MB) at run time: too much for 64 MiB."""
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [8192, 8192])
    graph = helper.make_graph(
        [helper.make_node("Expand", ["x", "shape"], ["y"], name="expand")],
        "hungry",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8192, 8192])],
        initializer=[shape],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_measured_memory_and_run_details(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.edge_budget(peak_memory_mb=500)
        def test_measured(edge):
            r = edge.evaluate("models/tiny.onnx")
            assert r.sources["peak_memory_mb"] == "measured"
            m = r.details["measured"]
            assert m["n_runs"] >= 1 and m["p50_ms"] > 0 and m["min_ms"] <= m["p50_ms"]
            assert m["session_create_ms"] > 0 and m["first_run_ms"] > 0
            assert m["session_options"]["intra_op_num_threads"] >= 1
            assert m["static_peak_mb"] > 0

        def test_run_without_a_memory_budget(edge):  # the device fit uses the measured peak
            r = edge.evaluate("models/tiny.onnx")
            assert "measured" in r.details
            fit = [v for v in r.verdicts if v.keyword == "device"]
            assert [(v.metric, v.source) for v in fit] == [("peak_memory_mb", "measured")]

        def test_not_run_when_the_test_says_so(edge):
            r = edge.evaluate("models/tiny.onnx", measure=False)
            assert "measured" not in r.details
        """
    )
    result = pytester.runpytest(
        "--edge-target=cortex-a72", "--edge-memory=measured", "--edge-time-cap=0.2"
    )
    result.assert_outcomes(passed=3)


def test_model_over_the_memory_cap_fails_only_its_test(pytester: pytest.Pytester) -> None:
    save(hungry_model(), pytester.path / "models" / "hungry.onnx")
    pytester.makefile(".toml", board=SMALL_BOARD)
    pytester.makepyfile(
        """
        def test_hungry(edge):
            edge.evaluate("models/hungry.onnx", measure=True)

        def test_fine(edge):
            edge.evaluate("models/tiny.onnx", measure=True)
        """
    )
    result = pytester.runpytest(
        "--edge-profiles=board.toml", "--edge-target=small-board", "--edge-time-cap=0.2"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["edgegate: *hungry.onnx*needs about * MB, `small-board` allows*"])
    result.stdout.no_fnmatch_line("*INTERNALERROR*")


def test_measured_latency_is_translated_to_the_device(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".toml",
        board='id = "cm-board"\nversion = "1"\nname = "b"\nkind = "cpu"\n'
        'extends = "cortex-a72"\n' + CPU_TABLE,
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.edge_budget(latency_ms=10000)
        def test_latency(edge):
            r = edge.evaluate("models/tiny.onnx")
            assert r.sources["latency_ms"] == "measured"
            how = r.details["measured"]["translation"]
            assert how["ratio"] > 0 and how["device_estimate_ms"] > 0
            expected = how["device_estimate_ms"] * how["ratio"]
            assert r.metrics["latency_ms"] == pytest.approx(expected)
            # the ratio comes from one-thread paired rounds, with the device figure's interval
            assert "one thread" in how["method"] and how["rounds"] >= 3
            lo, hi = r.details["measured"]["device_ci_ms"]
            assert lo <= r.metrics["latency_ms"] <= hi
            assert r.details["measured"]["run"]["paired"]["threads"] == 1
        """
    )
    result = pytester.runpytest(
        "--edge-profiles=board.toml", "--edge-target=cm-board", "--edge-latency=measured",
        "--edge-time-cap=0.2",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    # the terminal shows the run behind the gated figure: host p50, device with its interval
    result.stdout.fnmatch_lines(
        [
            "measured*threads*host p50*device (95% interval)*peak RSS*static est.*",
            "test_latency*ms (IQR *, * runs)*ms [[]*, *[]] (gated)*MB*MB",
        ]
    )


def test_wrong_inputs_fail_with_a_clear_message(pytester: pytest.Pytester) -> None:
    np.savez(pytester.path / "bad.npz", x=np.zeros((1, 3, 5, 5), np.float32))
    pytester.makepyfile(
        """
        import numpy as np

        def test_wrong_shape(edge):
            edge.evaluate("models/tiny.onnx", inputs={"x": np.zeros((1, 3, 2, 2), np.float32)},
                          measure=True)

        def test_missing_name(edge):
            edge.evaluate("models/tiny.onnx", inputs={"nope": np.zeros(3)}, measure=True)
        """
    )
    result = pytester.runpytest("--edge-target=cortex-a72", "--edge-time-cap=0.2")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["edgegate: *tiny.onnx*x*"])
    result.stdout.no_fnmatch_line("*Traceback*")
