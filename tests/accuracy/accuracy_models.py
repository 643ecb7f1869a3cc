"""Small ONNX models for the accuracy tests, built in code with ``onnx.helper``.

The classifier's weights are chosen so that its accuracy on :func:`blobs` is known: class
``c`` samples are ``one_hot(c) * 3 + noise``, and the identity-like weights pick the
largest coordinate.  "Quantized" variants mimic onnxruntime's QDQ naming by hand, so the
layer matching is tested on exactly the names quantize_static writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


def _model(nodes, inputs, outputs, inits, name="test") -> onnx.ModelProto:
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=OPSET)
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def save(model: onnx.ModelProto, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return str(path)


def blobs(n: int, classes: int = 4, seed: int = 0, noise: float = 1.0):
    """``x`` float32 ``[n, classes]`` and ``y`` int64 ``[n]``: separable-ish blobs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = np.eye(classes, dtype=np.float32)[y] * 3 + rng.standard_normal((n, classes)) * noise
    return x.astype(np.float32), y.astype(np.int64)


def mlp(
    classes: int = 4,
    hidden_scale: float = 1.0,
    batch: int | str = "N",
    crush_fc2: bool = False,
    out_classes: int | None = None,
) -> onnx.ModelProto:
    """x [batch, C] -> fc1 (identity * hidden_scale) -> relu1 -> fc2 (identity) -> logits.

    ``crush_fc2`` replaces fc2's weights by a badly damaged copy (the "over-compressed"
    variant); ``out_classes`` changes the output width (a mismatched model).
    """
    out_c = out_classes or classes
    w1 = np.eye(classes, dtype=np.float32) * hidden_scale
    w2 = np.eye(classes, out_c, dtype=np.float32)
    if crush_fc2:
        w2 = np.roll(w2, 1, axis=1) * 0.7 + w2 * 0.3
    nodes = [
        helper.make_node("MatMul", ["x", "fc1.w"], ["fc1.out"], name="fc1"),
        helper.make_node("Relu", ["fc1.out"], ["relu1.out"], name="relu1"),
        helper.make_node("MatMul", ["relu1.out", "fc2.w"], ["logits"], name="fc2"),
    ]
    return _model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, classes])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, out_c])],
        [numpy_helper.from_array(w1, "fc1.w"), numpy_helper.from_array(w2, "fc2.w")],
    )


def _qdq(nodes, inits, tensor: str, scale: float, out: str | None = None) -> str:
    """Q + DQ of ``tensor`` with onnxruntime's names; returns the dequantized name."""
    inits.append(numpy_helper.from_array(np.asarray(scale, np.float32), f"{tensor}_scale"))
    inits.append(numpy_helper.from_array(np.asarray(0, np.int8), f"{tensor}_zero_point"))
    q = f"{tensor}_QuantizeLinear_Output"
    dq = out or f"{tensor}_DequantizeLinear_Output"
    nodes.append(
        helper.make_node(
            "QuantizeLinear",
            [tensor, f"{tensor}_scale", f"{tensor}_zero_point"],
            [q],
            name=f"{tensor}_QuantizeLinear",
        )
    )
    nodes.append(
        helper.make_node(
            "DequantizeLinear",
            [q, f"{tensor}_scale", f"{tensor}_zero_point"],
            [dq],
            name=f"{tensor}_DequantizeLinear",
        )
    )
    return dq


def mlp_qdq(classes: int = 4, relu_scale: float = 0.05, crush_fc2: bool = False):
    """:func:`mlp` as onnxruntime's QDQ quantizer writes it: the input and ``relu1.out``
    quantized, Relu folded into fc1 (which writes ``relu1.out``), the graph output produced
    by a DequantizeLinear, fc2 writing ``logits_QuantizeLinear_Input``.  A large
    ``relu_scale`` crushes the hidden activation."""
    ref = mlp(classes, crush_fc2=crush_fc2)
    inits = list(ref.graph.initializer)
    nodes: list = []
    x_dq = _qdq(nodes, inits, "x", 0.05)
    nodes.append(helper.make_node("MatMul", [x_dq, "fc1.w"], ["fc1.mm"], name="fc1"))
    nodes.append(helper.make_node("Relu", ["fc1.mm"], ["relu1.out"], name="fc1_relu"))
    h_dq = _qdq(nodes, inits, "relu1.out", relu_scale)
    nodes.append(
        helper.make_node("MatMul", [h_dq, "fc2.w"], ["logits_QuantizeLinear_Input"], name="fc2")
    )
    _qdq(nodes, inits, "logits_QuantizeLinear_Input", 0.05, out="logits")
    return _model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", classes])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        inits,
    )


def mlp_qoperator(classes: int = 4) -> onnx.ModelProto:
    """A QOperator-style candidate: ``relu1.out_quantized`` (int8) with
    ``relu1.out_scale``/``relu1.out_zero_point`` initializers, dequantized before fc2 by a
    node that does not follow onnxruntime's DQ naming, so only the scale names match."""
    ref = mlp(classes)
    inits = list(ref.graph.initializer)
    inits.append(numpy_helper.from_array(np.asarray(0.05, np.float32), "relu1.out_scale"))
    inits.append(numpy_helper.from_array(np.asarray(0, np.int8), "relu1.out_zero_point"))
    nodes = [
        helper.make_node("MatMul", ["x", "fc1.w"], ["fc1.out"], name="fc1"),
        helper.make_node("Relu", ["fc1.out"], ["r"], name="relu1"),
        helper.make_node(
            "QuantizeLinear",
            ["r", "relu1.out_scale", "relu1.out_zero_point"],
            ["relu1.out_quantized"],
            name="relu1_quant",
        ),
        helper.make_node("Cast", ["relu1.out_quantized"], ["qf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["qf", "relu1.out_scale"], ["h"], name="dequant"),
        helper.make_node("MatMul", ["h", "fc2.w"], ["logits"], name="fc2"),
    ]
    return _model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", classes])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        inits,
    )


def two_input_model() -> onnx.ModelProto:
    """logits = a + b * 2, inputs ``a`` and ``b`` of shape [N, 3]."""
    two = numpy_helper.from_array(np.asarray(2.0, np.float32), "two")
    nodes = [
        helper.make_node("Mul", ["b", "two"], ["b2"], name="double"),
        helper.make_node("Add", ["a", "b2"], ["logits"], name="add"),
    ]
    return _model(
        nodes,
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 3]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 3]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
        [two],
    )


def scale_model(factor: float, features: int = 4, batch: int | str = "N") -> onnx.ModelProto:
    """y = x * factor: a regressor whose error against ``factor=1`` is known exactly."""
    k = numpy_helper.from_array(np.asarray(factor, np.float32), "k")
    return _model(
        [helper.make_node("Mul", ["x", "k"], ["y"], name="scale")],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, features])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, features])],
        [k],
    )


def memory_hog_model() -> onnx.ModelProto:
    """Expands each sample to a 400 MB tensor, then reduces it: fails any small cap."""
    shape = numpy_helper.from_array(np.asarray([1, 100_000_000], np.int64), "shape")
    nodes = [
        helper.make_node("Expand", ["x", "shape"], ["big"], name="expand"),
        helper.make_node("ReduceSum", ["big"], ["logits"], name="reduce", keepdims=1),
    ]
    return _model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1])],
        [shape],
    )


def wide_sample_model(width: int = 1_000_000) -> onnx.ModelProto:
    """Expands each sample to ``width`` floats (4 MB each by default) and sums them back:
    memory grows with the batch, so a large batch fails a cap that one sample fits."""
    shape = numpy_helper.from_array(np.asarray([1, width], np.int64), "shape")
    nodes = [
        helper.make_node("Expand", ["x", "shape"], ["wide"], name="expand"),
        helper.make_node("ReduceSum", ["wide", "axis"], ["y"], name="reduce", keepdims=1),
    ]
    axis = numpy_helper.from_array(np.asarray([1], np.int64), "axis")
    return _model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
        [shape, axis],
    )
