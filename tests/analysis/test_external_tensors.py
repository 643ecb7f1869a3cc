"""The flat pass that finds external tensors on load sees every place a tensor can live."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from pytest_edgegate.analysis.loader import external_tensors, iter_model_tensors


def _external(name: str) -> TensorProto:
    t = numpy_helper.from_array(np.zeros(4, np.float32), name)
    t.data_location = TensorProto.EXTERNAL
    t.ClearField("raw_data")
    entry = t.external_data.add()
    entry.key, entry.value = "location", "weights.bin"
    return t


def _out(name: str):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [4])


def test_external_tensors_in_initializers_attributes_subgraphs_and_functions() -> None:
    then = helper.make_graph(
        [helper.make_node("Constant", [], ["a"], value=_external("in_then"))],
        "then",
        [],
        [_out("a")],
    )
    other = helper.make_graph(
        [helper.make_node("Constant", [], ["a"], value=_external("in_else"))],
        "else",
        [],
        [_out("a")],
        initializer=[_external("else_init")],
    )
    sparse = helper.make_sparse_tensor(
        _external("sparse_values"), numpy_helper.from_array(np.array([1], np.int64), "idx"), [8]
    )
    graph = helper.make_graph(
        [
            helper.make_node("Constant", [], ["c"], value=_external("const")),
            helper.make_node("If", ["cond"], ["o"], then_branch=then, else_branch=other),
        ],
        "g",
        [helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [_out("o")],
        initializer=[_external("init"), numpy_helper.from_array(np.ones(2, np.float32), "inline")],
        sparse_initializer=[sparse],
    )
    function = helper.make_function(
        "local",
        "F",
        ["x"],
        ["y"],
        [helper.make_node("Constant", [], ["y"], value=_external("in_function"))],
        [helper.make_opsetid("", 13)],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("local", 1)],
        functions=[function],
    )
    expected = sorted(
        t.name for t in iter_model_tensors(model) if t.data_location == TensorProto.EXTERNAL
    )
    assert expected == [
        "const",
        "else_init",
        "in_else",
        "in_function",
        "in_then",
        "init",
        "sparse_values",
    ]
    assert sorted(t.name for t in external_tensors(model)) == expected
