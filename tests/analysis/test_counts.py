"""MAC and FLOP rules, one operator at a time, on models built with onnx.helper."""

from __future__ import annotations

import pytest
from onnx import helper

from pytest_edgegate.analysis import analyze

from . import builders as b
from .builders import I32, U8


def one_node(op, inputs, initializers=(), *, n_outputs=1, domain="", opsets=None, **attrs):
    """A graph of one node; ``inputs`` are (name, shape[, elem]) of the real inputs."""
    names = [i[0] for i in inputs] + [t.name for t in initializers]
    outputs = [f"out{i}" for i in range(n_outputs)]
    node = helper.make_node(op, names, outputs, domain=domain, **attrs)
    vis = [b.vi(*i) for i in inputs]
    m = b.model([node], vis, [b.vi(o, None) for o in outputs], initializers, extra_opsets=opsets)
    return analyze(m)


def only(a):
    (node,) = [n for n in a.nodes if not n.folded]
    return node


# ----------------------------------------------------------------------------- convolutions


def test_conv2d_with_bias():
    a = analyze(b.conv_model())
    n = only(a)
    assert n.output_shapes == ((1, 4, 6, 6),)
    assert n.macs == a.macs == 144 * 27
    assert n.flops == a.flops == 2 * 144 * 27 + 144  # the bias adds one FLOP per output
    assert n.op_class == "conv"
    assert n.attrs == {
        "kernel_shape": [3, 3],
        "strides": [1, 1],
        "dilations": [1, 1],
        "pads": [0, 0, 0, 0],
        "group": 1,
    }
    assert n.weight_bytes == (108 + 4) * 4
    assert n.bytes_read == (192 + 108 + 4) * 4
    assert n.bytes_written == 144 * 4


def test_conv1d_strided():
    a = analyze(b.conv_model((1, 2, 10), (5, 2, 3), bias=False, strides=[2]))
    assert only(a).output_shapes == ((1, 5, 4),)
    assert a.macs == 20 * 2 * 3
    assert a.flops == 2 * a.macs


def test_conv3d():
    a = analyze(b.conv_model((1, 2, 4, 4, 4), (3, 2, 2, 2, 2), bias=False))
    assert a.macs == 81 * 2 * 8


def test_grouped_conv():
    a = analyze(b.conv_model((1, 8, 6, 6), (16, 2, 3, 3), bias=False, group=4, pads=[1, 1, 1, 1]))
    assert a.macs == 16 * 36 * 2 * 9  # Cin/group = 2 inputs per output
    assert only(a).attrs["group"] == 4


def test_depthwise_conv():
    a = analyze(b.conv_model((1, 8, 6, 6), (8, 1, 3, 3), bias=False, group=8, pads=[1, 1, 1, 1]))
    assert a.macs == 8 * 36 * 9


def test_conv_same_upper_with_stride_and_dilation():
    a = analyze(
        b.conv_model((1, 1, 7, 7), (2, 1, 3, 3), bias=False, strides=[2, 2], auto_pad="SAME_UPPER")
    )
    assert only(a).output_shapes == ((1, 2, 4, 4),)
    assert a.macs == 32 * 9
    dilated = analyze(b.conv_model((1, 1, 9, 9), (1, 1, 3, 3), bias=False, dilations=[2, 2]))
    assert only(dilated).output_shapes == ((1, 1, 5, 5),)
    assert dilated.macs == 25 * 9


def test_conv_transpose():
    w = b.init("W", (4, 2, 3, 3))
    a = one_node("ConvTranspose", [("X", (1, 4, 3, 3))], [w])
    assert only(a).output_shapes == ((1, 2, 5, 5),)
    assert a.macs == 36 * 2 * 9  # every input element meets Cout/group x k x k weights
    g = one_node(
        "ConvTranspose", [("X", (1, 4, 3, 3))], [b.init("W", (4, 1, 3, 3))], group=2, strides=[2, 2]
    )
    assert only(g).output_shapes == ((1, 2, 7, 7),)
    assert g.macs == 36 * 9


# ----------------------------------------------------------------------- matrix products


def test_gemm():
    a = one_node("Gemm", [("A", (2, 5))], [b.init("B", (3, 5)), b.init("C", (3,))], transB=1)
    n = only(a)
    assert n.output_shapes == ((2, 3),)
    assert (n.macs, n.flops, n.op_class) == (30, 66, "gemm")
    t = one_node("Gemm", [("A", (5, 2))], [b.init("B", (5, 3))], transA=1)
    assert (t.macs, t.flops) == (30, 60)


@pytest.mark.parametrize(
    ("a_shape", "b_shape", "out", "macs"),
    [
        ((2, 3, 4, 5), (2, 3, 5, 6), (2, 3, 4, 6), 144 * 5),  # batched
        ((4, 5), (2, 3, 5, 6), (2, 3, 4, 6), 144 * 5),  # broadcast
        ((1, 8, 16, 64), (1, 8, 64, 16), (1, 8, 16, 16), 8 * 16 * 16 * 64),  # Q @ K^T
        ((1, 8, 16, 16), (1, 8, 16, 64), (1, 8, 16, 64), 8 * 16 * 64 * 16),  # scores @ V
        ((5,), (5, 6), (6,), 30),
        ((4, 5), (5,), (4,), 20),
        ((5,), (5,), (), 5),
    ],
)
def test_matmul(a_shape, b_shape, out, macs):
    a = one_node("MatMul", [("A", a_shape), ("B", b_shape)])
    n = only(a)
    assert n.output_shapes == (out,)
    assert (n.macs, n.flops, n.op_class) == (macs, 2 * macs, "matmul")


def test_quantized_matrix_products():
    mmi = one_node("MatMulInteger", [("A", (2, 5), U8)], [b.init("B", (5, 3), U8)])
    assert only(mmi).macs == 30
    assert only(mmi).compute_dtype == "uint8"
    assert mmi.outputs[0].dtype == "int32"

    q = [
        b.scalar("as", 0.1),
        b.scalar("az", 0, U8),
        b.init("B", (5, 3), U8),
        b.scalar("bs", 0.1),
        b.scalar("bz", 0, U8),
        b.scalar("ys", 0.1),
        b.scalar("yz", 0, U8),
    ]
    qmm = one_node("QLinearMatMul", [("A", (2, 5), U8)], q)
    assert only(qmm).macs == 30
    assert qmm.outputs[0].dtype == "uint8"

    ci = one_node("ConvInteger", [("X", (1, 3, 8, 8), U8)], [b.init("W", (4, 3, 3, 3), U8)])
    assert (only(ci).macs, only(ci).compute_dtype) == (144 * 27, "uint8")
    assert ci.outputs[0].dtype == "int32"

    ql = analyze(b.qlinear_conv_model())
    n = only(ql)
    assert n.macs == 8 * 25 * 4 * 9
    assert n.flops == 2 * n.macs + 8 * 25  # int32 bias
    assert n.compute_dtype == "uint8"
    assert ql.is_quantized


def test_com_microsoft_fused_ops_get_shapes_and_macs():
    a = analyze(b.fused_conv_model())
    conv, relu, flatten, matmul = a.nodes
    assert conv.output_shapes == ((1, 8, 4, 4),)
    assert conv.macs == 128 * 27
    assert conv.flops == 2 * conv.macs + 128 + 128  # bias, fused Relu
    assert (conv.domain, conv.op_class) == ("com.microsoft", "conv")
    assert relu.output_shapes == ((1, 8, 4, 4),)  # ONNX inference resumed downstream
    assert matmul.macs == 128 * 10
    assert a.macs == conv.macs + matmul.macs
    assert a.op_histogram == {
        "Flatten": 1,
        "Relu": 1,
        "com.microsoft:FusedConv": 1,
        "com.microsoft:FusedMatMul": 1,
    }
    assert a.warnings == ()


def test_einsum():
    a = one_node("Einsum", [("A", (2, 3, 4)), ("B", (2, 4, 5))], equation="bij,bjk->bik")
    # INTERFACE.md: Einsum's products are arithmetic (flops_m), never macs_m.
    assert only(a).macs == 0
    assert only(a).flops == 2 * (2 * 3 * 4 * 5)


def test_lstm():
    x = ("X", (3, 2, 4))  # seq, batch, input
    w, r = b.init("W", (1, 20, 4)), b.init("R", (1, 20, 5))  # 4 gates x hidden 5
    a = one_node("LSTM", [x], [w, r], n_outputs=3, hidden_size=5)
    # Recurrent cells count in flops_m only (INTERFACE.md), a MAC as two FLOPs plus gates.
    assert only(a).macs == 0
    assert only(a).flops >= 2 * 3 * 2 * 20 * (4 + 5)
    assert only(a).output_shapes[0] == (3, 1, 2, 5)


# --------------------------------------------------------------------------- other arithmetic


@pytest.mark.parametrize(
    ("op", "inputs", "attrs", "flops", "op_class"),
    [
        ("Add", [("A", (2, 3, 4)), ("B", (4,))], {}, 24, "elementwise"),
        ("Sum", [("A", (2, 3)), ("B", (2, 3)), ("C", (2, 3))], {}, 12, "elementwise"),
        ("Relu", [("A", (2, 3))], {}, 6, "activation"),
        ("Softmax", [("A", (2, 5))], {}, 50, "activation"),
        ("MaxPool", [("A", (1, 2, 4, 4))], {"kernel_shape": [2, 2], "strides": [2, 2]}, 32, "pool"),
        (
            "AveragePool",
            [("A", (1, 2, 4, 4))],
            {"kernel_shape": [2, 2], "strides": [2, 2]},
            40,
            "pool",
        ),
        ("GlobalAveragePool", [("A", (1, 2, 4, 4))], {}, 34, "pool"),
        ("ReduceMean", [("A", (2, 6))], {"axes": [1]}, 12, "reduce"),
        ("Transpose", [("A", (2, 6))], {}, 0, "data"),
    ],
)
def test_non_mac_operators(op, inputs, attrs, flops, op_class):
    a = one_node(op, inputs, opsets=None, **attrs)
    n = only(a)
    assert (n.macs, n.flops, n.op_class) == (0, flops, op_class)
    assert a.macs == 0


def test_batch_normalization_and_lrn():
    bn = [b.init(n, (2,)) for n in ("s", "bias", "mean", "var")]
    a = one_node("BatchNormalization", [("X", (1, 2, 4, 4))], bn)
    assert (only(a).flops, only(a).op_class) == (64, "norm")
    lrn = one_node("LRN", [("X", (1, 2, 4, 4))], size=5)
    assert only(lrn).flops == 32 * (2 * 5 + 4)


def test_only_mac_operators_contribute_macs():
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Add", ["r", "x"], ["s"]),
        helper.make_node("MaxPool", ["s"], ["y"], kernel_shape=[2, 2]),
    ]
    a = analyze(b.model(nodes, [b.vi("x", (1, 2, 4, 4))], [b.vi("y", None)]))
    assert a.macs == 0
    assert a.flops == 32 + 32 + 18 * 4


def test_unknown_operator_counts_zero_and_warns():
    nodes = [
        helper.make_node("Frobnicate", ["x"], ["f"], domain="my.domain"),
        helper.make_node("Relu", ["f"], ["y"]),
    ]
    m = b.model(nodes, [b.vi("x", (2, 2))], [b.vi("y", None)], extra_opsets={"my.domain": 1})
    a = analyze(m)
    assert a.op_histogram == {"Relu": 1, "my.domain:Frobnicate": 1}
    frob, relu = a.nodes
    assert (frob.macs, frob.flops, frob.op_class, frob.domain) == (0, 0, "other", "my.domain")
    assert (
        "unknown operator my.domain:Frobnicate counted with 0 MACs (node 'frobnicate_0')"
        in a.warnings
    )
    assert any("no shape for tensor 'f'" in w and "bytes counted as 0" in w for w in a.warnings)
    assert any("FLOPs of node 'relu_1' (Relu) counted as 0" in w for w in a.warnings)


def test_default_domain_spelled_ai_onnx():
    node = helper.make_node("Relu", ["x"], ["y"], domain="ai.onnx")
    a = analyze(b.model([node], [b.vi("x", (3,))], [b.vi("y", None)]))
    assert a.op_histogram == {"Relu": 1}
    assert a.nodes[0].domain == ""


def test_int32_bias_and_compute_dtype_default_to_input_type():
    a = one_node("Relu", [("x", (4,), I32)])
    assert only(a).compute_dtype == "int32"
