"""The constants of the cost model, read from a profile's ``[costmodel]`` table.

Efficiencies are fractions of the profile's own peak figures (``[throughput]``, memory
bandwidth, NPU peak TOPS) rather than raw speeds, so that a constant fitted on one device can
be carried to a sibling device with a cited peak, and so a reader can judge it (an ``eff_conv``
of 0.3 is plausible; 3.0 would be a bug).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

#: CPU operator classes with their own efficiency (see :func:`terms.cpu_class`).
CPU_CLASSES = ("conv", "pointwise", "depthwise", "gemm", "vector")


@dataclass(frozen=True)
class CostParams:
    """Every constant of the model; NPU and energy constants are optional per profile."""

    threads: int = 1
    parallel_fraction: float = 0.0
    eff_conv: float | None = None
    eff_pointwise: float | None = None
    eff_depthwise: float | None = None
    eff_gemm: float | None = None
    eff_vector: float | None = None
    eff_winograd: float | None = None
    eff_grouped: float | None = None
    eff_elementwise: float | None = None
    eff_pool: float | None = None
    eff_resize: float | None = None
    eff_norm: float | None = None
    eff_data: float | None = None
    small_m: float = 0.0
    small_n: float = 0.0
    small_k: float = 0.0
    small_m_winograd: float | None = None
    parallel_grain_mflop: float | None = None
    parallel_efficiency: float = 1.0
    sync_us: float = 0.0
    eff_cache: float | None = None
    eff_dram: float | None = None
    dispatch_us: float = 0.0
    fixed_us: float = 0.0
    energy_compute_w: float | None = None
    energy_memory_w: float | None = None
    energy_static_w: float | None = None
    npu_eff_mac: float | None = None
    npu_eff_vector: float | None = None
    npu_dispatch_us: float = 0.0
    npu_fixed_us: float = 0.0
    transfer_fixed_us: float = 0.0
    npu_pool_as_conv: bool = False
    npu_array_tile: int = 0
    npu_fused_epilogue: bool = False
    npu_pj_per_mac: float | None = None
    npu_pj_per_vector_op: float | None = None
    npu_pj_per_sram_byte: float | None = None
    npu_pj_per_dram_byte: float | None = None
    npu_static_w: float | None = None

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> CostParams:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in table.items() if k in known})

    def eff(self, cpu_class: str) -> float | None:
        return getattr(self, f"eff_{cpu_class}")

    @property
    def has_cpu(self) -> bool:
        needed = [self.eff(c) for c in CPU_CLASSES] + [self.eff_cache, self.eff_dram]
        return all(v is not None and v > 0 for v in needed)

    @property
    def has_npu(self) -> bool:
        return bool(self.npu_eff_mac and self.npu_eff_vector)

    @property
    def has_cpu_energy(self) -> bool:
        return None not in (self.energy_compute_w, self.energy_memory_w, self.energy_static_w)

    @property
    def has_npu_energy(self) -> bool:
        return None not in (
            self.npu_pj_per_mac,
            self.npu_pj_per_vector_op,
            self.npu_pj_per_sram_byte,
            self.npu_pj_per_dram_byte,
            self.npu_static_w,
        )

    @property
    def per_node_threads(self) -> bool:
        """Thread scaling per node from its work (else one Amdahl fraction for every node)."""
        return self.parallel_grain_mflop is not None

    def speedup(self, threads: int) -> float:
        """Amdahl speed-up of the compute terms at ``threads`` relative to one thread."""
        p = self.parallel_fraction
        return 1.0 / ((1.0 - p) + p / max(1, threads))
