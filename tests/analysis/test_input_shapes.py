"""Dynamic dims, input_shapes, and every way input_shapes can be wrong."""

from __future__ import annotations

import pytest
from onnx import helper

from pytest_edgegate.analysis import analyze
from pytest_edgegate.errors import ModelError

from . import builders as b


def dynamic_conv(x_shape=("batch", 3, "h", "w")):
    node = helper.make_node("Conv", ["x", "W"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    return b.model([node], [b.vi("x", x_shape)], [b.vi("y", None)], [b.init("W", (4, 3, 3, 3))])


def conv_macs(n, h, w):
    return n * 4 * h * w * 27


def test_dynamic_dims_get_the_default_and_are_reported():
    a = analyze(dynamic_conv())
    assert a.assumed_dims == {"batch": 1, "h": 1, "w": 1}
    assert "dynamic dim 'batch' of input 'x' assumed 1; pass input_shapes" in a.warnings
    assert a.inputs[0].shape == (1, 3, 1, 1)
    assert a.inputs[0].dynamic == ("batch", "h", "w")
    assert a.macs == conv_macs(1, 1, 1)


def test_default_dim():
    a = analyze(dynamic_conv(), default_dim=8)
    assert a.assumed_dims == {"batch": 8, "h": 8, "w": 8}
    assert a.macs == conv_macs(8, 8, 8)


def test_input_shapes_fill_the_dynamic_dims():
    a = analyze(dynamic_conv(), {"x": [2, 3, 32, 16]})
    assert a.assumed_dims == {}
    assert not any("assumed" in w for w in a.warnings)
    assert a.inputs[0].shape == (2, 3, 32, 16)
    assert a.inputs[0].dynamic == ("batch", "h", "w")  # still reported as dynamic in the model
    assert a.outputs[0].shape == (2, 4, 32, 16)
    assert a.macs == conv_macs(2, 32, 16)


def test_input_shapes_accept_tuples():
    a = analyze(dynamic_conv(), {"x": (1, 3, 4, 4)})
    assert a.macs == conv_macs(1, 4, 4)


def test_unnamed_dynamic_dim_is_keyed_by_input_and_axis():
    a = analyze(dynamic_conv((None, 3, 5, 5)))
    assert a.assumed_dims == {"x.0": 1}
    assert "dynamic dim 0 of input 'x' assumed 1; pass input_shapes" in a.warnings


def test_a_named_dim_given_for_one_input_applies_to_the_others():
    node = helper.make_node("Add", ["ids", "mask"], ["out"])
    m = b.model(
        [node], [b.vi("ids", ("batch", "seq")), b.vi("mask", ("batch", "seq"))], [b.vi("out", None)]
    )
    a = analyze(m, {"ids": [2, 128]})
    assert a.inputs[1].shape == (2, 128)
    assert a.assumed_dims == {}
    assert a.nodes[0].flops == 256


def test_input_without_shape_is_reported():
    node = helper.make_node("Relu", ["x"], ["y"])
    m = b.model([node], [b.vi("x", None)], [b.vi("y", None)])
    a = analyze(m)
    assert a.inputs[0].shape is None
    assert any("input 'x' has no shape" in w for w in a.warnings)
    assert analyze(m, {"x": [3, 5]}).nodes[0].flops == 15


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ({"nope": [1, 3, 4, 4]}, "'nope', which is not an input of the model; its inputs are: x"),
        ({"W": [4, 3, 3, 3]}, "'W', which is a weight \\(initializer\\)"),
        ({"x": [1, 3, 4]}, "has rank 3; the model's input 'x' has rank 4"),
        ({"x": [1, 3, 0, 4]}, "every dim must be a positive int, got 0"),
        ({"x": [1, 3, -2, 4]}, "every dim must be a positive int, got -2"),
        ({"x": [1, 3, 2.5, 4]}, "every dim must be a positive int, got 2.5"),
        ({"x": [1, 3, True, 4]}, "every dim must be a positive int, got True"),
        ({"x": "1,3,4,4"}, "must be a sequence of positive ints"),
        ({"x": 4}, "must be a sequence of positive ints"),
        ({"x": [1, 5, 4, 4]}, "dim 1 is fixed to 3 by the model, got 5"),
        ([("x", [1, 3, 4, 4])], "input_shapes must map input names to shapes"),
    ],
)
def test_bad_input_shapes(shapes, message):
    with pytest.raises(ModelError, match=message) as info:
        analyze(dynamic_conv(), shapes)
    assert info.value.source == "g"


@pytest.mark.parametrize("default_dim", [0, -1, 1.5, True])
def test_bad_default_dim(default_dim):
    with pytest.raises(ModelError, match="default_dim must be a positive int"):
        analyze(dynamic_conv(), default_dim=default_dim)
