"""The HTML report's workload block: burst and sustained latency, throttling, battery life,
and a small inline SVG of latency over the first minutes at the workload's rate.

Built from a result's ``details["workload"]`` (see :mod:`pytest_edgegate.workload`); the
markup of the chart is made here from numbers only, so no text from a result reaches it.
"""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup

from pytest_edgegate.metrics import finite_or_none, format_value

WIDTH, HEIGHT, PAD = 360, 120, 28
#: Shortest and longest time axis of the chart, in seconds.
MIN_HORIZON_S, MAX_HORIZON_S = 300.0, 3600.0


def _horizon(throttle_s: float | None) -> float:
    """Five minutes, or twice the time to throttle rounded up to a minute (at most an hour)."""
    if throttle_s is None:
        return MIN_HORIZON_S
    return min(MAX_HORIZON_S, max(MIN_HORIZON_S, math.ceil(2 * throttle_s / 60) * 60))


def latency_svg(
    burst_ms: float, sustained_ms: float, throttle_s: float | None, rate_hz: float | None = None
) -> Markup:
    """Latency against time: burst until throttling starts, the sustained latency after; a
    dashed line at the frame time the rate allows (``1000 / rate_hz`` ms)."""
    horizon = _horizon(throttle_s)
    frame = 1e3 / rate_hz if rate_hz else None
    top = max(burst_ms, sustained_ms, frame or 0.0) * 1.2 or 1.0
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(t: float) -> float:
        return PAD + plot_w * t / horizon

    def y(ms: float) -> float:
        return HEIGHT - PAD - plot_h * ms / top

    switch = horizon if throttle_s is None and sustained_ms == burst_ms else (throttle_s or 0.0)
    points = [(0.0, burst_ms), (switch, burst_ms), (switch, sustained_ms), (horizon, sustained_ms)]
    line = " ".join(f"{x(t):.1f},{y(ms):.1f}" for t, ms in points)
    axis = (
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        f'stroke="#888"/><line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>'
    )
    labels = (
        f'<text x="{PAD}" y="{HEIGHT - 8}" font-size="10">0</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" font-size="10" text-anchor="end">'
        f"{horizon / 60:g} min</text>"
        f'<text x="{PAD - 4}" y="{y(top / 1.2) + 3:.1f}" font-size="10" text-anchor="end">'
        f"{top / 1.2:.3g}</text>"
        f'<text x="{PAD}" y="{PAD - 10}" font-size="10">latency, ms</text>'
    )
    if frame is not None:
        labels += (
            f'<line x1="{PAD}" y1="{y(frame):.1f}" x2="{WIDTH - PAD}" y2="{y(frame):.1f}" '
            f'stroke="#888" stroke-dasharray="4 3"/>'
            f'<text x="{WIDTH - PAD + 2}" y="{y(frame) + 3:.1f}" font-size="9">1/rate</text>'
        )
    if throttle_s is not None and 0 < throttle_s < horizon:
        labels += (
            f'<text x="{x(throttle_s):.1f}" y="{HEIGHT - 8}" font-size="10" '
            f'text-anchor="middle">{throttle_s:.0f} s</text>'
        )
    return Markup(
        f'<svg class=wl width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="latency over the first {horizon / 60:g} minutes">'
        f"{axis}{labels}"
        f'<polyline fill="none" stroke="#c0392b" stroke-width="2" points="{line}"/></svg>'
    )


def workload_view(details: dict[str, Any]) -> dict[str, Any] | None:
    """The facts and chart of a result's workload, or ``None`` when it has none."""
    block = details.get("workload")
    if not isinstance(block, dict):
        return None
    thermal = block.get("thermal") if isinstance(block.get("thermal"), dict) else {}
    workload = block.get("workload") if isinstance(block.get("workload"), dict) else {}
    burst = finite_or_none(thermal.get("burst_latency_ms"))
    sustained = finite_or_none(thermal.get("sustained_latency_ms"))
    throttle = finite_or_none(thermal.get("time_to_throttle_s"))
    rate = finite_or_none(workload.get("rate_hz"))
    facts: list[tuple[str, str]] = []
    if rate is not None:
        facts.append(("rate", f"{rate:g} Hz"))
    facts.append(("burst latency", format_value("latency_ms", burst)))
    facts.append(("sustained latency", format_value("sustained_latency_ms", sustained)))
    if thermal.get("throttles") is True:
        clock = finite_or_none(thermal.get("clock_mhz"))
        facts.append(("throttles after", "unknown" if throttle is None else f"{throttle:.3g} s"))
        if clock is not None:
            facts.append(("settled clock", f"{clock:.4g} MHz"))
    else:
        facts.append(("throttling", "none at this rate"))
    power = finite_or_none(thermal.get("sustained_power_w"))
    envelope = finite_or_none(thermal.get("envelope_w"))
    if power is not None:
        facts.append(("average power", f"{power:.3g} W"))
    if envelope is not None:
        facts.append(("envelope", f"{envelope:.3g} W ({block.get('cooling') or 'cooling'})"))
    held = finite_or_none(thermal.get("max_rate_sustained_hz"))
    if held is not None:
        facts.append(("holds at most", f"{held:.4g} Hz"))
    life = finite_or_none(block.get("battery_life_h"))
    battery = finite_or_none(block.get("battery_wh"))
    if life is not None and battery is not None:
        facts.append(("battery life", f"{format_value('battery_life_h', life)} on {battery:g} Wh"))
    chart = None
    if burst is not None and sustained is not None:
        chart = latency_svg(burst, sustained, throttle, rate)
    return {"facts": [(k, str(v)) for k, v in facts], "chart": chart}
