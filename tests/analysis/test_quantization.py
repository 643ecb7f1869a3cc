"""Quantized models: QDQ and QOperator forms, compute precision, weight bytes."""

from __future__ import annotations

from onnx import helper

from pytest_edgegate.analysis import analyze

from . import builders as b
from .builders import I8, U8


def conv_of(a):
    return next(n for n in a.nodes if n.op_type == "Conv")


def test_qdq_conv_runs_in_int8():
    a = analyze(b.qdq_conv_model(act_elem=I8, w_elem=I8))
    conv = conv_of(a)
    assert conv.compute_dtype == "int8"
    assert a.is_quantized
    assert a.macs_by_dtype == {"int8": conv.macs}
    assert conv.weight_bytes == 108  # the int8 weight, not its float dequantization
    dq_weight = next(n for n in a.nodes if n.op_type == "DequantizeLinear" and n.folded)
    assert dq_weight.inputs[0] == "Wq"


def test_qdq_with_uint8_activations_reports_the_activation_type():
    conv = conv_of(analyze(b.qdq_conv_model(act_elem=U8, w_elem=I8)))
    assert conv.compute_dtype == "uint8"


def test_float_model_is_not_quantized():
    a = analyze(b.conv_model())
    assert not a.is_quantized
    assert a.macs_by_dtype == {"float32": a.macs}


def test_conv_with_only_a_dequantized_weight_stays_float():
    nodes = [
        helper.make_node("DequantizeLinear", ["Wq", "ws", "wz"], ["Wf"]),
        helper.make_node("Conv", ["X", "Wf"], ["Y"]),
    ]
    m = b.model(
        nodes,
        [b.vi("X", (1, 3, 8, 8))],
        [b.vi("Y", None)],
        [b.init("Wq", (4, 3, 3, 3), I8), b.scalar("ws", 0.1), b.scalar("wz", 0, I8)],
    )
    a = analyze(m)
    assert conv_of(a).compute_dtype == "float32"
    assert a.is_quantized  # int8 weights are present


def test_qoperator_model():
    a = analyze(b.qlinear_conv_model())
    assert a.is_quantized
    assert a.macs_by_dtype == {"uint8": a.macs}
    assert a.params_by_dtype == {"float32": 3, "uint8": 2, "int8": 289, "int32": 8}


def test_com_microsoft_qlinear_operators():
    ms = "com.microsoft"
    q = [b.scalar("s", 0.1), b.scalar("z", 0, U8)]
    nodes = [
        helper.make_node("QLinearAdd", ["X", "s", "z", "X", "s", "z", "s", "z"], ["A"], domain=ms),
        helper.make_node("QLinearGlobalAveragePool", ["A", "s", "z", "s", "z"], ["P"], domain=ms),
        helper.make_node("DequantizeLinear", ["P", "s", "z"], ["Y"]),
    ]
    m = b.model(nodes, [b.vi("X", (1, 8, 4, 4), U8)], [b.vi("Y", None)], q, extra_opsets={ms: 1})
    a = analyze(m)
    add, pool, dq = a.nodes
    assert add.output_shapes == ((1, 8, 4, 4),)
    assert (add.op_class, add.flops) == ("elementwise", 128 * 4)
    assert pool.output_shapes == ((1, 8, 1, 1),)
    assert (pool.op_class, pool.flops) == ("pool", 128 + 8)
    assert dq.output_shapes == ((1, 8, 1, 1),)
    assert a.outputs[0].dtype == "float32"
    assert a.is_quantized
    assert a.warnings == ()


def test_qdq_tensors_count_at_their_integer_size_in_the_peak():
    """The runtime fuses DQ -> Conv -> Q into one integer kernel: the float tensors around
    the Conv never exist, the graph input (read only by Q) is fed quantized and the graph
    output (written by DQ) leaves as int8.  Step by step (bytes): Q 192 + 192, DQ 192 + 192
    (Xf as int8), Conv 192 + 144 (Y as int8), Q 144 + 144, DQ 144 + 144."""
    a = analyze(b.qdq_conv_model(act_elem=I8, w_elem=I8))
    assert a.peak_activation_bytes == 384  # 1344 if X, Xf, Y and Z were floats (768 + 576)


def test_a_dequantized_tensor_also_read_by_a_float_op_stays_a_float():
    m = b.qdq_conv_model(act_elem=I8, w_elem=I8)
    m.graph.node.append(helper.make_node("Relu", ["Xf"], ["R"]))
    m.graph.output.append(b.vi("R", (1, 3, 8, 8)))
    # Xf (768 bytes as a float) lives to the Relu, and the Conv no longer fuses, so Y is a
    # float too: at the Relu, Xf 768 + Z 144 (a graph output written by DQ) + R 768
    a = analyze(m)
    assert (a.activation_bytes["Xf"], a.activation_bytes["Y"]) == (768, 576)
    assert a.peak_activation_bytes == 1680
