"""Small ONNX models for the runner's tests, built in code.

IR version 8 and opset 13: onnx 1.23 stamps IR 14 by default, which onnxruntime 1.31 refuses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: RunSpec settings that keep a run to about half a second: no calibration, no profile.
FAST = dict(calibrate=False, profile_nodes=False, time_cap_s=0.05, warmup=1, timeout_s=60.0)

F32 = TensorProto.FLOAT
I64 = TensorProto.INT64


def _model(nodes, inputs, outputs, initializers=(), opset: int = 13) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def save(model: onnx.ModelProto, path: Path) -> str:
    onnx.save(model, str(path))
    return str(path)


def add_model(shape=(2, 3)) -> onnx.ModelProto:
    """y = relu(x) + x; ``shape`` may hold dim_param names (str) or None."""
    return _model(
        [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "x"], ["y"])],
        [helper.make_tensor_value_info("x", F32, list(shape))],
        [helper.make_tensor_value_info("y", F32, list(shape))],
    )


def two_input_model() -> onnx.ModelProto:
    """x float32 [N, 4] and ids int64 [N]: y = x * cast(ids)[:, None]."""
    return _model(
        [
            helper.make_node("Cast", ["ids"], ["f"], to=F32),
            helper.make_node("Unsqueeze", ["f", "axes"], ["u"]),
            helper.make_node("Mul", ["x", "u"], ["y"]),
        ],
        [
            helper.make_tensor_value_info("x", F32, ["N", 4]),
            helper.make_tensor_value_info("ids", I64, ["N"]),
        ],
        [helper.make_tensor_value_info("y", F32, ["N", 4])],
        [numpy_helper.from_array(np.array([1], np.int64), "axes")],
    )


def unknown_op_model() -> onnx.ModelProto:
    """An operator that does not exist in the default domain."""
    return _model(
        [helper.make_node("TotallyNotAnOp", ["x"], ["y"])],
        [helper.make_tensor_value_info("x", F32, [2])],
        [helper.make_tensor_value_info("y", F32, [2])],
    )


def future_opset_model() -> onnx.ModelProto:
    """A plain Relu stamped with an opset far beyond any onnxruntime."""
    return _model(
        [helper.make_node("Relu", ["x"], ["y"])],
        [helper.make_tensor_value_info("x", F32, [2])],
        [helper.make_tensor_value_info("y", F32, [2])],
        opset=99,
    )


def memory_hog_model(tensor_mb: int = 300) -> onnx.ModelProto:
    """Expand a scalar to ``tensor_mb`` MB of float32, add, reduce: two such tensors live."""
    n = tensor_mb * 1_000_000 // 4
    return _model(
        [
            helper.make_node("Expand", ["x", "shape"], ["e"]),
            helper.make_node("Add", ["e", "x"], ["a"]),
            helper.make_node("ReduceSum", ["a"], ["y"], keepdims=0),
        ],
        [helper.make_tensor_value_info("x", F32, [1])],
        [helper.make_tensor_value_info("y", F32, [])],
        [numpy_helper.from_array(np.array([n], np.int64), "shape")],
    )


def endless_loop_model() -> onnx.ModelProto:
    """A Loop whose trip count (2^62) no machine finishes: y counts its iterations."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["acc_in", "one"], ["acc_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", I64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_in", F32, [1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_out", F32, [1]),
        ],
        [numpy_helper.from_array(np.ones(1, np.float32), "one")],
    )
    return _model(
        [helper.make_node("Loop", ["trip", "cond", "x"], ["y"], body=body)],
        [helper.make_tensor_value_info("x", F32, [1])],
        [helper.make_tensor_value_info("y", F32, [1])],
        [
            numpy_helper.from_array(np.array(2**62, np.int64), "trip"),
            numpy_helper.from_array(np.array(True), "cond"),
        ],
    )


def reshape_model() -> onnx.ModelProto:
    """Reshape x [3, 4] to the shape given as input ``s``: a bad ``s`` fails only at run time."""
    return _model(
        [helper.make_node("Reshape", ["x", "s"], ["y"])],
        [
            helper.make_tensor_value_info("x", F32, [3, 4]),
            helper.make_tensor_value_info("s", I64, [2]),
        ],
        [helper.make_tensor_value_info("y", F32, None)],
    )
