"""Which nodes an NPU runs: operators, data types, documented limits and placement rules.

The rules are data in the profile (``[npu]`` ops, dtypes, limits, ``placement_rule``), so the
simulator follows each device's documented behaviour without device-specific code:

* ``prefix``: the compiler maps the graph up to the first unsupported operator and leaves
  everything after it to the CPU (the Edge TPU compiler: "cannot partition the model more
  than once");
* ``partition``: every supported node runs on the NPU; the graph is cut into as many NPU and
  CPU partitions as needed (Arm NN with the Ethos-N).

Quantized graphs in QDQ form hold float tensors between ``DequantizeLinear`` and
``QuantizeLinear``; a compiler fuses each DQ -> op -> Q into one integer operator, so a node
fed by a DequantizeLinear or feeding a QuantizeLinear counts as running in integer precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pytest_edgegate.analysis import NodeStats
from pytest_edgegate.profiles import DeviceProfile

QUANT_OPS = ("QuantizeLinear", "DequantizeLinear")
#: QOperator forms of onnxruntime's com.microsoft domain (what a .tflite's int8 operators
#: translate to) are judged as the float operator they quantize: an NPU that runs int8
#: ``Add`` runs ``QLinearAdd``.  (``QLinearConv``/``QLinearMatMul`` are listed by name.)
QOPERATOR_FLOAT_FORM = {
    "QLinearAdd": "Add", "QLinearMul": "Mul", "QLinearAveragePool": "AveragePool",
    "QLinearGlobalAveragePool": "GlobalAveragePool", "QLinearConcat": "Concat",
    "QLinearSigmoid": "Sigmoid", "QLinearLeakyRelu": "LeakyRelu", "QLinearSoftmax": "Softmax",
    "QGemm": "Gemm",
}  # fmt: skip


@dataclass(frozen=True)
class Placement:
    device: str  # "npu" or "cpu"
    reason: str = ""  # why a node is on the CPU


def _limit_problem(node: NodeStats, limits: dict[str, float]) -> str:
    """The first documented limit the node breaks, or an empty string."""
    kernel = node.attrs.get("kernel_shape") or []
    strides = node.attrs.get("strides") or []
    out = node.output_shapes[0] if node.output_shapes and node.output_shapes[0] else None
    if "max_kernel_size" in limits and kernel and max(kernel) > limits["max_kernel_size"]:
        return f"kernel {kernel} exceeds the NPU's {limits['max_kernel_size']:g}"
    if "max_stride" in limits and strides and max(strides) > limits["max_stride"]:
        return f"stride {strides} exceeds the NPU's {limits['max_stride']:g}"
    if out is not None:
        if "max_batch" in limits and len(out) >= 1 and out[0] > limits["max_batch"]:
            return f"batch {out[0]} exceeds the NPU's {limits['max_batch']:g}"
        if "max_tensor_rank" in limits and len(out) > limits["max_tensor_rank"]:
            return f"rank {len(out)} exceeds the NPU's {limits['max_tensor_rank']:g}"
        big = sum(1 for d in out if d > 1)
        if "max_nontrivial_tensor_dims" in limits and big > limits["max_nontrivial_tensor_dims"]:
            most = limits["max_nontrivial_tensor_dims"]
            return f"{big} dims larger than 1 exceed the NPU's {most:g}"
        if (
            QOPERATOR_FLOAT_FORM.get(node.op_type, node.op_type) == "Softmax"
            and "softmax_max_elements" in limits
            and math.prod(out) > limits["softmax_max_elements"]
        ):
            return (
                f"Softmax over {math.prod(out)} elements exceeds {limits['softmax_max_elements']:g}"
            )
    return ""


def place(nodes: list[NodeStats], profile: DeviceProfile) -> list[Placement]:
    """One placement per node, in order (the nodes are in topological order)."""
    npu = profile.npu
    assert npu is not None
    producers = {out: n for n in nodes for out in n.outputs}
    consumers: dict[str, list[NodeStats]] = {}
    for n in nodes:
        for name in n.inputs:
            consumers.setdefault(name, []).append(n)
    int_npu = any(d in ("int8", "uint8", "int16") for d in npu.dtypes)
    placements: list[Placement] = []
    blocked = ""
    for node in nodes:
        if blocked:
            placements.append(Placement("cpu", blocked))
            continue
        reason = ""
        op = QOPERATOR_FLOAT_FORM.get(node.op_type, node.op_type)
        if op == "Sum" and len(node.inputs) == 2:
            op = "Add"  # a two-input ONNX Sum is an elementwise Add (TFLite ADD)
        if op not in npu.ops and not (int_npu and node.op_type in QUANT_OPS):
            reason = f"{node.op_type} is not an operator the NPU runs"
        else:
            fed_by_dq = any(
                producers.get(i) is not None and producers[i].op_type == "DequantizeLinear"
                for i in node.inputs
            )
            feeds_q = any(
                c.op_type == "QuantizeLinear" for o in node.outputs for c in consumers.get(o, [])
            )
            integer = node.op_type in QUANT_OPS or fed_by_dq or feeds_q
            if node.compute_dtype not in npu.dtypes and not (int_npu and integer):
                reason = (
                    f"{node.compute_dtype} is not a data type the NPU runs ({'/'.join(npu.dtypes)})"
                )
            else:
                reason = _limit_problem(node, npu.limits)
        if reason:
            placements.append(Placement("cpu", reason))
            if npu.placement_rule == "prefix":
                blocked = f"after {node.name or node.op_type}: the compiler maps only the prefix"
        else:
            placements.append(Placement("npu"))
    return placements


@dataclass(frozen=True)
class PlacementSummary:
    """What runs where: needs no fitted constant, only the profile's ``[npu]`` rules."""

    placements: tuple[Placement, ...]
    coverage: float
    node_share: float
    partitions: int
    cpu_fallback: bool
    notes: tuple[str, ...]


def summarize(
    nodes: list[NodeStats], profile: DeviceProfile, is_quantized: bool
) -> PlacementSummary:
    """Place ``nodes`` (executed, topological order) and describe the result for a user."""
    placements = place(nodes, profile)
    on_npu = [n for n, p in zip(nodes, placements, strict=True) if p.device == "npu"]
    partitions = 0
    previous = "cpu"
    for p in placements:
        if p.device == "npu" and previous != "npu":
            partitions += 1
        previous = p.device
    total_macs = sum(n.macs for n in nodes)
    npu_macs = sum(n.macs for n in on_npu)
    if total_macs:
        coverage = npu_macs / total_macs
    else:
        coverage = 1.0 if nodes and len(on_npu) == len(nodes) else 0.0
    notes = []
    fallback = not on_npu and bool(nodes)
    if fallback:
        first = next((p.reason for p in placements if p.reason), "")
        kind = "float model" if not is_quantized else "model"
        notes.append(
            f"CPU FALLBACK: {kind} runs entirely on {profile.id}'s host CPU "
            f"({profile.cpu.name or 'CPU'}), not on its NPU: {first}"
        )
    elif len(on_npu) < len(nodes):
        first = next((n, p) for n, p in zip(nodes, placements, strict=True) if p.reason)
        notes.append(
            f"{len(nodes) - len(on_npu)} of {len(nodes)} nodes run on {profile.id}'s host CPU "
            f"({partitions} NPU partition(s)); first: {first[0].name or first[0].op_type}: "
            f"{first[1].reason}"
        )
    return PlacementSummary(
        placements=tuple(placements),
        coverage=coverage,
        node_share=len(on_npu) / len(nodes) if nodes else 0.0,
        partitions=partitions,
        cpu_fallback=fallback,
        notes=tuple(notes),
    )
