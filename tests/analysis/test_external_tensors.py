"""The flat pass that finds external tensors on load sees every place a tensor can live, and
the byte search that spares it never hides an external tensor."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from bench.fuzzing.mutate import proto_field
from pytest_edgegate.analysis import load_model
from pytest_edgegate.analysis.loader import (
    external_tensors,
    iter_model_tensors,
    may_hold_external,
)
from pytest_edgegate.errors import ModelError


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


def _with_initializer(tensor: TensorProto) -> bytes:
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", tensor.name], ["y"])],
        "g",
        [_out("x")],
        [_out("y")],
        initializer=[tensor],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


def test_byte_search_spares_the_walk_only_when_no_tensor_can_be_external() -> None:
    inline = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    assert not may_hold_external(_with_initializer(inline))
    assert may_hold_external(_with_initializer(_external("w")))
    no_location = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    no_location.data_location = TensorProto.EXTERNAL
    assert may_hold_external(_with_initializer(no_location))  # the checker names it


def test_external_tensor_behind_an_over_long_tag_still_refused(tmp_path) -> None:
    """A crafted file whose ``data_location`` tag is written in two bytes (0xF0 0x00) escapes
    the byte search, and has no location to open: the checker refuses it."""
    tensor = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    tensor.ClearField("raw_data")  # as an external tensor: its data lives elsewhere
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])], "g", [_out("x")], [_out("y")]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ClearField("graph")
    hidden = tensor.SerializeToString() + b"\xf0\x00\x01"  # data_location = EXTERNAL
    graph_bytes = graph.SerializeToString() + proto_field(5, hidden)  # GraphProto.initializer
    data = model.SerializeToString() + proto_field(7, graph_bytes)  # ModelProto.graph
    assert not may_hold_external(data)
    path = tmp_path / "crafted.onnx"
    path.write_bytes(data)
    with pytest.raises(ModelError, match="stored externally but doesn't have a location"):
        load_model(path)
