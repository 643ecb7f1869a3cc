"""The HTML report's workload block: its facts, its chart, and odd input."""

from __future__ import annotations

from pytest_edgegate.report.workload_view import latency_svg, workload_view


def _details(throttles: bool) -> dict:
    return {
        "workload": {
            "workload": {"rate_hz": 30.0, "battery_wh": 37.0, "duration_s": None},
            "thermal": {
                "burst_latency_ms": 33.1,
                "sustained_latency_ms": 47.4 if throttles else 33.1,
                "time_to_throttle_s": 68.8 if throttles else None,
                "throttles": throttles,
                "clock_mhz": 1046.0 if throttles else 1500.0,
                "sustained_power_w": 3.9,
                "envelope_w": 3.8,
                "max_rate_sustained_hz": 21.1,
            },
            "cooling": "bare board",
            "battery_wh": 37.0,
            "battery_life_h": 9.48,
        }
    }


def test_a_throttling_workload_shows_when_and_the_sustained_latency() -> None:
    view = workload_view(_details(throttles=True))
    facts = dict(view["facts"])
    assert facts["burst latency"] == "33.1 ms" and facts["sustained latency"] == "47.4 ms"
    assert facts["throttles after"] == "68.8 s" and facts["settled clock"] == "1046 MHz"
    assert facts["battery life"] == "9.48 h on 37 Wh"
    chart = str(view["chart"])
    assert chart.startswith("<svg") and "69 s" in chart and "1/rate" in chart


def test_no_throttling_is_said_and_charted_flat() -> None:
    view = workload_view(_details(throttles=False))
    assert dict(view["facts"])["throttling"] == "none at this rate"
    points = str(view["chart"]).split('points="')[1].split('"')[0].split()
    assert len({p.split(",")[1] for p in points}) == 1


def test_odd_input_does_not_break_the_block() -> None:
    assert workload_view({}) is None
    view = workload_view({"workload": {"thermal": "?", "workload": None}})
    assert view["chart"] is None and dict(view["facts"])["burst latency"] == "n/a"
    assert "<script" not in str(latency_svg(1.0, 2.0, 10.0, 30.0))
