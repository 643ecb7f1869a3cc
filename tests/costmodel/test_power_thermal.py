"""Whole-device energy, the thermal envelope and battery life on the shipped profiles."""

from __future__ import annotations

import math

import pytest
from modelgen import conv_model, save

from pytest_edgegate.analysis import analyze, load_model
from pytest_edgegate.costmodel import estimate
from pytest_edgegate.costmodel.power import device_energy
from pytest_edgegate.evaluation import cost_metrics
from pytest_edgegate.metrics import format_value
from pytest_edgegate.numbers import format_number
from pytest_edgegate.profiles import load_catalogue
from pytest_edgegate.thermal import InferenceCost, ThermalSpec, settle
from pytest_edgegate.workload import Workload, evaluate

CATALOGUE = load_catalogue([])


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory):
    path = save(conv_model(channels=64, hw=112), tmp_path_factory.mktemp("m") / "conv.onnx")
    return analyze(load_model(path))


def _outcome(analysis, target: str, workload: Workload | None):
    profile = CATALOGUE.get(target)
    _, est, details, _ = cost_metrics(profile, analysis)
    return evaluate(profile, est, details["energy"]["increase_mj"], workload), est, details


@pytest.mark.parametrize("target", ["cortex-a53", "cortex-a72", "cortex-a76", "edgetpu"])
def test_whole_device_energy_is_idle_floor_plus_increase(analysis, target: str) -> None:
    profile = CATALOGUE.get(target)
    est = estimate(analysis, profile)
    energy = device_energy(est, profile)
    idle = profile.power["idle_w"]
    assert energy.energy_mj == pytest.approx(idle * est.latency_ms + est.energy_mj, rel=1e-12)
    assert energy.increase_mj == est.energy_mj and energy.idle_floor_mj > 0
    metrics, _, details, _ = cost_metrics(profile, analysis)
    assert metrics["energy_mj"].value == energy.energy_mj
    assert metrics["power_w"].value == pytest.approx(energy.energy_mj / est.latency_ms)
    assert idle < metrics["power_w"].value
    assert details["energy_increase_mj"] == est.energy_mj
    assert details["energy"]["covers"] == "board"


def test_every_cpu_and_npu_profile_states_its_basis_and_envelope() -> None:
    for pid in CATALOGUE.ids:
        profile = CATALOGUE.get(pid)
        if profile.is_mcu:
            continue
        assert profile.power.get("covers") in {"board", "soc", "phone", "module", "chip"}, pid
        assert "power.covers" in profile.sources, pid
        spec = ThermalSpec.from_profile(profile)
        assert spec is not None and spec.cooling, pid
        assert any(k.startswith("thermal") for k in profile.sources), pid


def test_under_the_envelope_sustained_equals_burst(analysis) -> None:
    out, est, _ = _outcome(analysis, "cortex-a72", Workload(rate_hz=5))
    assert out.metrics["sustained_latency_ms"].value == est.latency_ms
    assert out.details["thermal"]["throttles"] is False
    assert out.details["thermal"]["time_to_throttle_s"] is None
    assert all(v.passed for v in out.verdicts)


def test_above_the_envelope_latency_grows_and_throttling_has_a_time(analysis) -> None:
    out, est, _ = _outcome(analysis, "cortex-a72", Workload(rate_hz=70))
    thermal = out.details["thermal"]
    assert thermal["burst_power_w"] > thermal["envelope_w"] == 3.8
    assert out.metrics["sustained_latency_ms"].value > est.latency_ms
    assert thermal["sustained_power_w"] == pytest.approx(3.8, rel=1e-9)
    assert 0 < thermal["time_to_throttle_s"] < math.inf
    assert 1000 <= thermal["clock_mhz"] < 1500
    assert all(v.passed for v in out.verdicts)  # 70 Hz is still held once throttled
    # A run that ends before throttling never sees the slower clock.
    short = _outcome(analysis, "cortex-a72", Workload(70, duration_s=1.0))[0]
    assert short.metrics["sustained_latency_ms"].value == est.latency_ms


def test_a_rate_the_device_cannot_hold_fails_naming_the_rate_it_can(analysis) -> None:
    # A rate just under what one inference at the burst clock allows: held at first, not
    # once the board throttles.
    burst = _outcome(analysis, "cortex-a53", Workload(rate_hz=1.0))[1]
    rate = 0.95 * 1e3 / burst.latency_ms
    out, est, _ = _outcome(analysis, "cortex-a53", Workload(rate_hz=rate))
    (verdict,) = out.verdicts
    assert not verdict.passed and verdict.metric == "rate_hz" and verdict.value == rate
    assert verdict.bound < 1e3 / est.latency_ms  # throttling lowers the rate it can hold
    message = verdict.message("cortex-a53")
    assert f"holds at most {format_number(verdict.bound)} Hz" in message
    assert "limit <= " in message
    # At the rate it names, it holds.
    held = _outcome(analysis, "cortex-a53", Workload(rate_hz=verdict.bound * 0.999))[0]
    assert held.verdicts[0].passed


def test_battery_life_falls_as_the_rate_rises(analysis) -> None:
    lives = [
        _outcome(analysis, "cortex-a72", Workload(rate, battery_wh=37.0))[0]
        .metrics["battery_life_h"]
        .value
        for rate in (0.5, 1, 5, 10, 30, 60)
    ]
    assert all(a > b for a, b in zip(lives[:-1], lives[1:], strict=True))
    assert lives[0] < 37.0 / 2.7  # never longer than the battery at idle
    missing = _outcome(analysis, "cortex-a72", Workload(5))[0].metrics["battery_life_h"]
    assert missing.value is None and "battery_wh" in missing.reason


def test_no_workload_leaves_the_workload_metrics_unavailable(analysis) -> None:
    out, _, _ = _outcome(analysis, "cortex-a72", None)
    assert out.verdicts == [] and out.details is None
    assert "edge_workload(rate_hz=...)" in out.metrics["sustained_latency_ms"].reason


def test_full_load_settles_at_the_throttled_clock_after_the_profile_time() -> None:
    """The envelope derived in the profile is consistent with the model: a cost drawing
    the board's full-load power back to back settles at the throttled clock, and throttles
    after the profile's time_to_throttle_s."""
    profile = CATALOGUE.get("cortex-a72")
    spec = ThermalSpec.from_profile(profile)
    idle, active = profile.power["idle_w"], profile.power["active_w"]
    cost = InferenceCost(10.0, 0.0, (active - idle) * 10.0, idle, idle)
    state = settle(cost, spec, rate_hz=100.0)
    assert state.burst_power_w == pytest.approx(active)
    assert state.clock_mhz == pytest.approx(1000, rel=0.01)
    assert state.time_to_throttle_s == pytest.approx(60.0)
    timeline = state.timeline(300)
    assert timeline[0][1] == 10.0 and timeline[-1][1] == state.sustained_latency_ms


def test_memory_time_does_not_scale_with_the_clock() -> None:
    spec = ThermalSpec.from_profile(CATALOGUE.get("cortex-a72"))
    compute = settle(InferenceCost(10.0, 0.0, 60.0, 2.7, 2.7), spec, 90.0)
    memory = settle(InferenceCost(5.0, 5.0, 60.0, 2.7, 2.7), spec, 90.0)
    assert compute.throttles and memory.throttles
    assert compute.sustained_latency_ms / 10.0 > memory.sustained_latency_ms / 10.0


def test_results_are_deterministic(analysis) -> None:
    a = _outcome(analysis, "cortex-a53", Workload(12, battery_wh=20))[0]
    b = _outcome(analysis, "cortex-a53", Workload(12, battery_wh=20))[0]
    assert a.details == b.details


def test_sleep_power_between_inferences_gives_days_on_a_coin_cell() -> None:
    """A duty-cycled sensor: 1 Hz, 2 ms inferences, 3 uW sleep, a 0.66 Wh coin cell."""
    cost = InferenceCost(2.0, 0.0, 0.1, idle_w=0.03, between_w=3e-6)
    state = settle(cost, None, rate_hz=1.0)
    hours = 0.66 / state.sustained_power_w
    assert hours > 24 * 60
    assert "months" in format_value("battery_life_h", hours)
    assert format_value("battery_life_h", 30.0) == "30 h"
    assert "days" in format_value("battery_life_h", 100.0)


def test_without_energy_the_rate_is_still_checked(analysis) -> None:
    profile = CATALOGUE.get("cortex-a72")
    est = estimate(analysis, profile)
    out = evaluate(profile, est, None, Workload(rate_hz=1e6))
    assert out.metrics["sustained_latency_ms"].value is None
    assert "energy" in out.metrics["battery_life_h"].reason
    (verdict,) = out.verdicts
    assert not verdict.passed and verdict.bound == pytest.approx(1e3 / est.latency_ms)
