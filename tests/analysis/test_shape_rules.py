"""Each of edgegate's own shape rules, on the operator ONNX inference cannot shape.

One case per rule of ``analysis.shape_rules.RULES`` (a test below checks that none is left
without one).  ``MatMul`` in a ``Loop`` body is covered by tests/analysis/test_subgraphs.py.
"""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper

from pytest_edgegate.analysis import analyze
from pytest_edgegate.analysis.shape_rules import RULES, broadcast

from . import builders as b

F, U8, I8, BOOL = TensorProto.FLOAT, TensorProto.UINT8, TensorProto.INT8, TensorProto.BOOL
MS = "com.microsoft"


def _scale(name: str) -> TensorProto:
    return b.scalar(name, 0.1)


def _zp(name: str, elem: int = U8) -> TensorProto:
    return b.scalar(name, 0, elem)


def _one(op: str, operands: list, domain: str = MS, opset: int = 17, n_outputs: int = 1, **attrs):
    """Analysis of one node; ``operands`` in input order: (name, shape, elem) for a graph
    input, a TensorProto for an initializer."""
    names, inputs, inits = [], [], []
    for operand in operands:
        if isinstance(operand, TensorProto):
            names.append(operand.name)
            inits.append(operand)
        else:
            names.append(operand[0])
            inputs.append(b.vi(*operand))
    outputs = [f"out{i}" for i in range(n_outputs)]
    node = helper.make_node(op, names, outputs, domain=domain, **attrs)
    opsets = {MS: 1} if domain == MS else None
    m = b.model([node], inputs, [b.vi(o, None) for o in outputs], inits, opset=opset,
                extra_opsets=opsets)  # fmt: skip
    return analyze(m)


def _qlinear_unary(op: str):
    return (op, [("x", (2, 5), U8), _scale("xs"), _zp("xz"), _scale("ys"), _zp("yz")], {})


_SAME_FLOAT = ("Gelu", "FastGelu", "QuickGelu", "SimplifiedLayerNormalization",
               "LayerNormalization")  # fmt: skip
_WITH_SECOND = ("BiasGelu", "BiasAdd", "SkipLayerNormalization",
                "SkipSimplifiedLayerNormalization")  # fmt: skip

#: (op, operands, attributes, expected output shape, expected output dtype)
CASES = [
    ("FusedConv", [("x", (1, 3, 8, 8)), b.init("w", (4, 3, 3, 3))],
     {"pads": [1, 1, 1, 1], "strides": [2, 2], "activation": "Relu"}, (1, 4, 4, 4), "float32"),
    ("QLinearConv",
     [("x", (1, 3, 8, 8), U8), _scale("xs"), _zp("xz"), b.init("w", (4, 3, 3, 3), U8),
      _scale("ws"), _zp("wz"), _scale("ys"), _zp("yz", I8)], {}, (1, 4, 6, 6), "int8"),
    ("FusedGemm", [("a", (5, 2)), b.init("bm", (5, 3))], {"transA": 1}, (2, 3), "float32"),
    ("FusedMatMul", [("a", (2, 3, 4)), b.init("bm", (5, 4))], {"transB": 1}, (2, 3, 5),
     "float32"),
    ("MatMulIntegerToFloat", [("a", (2, 4), U8), b.init("bm", (4, 3), I8), _scale("as"),
                              _scale("bs")], {}, (2, 3), "float32"),
    ("DynamicQuantizeMatMul", [("a", (2, 4)), b.init("bm", (4, 3), I8), _scale("bs")], {},
     (2, 3), "float32"),
    ("MatMulNBits", [("a", (2, 16)), b.init("bq", (8, 1, 8), U8), b.init("bs", (8,))],
     {"K": 16, "N": 8, "bits": 4, "block_size": 16}, (2, 8), "float32"),
    ("Attention", [("x", (1, 5, 12)), b.init("w", (12, 36)), b.init("bias", (36,))],
     {"num_heads": 2}, (1, 5, 12), "float32"),
    ("MultiHeadAttention", [("q", (1, 5, 12)), ("k", (1, 7, 12)), ("v", (1, 7, 16))],
     {"num_heads": 2}, (1, 5, 16), "float32"),
    ("QLinearAdd", [("a", (1, 4, 3, 3), U8), _scale("as"), _zp("az"), ("bv", (1, 4, 1, 1), U8),
                    _scale("bs"), _zp("bz"), _scale("ys"), _zp("yz")], {}, (1, 4, 3, 3),
     "uint8"),
    ("QLinearMul", [("a", (4, 1), U8), _scale("as"), _zp("az"), ("bv", (3,), U8), _scale("bs"),
                    _zp("bz"), _scale("ys"), _zp("yz")], {}, (4, 3), "uint8"),
    (*_qlinear_unary("QLinearSigmoid"), (2, 5), "uint8"),
    (*_qlinear_unary("QLinearLeakyRelu"), (2, 5), "uint8"),
    ("QLinearSoftmax", [("x", (2, 5), U8), _scale("xs"), _zp("xz"), _scale("ys"), _zp("yz")],
     {"axis": -1}, (2, 5), "uint8"),
    ("QLinearAveragePool", [("x", (1, 3, 8, 8), U8), _scale("xs"), _zp("xz"), _scale("ys"),
                            _zp("yz")], {"kernel_shape": [2, 2], "strides": [2, 2]},
     (1, 3, 4, 4), "uint8"),
    ("QLinearGlobalAveragePool", [("x", (1, 8, 8, 3), U8), _scale("xs"), _zp("xz"),
                                  _scale("ys"), _zp("yz")], {"channels_last": 1},
     (1, 1, 1, 3), "uint8"),
    ("QLinearConcat", [_scale("ys"), _zp("yz"), ("x1", (1, 2, 4), U8), _scale("s1"), _zp("z1"),
                       ("x2", (1, 3, 4), U8), _scale("s2"), _zp("z2")], {"axis": 1},
     (1, 5, 4), "uint8"),
    ("QuantizeLinear", [("x", (2, 3)), _scale("s"), _zp("z", I8)], {}, (2, 3), "int8"),
    ("DequantizeLinear", [("x", (2, 3), I8), _scale("s"), _zp("z", I8)], {}, (2, 3),
     "float32"),
    *[(op, [("x", (2, 5, 8))], {}, (2, 5, 8), "float32") for op in _SAME_FLOAT],
    *[(op, [("x", (2, 5, 8)), b.init("y2", (8,))], {}, (2, 5, 8), "float32")
      for op in _WITH_SECOND],
]  # fmt: skip


@pytest.mark.parametrize(("op", "operands", "attrs", "shape", "dtype"), CASES, ids=lambda c: "")
def test_contrib_rule_shapes_what_onnx_cannot(op, operands, attrs, shape, dtype) -> None:
    attrs = dict(attrs)
    a = _one(op, operands, **attrs)
    node = a.nodes[0]
    assert (node.domain, node.op_type) == (MS, op)
    assert node.output_shapes[0] == shape
    assert a.outputs[0].dtype == dtype
    assert not [w for w in a.warnings if "no shape" in w], a.warnings


def test_every_rule_has_a_case() -> None:
    tested = {(MS, case[0]) for case in CASES} | {("", "Dropout"), ("", "MatMul")}
    assert set(RULES) == tested


def test_old_dropout_mask_is_shaped() -> None:
    # Opset 7..9 Dropout (the light models): ONNX leaves the optional mask unshaped.
    a = _one("Dropout", [("x", (2, 3))], domain="", opset=9, n_outputs=2, ratio=0.5)
    assert a.nodes[0].output_shapes == ((2, 3), (2, 3))
    assert [o.dtype for o in a.outputs] == ["float32", "bool"]
    assert a.warnings == ()


def test_broadcast_is_numpy_broadcasting() -> None:
    assert broadcast((4, 1), (3,)) == (4, 3)
    assert broadcast((2, 1, 5), (1, 4, 1), ()) == (2, 4, 5)
    assert broadcast((0,), (1,)) == (0,)
    assert broadcast((2,), (3,)) is None
    assert broadcast((2,), None) is None


def test_inference_without_the_direct_cpp_call_gives_the_same_analysis(monkeypatch) -> None:
    """The analysis calls onnx's C++ inference directly where onnx exposes it; through onnx's
    public ``infer_shapes`` (the fallback) a real network's analysis is the same."""
    from dataclasses import asdict

    from pytest_edgegate.analysis import load_model, shapes

    from .builders import light

    loaded = load_model(light("squeezenet"))
    direct = asdict(analyze(loaded))
    monkeypatch.setattr(shapes, "_infer_bytes", None)
    assert asdict(analyze(loaded)) == direct
