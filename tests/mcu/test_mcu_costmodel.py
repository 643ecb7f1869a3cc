"""The microcontroller cost model: latency and energy on the MCU profiles, deterministic."""

from __future__ import annotations

import pytest

from bench.fitting.mlperf_tiny_nets import NAMES, build
from pytest_edgegate.analysis import analyze
from pytest_edgegate.costmodel import CostModelUnavailable, estimate
from pytest_edgegate.costmodel.mcu import features
from pytest_edgegate.evaluation import cost_metrics
from pytest_edgegate.profiles import load_catalogue

MCU_IDS = ("cortex-m7", "stm32h7", "cortex-m4", "cortex-m33")


@pytest.fixture(scope="module")
def mcus() -> dict:
    catalogue = load_catalogue()
    return {pid: catalogue.get(pid) for pid in MCU_IDS}


@pytest.fixture(scope="module")
def nets() -> dict:
    return {(n, q): analyze(build(n, q)) for n in NAMES for q in (False, True)}


def test_every_mcu_profile_names_its_runtime_and_fitted_constants(mcus) -> None:
    for profile in mcus.values():
        assert profile.is_mcu and profile.raw["runtime"] == "x-cube-ai"
        assert "mcu" in profile.sources and "runtime" in profile.sources
        if "active_w" in profile.power:
            assert "whole board" in profile.sources["power.active_w"]


def test_estimate_is_bit_identical_on_repeat(mcus, nets) -> None:
    for profile in mcus.values():
        for key, analysis in nets.items():
            first = estimate(analysis, profile).to_dict()
            again = estimate(analyze(build(*key)), profile).to_dict()
            assert first == again, (profile.id, key)


def test_bigger_network_is_slower(mcus, nets) -> None:
    for profile in mcus.values():
        ms = {n: estimate(nets[(n, True)], profile).latency_ms for n in NAMES}
        # 0.26 M MACs (ad) < 2.7 M (kws) < 7.5 M (vww) < 12.5 M (ic)
        assert ms["ad"] < ms["kws"] < ms["vww"] < ms["ic"], (profile.id, ms)
        for n in NAMES:  # fp32 MACs cost more than int8 ones
            assert estimate(nets[(n, False)], profile).latency_ms > ms[n]


def test_faster_core_and_clock_are_faster(mcus, nets) -> None:
    ic = nets[("ic", True)]
    h7, f7, m4 = (estimate(ic, mcus[p]).latency_ms for p in ("stm32h7", "cortex-m7", "cortex-m4"))
    assert h7 < f7 < m4
    assert h7 / f7 == pytest.approx(216 / 280)  # same core and runtime, clock alone


def test_energy_is_board_power_times_latency(mcus, nets) -> None:
    for profile in mcus.values():
        est = estimate(nets[("kws", True)], profile)
        watts = profile.power.get("active_w")
        if watts is None:
            assert est.energy_mj is None and "board power" in est.energy_unavailable
            continue
        assert est.energy_mj == watts * est.latency_ms  # W x ms = mJ
        per_inference_ms = profile.raw["mcu"]["cycles_per_inference"] / profile.cpu.clock_mhz / 1e3
        layers_mj = sum(n.energy_mj for n in est.nodes)
        assert layers_mj + watts * per_inference_ms == pytest.approx(est.energy_mj, rel=1e-9)


def test_evaluate_metrics_come_from_the_estimate(mcus, nets) -> None:
    metrics, est, details, _ = cost_metrics(mcus["stm32h7"], nets[("vww", True)])
    assert metrics["latency_ms"].source == "estimate" and metrics["latency_ms"].value > 0
    assert metrics["energy_mj"].source == "estimate" and metrics["energy_mj"].value > 0
    assert details["latency_ms"] == est.latency_ms
    metrics, *_ = cost_metrics(mcus["cortex-m7"], nets[("vww", True)])
    assert metrics["latency_ms"].source == "estimate"
    assert metrics["energy_mj"].value is None and "board power" in metrics["energy_mj"].reason


def test_layers_priced_by_class(nets) -> None:
    kws = features(nets[("kws", True)])
    assert kws["macs_conv"] == 320_000 and kws["macs_depthwise"] == 288_000
    assert kws["macs_pointwise"] == 2_048_000 and kws["macs_fc"] == 768
    assert features(nets[("kws", False)])["fp32_macs_pointwise"] == 2_048_000
    assert kws["layers"] == 12  # conv + 4 x (dw + pw) + pool + fc + softmax; ReLU/QDQ fused
    assert kws["outputs"] == 9 * 25 * 5 * 64 + 12  # conv, dw and pw outputs at 25x5x64, fc


def test_profile_without_constants_is_refused(tmp_path, nets) -> None:
    bare = tmp_path / "mcu.toml"
    bare.write_text(
        'id = "bare-mcu"\nversion = "1"\nname = "b"\nkind = "mcu"\n[cpu]\ncores = 1\n'
        "clock_mhz = 100\n[memory]\nflash_kib = 1\nsram_kib = 1\n[sources]\n"
    )
    with pytest.raises(CostModelUnavailable, match=r"no \[mcu\]"):
        estimate(nets[("ad", True)], load_catalogue([bare]).get("bare-mcu"))
