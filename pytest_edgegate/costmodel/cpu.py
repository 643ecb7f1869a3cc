"""Pricing nodes on a CPU: the terms of :mod:`.terms` times the profile's efficiencies."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_edgegate.analysis import NodeStats
from pytest_edgegate.costmodel.params import CostParams
from pytest_edgegate.costmodel.terms import cpu_terms
from pytest_edgegate.profiles import DeviceProfile


@dataclass(frozen=True)
class CpuTime:
    compute_s: float
    memory_s: float
    overhead_s: float

    @property
    def total_s(self) -> float:
        return self.compute_s + self.memory_s + self.overhead_s

    @property
    def bound(self) -> str:
        parts = {"compute": self.compute_s, "memory": self.memory_s, "overhead": self.overhead_s}
        return max(parts, key=lambda k: parts[k])


def cpu_time(
    node: NodeStats, profile: DeviceProfile, params: CostParams, threads: int
) -> CpuTime | None:
    """Seconds of one node on the profile's CPU at ``threads`` threads.

    The compute term scales with threads by Amdahl's law relative to the thread count the
    constants were fitted at; memory terms do not (the cores share one memory bus), nor does
    the dispatch overhead (the runtime issues nodes one by one in sequential execution).
    """
    terms = cpu_terms(node, profile)
    if terms is None:
        return None
    scale = params.speedup(params.threads) / params.speedup(threads)
    eff = params.eff(terms.cls) or 1.0
    return CpuTime(
        compute_s=terms.compute_s_at_peak / eff * scale,
        memory_s=terms.cache_s_at_bw / (params.eff_cache or 1.0)
        + terms.dram_s_at_bw / (params.eff_dram or 1.0),
        overhead_s=terms.dispatch * params.dispatch_us * 1e-6,
    )
