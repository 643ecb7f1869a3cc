"""Whole-device energy of one inference: the idle floor plus the cost model's increase.

The cost model prices what a model adds above an idle device; a power meter, a battery and
MLPerf's power runs see the whole device.  This module states the basis: ``energy_mj`` is
the device's idle power over the inference's latency plus that increase, and ``power_w`` is
that energy over the latency.  See README "Energy, battery and heat".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_edgegate.profiles import DeviceProfile

#: What each ``[power] covers`` value means, for messages and reports.
COVERS = {
    "board": "the whole board at its power input",
    "soc": "the SoC and its memory, not the rest of the device",
    "phone": "the whole phone at its battery",
    "module": "the whole module at its supply pins",
    "chip": "the chip at its supply pins",
}


class PowerUnavailable(Exception):
    """The profile cannot give whole-device energy; the message says why."""


@dataclass(frozen=True)
class DeviceEnergy:
    """One inference on the whole device: the idle floor plus the model's increase."""

    latency_ms: float
    idle_w: float
    increase_mj: float
    covers: str

    @property
    def idle_floor_mj(self) -> float:
        return self.idle_w * self.latency_ms  # W x ms = mJ

    @property
    def energy_mj(self) -> float:
        return self.idle_floor_mj + self.increase_mj

    @property
    def power_w(self) -> float:
        return self.energy_mj / self.latency_ms if self.latency_ms > 0 else self.idle_w

    def to_dict(self) -> dict[str, Any]:
        return {
            "basis": "whole device: idle floor + increase",
            "covers": self.covers,
            "covers_doc": COVERS.get(self.covers, self.covers),
            "idle_w": self.idle_w,
            "idle_floor_mj": self.idle_floor_mj,
            "increase_mj": self.increase_mj,
            "energy_mj": self.energy_mj,
            "power_w": self.power_w,
        }


def idle_power(profile: DeviceProfile) -> float:
    """The device's idle power in W; raises :class:`PowerUnavailable` without one."""
    idle = profile.power.get("idle_w")
    if idle is None:
        raise PowerUnavailable(f"profile {profile.id} has no [power] idle_w")
    return float(idle)


def between_power(profile: DeviceProfile) -> float:
    """Power between inferences: the sleep power when the profile gives one, else idle."""
    sleep = profile.power.get("sleep_w")
    return float(sleep) if sleep is not None else idle_power(profile)


def floor_power(profile: DeviceProfile, est: Any) -> float:
    """The idle floor under ``est``: ``idle_w``, or 0 W for an estimate priced on the whole device
    (``energy_basis = "device"``, e.g. an MCU's measured board power) without an idle figure."""
    if getattr(est, "energy_basis", "increase") == "device":
        return float(profile.power.get("idle_w", 0.0))
    return idle_power(profile)


def device_energy(est: Any, profile: DeviceProfile) -> DeviceEnergy:
    """Whole-device energy of the estimate ``est`` (an :class:`.Estimate`) on ``profile``.

    ``est.energy_mj`` is the increase above idle; an estimate that already prices the whole
    device says so with ``energy_basis = "device"`` and its idle floor is taken out of it.
    """
    if est.energy_mj is None:
        raise PowerUnavailable(est.energy_unavailable or f"no energy estimate on {profile.id}")
    # Priced on the whole board already (MLPerf Tiny's supply-side energy): without an idle
    # figure the split is unknown, but the whole-device energy is still the estimate's.
    idle = floor_power(profile, est)
    increase = float(est.energy_mj)
    if getattr(est, "energy_basis", "increase") == "device":
        increase -= idle * est.latency_ms
    covers = str(profile.power.get("covers", "board"))
    return DeviceEnergy(float(est.latency_ms), idle, increase, covers)
