"""A peak memory the analysis cannot know: reported as unknown, judged when measured (issue 14).

``ConstantOfShape`` of an input allocates as much as the input's value says: the static
analysis cannot size it.  The table, the JSON and the HTML say "unknown" with a note instead
of counting it as 0, and ``--edge-memory=measured`` runs every model under the device's cap,
so a 2.5 GB allocation on cortex-a53 (1 GB) fails its own test, naming the target and the MB.
"""

from __future__ import annotations

import json

import onnx
import pytest
from modelgen import conv_model, save
from onnx import TensorProto, helper

TEST_FILE = """
import numpy as np

def test_allocates(edge):
    # 625 M float32 ones: 2.5 GB at run time, sized by the input's value
    edge.evaluate("alloc.onnx", inputs={"n": np.array([625_000_000], np.int64)})

def test_small(edge):
    edge.evaluate("tiny.onnx")
"""


def value_sized_model() -> onnx.ModelProto:
    """``y = sum(ConstantOfShape(n, 1.0))``: allocates ``4 * n`` bytes for the value ``n``."""
    one = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    graph = helper.make_graph(
        [
            helper.make_node("ConstantOfShape", ["n"], ["ones"], name="fill", value=one),
            helper.make_node("ReduceSum", ["ones"], ["y"], name="sum", keepdims=0),
        ],
        "alloc",
        [helper.make_tensor_value_info("n", TensorProto.INT64, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    save(value_sized_model(), pytester.path / "alloc.onnx")
    save(conv_model(), pytester.path / "tiny.onnx")
    pytester.makepyfile(TEST_FILE)
    return pytester


def test_an_unknown_static_peak_is_reported_as_unknown(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "--edge-target=cortex-a53", "--edge-json=r.json", "--edge-html=r.html"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "test_allocates *unknown*",
            "*note: device fit not checked: device RAM (* MB on cortex-a53) against a peak that "
            "is unknown statically: the size of 'ones' depends on input values*"
            "--edge-memory=measured*",
        ]
    )
    results = json.loads((project.path / "r.json").read_text())["results"]
    alloc = next(r for r in results if r["nodeid"].endswith("test_allocates[cortex-a53]"))
    assert "peak_memory_mb" not in alloc["metrics"]
    assert alloc["unavailable"]["peak_memory_mb"].startswith("unknown statically")
    assert not any(v["keyword"] == "device" for v in alloc["verdicts"])
    small = next(r for r in results if r["nodeid"].endswith("test_small[cortex-a53]"))
    assert small["metrics"]["peak_memory_mb"] > 0
    html = (project.path / "r.html").read_text()
    assert ">unknown<" in html and "device fit not checked" in html


def test_measured_memory_stops_the_allocation_at_the_device_cap(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "--edge-target=cortex-a53", "--edge-memory=measured", "--edge-time-cap=0.2"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "edgegate: */alloc.onnx: needs at least 25?? MB, `cortex-a53` allows * MB (out of "
            "memory while running the model*"
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
