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
    maximum: float | None = None
    positive: bool = False
    choices: tuple[str, ...] | None = None
    doc: str = ""


def _num(doc: str, required: bool = False) -> Field:
    """A strictly positive number (a clock, a size, a speed: zero would be a typo)."""
    return Field("float", required=required, positive=True, doc=doc)


TOP_LEVEL: dict[str, Field] = {
    "id": Field("str", required=True, doc="the target id used on the command line"),
    "version": Field("str", required=True, doc="bumped whenever a number changes"),
    "name": Field("str", required=True, doc="human-readable device name"),
    "kind": Field("str", required=True, choices=KINDS, doc="cpu, npu or mcu"),
    "description": Field("str", doc="what the device is and what it is used for"),
    "extends": Field("str", doc="id of a profile this file starts from and overrides"),
    "runtime": Field(
        "str",
        choices=("onnxruntime", "ncnn", "litert", "litert-xnnpack", "x-cube-ai", "tflite-micro"),
        doc="inference runtime the cost-model constants hold for (default onnxruntime); "
        "see pytest_edgegate/costmodel/runtimes.py",
    ),
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
        "covers": Field(
            "str",
            choices=("board", "soc", "phone", "module", "chip"),
            doc="what the power figures (and so energy_mj) cover",
        ),
        "sleep_w": _num("power between inferences when the device sleeps, W"),
        "battery_wh": _num("the device's own battery, Wh"),
    },
    "thermal": {
        "cooling": Field("str", required=True, doc="bare board, heatsink, fan, phone chassis"),
        "envelope_w": _num("whole-device power the cooling holds without throttling, W", True),
        "throttled_clock_mhz": _num("clock sustained full load settles at, MHz", True),
        "throttle_temp_c": _num("temperature at which throttling starts, deg C"),
        "limit_temp_c": _num("hard temperature limit, deg C"),
        "time_to_throttle_s": _num("seconds full load takes from idle to throttling"),
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
    "costmodel": {
        "threads": Field("int", minimum=1, doc="threads the constants were fitted at"),
        "parallel_fraction": Field("float", maximum=1.0, doc="Amdahl parallel share, 0..1"),
        "eff_conv": _num("share of peak reached by dense k x k convolutions"),
        "eff_pointwise": _num("share of peak reached by 1x1 convolutions"),
        "eff_depthwise": _num("share of peak reached by depthwise convolutions"),
        "eff_gemm": _num("share of peak reached by Gemm/MatMul"),
        "eff_vector": _num("share of peak reached by every other operator"),
        "eff_winograd": _num("share of peak reached by 3x3 convolutions via Winograd (>1 ok)"),
        "eff_grouped": _num("share of peak reached by grouped (not depthwise) convolutions"),
        "eff_elementwise": _num("share of peak reached by elementwise operators"),
        "eff_pool": _num("share of peak reached by pooling and reductions"),
        "eff_resize": _num("share of peak reached by Resize"),
        "eff_norm": _num("share of peak reached by softmax and normalisations"),
        "eff_data": _num("share of peak reached by data movement (concat, transpose...)"),
        "small_m": Field("float", minimum=0.0, doc="efficiency penalty of a small GEMM M"),
        "small_n": Field("float", minimum=0.0, doc="efficiency penalty of a small GEMM N"),
        "small_k": Field("float", minimum=0.0, doc="efficiency penalty of a small GEMM K"),
        "small_m_winograd": Field(
            "float", minimum=0.0, doc="small-M penalty of Winograd convolutions (else small_m)"
        ),
        "parallel_grain_mflop": _num("work per extra thread before it helps, MFLOP"),
        "parallel_efficiency": Field(
            "float", maximum=1.0, doc="parallel share of a node's compute (Amdahl, per node)"
        ),
        "sync_us": Field("float", minimum=0.0, doc="per-node cost of multi-threading, us"),
        "eff_cache": _num("bandwidth multiple for data that fits the cache"),
        "eff_dram": _num("share of the bandwidth reached for data that does not"),
        "dispatch_us": Field("float", minimum=0.0, doc="runtime overhead per node, us"),
        "fixed_us": Field("float", minimum=0.0, doc="overhead per inference, us"),
        "energy_compute_w": Field("float", minimum=0.0, doc="power while computing, W"),
        "energy_memory_w": Field("float", minimum=0.0, doc="power while moving data, W"),
        "energy_static_w": Field("float", minimum=0.0, doc="power during overheads, W"),
        "npu_eff_mac": _num("share of NPU peak reached by MAC operators"),
        "npu_eff_vector": _num("share of NPU peak reached by other operators"),
        "npu_dispatch_us": Field("float", minimum=0.0, doc="NPU overhead per node, us"),
        "npu_fixed_us": Field("float", minimum=0.0, doc="NPU overhead per inference, us"),
        "transfer_fixed_us": Field("float", minimum=0.0, doc="cost of each NPU/CPU hop, us"),
        "npu_pool_as_conv": Field("bool", doc="the NPU runs pooling as a dense convolution"),
        "npu_fused_epilogue": Field("bool", doc="bias and fused activation free on the NPU"),
        "npu_array_tile": Field("int", minimum=0, doc="NPU MAC array side (0: none)"),
        "npu_pj_per_mac": Field("float", minimum=0.0, doc="NPU energy per MAC, pJ"),
        "npu_pj_per_vector_op": Field("float", minimum=0.0, doc="NPU energy per other op, pJ"),
        "npu_pj_per_sram_byte": Field("float", minimum=0.0, doc="on-chip byte moved, pJ"),
        "npu_pj_per_dram_byte": Field("float", minimum=0.0, doc="off-chip byte moved, pJ"),
        "npu_static_w": Field("float", minimum=0.0, doc="NPU static power while busy, W"),
    },
    "mcu": {  # microcontroller cost model (pytest_edgegate/costmodel/mcu.py)
        "cycles_per_mac_conv": _num("cycles per MAC of a dense k x k convolution"),
        "cycles_per_mac_depthwise": _num("cycles per MAC of a depthwise convolution"),
        "cycles_per_mac_pointwise": _num("cycles per MAC of a 1x1 convolution"),
        "cycles_per_mac_fc": _num("cycles per MAC of a fully connected layer"),
        "cycles_per_vector_element": _num("cycles per element a memory-bound layer moves"),
        "cycles_per_output": Field("float", minimum=0.0, doc="cycles per MAC-layer output"),
        "cycles_per_layer": Field("float", minimum=0.0, doc="fixed cycles per layer"),
        "cycles_per_inference": Field("float", minimum=0.0, doc="fixed cycles per inference"),
        "fp32_factor": _num("fp32 MAC cost as a multiple of an int8 MAC's"),
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
