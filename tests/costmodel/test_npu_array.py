"""The Edge TPU's MAC-array utilisation, per-layer weight streaming and CPU fallback rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pytest_edgegate.analysis import analyze
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.costmodel.npu_array import (
    array_utilisation,
    fused_activations,
    fused_requantisation,
    streamed_weight_bytes,
)
from pytest_edgegate.profiles import load_catalogue

from .test_estimate import CPU_TABLE, NPU_TABLE, synthetic

MIB = 1024 * 1024


def qdq_convs(
    cin: int, hw: int, layers: list[tuple[int, int]], middle: str = "", kernel: int = 3
) -> onnx.ModelProto:
    """x -> Q/DQ -> Conv(cout, group) ... in QDQ form; ``middle`` after the first conv."""
    rng = np.random.default_rng(0)
    n = helper.make_node
    inits = [
        numpy_helper.from_array(np.array(0.02, np.float32), "s"),
        numpy_helper.from_array(np.array(0, np.int8), "z"),
    ]
    nodes = [
        n("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q_in"),
        n("DequantizeLinear", ["xq", "s", "z"], ["t0"], name="dq_in"),
    ]
    cur, c = "t0", cin
    for i, (cout, group) in enumerate(layers):
        w = rng.integers(-127, 127, (cout, c // group, kernel, kernel), dtype=np.int8)
        inits.append(numpy_helper.from_array(w, f"w{i}q"))
        nodes += [
            n("DequantizeLinear", [f"w{i}q", "s", "z"], [f"w{i}"], name=f"dq_w{i}"),
            n("Conv", [cur, f"w{i}"], [f"c{i}"], pads=[kernel // 2] * 4, group=group,
              name=f"conv{i}"),
            n("QuantizeLinear", [f"c{i}", "s", "z"], [f"c{i}q"], name=f"q{i}"),
            n("DequantizeLinear", [f"c{i}q", "s", "z"], [f"t{i + 1}"], name=f"dq{i}"),
        ]  # fmt: skip
        cur, c = f"t{i + 1}", cout
        if i == 0 and middle:
            nodes += [
                n(middle, [cur] * (2 if middle == "Sum" else 1), ["m"], name="middle"),
                n("QuantizeLinear", ["m", "s", "z"], ["mq"], name="qm"),
                n("DequantizeLinear", ["mq", "s", "z"], ["md"], name="dqm"),
            ]
            cur = "md"
    nodes.append(n("Identity", [cur], ["y"], name="out"))
    graph = helper.make_graph(
        nodes,
        "qdq_convs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, hw, hw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c, hw, hw])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def conv_node(model: onnx.ModelProto, name: str = "conv0"):
    return next(nd for nd in analyze(model).nodes if nd.name == name)


def test_utilisation_pads_channels_to_whole_tiles() -> None:
    small = conv_node(qdq_convs(16, 32, [(16, 1)]))
    # K = 16 x 9 = 144 rows -> 3 tiles of 64; N = 16 columns of 64; 1024 pixels + 64 fill.
    assert array_utilisation(small, 64) == pytest.approx(144 / 192 * 16 / 64 * 1024 / 1088)
    big = conv_node(qdq_convs(256, 56, [(256, 1)]))
    assert array_utilisation(big, 64) == pytest.approx(3136 / 3200)
    assert array_utilisation(big, 64) > 0.95 > 0.2 > array_utilisation(small, 64)
    assert array_utilisation(small, 0) == 1.0  # no array model: the old per-MAC price


def test_depthwise_puts_channels_across_the_columns() -> None:
    dw = conv_node(qdq_convs(64, 28, [(64, 64)]))
    assert array_utilisation(dw, 64) == pytest.approx(9 / 64 * 1.0 * 784 / 848)


def test_large_convolutions_run_near_the_peak_on_edgetpu() -> None:
    tpu = load_catalogue().get("edgetpu")
    table = tpu.raw["costmodel"]
    assert table["npu_array_tile"] > 0
    ceiling = tpu.npu.peak_tops * 1e12 * table["npu_eff_mac"]

    def achieved(model: onnx.ModelProto) -> float:
        an = analyze(model)
        cost = next(c for c in estimate(an, tpu).nodes if c.name == "conv0")
        assert cost.device == "npu"
        return 2 * cost.macs / (cost.time_ms * 1e-3)

    big = achieved(qdq_convs(256, 56, [(256, 1)]))
    small = achieved(qdq_convs(16, 32, [(16, 1)]))
    assert 0.9 * ceiling < big <= ceiling
    assert big > 4 * small


def test_weights_stream_per_layer_past_the_onchip_cache(tmp_path: Path) -> None:
    # conv0: 256 x 256 x 9 int8 = 0.5625 MiB, conv1 the same; 1 MiB holds conv0 only.
    model = qdq_convs(256, 8, [(256, 1), (256, 1)])
    an = analyze(model)
    convs = [nd for nd in an.nodes if nd.op_type == "Conv"]
    assert streamed_weight_bytes(convs, 1.0 * MIB) == convs[1].weight_bytes
    assert streamed_weight_bytes(convs, 2.0 * MIB) == 0
    npu = NPU_TABLE + "\n[npu]\nlink_bandwidth_gbps = 0.5\nonchip_memory_mib = {}\n"
    fits = estimate(an, synthetic(tmp_path, "edgetpu", "t-big", CPU_TABLE, npu.format(2.0)))
    spills = estimate(an, synthetic(tmp_path, "edgetpu", "t-small", CPU_TABLE, npu.format(1.0)))
    # conv1 and the few scale/zero-point bytes of the Q/DQ nodes after it
    assert convs[1].weight_bytes <= spills.streamed_weight_bytes < convs[1].weight_bytes + 64
    # priced at the link's bandwidth, on every inference
    extra_ms = spills.transfer_ms - fits.transfer_ms
    assert extra_ms == pytest.approx(spills.streamed_weight_bytes / 0.5e9 * 1e3)
    assert spills.latency_ms - fits.latency_ms == pytest.approx(extra_ms)


def test_a_broken_documented_limit_sends_the_rest_of_the_graph_to_the_cpu(
    tmp_path: Path,
) -> None:
    # Softmax over 32 x 32 x 32 = 32,768 elements exceeds the Edge TPU's 16,000: the
    # compiler maps only the prefix, so conv1 after it runs on the CPU though it is supported.
    est = estimate(analyze(qdq_convs(8, 32, [(32, 1), (8, 1)], middle="Softmax")),
                   load_catalogue().get("edgetpu"))  # fmt: skip
    devices = {c.name: c.device for c in est.nodes}
    assert devices["conv0"] == "npu"
    assert devices["middle"] == "cpu" and devices["conv1"] == "cpu"
    reason = next(c.reason for c in est.nodes if c.name == "middle")
    assert "Softmax over 32768 elements" in reason
    assert "compiler maps only the prefix" in next(c.reason for c in est.nodes if c.name == "conv1")
    assert est.partitions == 1


def test_a_two_input_sum_runs_on_the_edgetpu_as_an_add() -> None:
    est = estimate(analyze(qdq_convs(8, 16, [(8, 1), (8, 1)], middle="Sum")),
                   load_catalogue().get("edgetpu"))  # fmt: skip
    assert {c.name: c.device for c in est.nodes}["middle"] == "npu"
    assert est.npu_coverage == 1.0


def test_activation_after_a_conv_is_fused_and_the_conv_is_priced_on_the_array() -> None:
    tpu = load_catalogue().get("edgetpu")
    table = tpu.raw["costmodel"]
    assert table["npu_fused_epilogue"] is True
    an = analyze(qdq_convs(64, 16, [(64, 1), (64, 1)], middle="Relu"))
    positions = {nd.name: i for i, nd in enumerate(an.nodes)}
    assert positions["middle"] in fused_activations(an.nodes)
    est = estimate(an, tpu)
    costs = {c.name: c for c in est.nodes}
    assert costs["middle"].device == "npu" and costs["middle"].time_ms == 0.0
    conv = next(nd for nd in an.nodes if nd.name == "conv0")
    use = array_utilisation(conv, table["npu_array_tile"])
    expected_s = 2 * conv.macs / (tpu.npu.peak_tops * 1e12 * table["npu_eff_mac"] * use)
    expected_s += table["npu_dispatch_us"] * 1e-6  # bias: in the output stage, no vector time
    assert costs["conv0"].time_ms == pytest.approx(expected_s * 1e3)


def test_an_activation_whose_input_is_read_twice_is_not_fused() -> None:
    model = qdq_convs(8, 16, [(8, 1)], middle="Relu")
    graph = model.graph
    extra = helper.make_node("Neg", ["c0"], ["side"], name="side")
    graph.node.insert(4, extra)  # a second reader of the conv's output
    graph.output.append(helper.make_tensor_value_info("side", TensorProto.FLOAT, None))
    an = analyze(model)
    positions = {nd.name: i for i, nd in enumerate(an.nodes)}
    assert positions["middle"] not in fused_activations(an.nodes)


def test_inner_quantize_dequantize_pairs_fold_into_the_integer_operators() -> None:
    an = analyze(qdq_convs(8, 16, [(8, 1), (8, 1)]))
    est = estimate(an, load_catalogue().get("edgetpu"))
    costs = {c.name: c for c in est.nodes}
    # between two NPU convolutions: folded; the graph's first Quantize stays real work
    assert costs["q0"].time_ms == 0.0 and costs["dq0"].time_ms == 0.0
    assert costs["q_in"].time_ms > 0.0
    nodes = [nd for nd in an.nodes if not nd.folded]
    names = [nd.name for nd in nodes]
    on_cpu = ["cpu" if name == "conv1" else "npu" for name in names]
    folded = {names[i] for i in fused_requantisation(nodes, on_cpu, {"y"})}
    assert "dq0" not in folded  # its reader runs on the CPU: a real Dequantize
    assert "q0" in folded
