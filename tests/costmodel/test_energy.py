"""Energy rules added with the calibration: busy-core power scaling and NPU power during hops."""

from __future__ import annotations

import pytest
from modelgen import conv_model

from bench.fitting.networks import quantized_view
from pytest_edgegate.analysis import analyze
from pytest_edgegate.calibrate.fit import with_constants
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.costmodel.params import CostParams
from pytest_edgegate.profiles import load_catalogue
from pytest_edgegate.runner.nb201 import build_nb201

CPU = {
    "threads": 1,
    "parallel_fraction": 0.8,
    "eff_conv": 0.3,
    "eff_pointwise": 0.3,
    "eff_depthwise": 0.1,
    "eff_gemm": 0.3,
    "eff_vector": 0.05,
    "eff_cache": 3.0,
    "eff_dram": 0.8,
    "dispatch_us": 2.0,
    "fixed_us": 20.0,
    "energy_compute_w": 2.0,
    "energy_memory_w": 1.0,
    "energy_static_w": 0.5,
}
NPU_ZERO_ENERGY = {
    "npu_eff_mac": 0.3,
    "npu_eff_vector": 0.05,
    "npu_dispatch_us": 1.0,
    "npu_fixed_us": 10.0,
    "transfer_fixed_us": 30.0,
    "npu_pj_per_mac": 0.0,
    "npu_pj_per_vector_op": 0.0,
    "npu_pj_per_sram_byte": 0.0,
    "npu_pj_per_dram_byte": 0.0,
    "npu_static_w": 0.5,
}


def test_compute_power_scales_with_busy_threads() -> None:
    profile = with_constants(load_catalogue().get("cortex-a72"), CPU)
    analysis = analyze(conv_model(channels=32, hw=32))
    params = CostParams.from_table(CPU)
    one, four = estimate(analysis, profile, threads=1), estimate(analysis, profile, threads=4)

    def parts(e):
        b = e.breakdown
        return b["compute_ms"] * 2.0, b["memory_ms"] * 1.0, b["overhead_ms"] * 0.5

    c1, m1, o1 = parts(one)
    c4, m4, o4 = parts(four)
    assert one.energy_mj == pytest.approx(c1 + m1 + o1)
    assert four.energy_mj == pytest.approx(4 * c4 + m4 + o4)  # four cores busy computing
    # Work-conserving up to Amdahl's inefficiency: 4 / speed-up(4) times the compute energy.
    assert 4 * c4 == pytest.approx(c1 * 4 / params.speedup(4))
    assert four.energy_mj > one.energy_mj


def test_npu_static_power_covers_the_hops() -> None:
    profile = with_constants(load_catalogue().get("edgetpu"), {**CPU, **NPU_ZERO_ENERGY})
    analysis = quantized_view(
        analyze(
            build_nb201(
                "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|"
            )
        )
    )
    est = estimate(analysis, profile, threads=1)
    assert est.npu_coverage == 1.0 and est.transfer_ms > 0
    npu_ms = est.breakdown["npu_ms"] + NPU_ZERO_ENERGY["npu_fixed_us"] * 1e-3
    assert est.energy_mj == pytest.approx(0.5 * (npu_ms + est.transfer_ms))


def test_int16_tensors_cross_the_link_at_two_bytes() -> None:
    profile = with_constants(load_catalogue().get("eyeriss"), {**CPU, **NPU_ZERO_ENERGY})
    base = analyze(conv_model(channels=8, hw=16))
    a8, a16 = quantized_view(base, "int8"), quantized_view(base, "int16")
    link = profile.npu.link_bandwidth_gbps or profile.memory.bandwidth_gbps
    e8, e16 = estimate(a8, profile, threads=1), estimate(a16, profile, threads=1)
    assert e8.npu_coverage == e16.npu_coverage == 1.0
    # Input 3x16x16 and output 10 values: one more byte each per element in int16.
    extra_bytes = 3 * 16 * 16 + 10
    streamed = e16.streamed_weight_bytes - e8.streamed_weight_bytes
    expected = (extra_bytes + streamed) / (link * 1e9) * 1e3
    assert e16.transfer_ms - e8.transfer_ms == pytest.approx(expected, rel=1e-9)
