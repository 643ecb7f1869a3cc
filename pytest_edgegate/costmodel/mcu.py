"""Microcontroller cost model: cycles per layer at the profile's clock, energy at board power.

A layer's cycles are its MACs times the cycles per MAC of its class (dense k x k
convolution, depthwise, pointwise 1x1, fully connected) on the profile's core and runtime,
plus its output elements times the cycles to requantize and store one; a memory-bound layer
(elementwise, pooling, softmax...) costs cycles per element it moves; every layer adds a
fixed cost and every inference one more.  Activations that follow a MAC layer and
Quantize/Dequantize pairs are fused into the int8 kernels by MCU runtimes and cost nothing.
fp32 MACs cost ``fp32_factor`` times int8 ones.  Energy is the profile's ``[power]
active_w`` (the measured board power while inferring) times the latency.  The constants
live in the profile's ``[mcu]`` table, fitted by ``bench/fitting/mlperf_tiny.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pytest_edgegate.analysis import ModelAnalysis, NodeStats
from pytest_edgegate.costmodel.estimates import CostModelUnavailable, Estimate, NodeCost
from pytest_edgegate.profiles import DeviceProfile

MAC_CLASSES = ("conv", "depthwise", "pointwise", "fc")
CLASSES = (*MAC_CLASSES, "vector")
INT_TYPES = ("int8", "uint8", "int16", "uint16", "int4", "uint4")
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int32": 4, "float64": 8}
#: Operators an MCU runtime runs as part of the preceding kernel or not at all.
FREE_OPS = frozenset(
    {"QuantizeLinear", "DequantizeLinear", "Flatten", "Reshape", "Squeeze", "Unsqueeze",
     "Identity", "Dropout"}
)  # fmt: skip
FUSED_ACTIVATIONS = frozenset({"Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid"})
CONSTANT_KEYS = (
    "cycles_per_mac_conv",
    "cycles_per_mac_depthwise",
    "cycles_per_mac_pointwise",
    "cycles_per_mac_fc",
    "cycles_per_vector_element",
    "cycles_per_output",
    "cycles_per_layer",
    "cycles_per_inference",
    "fp32_factor",
)


class McuConstantsMissing(ValueError):
    """The profile's ``[mcu]`` table lacks a constant; the message names it."""


@dataclass(frozen=True)
class McuConstants:
    cycles_per_mac_conv: float
    cycles_per_mac_depthwise: float
    cycles_per_mac_pointwise: float
    cycles_per_mac_fc: float
    cycles_per_vector_element: float
    cycles_per_output: float
    cycles_per_layer: float
    cycles_per_inference: float
    fp32_factor: float

    @classmethod
    def from_table(cls, table: dict, profile_id: str) -> McuConstants:
        missing = [k for k in CONSTANT_KEYS if k not in table]
        if missing:
            raise McuConstantsMissing(f"profile {profile_id}: [mcu] lacks {', '.join(missing)}")
        return cls(**{k: float(table[k]) for k in CONSTANT_KEYS})

    def per_mac(self, cls: str) -> float:
        return getattr(self, f"cycles_per_mac_{cls}")


@dataclass(frozen=True)
class LayerWork:
    """What one executed node costs an MCU: its class, MACs or bytes, and precision."""

    name: str
    op_type: str
    cls: str  # conv, depthwise, pointwise, fc, vector or "free"
    macs: int
    vector_elements: int
    outputs: int  # output elements of a MAC layer (each is requantized and stored)
    fp32: bool
    runs: int = 1  # executions per inference (a Loop body's node runs once per iteration)


def layer_class(node: NodeStats) -> str:
    """conv, depthwise, pointwise, fc or vector (everything that is not a matrix product)."""
    if node.op_class in ("gemm", "matmul"):
        return "fc"
    if node.op_class != "conv":
        return "vector"
    group = int(node.attrs.get("group", 1))
    out = node.output_shapes[0] if node.output_shapes else None
    if group > 1 and out is not None and len(out) > 1 and group == out[1]:
        return "depthwise"  # one filter per channel (depth multiplier 1)
    return "pointwise" if math.prod(node.attrs.get("kernel_shape") or [1]) == 1 else "conv"


def layers(analysis: ModelAnalysis) -> list[LayerWork]:
    """The executed nodes as MCU layers, in graph order (fused and free ones marked free)."""
    nodes = [n for n in analysis.nodes if not n.folded and n.executions > 0]
    producer = {o: n for n in nodes for o in n.outputs}
    work = []
    for node in nodes:
        cls = layer_class(node)
        source = producer.get(node.inputs[0]) if node.inputs else None
        fused = (
            node.op_type in FUSED_ACTIVATIONS
            and source is not None
            and (layer_class(source) != "vector" or source.op_type == "Add")
        )
        if node.op_type in FREE_OPS or fused:
            cls = "free"
        fp32 = node.compute_dtype not in INT_TYPES
        # Elements moved: the same count whether a QDQ graph holds them as float or not.
        width = DTYPE_BYTES.get(node.compute_dtype, 1)
        moved = (node.bytes_read + node.bytes_written - node.weight_bytes) // width
        out = node.output_shapes[0] if node.output_shapes else None
        work.append(
            LayerWork(
                node.name or node.op_type,
                node.op_type,
                cls,
                node.macs if cls in MAC_CLASSES else 0,
                max(0, moved) if cls == "vector" else 0,
                math.prod(out) * node.executions if out and cls in MAC_CLASSES else 0,
                fp32,
                node.executions,
            )
        )
    return work


def features(analysis: ModelAnalysis) -> dict[str, float]:
    """Totals the constants multiply: MACs per class (fp32 apart), vector bytes, layers."""
    out = {f"macs_{c}": 0.0 for c in MAC_CLASSES} | {f"fp32_macs_{c}": 0.0 for c in MAC_CLASSES}
    out |= {"vector_elements": 0.0, "outputs": 0.0, "layers": 0.0}
    for layer in layers(analysis):
        if layer.cls == "free":
            continue
        out["layers"] += layer.runs
        if layer.cls == "vector":
            out["vector_elements"] += layer.vector_elements
        else:
            out[("fp32_" if layer.fp32 else "") + f"macs_{layer.cls}"] += layer.macs
            out["outputs"] += layer.outputs
    return out


def layer_cycles(layer: LayerWork, k: McuConstants) -> float:
    if layer.cls == "free":
        return 0.0
    fixed = k.cycles_per_layer * layer.runs
    if layer.cls == "vector":
        return layer.vector_elements * k.cycles_per_vector_element + fixed
    scale = k.fp32_factor if layer.fp32 else 1.0
    mac_cycles = layer.macs * k.per_mac(layer.cls) * scale
    return mac_cycles + layer.outputs * k.cycles_per_output + fixed


def cycles(feats: dict[str, float], k: McuConstants) -> float:
    """Cycles of one inference from :func:`features` totals (what the fit evaluates)."""
    total = k.cycles_per_inference + feats["layers"] * k.cycles_per_layer
    total += feats["vector_elements"] * k.cycles_per_vector_element
    total += feats["outputs"] * k.cycles_per_output
    for c in MAC_CLASSES:
        total += k.per_mac(c) * (feats[f"macs_{c}"] + k.fp32_factor * feats[f"fp32_macs_{c}"])
    return total


def estimate_mcu(analysis: ModelAnalysis, profile: DeviceProfile) -> Estimate:
    """Latency and energy of one inference on a microcontroller profile.

    Raises :class:`CostModelUnavailable` when the profile has no ``[mcu]`` constants.
    """
    table = profile.raw.get("mcu")
    if not table:
        raise CostModelUnavailable(f"profile {profile.id} has no [mcu] cost-model constants")
    try:
        k = McuConstants.from_table(table, profile.id)
    except McuConstantsMissing as exc:
        raise CostModelUnavailable(str(exc)) from None
    hz = profile.cpu.clock_mhz * 1e6
    watts = profile.power.get("active_w")
    costs = []
    breakdown = {"compute_ms": 0.0, "memory_ms": 0.0, "overhead_ms": 0.0, "npu_ms": 0.0}
    for layer in layers(analysis):
        if layer.cls == "free":
            continue
        seconds = layer_cycles(layer, k) / hz
        overhead_s = k.cycles_per_layer * layer.runs / hz
        part = "memory_ms" if layer.cls == "vector" else "compute_ms"
        breakdown[part] += (seconds - overhead_s) * 1e3
        breakdown["overhead_ms"] += overhead_s * 1e3
        costs.append(
            NodeCost(
                layer.name,
                layer.op_type,
                "cpu",
                seconds * 1e3,
                None if watts is None else watts * seconds * 1e3,
                "memory" if layer.cls == "vector" else "compute",
                layer.macs,
            )
        )
    latency_ms = cycles(features(analysis), k) / hz * 1e3
    breakdown["overhead_ms"] += k.cycles_per_inference / hz * 1e3
    runtime = profile.raw.get("runtime", "")
    notes = (f"{profile.id}: {runtime or 'MCU'} cost model at {profile.cpu.clock_mhz:g} MHz",)
    return Estimate(
        latency_ms=latency_ms,
        # W x ms = mJ: the board's power while inferring times the inference time.
        energy_mj=None if watts is None else watts * latency_ms,
        threads=1,
        nodes=tuple(costs),
        notes=notes,
        energy_unavailable=""
        if watts is not None
        else f"profile {profile.id} has no measured board power ([power] active_w)",
        breakdown={key: round(v, 9) for key, v in breakdown.items()},
        energy_basis="device",
    )
