"""Sustained latency under a device's thermal envelope, at a workload's inference rate.

A first-order, deterministic model over the profile's cited ``[thermal]`` figures: the clock
drops until the average power fits the envelope (clock-bound time ~1/s, memory time fixed,
clock-bound energy ~s**2), and one time constant says when.  README "Energy, battery and heat"
states it in full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_edgegate.profiles import DeviceProfile

#: Bisection steps: far past float precision, and fixed so results are bit-identical.
STEPS = 200


@dataclass(frozen=True)
class ThermalSpec:
    """A profile's ``[thermal]`` section with the power figures it is read against."""

    cooling: str
    envelope_w: float
    clock_mhz: float
    throttled_clock_mhz: float
    idle_w: float
    active_w: float | None = None
    throttle_temp_c: float | None = None
    limit_temp_c: float | None = None
    time_to_throttle_s: float | None = None

    @classmethod
    def from_profile(cls, profile: DeviceProfile) -> ThermalSpec | None:
        table = profile.raw.get("thermal")
        idle = profile.power.get("idle_w")
        if not table or idle is None:
            return None
        return cls(
            cooling=str(table["cooling"]),
            envelope_w=float(table["envelope_w"]),
            clock_mhz=float(profile.cpu.clock_mhz),
            throttled_clock_mhz=min(float(table["throttled_clock_mhz"]), profile.cpu.clock_mhz),
            idle_w=float(idle),
            active_w=profile.power.get("active_w"),
            throttle_temp_c=table.get("throttle_temp_c"),
            limit_temp_c=table.get("limit_temp_c"),
            time_to_throttle_s=table.get("time_to_throttle_s"),
        )

    @property
    def min_ratio(self) -> float:
        return self.throttled_clock_mhz / self.clock_mhz

    def time_constant_s(self) -> float | None:
        """The thermal time constant implied by the time full load takes to throttle."""
        full, t = self.active_w, self.time_to_throttle_s
        if full is None or t is None or full <= self.envelope_w or self.envelope_w <= self.idle_w:
            return None
        return t / math.log((full - self.idle_w) / (full - self.envelope_w))


@dataclass(frozen=True)
class InferenceCost:
    """One inference at the full clock, split into what scales with the clock and what not."""

    scaled_ms: float
    fixed_ms: float
    increase_mj: float
    idle_w: float
    between_w: float

    @classmethod
    def from_estimate(
        cls, est: Any, increase_mj: float, idle_w: float, between_w: float
    ) -> InferenceCost:
        """Memory and link time are fixed; the rest of the estimate follows the clock."""
        latency = float(est.latency_ms)
        fixed = float(est.breakdown.get("memory_ms", 0.0)) + float(est.transfer_ms or 0.0)
        fixed = min(max(fixed, 0.0), latency)
        return cls(latency - fixed, fixed, increase_mj, idle_w, between_w)

    @property
    def latency_ms(self) -> float:
        return self.scaled_ms + self.fixed_ms

    def latency_at(self, s: float) -> float:
        return self.scaled_ms / s + self.fixed_ms

    def increase_at(self, s: float) -> float:
        """Increase above idle in mJ at clock ratio ``s``; shared out in proportion to time."""
        if self.latency_ms <= 0:
            return self.increase_mj
        scaled = self.increase_mj * self.scaled_ms / self.latency_ms
        return scaled * s * s + (self.increase_mj - scaled)

    def power_at(self, rate_hz: float, s: float) -> float:
        """Average device power in W at ``rate_hz`` (capped at back-to-back inferences)."""
        latency_s = self.latency_at(s) / 1e3
        served = min(rate_hz, 1.0 / latency_s) if latency_s > 0 else rate_hz
        duty = served * latency_s
        return (
            self.between_w
            + duty * (self.idle_w - self.between_w)
            + served * self.increase_at(s) / 1e3
        )


@dataclass(frozen=True)
class Settled:
    """Where the device settles at a rate: clock, latency, power and when it throttles."""

    rate_hz: float
    clock_ratio: float
    clock_mhz: float | None
    burst_latency_ms: float
    sustained_latency_ms: float
    burst_power_w: float
    sustained_power_w: float
    envelope_w: float | None
    time_to_throttle_s: float | None
    max_rate_burst_hz: float
    max_rate_sustained_hz: float
    notes: tuple[str, ...] = ()

    @property
    def throttles(self) -> bool:
        return self.clock_ratio < 1.0

    def timeline(self, horizon_s: float, points: int = 60) -> list[tuple[float, float]]:
        """(seconds, latency ms) over ``horizon_s``: burst until throttling, then sustained."""
        out = []
        for i in range(points + 1):
            t = horizon_s * i / points
            throttled = self.throttles and (
                self.time_to_throttle_s is None or t >= self.time_to_throttle_s
            )
            out.append((t, self.sustained_latency_ms if throttled else self.burst_latency_ms))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate_hz": self.rate_hz,
            "clock_ratio": self.clock_ratio,
            "clock_mhz": self.clock_mhz,
            "burst_latency_ms": self.burst_latency_ms,
            "sustained_latency_ms": self.sustained_latency_ms,
            "burst_power_w": self.burst_power_w,
            "sustained_power_w": self.sustained_power_w,
            "envelope_w": self.envelope_w,
            "throttles": self.throttles,
            "time_to_throttle_s": self.time_to_throttle_s,
            "max_rate_burst_hz": self.max_rate_burst_hz,
            "max_rate_sustained_hz": self.max_rate_sustained_hz,
            "notes": list(self.notes),
        }


def _bisect(ok: Any, lo: float, hi: float) -> float:
    """The largest x in [lo, hi] with ``ok(x)`` true, for ``ok`` true below some point."""
    for _ in range(STEPS):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def clock_ratio(cost: InferenceCost, spec: ThermalSpec | None, rate_hz: float) -> float:
    """The clock ratio the device settles at: 1 under the envelope, else the highest that
    fits it, never below the throttled clock."""
    if spec is None or cost.power_at(rate_hz, 1.0) <= spec.envelope_w:
        return 1.0
    floor = spec.min_ratio
    if cost.power_at(rate_hz, floor) > spec.envelope_w:
        return floor
    return _bisect(lambda s: cost.power_at(rate_hz, s) <= spec.envelope_w, floor, 1.0)


def _time_to_throttle(spec: ThermalSpec, power_w: float, start_w: float) -> float | None:
    tau = spec.time_constant_s()
    if tau is None or power_w <= spec.envelope_w:
        return None
    if start_w >= spec.envelope_w:
        return 0.0
    return tau * math.log((power_w - start_w) / (power_w - spec.envelope_w))


def settle(
    cost: InferenceCost,
    spec: ThermalSpec | None,
    rate_hz: float,
    duration_s: float | None = None,
) -> Settled:
    """The device at ``rate_hz`` once settled (or at the end of a ``duration_s`` run)."""
    notes: list[str] = []
    burst = cost.latency_ms
    s = clock_ratio(cost, spec, rate_hz)
    when = None
    if spec is not None and s < 1.0:
        when = _time_to_throttle(spec, cost.power_at(rate_hz, 1.0), cost.between_w)
        if when is None:
            notes.append("the profile gives no time to throttle: the time is not known")
        if cost.power_at(rate_hz, s) > spec.envelope_w:
            notes.append(
                f"even at the throttled clock ({spec.throttled_clock_mhz:g} MHz) the device "
                f"draws {cost.power_at(rate_hz, s):.3g} W, over its {spec.envelope_w:g} W "
                "envelope: the real device may throttle further"
            )
        if duration_s is not None and when is not None and duration_s < when:
            notes.append(f"the run ({duration_s:g} s) ends before throttling starts ({when:.3g} s)")
            s = 1.0
    max_burst = 1e3 / burst if burst > 0 else math.inf

    def holds(rate: float) -> bool:
        return rate * cost.latency_at(clock_ratio(cost, spec, rate)) <= 1e3

    max_sustained = max_burst if holds(max_burst) else _bisect(holds, 0.0, max_burst)
    if s == 1.0 and duration_s is not None:
        max_sustained = max_burst  # the run ends before the device throttles
    return Settled(
        rate_hz=rate_hz,
        clock_ratio=s,
        clock_mhz=spec.clock_mhz * s if spec else None,
        burst_latency_ms=burst,
        sustained_latency_ms=cost.latency_at(s),
        burst_power_w=cost.power_at(rate_hz, 1.0),
        sustained_power_w=cost.power_at(rate_hz, s),
        envelope_w=spec.envelope_w if spec else None,
        time_to_throttle_s=when,
        max_rate_burst_hz=max_burst,
        max_rate_sustained_hz=max_sustained,
        notes=tuple(notes),
    )
