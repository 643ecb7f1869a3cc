"""Small ONNX models built in code for the analysis tests (nothing is downloaded)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LIGHT_DIR = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")

F = TensorProto.FLOAT
I64 = TensorProto.INT64
U8 = TensorProto.UINT8
I8 = TensorProto.INT8
I32 = TensorProto.INT32


def light(name: str) -> str:
    """Path of an onnx 'light' model, e.g. ``light("resnet50")``."""
    return os.path.join(LIGHT_DIR, f"light_{name}.onnx")


def vi(name: str, shape: Sequence[int | str | None] | None, elem: int = F):
    return helper.make_tensor_value_info(name, elem, None if shape is None else list(shape))


def init(name: str, shape: Sequence[int], elem: int = F, value: float = 0.0):
    """An initializer of the given shape filled with ``value``."""
    dtype = helper.tensor_dtype_to_np_dtype(elem)
    return numpy_helper.from_array(np.full(tuple(shape), value, dtype=dtype), name)


def ints(name: str, values: Sequence[int]):
    return numpy_helper.from_array(np.array(list(values), dtype=np.int64), name)


def scalar(name: str, value, elem: int = F):
    dtype = helper.tensor_dtype_to_np_dtype(elem)
    return numpy_helper.from_array(np.array(value, dtype=dtype), name)


def model(
    nodes,
    inputs,
    outputs,
    initializers=(),
    *,
    opset: int = 17,
    extra_opsets: dict[str, int] | None = None,
    ir_version: int | None = None,
    value_info=(),
    name: str = "g",
) -> onnx.ModelProto:
    graph = helper.make_graph(
        list(nodes),
        name,
        list(inputs),
        list(outputs),
        list(initializers),
        value_info=list(value_info),
    )
    opsets = [helper.make_opsetid("", opset)]
    for domain, version in (extra_opsets or {}).items():
        opsets.append(helper.make_opsetid(domain, version))
    m = helper.make_model(graph, opset_imports=opsets)
    m.ir_version = ir_version if ir_version is not None else 8
    return m


def save(m: onnx.ModelProto, path) -> str:
    """Write the serialized model as is (``onnx.save`` would rewrite external data)."""
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return str(path)


def conv_model(
    x_shape=(1, 3, 8, 8), w_shape=(4, 3, 3, 3), *, bias: bool = True, **attrs
) -> onnx.ModelProto:
    inputs = ["X", "W"] + (["B"] if bias else [])
    inits = [init("W", w_shape)] + ([init("B", (w_shape[0],))] if bias else [])
    node = helper.make_node("Conv", inputs, ["Y"], **attrs)
    return model([node], [vi("X", x_shape)], [vi("Y", None)], inits)


def external_model(
    directory, location: str, *, write_data: bool = True, data_bytes: int | None = None
) -> str:
    """A Conv model whose weight W (4x3x3x3 float) lives in external file ``location``."""
    w = TensorProto(name="W", data_type=F, dims=[4, 3, 3, 3])
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "432")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    node = helper.make_node("Conv", ["X", "W"], ["Y"])
    m = model([node], [vi("X", (1, 3, 8, 8))], [vi("Y", (1, 4, 6, 6))], [w])
    if write_data:
        target = os.path.join(directory, location)
        with open(target, "wb") as f:
            f.write(b"\0" * (432 if data_bytes is None else data_bytes))
    return save(m, os.path.join(directory, "model.onnx"))


def qdq_conv_model(act_elem: int = U8, w_elem: int = I8) -> onnx.ModelProto:
    """x -Q-> DQ -> Conv(W from DQ of an int8 initializer) -> Q -> DQ: a QDQ model."""
    nodes = [
        helper.make_node("QuantizeLinear", ["X", "xs", "xz"], ["Xq"]),
        helper.make_node("DequantizeLinear", ["Xq", "xs", "xz"], ["Xf"]),
        helper.make_node("DequantizeLinear", ["Wq", "ws", "wz"], ["Wf"]),
        helper.make_node("Conv", ["Xf", "Wf"], ["Y"], kernel_shape=[3, 3]),
        helper.make_node("QuantizeLinear", ["Y", "ys", "yz"], ["Yq"]),
        helper.make_node("DequantizeLinear", ["Yq", "ys", "yz"], ["Z"]),
    ]
    inits = [
        scalar("xs", 0.1),
        scalar("xz", 0, act_elem),
        init("Wq", (4, 3, 3, 3), w_elem),
        scalar("ws", 0.1),
        scalar("wz", 0, w_elem),
        scalar("ys", 0.1),
        scalar("yz", 0, act_elem),
    ]
    return model(nodes, [vi("X", (1, 3, 8, 8))], [vi("Z", (1, 4, 6, 6))], inits, opset=13)


def qlinear_conv_model() -> onnx.ModelProto:
    node = helper.make_node(
        "QLinearConv",
        ["X", "xs", "xz", "W", "ws", "wz", "ys", "yz", "B"],
        ["Y"],
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
    )
    inits = [
        scalar("xs", 0.1),
        scalar("xz", 0, U8),
        init("W", (8, 4, 3, 3), I8),
        scalar("ws", 0.1),
        scalar("wz", 0, I8),
        scalar("ys", 0.1),
        scalar("yz", 0, U8),
        init("B", (8,), I32),
    ]
    return model([node], [vi("X", (1, 4, 5, 5), U8)], [vi("Y", (1, 8, 5, 5), U8)], inits)


def tree_classifier_model(ml_opset: int = 3) -> onnx.ModelProto:
    """sklearn-style classifier: TreeEnsembleClassifier then ZipMap (a sequence of maps)."""
    tree = helper.make_node(
        "TreeEnsembleClassifier",
        ["X"],
        ["label", "probabilities"],
        domain="ai.onnx.ml",
        nodes_treeids=[0, 0, 0],
        nodes_nodeids=[0, 1, 2],
        nodes_featureids=[0, 0, 0],
        nodes_values=[0.5, 0.0, 0.0],
        nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"],
        nodes_truenodeids=[1, 0, 0],
        nodes_falsenodeids=[2, 0, 0],
        class_treeids=[0, 0],
        class_nodeids=[1, 2],
        class_ids=[0, 1],
        class_weights=[1.0, 1.0],
        classlabels_int64s=[0, 1],
    )
    zipmap = helper.make_node(
        "ZipMap",
        ["probabilities"],
        ["output_probability"],
        domain="ai.onnx.ml",
        classlabels_int64s=[0, 1],
    )
    seq_map = helper.make_sequence_type_proto(
        helper.make_map_type_proto(I64, helper.make_tensor_type_proto(F, []))
    )
    out_prob = helper.make_value_info("output_probability", seq_map)
    return model(
        [tree, zipmap],
        [vi("X", ("N", 3))],
        [vi("label", ("N",), I64), out_prob],
        opset=17,
        extra_opsets={"ai.onnx.ml": ml_opset},
    )


def fused_conv_model() -> onnx.ModelProto:
    """com.microsoft FusedConv -> Relu -> com.microsoft FusedMatMul: ONNX infers none of it."""
    nodes = [
        helper.make_node(
            "FusedConv",
            ["X", "W", "B"],
            ["C"],
            domain="com.microsoft",
            kernel_shape=[3, 3],
            pads=[1, 1, 1, 1],
            activation="Relu",
        ),
        helper.make_node("Relu", ["C"], ["R"]),
        helper.make_node("Flatten", ["R"], ["F"]),
        helper.make_node("FusedMatMul", ["F", "M"], ["Y"], domain="com.microsoft", alpha=1.0),
    ]
    inits = [init("W", (8, 3, 3, 3)), init("B", (8,)), init("M", (8 * 4 * 4, 10))]
    return model(
        nodes, [vi("X", (1, 3, 4, 4))], [vi("Y", (1, 10))], inits, extra_opsets={"com.microsoft": 1}
    )


def loop_model(trip_count: int | None = 5) -> onnx.ModelProto:
    """Loop whose body does x = x @ W (4x4) each iteration, on x of shape (2, 4)."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["c_in"], ["c_out"]),
            helper.make_node("MatMul", ["x_in", "Wl"], ["x_out"]),
        ],
        "body",
        [vi("i", [], I64), vi("c_in", [], TensorProto.BOOL), vi("x_in", None)],
        [vi("c_out", [], TensorProto.BOOL), vi("x_out", None)],
    )
    inputs = [vi("x0", (2, 4))]
    inits = [init("Wl", (4, 4)), scalar("cond", True, TensorProto.BOOL)]
    if trip_count is None:
        inputs.append(vi("M", [], I64))
    else:
        inits.append(scalar("M", trip_count, I64))
    node = helper.make_node("Loop", ["M", "cond", "x0"], ["xf"], body=body, name="loop_0")
    return model([node], inputs, [vi("xf", (2, 4))], inits)


def if_model() -> onnx.ModelProto:
    """If: then = (1x8)@(8x8) MatMul, else = Relu; the then branch is the costlier one."""
    then_g = helper.make_graph(
        [helper.make_node("MatMul", ["X", "Wt"], ["t_out"])], "then", [], [vi("t_out", (1, 8))]
    )
    else_g = helper.make_graph(
        [helper.make_node("Relu", ["X"], ["e_out"])], "else", [], [vi("e_out", (1, 8))]
    )
    node = helper.make_node(
        "If", ["cond"], ["Y"], then_branch=then_g, else_branch=else_g, name="if_0"
    )
    return model(
        [node],
        [vi("X", (1, 8)), vi("cond", [], TensorProto.BOOL)],
        [vi("Y", (1, 8))],
        [init("Wt", (8, 8))],
    )


def scan_model(steps: int = 6) -> onnx.ModelProto:
    """Scan over ``steps`` rows of X (steps, 4): state s = s + x_t @ W (4x4)."""
    body = helper.make_graph(
        [
            helper.make_node("MatMul", ["x_t", "Ws"], ["p"]),
            helper.make_node("Add", ["s_in", "p"], ["s_out"]),
            helper.make_node("Identity", ["s_out"], ["y_t"]),
        ],
        "scan_body",
        [vi("s_in", (1, 4)), vi("x_t", (1, 4))],
        [vi("s_out", (1, 4)), vi("y_t", (1, 4))],
    )
    node = helper.make_node(
        "Scan", ["s0", "X"], ["s_final", "Ys"], body=body, num_scan_inputs=1, name="scan_0"
    )
    return model(
        [node],
        [vi("s0", (1, 4)), vi("X", (steps, 1, 4))],
        [vi("s_final", (1, 4)), vi("Ys", (steps, 1, 4))],
        [init("Ws", (4, 4))],
    )


def externalize(tensor: TensorProto, directory, location: str) -> TensorProto:
    """Move ``tensor``'s data to ``directory/location`` and point the tensor at it."""
    raw = numpy_helper.to_array(tensor).tobytes()
    with open(os.path.join(directory, location), "wb") as f:
        f.write(raw)
    out = TensorProto(name=tensor.name, data_type=tensor.data_type, dims=tensor.dims)
    out.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(len(raw)))):
        entry = out.external_data.add()
        entry.key, entry.value = key, value
    return out
