"""Activations count at the precision a deployment stores them (analysis/precision.py)."""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper

from bench.fitting import mcu_twins
from pytest_edgegate.analysis import analyze

from . import builders as b

I8, F16 = TensorProto.INT8, TensorProto.FLOAT16


@pytest.mark.parametrize("name", ["resnet8", "ds_cnn"])
def test_int8_peak_activations_are_a_quarter_of_the_fp32_models(name):
    """Issue 20: the QDQ ResNet-8 counted 196,608 bytes, as much as its fp32 original, because
    the residual Add between DequantizeLinear and QuantizeLinear counted as a float."""
    fp32 = analyze(mcu_twins.build(name, quantized=False)).peak_activation_bytes
    int8 = analyze(mcu_twins.build(name, quantized=True)).peak_activation_bytes
    assert int8 * 4 == pytest.approx(fp32, rel=0.02)
    if name == "resnet8":
        assert (fp32, int8) == (196_608, 49_152)  # 16x32x32 fp32 in + out; int8 a quarter


def _island(extra_reader: bool = False, out_is_float: bool = False):
    """X -Q-> Xq -DQ-> A; A + A -> S -Relu-> R -Q-> Rq -DQ-> Y: a float island (Add, Relu)
    between a DQ and a Q, as quantize_static leaves around a residual Add."""
    shape = (1, 8, 16, 16)  # 2,048 elements
    nodes = [
        helper.make_node("QuantizeLinear", ["X", "s", "z"], ["Xq"]),
        helper.make_node("DequantizeLinear", ["Xq", "s", "z"], ["A"]),
        helper.make_node("Add", ["A", "A"], ["S"]),
        helper.make_node("Relu", ["S"], ["R"]),
    ]
    outputs = [b.vi("Y", shape)]
    if out_is_float:
        outputs = [b.vi("R", shape)]
    else:
        nodes += [
            helper.make_node("QuantizeLinear", ["R", "s", "z"], ["Rq"]),
            helper.make_node("DequantizeLinear", ["Rq", "s", "z"], ["Y"]),
        ]
    if extra_reader:
        nodes.append(helper.make_node("Softmax", ["S"], ["P"]))
        outputs.append(b.vi("P", shape))
    inits = [b.scalar("s", 0.1), b.scalar("z", 0, I8)]
    return b.model(nodes, [b.vi("X", shape)], outputs, inits, opset=13)


def test_a_float_island_between_dq_and_q_counts_as_int8():
    a = analyze(_island())
    assert all(a.activation_bytes[n] == 2048 for n in ("X", "A", "S", "R", "Y"))
    assert a.peak_activation_bytes == 4096  # two int8 tensors at every step


def test_an_island_with_a_float_exit_stays_float():
    for m in (_island(out_is_float=True), _island(extra_reader=True)):
        a = analyze(m)
        assert a.activation_bytes["A"] == a.activation_bytes["S"] == 8192


def test_a_matrix_op_with_a_float_weight_is_not_fused():
    shape = (1, 4, 8, 8)
    nodes = [
        helper.make_node("QuantizeLinear", ["X", "s", "z"], ["Xq"]),
        helper.make_node("DequantizeLinear", ["Xq", "s", "z"], ["A"]),
        helper.make_node("Conv", ["A", "W"], ["C"]),
        helper.make_node("QuantizeLinear", ["C", "s", "z"], ["Cq"]),
        helper.make_node("DequantizeLinear", ["Cq", "s", "z"], ["Y"]),
    ]
    inits = [b.scalar("s", 0.1), b.scalar("z", 0, I8), b.init("W", (4, 4, 1, 1))]
    a = analyze(b.model(nodes, [b.vi("X", shape)], [b.vi("Y", shape)], inits, opset=13))
    assert a.activation_bytes["C"] == 4 * 256


def test_fp16_activations_count_two_bytes():
    shape = (1, 8, 16, 16)
    m = b.model(
        [helper.make_node("Relu", ["X"], ["R"]), helper.make_node("Sigmoid", ["R"], ["Y"])],
        [b.vi("X", shape, F16)],
        [b.vi("Y", shape, F16)],
    )
    a = analyze(m)
    assert a.activation_bytes == {"X": 4096, "R": 4096, "Y": 4096}
    assert a.peak_activation_bytes == 8192
