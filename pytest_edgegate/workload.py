"""``@pytest.mark.edge_workload``: how a model is used, and what that costs the device.

Parses the marker (merged per keyword like ``edge_budget``: the closest definition wins) and
turns a workload into ``sustained_latency_ms`` (see :mod:`.thermal`), ``battery_life_h`` and a
verdict on whether the device holds the rate at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_edgegate.budgets import Availability, Verdict, _show
from pytest_edgegate.errors import BudgetError
from pytest_edgegate.numbers import format_number
from pytest_edgegate.thermal import InferenceCost, Settled, ThermalSpec, settle

if TYPE_CHECKING:
    from pytest_edgegate.profiles import DeviceProfile

MARKER_DOC = (
    "edge_workload(rate_hz, battery_wh=None, duration_s=None): pytest-edgegate workload of "
    "the models this test evaluates: the inference rate they must sustain, the battery (a "
    "battery-powered profile carries its own) and how long they run. Needed by "
    "sustained_latency_ms and battery_life_h. Closest marker wins per keyword."
)
KEYWORDS = ("rate_hz", "battery_wh", "duration_s")
NEEDS_WORKLOAD = "needs a workload: @pytest.mark.edge_workload(rate_hz=...)"


@dataclass(frozen=True)
class Workload:
    rate_hz: float
    battery_wh: float | None = None
    duration_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate_hz": self.rate_hz,
            "battery_wh": self.battery_wh,
            "duration_s": self.duration_s,
        }


def _number(keyword: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = (
            " (units are in the keyword's name: give a plain number)"
            if isinstance(value, str)
            else ""
        )
        got = _show(value)
        raise BudgetError(f"edge_workload({keyword}=...) expects a number, got {got}{hint}")
    number = float(value) if abs(value) < 1e300 else math.inf
    if not math.isfinite(number) or number <= 0:
        raise BudgetError(
            f"edge_workload({keyword}=...) expects a finite number above 0, got {_show(value)}"
        )
    return number


def parse_marker(args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, float]:
    """One marker's arguments, checked; ``None`` values are left out (not given)."""
    if args:
        raise BudgetError(
            f"edge_workload takes keyword arguments only (e.g. rate_hz=30), got {_show(args)}"
        )
    parsed: dict[str, float] = {}
    for keyword, value in kwargs.items():
        if keyword not in KEYWORDS:
            raise BudgetError(
                f"edge_workload got an unknown keyword {keyword!r}; expected one of: "
                f"{', '.join(KEYWORDS)}"
            )
        if value is not None:
            parsed[keyword] = _number(keyword, value)
    return parsed


def merge(levels: Sequence[Sequence[Mapping[str, float]]]) -> Workload | None:
    """Merge parsed markers, closest level first; ``None`` when there is no marker at all."""
    chosen: dict[str, float] = {}
    any_mark = False
    for marks in levels:
        seen: dict[str, float] = {}
        for mark in marks:
            any_mark = True
            for keyword, value in mark.items():
                if keyword in seen and seen[keyword] != value:
                    raise BudgetError(
                        f"edge_workload keyword {keyword!r} is given twice at the same level "
                        f"({seen[keyword]:g} and {value:g})"
                    )
                seen[keyword] = value
        for keyword, value in seen.items():
            chosen.setdefault(keyword, value)
    if not any_mark:
        return None
    if "rate_hz" not in chosen:
        raise BudgetError("edge_workload needs rate_hz (inferences per second) at some level")
    return Workload(**chosen)


def item_workload(node: Any) -> Workload | None:
    """The merged workload of a pytest node (anything with ``listchain()``)."""
    levels = []
    for level in node.listchain():
        marks = [m for m in getattr(level, "own_markers", []) if m.name == "edge_workload"]
        levels.append([parse_marker(m.args, m.kwargs) for m in marks])
    return merge(list(reversed(levels)))


@dataclass
class WorkloadOutcome:
    metrics: dict[str, Availability]
    details: dict[str, Any] | None = None
    verdicts: list[Verdict] = field(default_factory=list)


def _rate_verdict(workload: Workload, state: Settled, target: str) -> Verdict:
    """Fails when the device cannot serve the rate, naming the rate it can hold."""
    can = min(state.max_rate_burst_hz, state.max_rate_sustained_hz)
    ok = workload.rate_hz <= can
    if state.max_rate_sustained_hz < state.max_rate_burst_hz:
        why = (
            f"{target} holds at most {format_number(can)} Hz once throttled, "
            f"{format_number(state.max_rate_burst_hz)} Hz before"
        )
    else:
        why = f"{target} holds at most {format_number(can)} Hz"
    return Verdict("rate_hz", "max", can, workload.rate_hz, ok, "estimate", why, "edge_workload")


def evaluate(
    profile: DeviceProfile, est: Any, increase_mj: float | None, workload: Workload | None
) -> WorkloadOutcome:
    """Sustained latency, battery life and the rate verdict of ``workload`` on ``profile``.

    ``est`` is the cost model's estimate (``None`` when it is unavailable) and
    ``increase_mj`` its energy above idle (``None`` likewise).
    """
    if workload is None:
        return WorkloadOutcome(
            {
                "sustained_latency_ms": Availability(None, reason=NEEDS_WORKLOAD),
                "battery_life_h": Availability(None, reason=NEEDS_WORKLOAD),
            }
        )
    if est is None or increase_mj is None:
        what = "latency" if est is None else "energy"
        reason = f"needs the cost model's {what}, not available on {profile.id}"
        missing = {
            "sustained_latency_ms": Availability(None, reason=reason),
            "battery_life_h": Availability(None, reason=reason),
        }
        if est is None:
            return WorkloadOutcome(missing)
        # Without energy the heat is unknown, but whether the rate fits a burst is not.
        burst = settle(InferenceCost.from_estimate(est, 0.0, 0.0, 0.0), None, workload.rate_hz)
        details = {"workload": workload.to_dict(), "thermal": burst.to_dict()}
        return WorkloadOutcome(missing, details, [_rate_verdict(workload, burst, profile.id)])
    from pytest_edgegate.costmodel.power import between_power, floor_power

    idle = floor_power(profile, est)
    cost = InferenceCost.from_estimate(est, increase_mj, idle, between_power(profile))
    spec = ThermalSpec.from_profile(profile)
    state = settle(cost, spec, workload.rate_hz, workload.duration_s)
    metrics: dict[str, Availability] = {}
    if spec is None:
        metrics["sustained_latency_ms"] = Availability(
            None, reason=f"profile {profile.id} has no [thermal] section"
        )
    else:
        metrics["sustained_latency_ms"] = Availability(state.sustained_latency_ms, "estimate")
    battery = workload.battery_wh or profile.power.get("battery_wh")
    details: dict[str, Any] = {
        "workload": workload.to_dict(),
        "thermal": state.to_dict(),
        "cooling": spec.cooling if spec else None,
        "throttled_clock_mhz": spec.throttled_clock_mhz if spec else None,
        "battery_wh": battery,
        "battery_from": "marker" if workload.battery_wh else ("profile" if battery else None),
    }
    if battery is None:
        metrics["battery_life_h"] = Availability(
            None,
            reason=f"no battery: give edge_workload(battery_wh=...); {profile.id} has no "
            "[power] battery_wh",
        )
    else:
        hours = float(battery) / state.sustained_power_w
        metrics["battery_life_h"] = Availability(hours, "estimate")
        details["battery_life_h"] = hours
        details["average_power_w"] = state.sustained_power_w
        if workload.duration_s:
            details["runs_per_charge"] = hours * 3600 / workload.duration_s
    return WorkloadOutcome(metrics, details, [_rate_verdict(workload, state, profile.id)])
