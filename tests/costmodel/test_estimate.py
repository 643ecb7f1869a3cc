"""The cost model on small models and synthetic profiles with known constants."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from modelgen import conv_model
from onnx import TensorProto, helper, numpy_helper

from pytest_edgegate.analysis import analyze
from pytest_edgegate.calibrate.fit import with_constants
from pytest_edgegate.costmodel import CostModelUnavailable, estimate
from pytest_edgegate.profiles import load_catalogue

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CPU_TABLE = """
[costmodel]
threads = 1
parallel_fraction = 0.5
eff_conv = 0.5
eff_pointwise = 0.5
eff_depthwise = 0.25
eff_gemm = 0.5
eff_vector = 0.1
eff_cache = 2.0
eff_dram = 0.5
dispatch_us = 10.0
fixed_us = 100.0
energy_compute_w = 2.0
energy_memory_w = 1.0
energy_static_w = 0.5
"""
NPU_TABLE = """
npu_eff_mac = 0.5
npu_eff_vector = 0.1
npu_dispatch_us = 1.0
npu_fixed_us = 50.0
transfer_fixed_us = 20.0
npu_pj_per_mac = 1.0
npu_pj_per_vector_op = 1.0
npu_pj_per_sram_byte = 1.0
npu_pj_per_dram_byte = 100.0
npu_static_w = 0.1
"""


def synthetic(tmp_path: Path, base: str, new_id: str, table: str, npu: str = ""):
    kind = "npu" if npu else "cpu"
    text = (
        f'id = "{new_id}"\nversion = "t"\nname = "test {base}"\nkind = "{kind}"\n'
        f'extends = "{base}"\n{table}\n{npu}'
    )
    path = tmp_path / f"{new_id}.toml"
    path.write_text(text)
    return load_catalogue([path]).get(new_id)


def per_class_cpu(tmp_path: Path):
    """cortex-a72 with :data:`CPU_TABLE` as its whole ``[costmodel]``: a per-class table
    (``extends`` would merge in the base's shape-model constants)."""
    profile = synthetic(tmp_path, "cortex-a72", "cpu-test", CPU_TABLE)
    return with_constants(profile, tomllib.loads(CPU_TABLE)["costmodel"])


def qdq_model(middle: str = "Relu") -> onnx.ModelProto:
    """x -> Q/DQ -> Conv(int8 weights via DQ) -> Q/DQ -> ``middle`` -> Q/DQ -> Conv -> y."""
    rng = np.random.default_rng(0)
    w1 = rng.integers(-127, 127, (8, 3, 3, 3), dtype=np.int8)
    w2 = rng.integers(-127, 127, (8, 8, 3, 3), dtype=np.int8)
    inits = [
        numpy_helper.from_array(w1, "w1q"),
        numpy_helper.from_array(w2, "w2q"),
        numpy_helper.from_array(np.array(0.02, np.float32), "s"),
        numpy_helper.from_array(np.array(0, np.int8), "z"),
    ]
    n = helper.make_node
    nodes = [
        n("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q_in"),
        n("DequantizeLinear", ["xq", "s", "z"], ["xd"], name="dq_in"),
        n("DequantizeLinear", ["w1q", "s", "z"], ["w1"], name="dq_w1"),
        n("Conv", ["xd", "w1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        n("QuantizeLinear", ["c1", "s", "z"], ["c1q"], name="q1"),
        n("DequantizeLinear", ["c1q", "s", "z"], ["c1d"], name="dq1"),
        n(middle, ["c1d"], ["m"], name="middle"),
        n("QuantizeLinear", ["m", "s", "z"], ["mq"], name="q2"),
        n("DequantizeLinear", ["mq", "s", "z"], ["md"], name="dq2"),
        n("DequantizeLinear", ["w2q", "s", "z"], ["w2"], name="dq_w2"),
        n("Conv", ["md", "w2"], ["y"], pads=[1, 1, 1, 1], name="conv2"),
    ]
    graph = helper.make_graph(
        nodes,
        "qdq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def test_cpu_estimate_matches_the_formula(tmp_path: Path) -> None:
    profile = per_class_cpu(tmp_path)
    analysis = analyze(conv_model(channels=8, hw=16))
    est = estimate(analysis, profile, threads=1)
    peak = profile.throughput["fp32_gflops"] * 1e9
    bw = profile.memory.bandwidth_gbps * 1e9
    cache = profile.cpu.l2_cache_kib * 1024
    expected = 100e-6
    for node in analysis.nodes:
        if node.folded:
            continue
        eff = {"Conv": 0.5, "Gemm": 0.5}.get(node.op_type, 0.1)
        moved = node.bytes_read + node.bytes_written
        mem = moved / (bw * 2.0) if moved <= cache else moved / (bw * 0.5)
        expected += node.flops / (peak * eff) + mem + 10e-6
    assert est.latency_ms == pytest.approx(expected * 1e3, rel=1e-12)
    assert est.energy_mj is not None and est.energy_mj > 0
    assert [c.name for c in est.nodes] == [n.name for n in analysis.nodes if not n.folded]
    assert {c.bound for c in est.nodes} <= {"compute", "memory", "overhead"}


def test_threads_scale_compute_only(tmp_path: Path) -> None:
    profile = per_class_cpu(tmp_path)
    analysis = analyze(conv_model(channels=32, hw=32))
    one, four = estimate(analysis, profile, threads=1), estimate(analysis, profile, threads=4)
    assert four.latency_ms < one.latency_ms
    # Amdahl with p = 0.5: compute at 4 threads is 1 / (0.5 + 0.125) = 1.6x faster.
    assert four.breakdown["compute_ms"] == pytest.approx(one.breakdown["compute_ms"] / 1.6)
    assert four.breakdown["memory_ms"] == pytest.approx(one.breakdown["memory_ms"])
    assert estimate(analysis, profile).threads == profile.cpu.cores


def test_estimates_are_deterministic(tmp_path: Path) -> None:
    profile = synthetic(tmp_path, "cortex-a72", "cpu-test", CPU_TABLE)
    model = conv_model(channels=16, hw=24)
    a = estimate(analyze(model), profile).to_dict()
    b = estimate(analyze(onnx.ModelProto.FromString(model.SerializeToString())), profile)
    assert a == b.to_dict()


def test_int8_qdq_model_runs_on_the_npu(tmp_path: Path) -> None:
    profile = synthetic(tmp_path, "edgetpu", "npu-test", CPU_TABLE, NPU_TABLE)
    est = estimate(analyze(qdq_model()), profile)
    assert est.npu_coverage == 1.0 and est.partitions == 1 and not est.cpu_fallback
    assert all(c.device == "npu" for c in est.nodes)
    assert est.transfer_ms > 0  # input in, output out over the link


def test_float_model_falls_back_loudly(tmp_path: Path) -> None:
    profile = synthetic(tmp_path, "edgetpu", "npu-test", CPU_TABLE, NPU_TABLE)
    est = estimate(analyze(conv_model()), profile)
    assert est.cpu_fallback and est.npu_coverage == 0.0 and est.partitions == 0
    assert est.notes[0].startswith("CPU FALLBACK: float model runs entirely on npu-test")


def test_prefix_rule_sends_everything_after_the_first_unsupported_op_to_cpu(
    tmp_path: Path,
) -> None:
    profile = synthetic(tmp_path, "edgetpu", "npu-test", CPU_TABLE, NPU_TABLE)
    est = estimate(analyze(qdq_model(middle="Erf")), profile)  # Erf: not an Edge TPU op
    devices = {c.name: c.device for c in est.nodes}
    assert devices["conv1"] == "npu"
    assert devices["middle"] == "cpu" and devices["conv2"] == "cpu"
    assert est.partitions == 1
    assert 0.0 < est.npu_coverage < 1.0
    assert "Erf is not an operator" in next(c.reason for c in est.nodes if c.name == "middle")


def test_partition_rule_returns_to_the_npu(tmp_path: Path) -> None:
    npu = NPU_TABLE
    profile = synthetic(tmp_path, "ethos-n77", "npu-part", CPU_TABLE, npu)
    est = estimate(analyze(qdq_model(middle="Erf")), profile)
    devices = {c.name: c.device for c in est.nodes}
    assert devices["conv1"] == "npu" and devices["middle"] == "cpu" and devices["conv2"] == "npu"
    assert est.partitions == 2


def test_weights_beyond_onchip_memory_stream(tmp_path: Path) -> None:
    small = NPU_TABLE + "\n[npu]\nonchip_memory_mib = 0.0001\n"
    profile = synthetic(tmp_path, "edgetpu", "npu-small", CPU_TABLE, small)
    est = estimate(analyze(qdq_model()), profile)
    assert est.streamed_weight_bytes > 0
    assert any("stream every inference" in n for n in est.notes)


def test_unavailable_profiles(tmp_path: Path) -> None:
    catalogue = load_catalogue()
    assert estimate(analyze(conv_model()), catalogue.get("cortex-m7")).latency_ms > 0
    bare = tmp_path / "bare.toml"
    bare.write_text(
        'id = "bare"\nversion = "1"\nname = "b"\nkind = "cpu"\n[cpu]\ncores = 1\nclock_mhz = 1\n'
        "[memory]\nram_mib = 1\n[sources]\n"
    )
    with pytest.raises(CostModelUnavailable, match="no \\[costmodel\\]"):
        estimate(analyze(conv_model()), load_catalogue([bare]).get("bare"))
