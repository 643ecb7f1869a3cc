"""A float classifier and its int8 QDQ quantization, built in code, with real-looking inputs.

The inputs are "images" in [0, 1]; the candidate quantizes them with the scale a calibration
on such inputs gives (1/255, zero point 0, uint8), as onnxruntime's ``quantize_static`` would,
and its weights per tensor to int8.  On inputs from that range it matches the float model to
about 40 dB; on standard-normal random inputs half of every input is clipped to 0 and the
comparison says nothing about the quantization.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FEATURES, CLASSES = 16, 10


def _weights() -> np.ndarray:
    return np.random.default_rng(7).standard_normal((FEATURES, CLASSES)).astype(np.float32)


def _model(nodes, inits, name: str) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", FEATURES])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", CLASSES])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def float_classifier() -> onnx.ModelProto:
    return _model(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")],
        [numpy_helper.from_array(_weights(), "w")],
        "fp32",
    )


def int8_classifier() -> onnx.ModelProto:
    w = _weights()
    w_scale = np.float32(np.abs(w).max() / 127)
    w_q = np.clip(np.round(w / w_scale), -127, 127).astype(np.int8)
    inits = [
        numpy_helper.from_array(np.array(1 / 255, np.float32), "x_scale"),
        numpy_helper.from_array(np.array(0, np.uint8), "x_zp"),
        numpy_helper.from_array(w_q, "w_quantized"),
        numpy_helper.from_array(np.array(w_scale, np.float32), "w_scale"),
        numpy_helper.from_array(np.array(0, np.int8), "w_zp"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zp"], ["x_q"], name="x_quant"),
        helper.make_node("DequantizeLinear", ["x_q", "x_scale", "x_zp"], ["x_dq"], name="x_deq"),
        helper.make_node(
            "DequantizeLinear", ["w_quantized", "w_scale", "w_zp"], ["w_dq"], name="w_deq"
        ),
        helper.make_node("MatMul", ["x_dq", "w_dq"], ["y"], name="fc"),
    ]
    return _model(nodes, inits, "int8")


def real_inputs(n: int = 450, seed: int = 1) -> np.ndarray:
    """``n`` samples in [0, 1], the range the candidate was calibrated on."""
    return np.random.default_rng(seed).random((n, FEATURES), dtype=np.float32)
