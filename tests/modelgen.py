"""Small ONNX models built in code for the plugin's tests.

Kept as plain functions (not fixtures) so pytester-generated test files can import them too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_model(channels: int = 8, hw: int = 16, kernel: int = 3, seed: int = 0) -> onnx.ModelProto:
    """Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm(10): a tiny image classifier.

    Conv MACs = hw*hw*channels*3*kernel*kernel; Gemm MACs = channels*10.
    """
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((channels, 3, kernel, kernel)).astype(np.float32)
    b = np.zeros(channels, np.float32)
    fc = rng.standard_normal((10, channels)).astype(np.float32)
    fcb = np.zeros(10, np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[kernel // 2] * 4, name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc", "fcb"], ["y"], transB=1, name="fc"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, hw, hw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        initializer=[
            numpy_helper.from_array(w, "w"),
            numpy_helper.from_array(b, "b"),
            numpy_helper.from_array(fc, "fc"),
            numpy_helper.from_array(fcb, "fcb"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def big_dense_model(params_millions: float = 2.0) -> onnx.ModelProto:
    """A single MatMul with about ``params_millions`` float32 weights (4 bytes each)."""
    cols = 1000
    rows = max(1, int(params_millions * 1e6 / cols))
    w = np.zeros((rows, cols), np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="dense")],
        "big_dense",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, rows])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cols])],
        initializer=[numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def save(model: onnx.ModelProto, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def with_external_location(model: onnx.ModelProto, location: str) -> onnx.ModelProto:
    """Point the first initializer at external data ``location`` (for path-escape tests)."""
    from onnx.external_data_helper import set_external_data

    model = onnx.ModelProto.FromString(model.SerializeToString())
    tensor = model.graph.initializer[0]
    size = len(numpy_helper.to_array(tensor).tobytes())
    set_external_data(tensor, location=location, offset=0, length=size)
    tensor.data_location = TensorProto.EXTERNAL
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    return model
