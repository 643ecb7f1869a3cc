"""The validated, immutable form of a device profile that the rest of edgegate reads.

Only the loader builds these; everything downstream (analysis checks, cost model, reports)
receives a :class:`DeviceProfile` and never sees raw TOML, so a typo in a profile file can only
ever surface in one place: at load time, with the file and key named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MIB = 1024 * 1024
KIB = 1024
MB = 1_000_000


@dataclass(frozen=True)
class CpuSpec:
    cores: int
    clock_mhz: float
    name: str = ""
    arch: str = ""
    simd: str = ""
    l1d_cache_kib: float | None = None
    l2_cache_kib: float | None = None
    l3_cache_kib: float | None = None


@dataclass(frozen=True)
class MemorySpec:
    ram_mib: float | None = None
    available_ram_mib: float | None = None
    bandwidth_gbps: float | None = None
    flash_kib: float | None = None
    sram_kib: float | None = None


@dataclass(frozen=True)
class NpuSpec:
    dtypes: tuple[str, ...]
    ops: tuple[str, ...]
    peak_tops: float
    name: str = ""
    clock_mhz: float | None = None
    onchip_memory_mib: float | None = None
    power_w: float | None = None
    link_bandwidth_gbps: float | None = None
    placement_rule: str = "partition"
    limits: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceProfile:
    """One emulated device.  Sizes are exposed in the metric unit (MB = 10^6 bytes)."""

    id: str
    version: str
    name: str
    kind: str
    cpu: CpuSpec
    memory: MemorySpec
    description: str = ""
    throughput: dict[str, float] = field(default_factory=dict)
    power: dict[str, float] = field(default_factory=dict)
    npu: NpuSpec | None = None
    sources: dict[str, str] = field(default_factory=dict)
    origin: str = ""
    overrides: str | None = None
    unsourced: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_mcu(self) -> bool:
        return self.kind == "mcu"

    @property
    def is_npu(self) -> bool:
        return self.kind == "npu"

    @property
    def ram_mb(self) -> float | None:
        """Memory one model may use, in MB: the available RAM when stated, else all of it."""
        mib = self.memory.available_ram_mib or self.memory.ram_mib
        return None if mib is None else mib * MIB / MB

    @property
    def flash_mb(self) -> float | None:
        kib = self.memory.flash_kib
        return None if kib is None else kib * KIB / MB

    @property
    def sram_mb(self) -> float | None:
        kib = self.memory.sram_kib
        return None if kib is None else kib * KIB / MB

    def memory_summary(self) -> str:
        """A short human description of the memory, for tables and messages."""
        if self.is_mcu:
            return f"flash {self.memory.flash_kib:g} KiB, SRAM {self.memory.sram_kib:g} KiB"
        text = f"RAM {self.memory.ram_mib:g} MiB"
        if self.memory.available_ram_mib:
            text += f" ({self.memory.available_ram_mib:g} MiB usable)"
        return text
