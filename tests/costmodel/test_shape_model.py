"""The shape-aware CPU model: kernel kinds, GEMM-shape efficiency, per-node threads, runtimes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pytest_edgegate.analysis import analyze
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.costmodel.cpu import coefficient, cpu_time, shape_terms
from pytest_edgegate.costmodel.kernels import (
    WINOGRAD_MULTIPLIES,
    gemm_shape,
    kernel_kind,
    useful_threads,
    winograd_tile,
)
from pytest_edgegate.costmodel.params import CostParams
from pytest_edgegate.costmodel.runtimes import RUNTIMES
from pytest_edgegate.errors import ProfileError
from pytest_edgegate.profiles import load_catalogue

SHAPE_TABLE = """
[costmodel]
threads = 1
parallel_fraction = 0.0
parallel_grain_mflop = 1.0
parallel_efficiency = 0.8
eff_conv = 0.5
eff_winograd = 1.5
eff_pointwise = 0.5
eff_depthwise = 0.25
eff_gemm = 0.5
eff_vector = 0.1
eff_cache = 2.0
eff_dram = 0.5
small_m = 16.0
small_n = 0.0
small_k = 8.0
dispatch_us = 0.0
fixed_us = 0.0
"""


def profile(
    tmp_path: Path, runtime: str = "onnxruntime", table: str = SHAPE_TABLE, base="cortex-a76"
):
    text = (
        f'id = "shape-{runtime}"\nversion = "t"\nname = "test"\nkind = "cpu"\n'
        f'extends = "{base}"\nruntime = "{runtime}"\n{table}'
    )
    path = tmp_path / f"shape-{runtime}.toml"
    path.write_text(text)
    return load_catalogue([path]).get(f"shape-{runtime}")


def conv(cin: int, cout: int, hw: int, k: int = 3, stride: int = 1, group: int = 1):
    w = np.zeros((cout, cin // group, k, k), np.float32)
    node = helper.make_node(
        "Conv", ["x", "w"], ["y"], pads=[k // 2] * 4, strides=[stride] * 2, group=group, name="c"
    )
    out = (hw + 2 * (k // 2) - k) // stride + 1
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, hw, hw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cout, out, out])],
        initializer=[numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return analyze(model)


def flops_per_s(analysis, prof, threads=1) -> float:
    est = estimate(analysis, prof, threads=threads)
    return analysis.nodes[0].flops / (est.nodes[0].time_ms * 1e-3)


def test_kernel_kinds_and_gemm_shapes():
    ort, ncnn = RUNTIMES["onnxruntime"], RUNTIMES["ncnn"]
    dense = conv(32, 64, 28).nodes[0]
    assert kernel_kind(dense, ort) == "conv"
    assert kernel_kind(dense, ncnn) == "winograd"
    assert kernel_kind(conv(32, 64, 28, stride=2).nodes[0], ncnn) == "conv"
    assert kernel_kind(conv(32, 64, 28, k=1).nodes[0], ncnn) == "pointwise"
    dw = conv(32, 32, 28, group=32).nodes[0]
    assert kernel_kind(dw, ncnn) == "depthwise"
    assert kernel_kind(conv(32, 64, 28, group=4).nodes[0], ncnn) == "grouped"
    shape = gemm_shape(dense)
    assert (shape.m, shape.n, shape.k) == (64, 28 * 28, 32 * 9)
    shape = gemm_shape(dw)
    assert (shape.m, shape.n, shape.k) == (32, 28 * 28, 9)


def int8_conv(cin: int, cout: int, hw: int):
    """A 3x3 stride-1 convolution in int8: QuantizeLinear, ConvInteger, Cast (the form the
    ncnn table's int8 networks are rebuilt in)."""
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
        helper.make_node("ConvInteger", ["xq", "w"], ["acc"], pads=[1] * 4, name="c"),
        helper.make_node("Cast", ["acc"], ["y"], to=TensorProto.FLOAT),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, hw, hw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cout, hw, hw])],
        initializer=[
            numpy_helper.from_array(np.array(1.0, np.float32), "s"),
            numpy_helper.from_array(np.array(0, np.int8), "z"),
            numpy_helper.from_array(np.zeros((cout, cin, 3, 3), np.int8), "w"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return analyze(model)


def test_int8_winograd_only_without_dot_product_and_at_the_fp32_rate(tmp_path):
    """ncnn takes int8 3x3 convolutions through Winograd on cores without SDOT (both channel
    counts >= 8) and multiplies the transformed operands as int16: at the fp32 rate."""
    ort, ncnn = RUNTIMES["onnxruntime"], RUNTIMES["ncnn"]
    node = next(n for n in int8_conv(32, 64, 28).nodes if n.op_type == "ConvInteger")
    assert node.compute_dtype == "int8"
    assert kernel_kind(node, ncnn, int8_dot=False) == "winograd"
    assert kernel_kind(node, ncnn, int8_dot=True) == "conv"  # im2col GEMM on SDOT
    assert kernel_kind(node, ort, int8_dot=False) == "conv"
    first = next(n for n in int8_conv(3, 64, 28).nodes if n.op_type == "ConvInteger")
    assert kernel_kind(first, ncnn, int8_dot=False) == "conv"  # 3 input channels

    (tmp_path / "a53").mkdir()
    a53 = profile(tmp_path / "a53", "ncnn", base="cortex-a53")  # ARMv8.0: int8 peak 2x fp32
    params = CostParams.from_table(a53.raw["costmodel"])
    float_node = conv(32, 64, 28).nodes[0]
    assert winograd_tile(float_node) == 6  # int8 Winograd is always F(4,3)
    same = cpu_time(node, a53, params, 1).compute_s
    float_s = cpu_time(float_node, a53, params, 1).compute_s
    assert same == pytest.approx(float_s / WINOGRAD_MULTIPLIES[6])


def test_winograd_tile_as_ncnn_chooses_it(tmp_path):
    """ncnn's Winograd choice for float 3x3 stride-1 convolutions: F(6,3) up to 128 channels,
    F(4,3) above when both reach the bound (8, 16 in fp16), F(2,3) else, none when neither
    channel count reaches it; each priced by its multiplies per output."""

    def node(cin: int, cout: int):
        return conv(cin, cout, 14).nodes[0]

    assert [winograd_tile(node(c, c)) for c in (64, 128, 256)] == [6, 6, 4]
    assert winograd_tile(node(8, 256)) == 4
    assert winograd_tile(node(8, 256), fp16=True) == 2  # 8 input channels, under fp16's 16
    assert winograd_tile(node(4, 4)) == 0
    assert winograd_tile(node(8, 8), fp16=True) == 0
    ncnn = RUNTIMES["ncnn"]
    assert kernel_kind(node(4, 4), ncnn) == "conv"  # ncnn's direct/im2col path
    assert kernel_kind(node(8, 8), ncnn, fp16=True) == "conv"
    assert kernel_kind(node(8, 8), ncnn) == "winograd"
    for tile, multiplies in {2: 16 / 9, 4: 1.0, 6: 64 / 81}.items():
        assert WINOGRAD_MULTIPLIES[tile] == pytest.approx(multiplies)

    (tmp_path / "a72").mkdir()
    a72 = profile(tmp_path / "a72", "ncnn", base="cortex-a72")
    params = CostParams.from_table(a72.raw["costmodel"])
    f63, f43 = node(128, 128), node(256, 256)
    # The Winograd term is the work at peak times the tile's multiplies (F(4,3) = 1).
    w63 = shape_terms(f63, a72, params, 1)["eff_winograd"]
    w43 = shape_terms(f43, a72, params, 1)["eff_winograd"]
    assert w63 / w43 == pytest.approx(f63.flops / f43.flops * 64 / 81)


def test_efficiency_rises_with_channels_and_saturates(tmp_path):
    prof = profile(tmp_path)
    speeds = [flops_per_s(conv(c, c, 28), prof) for c in (8, 32, 128, 512)]
    assert speeds == sorted(speeds)
    assert speeds[-1] / speeds[-2] < speeds[1] / speeds[0]  # saturating
    one_core_peak = prof.throughput["fp32_gflops"] * 1e9 / prof.cpu.cores
    assert speeds[-1] < 0.5 * one_core_peak  # never above eff_conv of one core's peak


def test_threads_scale_per_node_with_the_work(tmp_path):
    prof = profile(tmp_path)
    big, small = conv(256, 256, 28), conv(4, 4, 4)

    def compute_gain(a):
        one, four = (estimate(a, prof, threads=t).breakdown["compute_ms"] for t in (1, 4))
        return one / four

    # Amdahl per node, parallel share 0.8: 4 / (1 + 3 * 0.2)
    assert compute_gain(big) == pytest.approx(4 / (1 + 3 * (1 - 0.8)))
    assert compute_gain(small) == pytest.approx(1.0)
    assert useful_threads(2.5e6, 4, 1e6, 1.0) == pytest.approx(2.5)


def test_thread_gain_per_extra_thread_falls_with_the_thread_count():
    gains = [useful_threads(1e9, t, 1e6, 0.8) for t in (1, 2, 4, 8)]
    assert gains == pytest.approx([1.0, 2 / 1.2, 4 / 1.6, 8 / 2.4])
    extra = [(g - 1) / (t - 1) for g, t in zip(gains[1:], (2, 4, 8), strict=True)]
    assert extra == sorted(extra, reverse=True)
    assert useful_threads(1e9, 4, 1e6, 1.0) == pytest.approx(4.0)  # share 1: perfect


def test_winograd_has_its_own_small_m_penalty_else_the_shared_one(tmp_path):
    shared = profile(tmp_path, "ncnn", SHAPE_TABLE + "small_m_winograd = 16.0\n")
    own = profile(tmp_path, "ncnn", SHAPE_TABLE + "small_m_winograd = 64.0\n")
    wino, direct = conv(16, 16, 28), conv(16, 16, 28, stride=2)

    def compute(a, prof):
        return estimate(a, prof, threads=1).breakdown["compute_ms"]

    assert compute(direct, own) == compute(direct, shared)
    # at M = 16: 1/1.5 + 64/16 + 8/144 against 1/1.5 + 16/16 + 8/144
    ratio = (1 / 1.5 + 64 / 16 + 8 / 144) / (1 / 1.5 + 16 / 16 + 8 / 144)
    assert compute(wino, own) / compute(wino, shared) == pytest.approx(ratio, rel=1e-6)
    # a table without it prices Winograd with the shared small_m
    node = wino.nodes[0]
    legacy = CostParams.from_table({"small_m": 16.0})
    assert coefficient(legacy, "small_m_winograd", node) == 16.0
    assert (
        coefficient(CostParams.from_table({"small_m_winograd": 2.0}), "small_m_winograd", node)
        == 2.0
    )


def test_ncnn_runtime_uses_fp16_and_winograd(tmp_path):
    flat = SHAPE_TABLE.replace("small_m = 16.0", "small_m = 0.0\nsmall_m_winograd = 0.0")
    flat = flat.replace("small_k = 8.0", "")
    ort, ncnn = profile(tmp_path, "onnxruntime", flat), profile(tmp_path, "ncnn", flat)

    def compute_ratio(a):
        return (
            estimate(a, ort, threads=1).breakdown["compute_ms"]
            / estimate(a, ncnn, threads=1).breakdown["compute_ms"]
        )

    # fp16 arithmetic doubles the A76's peak; Winograd's 1.5 against the direct 0.5, and
    # at 64 channels ncnn's F(6,3) tile does 81/64 more outputs per multiply than F(4,3)
    assert compute_ratio(conv(64, 64, 56)) == pytest.approx(2 * 1.5 / 0.5 * 81 / 64, rel=1e-6)
    assert compute_ratio(conv(64, 64, 56, k=1)) == pytest.approx(2.0, rel=1e-6)


def test_estimates_are_bit_identical(tmp_path):
    prof = profile(tmp_path, "ncnn")
    a = conv(48, 96, 40)
    assert estimate(a, prof, threads=3).to_dict() == estimate(a, prof, threads=3).to_dict()


def test_unknown_runtime_is_an_error_naming_the_key(tmp_path):
    with pytest.raises(ProfileError, match="runtime"):
        profile(tmp_path, "tensorrt")


def test_shipped_ncnn_variants_load_after_their_base_and_show_the_runtime():
    catalogue = load_catalogue()
    for base in ("cortex-a53", "cortex-a72", "cortex-a76"):
        variant = catalogue.get(f"{base}-ncnn")
        assert variant.raw["runtime"] == "ncnn"
        assert variant.cpu == catalogue.get(base).cpu
        assert not variant.unsourced
    from pytest_edgegate.catalogue_table import catalogue_table

    text = catalogue_table(catalogue)
    assert "runtime" in text and "ncnn" in text and "onnxruntime" in text
