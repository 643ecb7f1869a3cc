"""The valid models the fuzzer starts from: onnx's light models and small models built here.

The light models (``onnx/backend/test/data/light/``) are real architectures whose weights are
generated at load time by ``ConstantOfShape``; they are analysed, never run (a run would
materialise hundreds of MB of weights).  The models built here are small enough to run in a
fraction of a second, and each exercises a structure the analysis treats specially: control
flow, model-local functions, quantization, dynamic dimensions, several inputs and external
data.  Every builder is deterministic.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


@dataclass(frozen=True)
class Base:
    """A starting model: ``small`` ones may be run (``--edge-measure``), the others not."""

    name: str
    build: Callable[[], onnx.ModelProto]
    small: bool


def _model(graph: onnx.GraphProto, **kwargs) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=kwargs.pop("opsets", OPSET), **kwargs)
    model.ir_version = 8
    model.producer_name = "edgegate-fuzz"
    return model


def _init(name: str, shape: tuple[int, ...], seed: int, dtype=np.float32) -> TensorProto:
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.1).astype(dtype), name)


def conv() -> onnx.ModelProto:
    """Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm: a tiny image classifier."""
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc", "fcb"], ["y"], transB=1, name="fc"),
    ]
    graph = helper.make_graph(
        nodes,
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [
            _init("w", (8, 3, 3, 3), 1),
            _init("b", (8,), 2),
            _init("fc", (10, 8), 3),
            _init("fcb", (10,), 4),
        ],
    )
    return _model(graph)


def mlp() -> onnx.ModelProto:
    """MatMul -> Add -> Relu -> MatMul with a dynamic batch dimension."""
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"),
        helper.make_node("Add", ["h", "b1"], ["hb"], name="add1"),
        helper.make_node("Relu", ["hb"], ["r"], name="relu"),
        helper.make_node("MatMul", ["r", "w2"], ["y"], name="mm2"),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 10])],
        [_init("w1", (32, 64), 5), _init("b1", (64,), 6), _init("w2", (64, 10), 7)],
    )
    return _model(graph)


def branches() -> onnx.ModelProto:
    """An ``If`` on a flag, each branch a small subgraph, and a ``Loop`` of three steps."""
    then_g = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["t"], name="then_relu")],
        "then",
        [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [1, 16])],
    )
    else_g = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["e"], name="else_neg")],
        "else",
        [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, [1, 16])],
    )
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"], name="body_cond"),
            helper.make_node("Add", ["acc_in", "one"], ["acc_out"], name="body_add"),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [1, 16]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [1, 16]),
        ],
        [numpy_helper.from_array(np.ones((1, 16), np.float32), "one")],
    )
    nodes = [
        helper.make_node("If", ["flag"], ["branch"], then_branch=then_g, else_branch=else_g),
        helper.make_node("Loop", ["trips", "true", "branch"], ["y"], body=body, name="loop"),
    ]
    graph = helper.make_graph(
        nodes,
        "branches",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16]),
            helper.make_tensor_value_info("flag", TensorProto.BOOL, []),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])],
        [
            numpy_helper.from_array(np.array(3, np.int64), "trips"),
            numpy_helper.from_array(np.array(True), "true"),
        ],
    )
    return _model(graph)


def qdq() -> onnx.ModelProto:
    """A QDQ-quantized Conv (QuantizeLinear / DequantizeLinear around an int8 weight)."""
    w = np.random.default_rng(8).integers(-100, 100, (4, 3, 3, 3)).astype(np.int8)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q"),
        helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"], name="dq"),
        helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], name="wdq"),
        helper.make_node("Conv", ["xd", "wd"], ["y"], name="conv"),
    ]
    graph = helper.make_graph(
        nodes,
        "qdq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6, 6])],
        [
            numpy_helper.from_array(np.array(0.05, np.float32), "s"),
            numpy_helper.from_array(np.array(0, np.int8), "z"),
            numpy_helper.from_array(w, "wq"),
            numpy_helper.from_array(np.array(0.01, np.float32), "ws"),
            numpy_helper.from_array(np.array(0, np.int8), "wz"),
        ],
    )
    return _model(graph)


def function() -> onnx.ModelProto:
    """A model-local function (``local.Scale``) called twice."""
    fn = helper.make_function(
        "local",
        "Scale",
        ["a"],
        ["b"],
        [
            helper.make_node("Constant", [], ["k"], value_float=2.0),
            helper.make_node("Mul", ["a", "k"], ["b"]),
        ],
        OPSET,
    )
    nodes = [
        helper.make_node("Scale", ["x"], ["h"], domain="local", name="s1"),
        helper.make_node("Scale", ["h"], ["y"], domain="local", name="s2"),
    ]
    graph = helper.make_graph(
        nodes,
        "function",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])],
    )
    return _model(graph, opsets=[*OPSET, helper.make_opsetid("local", 1)], functions=[fn])


def two_inputs() -> onnx.ModelProto:
    """Two inputs sharing a named dimension, concatenated then reduced."""
    nodes = [
        helper.make_node("Concat", ["a", "b"], ["c"], axis=1, name="concat"),
        helper.make_node("ReduceMean", ["c"], ["y"], keepdims=1, name="mean"),
    ]
    graph = helper.make_graph(
        nodes,
        "two_inputs",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, ["n", 4]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, ["n", 6]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
    )
    return _model(graph)


def constants() -> onnx.ModelProto:
    """Weights produced at load time by ``Constant`` and ``ConstantOfShape``, then Reshape."""
    nodes = [
        helper.make_node(
            "Constant", [], ["shape"], value=numpy_helper.from_array(np.array([4, 8], np.int64))
        ),
        helper.make_node(
            "ConstantOfShape",
            ["shape"],
            ["w"],
            value=numpy_helper.from_array(np.array([0.5], np.float32)),
        ),
        helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
        helper.make_node(
            "Constant", [], ["newshape"], value=numpy_helper.from_array(np.array([-1], np.int64))
        ),
        helper.make_node("Reshape", ["m", "newshape"], ["y"], name="reshape"),
    ]
    graph = helper.make_graph(
        nodes,
        "constants",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [16])],
    )
    return _model(graph)


BUILT: tuple[Base, ...] = (
    Base("conv", conv, True),
    Base("mlp", mlp, True),
    Base("branches", branches, True),
    Base("qdq", qdq, True),
    Base("function", function, True),
    Base("two_inputs", two_inputs, True),
    Base("constants", constants, True),
)


def light_dir() -> str:
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")


def _light(path: str) -> Callable[[], onnx.ModelProto]:
    def load() -> onnx.ModelProto:
        return onnx.load(path)

    return load


def light_models() -> tuple[Base, ...]:
    """The onnx package's light models (none when this onnx build ships no test data)."""
    paths = sorted(glob.glob(os.path.join(light_dir(), "*.onnx")))
    return tuple(Base(os.path.basename(p).removesuffix(".onnx"), _light(p), False) for p in paths)


def all_bases() -> tuple[Base, ...]:
    return BUILT + light_models()


_CACHE: dict[str, bytes] = {}


def serialized(base: Base) -> bytes:
    """The base model's bytes, built once per process."""
    if base.name not in _CACHE:
        model = base.build()
        onnx.checker.check_model(model)
        _CACHE[base.name] = model.SerializeToString()
    return _CACHE[base.name]
