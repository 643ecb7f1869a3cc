"""Parameter counting: what is a weight, what is plumbing, IR 3 inputs, dtypes."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from pytest_edgegate.analysis import analyze

from . import builders as b
from .builders import I8


def test_initializers_count_and_shape_tensors_do_not():
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["m"]),
        helper.make_node("Reshape", ["m", "shape"], ["y"]),
    ]
    m = b.model(
        nodes,
        [b.vi("x", (2, 4))],
        [b.vi("y", None)],
        [b.init("W", (4, 6)), b.ints("shape", [3, 4])],
    )
    a = analyze(m)
    assert a.params == 24
    assert a.param_bytes == 96
    assert a.params_by_dtype == {"float32": 24}
    assert a.nodes[1].output_shapes == ((3, 4),)


def test_constant_and_constant_of_shape_weights_count():
    # The onnx light models build every weight like this: ConstantOfShape(int64 dims).
    w_value = helper.make_tensor("v", TensorProto.FLOAT16, [1], [0.0])
    nodes = [
        helper.make_node("ConstantOfShape", ["w_shape"], ["W"], value=w_value),
        helper.make_node(
            "Constant", [], ["bias"], value=numpy_helper.from_array(np.zeros(5, np.float32))
        ),
        helper.make_node("Cast", ["x"], ["xh"], to=TensorProto.FLOAT16),
        helper.make_node("MatMul", ["xh", "W"], ["m"]),
        helper.make_node("Cast", ["m"], ["mf"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["mf", "bias"], ["y"]),
    ]
    m = b.model(nodes, [b.vi("x", (2, 3))], [b.vi("y", None)], [b.ints("w_shape", [3, 5])])
    a = analyze(m)
    assert a.params == 15 + 5
    assert a.params_by_dtype == {"float16": 15, "float32": 5}
    assert a.param_bytes_by_dtype == {"float16": 30, "float32": 20}
    assert a.macs == 2 * 5 * 3
    constant_of_shape = a.nodes[0]
    assert constant_of_shape.folded and constant_of_shape.bytes_written == 0
    matmul = next(n for n in a.nodes if n.op_type == "MatMul")
    assert matmul.weight_bytes == 30


def test_ir3_initializers_listed_as_inputs_are_weights_not_inputs():
    node = helper.make_node("MatMul", ["x", "W"], ["y"])
    m = b.model(
        [node],
        [b.vi("x", (2, 4)), b.vi("W", (4, 3))],
        [b.vi("y", None)],
        [b.init("W", (4, 3))],
        ir_version=3,
        opset=8,
    )
    a = analyze(m)
    assert [t.name for t in a.inputs] == ["x"]
    assert a.params == 12
    assert a.macs == 24


def test_initializer_backed_input_in_recent_ir_is_a_weight_too():
    # keep_initializers_as_inputs=True exports: an overridable default is still a weight.
    node = helper.make_node("MatMul", ["x", "W"], ["y"])
    m = b.model(
        [node],
        [b.vi("x", (2, 4)), b.vi("W", (4, 3))],
        [b.vi("y", None)],
        [b.init("W", (4, 3))],
        ir_version=8,
    )
    a = analyze(m)
    assert [t.name for t in a.inputs] == ["x"]
    assert a.params == 12


def test_unused_initializer_still_counts():
    node = helper.make_node("Relu", ["x"], ["y"])
    m = b.model([node], [b.vi("x", (2,))], [b.vi("y", None)], [b.init("unused", (7,))])
    assert analyze(m).params == 7


def test_derived_weights_are_not_counted_twice():
    # Caffe-style scale: Unsqueeze(gamma) then Mul; the Unsqueeze runs at load time.
    nodes = [
        helper.make_node("Unsqueeze", ["gamma", "axes"], ["g4"]),
        helper.make_node("Mul", ["x", "g4"], ["y"]),
    ]
    m = b.model(
        nodes,
        [b.vi("x", (1, 8, 2, 2))],
        [b.vi("y", None)],
        [b.init("gamma", (8,)), b.ints("axes", [1, 2])],
    )
    a = analyze(m)
    assert a.params == 8
    unsqueeze, mul = a.nodes
    assert unsqueeze.folded and (unsqueeze.flops, unsqueeze.bytes_read) == (0, 0)
    assert mul.weight_bytes == 32
    assert mul.flops == 32


def test_int8_weights_by_dtype():
    a = analyze(b.qdq_conv_model(w_elem=I8))
    assert a.params_by_dtype["int8"] == 108 + 1  # weight + its zero point
    assert a.param_bytes_by_dtype["int8"] == 109
    assert a.params_by_dtype["float32"] == 3  # three scales
    assert a.params_by_dtype["uint8"] == 2  # activation zero points


def test_int4_weights_are_packed_two_per_byte():
    w = helper.make_tensor("Wq", TensorProto.INT4, [4, 8], [0] * 32)
    nodes = [
        helper.make_node("DequantizeLinear", ["Wq", "s"], ["W"]),
        helper.make_node("MatMul", ["x", "W"], ["y"]),
    ]
    m = b.model(
        nodes,
        [b.vi("x", (1, 4))],
        [b.vi("y", None)],
        [w, b.scalar("s", 0.1)],
        opset=21,
        ir_version=10,
    )
    a = analyze(m)
    assert a.params_by_dtype == {"int4": 32, "float32": 1}
    assert a.param_bytes_by_dtype["int4"] == 16
    assert a.nodes[1].weight_bytes == 16  # read at the stored precision
    assert a.is_quantized
    assert a.nodes[1].compute_dtype == "float32"  # weight-only quantization
    assert a.macs == 32
