"""The device-profile schema: which keys a profile file may hold, their types and units.

Profiles are data files written by people (ours and our users'), so the loader trusts nothing:
every key is checked against this table, and an unknown key, a wrong type or a value given as a
string with a unit (``"4MB"``) is an error that names the file and the key.  Units live in the
key names (``clock_mhz``, ``ram_mib``) so a number is never ambiguous.

The schema is a plain table rather than a class hierarchy so a later section (the cost model's
fitted constants, say) is one more entry here, not new validation code.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("cpu", "npu", "mcu")


@dataclass(frozen=True)
class Field:
    """One allowed key: its type (``int``, ``float``, ``str``, ``list[str]``, ``table``)."""

    type: str
    required: bool = False
    minimum: float | None = 0.0
    choices: tuple[str, ...] | None = None
    doc: str = ""


def _num(doc: str, required: bool = False, minimum: float | None = 0.0) -> Field:
    return Field("float", required=required, minimum=minimum, doc=doc)


TOP_LEVEL: dict[str, Field] = {
    "id": Field("str", required=True, doc="the target id used on the command line"),
    "version": Field("str", required=True, doc="bumped whenever a number changes"),
    "name": Field("str", required=True, doc="human-readable device name"),
    "kind": Field("str", required=True, choices=KINDS, doc="cpu, npu or mcu"),
    "description": Field("str", doc="what the device is and what it is used for"),
    "extends": Field("str", doc="id of a profile this file starts from and overrides"),
}

SECTIONS: dict[str, dict[str, Field]] = {
    "cpu": {
        "name": Field("str"),
        "cores": Field("int", required=True, minimum=1),
        "clock_mhz": _num("core clock in MHz", required=True),
        "arch": Field("str"),
        "simd": Field("str"),
        "l1d_cache_kib": _num("L1 data cache per core, KiB"),
        "l2_cache_kib": _num("L2 cache, KiB"),
        "l3_cache_kib": _num("L3 cache, KiB"),
    },
    "memory": {
        "ram_mib": _num("device RAM, MiB"),
        "available_ram_mib": _num("RAM one application may use, MiB"),
        "bandwidth_gbps": _num("sustained DRAM bandwidth, GB/s"),
        "flash_kib": _num("microcontroller flash, KiB"),
        "sram_kib": _num("microcontroller SRAM, KiB"),
    },
    "throughput": {
        "fp32_gflops": _num("peak fp32 arithmetic, GFLOP/s"),
        "fp16_gflops": _num("peak fp16 arithmetic, GFLOP/s"),
        "int8_gops": _num("peak int8 arithmetic, GOP/s"),
    },
    "power": {
        "idle_w": _num("idle power, W"),
        "active_w": _num("power under full load, W"),
        "core_active_w": _num("power of one busy core, W"),
    },
    "npu": {
        "name": Field("str"),
        "dtypes": Field("list[str]", required=True),
        "ops": Field("list[str]", required=True),
        "peak_tops": _num("peak int8 TOPS", required=True),
        "clock_mhz": _num("NPU clock, MHz"),
        "onchip_memory_mib": _num("on-chip SRAM, MiB"),
        "power_w": _num("typical active power, W"),
        "link_bandwidth_gbps": _num("host to NPU bandwidth, GB/s"),
        "placement_rule": Field("str", choices=("prefix", "partition")),
        "limits": Field("table", doc="documented attribute limits, numbers only"),
    },
    "sources": {},  # free-form: "section.key" = "citation"
}

#: Which sections each kind of profile must have.
REQUIRED_SECTIONS: dict[str, tuple[str, ...]] = {
    "cpu": ("cpu", "memory", "sources"),
    "npu": ("cpu", "memory", "npu", "sources"),
    "mcu": ("cpu", "memory", "sources"),
}

#: Memory keys each kind must give (a microcontroller has flash and SRAM, not RAM).
REQUIRED_MEMORY: dict[str, tuple[str, ...]] = {
    "cpu": ("ram_mib",),
    "npu": ("ram_mib",),
    "mcu": ("flash_kib", "sram_kib"),
}
FORBIDDEN_MEMORY: dict[str, tuple[str, ...]] = {
    "cpu": ("flash_kib", "sram_kib"),
    "npu": ("flash_kib", "sram_kib"),
    "mcu": ("ram_mib", "available_ram_mib"),
}
