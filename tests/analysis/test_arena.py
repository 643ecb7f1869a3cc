"""The TFLite Micro-style arena planner (analysis/arena.py, scratch.py, persistent.py)."""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper

from bench.fitting import mcu_twins
from pytest_edgegate.analysis import analyze
from pytest_edgegate.analysis.arena import (
    TFLM_CMSIS_NN,
    TFLM_REFERENCE,
    ArenaRules,
    Buffer,
    place,
    plan_arena,
)
from pytest_edgegate.analysis.scratch import scratch_bytes

from . import builders as b

I8 = TensorProto.INT8


def _offsets(spec: list[tuple[int, int, int]]) -> list[int]:
    return [p.offset for p in place([Buffer((), size, f, last) for size, f, last in spec])]


def test_placement_matches_tflite_micros_own_planner_tests():
    """Cases and expected offsets of tflite-micro's greedy_memory_planner_test.cc."""
    assert _offsets([(10, 0, 1), (20, 2, 3)]) == [0, 0]  # TestGreedyBasics
    medium = [(10, 0, 1), (20, 1, 2), (30, 2, 3), (40, 3, 4), (50, 0, 1)]
    assert _offsets(medium) == [50, 70, 40, 0, 0]  # TestGreedyMedium, arena 90
    overlap = place([Buffer((), s, f, la) for s, f, la in [(100, 0, 1), (50, 2, 3), (20, 1, 2)]])
    assert max(p.offset + p.size for p in overlap) == 120  # TestOverlapCase


def _chain(view_op: str = "Reshape"):
    """X -Q-> Xq -DQ-> A -Conv(DQ w)-> C -Relu-> R -Q-> Rq -DQ-> D -Reshape-> E -Q-> Y."""
    shape = (1, 4, 8, 8)  # 256 elements
    nodes = [
        helper.make_node("QuantizeLinear", ["X", "s", "z"], ["Xq"]),
        helper.make_node("DequantizeLinear", ["Xq", "s", "z"], ["A"]),
        helper.make_node("DequantizeLinear", ["Wq", "s", "z"], ["W"]),
        helper.make_node("Conv", ["A", "W"], ["C"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["C"], ["R"]),
        helper.make_node("QuantizeLinear", ["R", "s", "z"], ["Rq"]),
        helper.make_node("DequantizeLinear", ["Rq", "s", "z"], ["D"]),
        helper.make_node(view_op, ["D", "shape"], ["E"]),
        helper.make_node("QuantizeLinear", ["E", "s", "z"], ["Y"]),
    ]
    inits = [
        b.scalar("s", 0.1), b.scalar("z", 0, I8), b.init("Wq", (4, 4, 3, 3), I8),
        b.ints("shape", [1, 256]),
    ]  # fmt: skip
    outputs = [b.vi("Y", (1, 256), I8)]
    return analyze(b.model(nodes, [b.vi("X", shape)], outputs, inits, opset=13))


def test_fused_qdq_and_activations_share_their_producers_buffer():
    a = _chain()
    plan = plan_arena(a, TFLM_REFERENCE)
    tensors = {t: buf for buf in plan.buffers for t in buf.tensors}
    assert tensors["X"] is tensors["Xq"] is tensors["A"]  # the int8 input, fed quantized
    assert tensors["C"] is tensors["R"] is tensors["Rq"] is tensors["D"]  # Conv + fused Relu
    assert tensors["E"] is tensors["Y"] is not tensors["D"]  # TFLite Micro copies a RESHAPE
    assert plan.planned_bytes == 2 * 256  # the input's buffer is free again at the Reshape
    assert plan.peak_tensors in (("X", "C"), ("C", "E"))


def test_inplace_views_and_alignment():
    a = _chain()
    inplace = ArenaRules("test", inplace_views=True)
    plan = plan_arena(a, inplace)
    tensors = {t: buf for buf in plan.buffers for t in buf.tensors}
    assert tensors["E"] is tensors["D"]  # the Reshape reuses the conv output
    assert len(plan.buffers) == 2
    odd = plan_arena(a, ArenaRules("test", alignment=1000))
    assert all(buf.size % 1000 == 0 for buf in odd.buffers)


def test_cmsis_nn_scratch_of_a_3x3_convolution():
    """arm_convolve_s8_get_buffer_size: 2 * align4(3 * 3 * 4) * sizeof(int16) = 144 bytes,
    live during the Conv only; the reference kernels ask none."""
    a = _chain()
    conv = next(n for n in a.nodes if n.op_type == "Conv")
    shapes = {"A": (1, 4, 8, 8)}
    assert scratch_bytes(conv, shapes, "cmsis-nn-dsp") == 144
    assert scratch_bytes(conv, shapes, "reference") == 0
    plan = plan_arena(a, TFLM_CMSIS_NN)
    (scratch,) = [buf for buf in plan.buffers if buf.scratch_of is not None]
    # times: Q 1, DQ 2, Conv 3 (the weight DQ is folded)
    assert (scratch.size, scratch.first, scratch.last) == (144, 3, 3)
    assert plan.scratch_bytes == 144
    assert any(t.startswith("scratch of") for t in plan.peak_tensors)


@pytest.mark.parametrize(
    ("kernel", "pads", "group", "expected"),
    [
        ((1, 1), [0, 0, 0, 0], 1, 0),  # 1x1 fast path (GCC build)
        ((3, 3), [1, 1, 1, 1], 16, 0),  # depthwise 3x3, padding <= 1
        ((5, 5), [2, 2, 2, 2], 16, 16 * 25 * 2),  # depthwise, other kernels
        ((10, 4), [4, 1, 5, 2], 1, 2 * 40 * 2 * 16 // 16),  # 2 * align4(10*4*1) * 2
    ],
)
def test_cmsis_nn_scratch_formulas(kernel, pads, group, expected):
    cin = 1 if kernel == (10, 4) else 16
    shape = (1, cin, 20, 20)
    w_in = cin // group
    nodes = [
        helper.make_node("QuantizeLinear", ["X", "s", "z"], ["Xq"]),
        helper.make_node("DequantizeLinear", ["Xq", "s", "z"], ["A"]),
        helper.make_node("DequantizeLinear", ["Wq", "s", "z"], ["W"]),
        helper.make_node(
            "Conv", ["A", "W"], ["C"], kernel_shape=list(kernel), pads=pads, group=group
        ),  # fmt: skip
        helper.make_node("QuantizeLinear", ["C", "s", "z"], ["Y"]),
    ]
    inits = [b.scalar("s", 0.1), b.scalar("z", 0, I8), b.init("Wq", (16, w_in, *kernel), I8)]
    a = analyze(b.model(nodes, [b.vi("X", shape)], [b.vi("Y", None, I8)], inits, opset=13))
    conv = next(n for n in a.nodes if n.op_type == "Conv")
    assert scratch_bytes(conv, {"A": shape}, "cmsis-nn-dsp") == expected


def test_the_arena_is_deterministic_and_serialisable():
    a = analyze(mcu_twins.build("ds_cnn"))
    one, two = plan_arena(a).to_dict(), plan_arena(a).to_dict()
    assert one == two
    assert one["arena_bytes"] == one["planned_bytes"] + one["persistent_bytes"]
    assert one["planned_bytes"] == 16_000  # 25x5x64 int8, twice (in and out of a layer)


def test_an_add_runs_in_place_only_when_the_rules_allow():
    """ResNet-8's three residual Adds: each output reuses the input that dies there."""
    a = analyze(mcu_twins.build("resnet8"))
    plain = plan_arena(a, ArenaRules("no in-place"))
    inplace = plan_arena(a, ArenaRules("in-place add", inplace_add=True))
    assert len(plain.buffers) - len(inplace.buffers) == 3
    adds = [n for n in a.nodes if n.op_type == "Add"]
    owner = {t: buf for buf in inplace.buffers for t in buf.tensors}
    assert all(any(owner[i] is owner[n.outputs[0]] for i in n.inputs) for n in adds)
