"""The estimate: every executed node priced on its device, summed, with energy and placement."""

from __future__ import annotations

import math
from typing import Any

from pytest_edgegate.analysis import ModelAnalysis, NodeStats
from pytest_edgegate.costmodel.cpu import CpuTime, cpu_time
from pytest_edgegate.costmodel.estimates import (
    CostModelUnavailable,
    Estimate,
    NodeCost,
)
from pytest_edgegate.costmodel.npu_array import (
    array_utilisation,
    fused_activations,
    fused_requantisation,
    streamed_weight_bytes,
)
from pytest_edgegate.costmodel.params import CostParams
from pytest_edgegate.costmodel.placement import Placement, summarize
from pytest_edgegate.costmodel.terms import executed, node_bytes
from pytest_edgegate.profiles import DeviceProfile

MIB = 1024 * 1024
DTYPE_BYTES = {
    "float64": 8,
    "int64": 8,
    "float32": 4,
    "int32": 4,
    "float16": 2,
    "bfloat16": 2,
    "int16": 2,
    "uint16": 2,
}


def _params(profile: DeviceProfile) -> CostParams:
    table = profile.raw.get("costmodel")
    if profile.is_mcu:
        raise CostModelUnavailable(f"{profile.id}: a microcontroller is priced by costmodel.mcu")
    if not table:
        raise CostModelUnavailable(f"profile {profile.id} has no [costmodel] constants")
    params = CostParams.from_table(table)
    if not params.has_cpu:
        raise CostModelUnavailable(f"profile {profile.id} lacks CPU cost-model efficiencies")
    if profile.is_npu and not params.has_npu:
        raise CostModelUnavailable(f"profile {profile.id} lacks NPU cost-model efficiencies")
    return params


def _cpu_energy_j(t: CpuTime, params: CostParams, threads: int) -> float | None:
    """Joules of one CPU node: each part's time at the power the CPU draws during it.

    The powers hold at the thread count the constants were fitted at (``params.threads``
    busy cores).  Compute is spread over ``threads`` busy cores, so its power scales with
    ``threads / params.threads`` while its time shrinks by Amdahl's law (more threads cost
    energy wherever the speed-up is below linear); memory and dispatch time do not scale with
    threads in :func:`.cpu.cpu_time`, nor does their power.
    """
    if not params.has_cpu_energy:
        return None
    busy = threads / max(1, params.threads)
    return (
        t.compute_s * params.energy_compute_w * busy
        + t.memory_s * params.energy_memory_w
        + t.overhead_s * params.energy_static_w
    )


def _pool_as_conv_macs(node: NodeStats) -> int:
    """A pool priced as the dense convolution some accelerators run it as (C_in = C_out)."""
    out = node.output_shapes[0] if node.output_shapes else None
    kernel = node.attrs.get("kernel_shape") or []
    if not out or len(out) < 2:
        return 0
    return math.prod(out) * out[1] * (math.prod(kernel) if kernel else 1)


def _npu_node(
    node: NodeStats, profile: DeviceProfile, params: CostParams
) -> tuple[float, float | None, int, str]:
    """(seconds, joules or None, MACs the array executes, bound) of a node on the NPU."""
    peak = profile.npu.peak_tops * 1e12
    macs = node.macs
    vector_ops = max(0, node.flops - 2 * node.macs)
    if params.npu_fused_epilogue and macs:
        vector_ops = 0  # bias and requantisation in the array's output stage
    if params.npu_pool_as_conv and node.op_class == "pool":
        macs, vector_ops = _pool_as_conv_macs(node), 0
    use = array_utilisation(node, params.npu_array_tile) if macs == node.macs else 1.0
    mac_s = 2 * macs / (peak * params.npu_eff_mac * use)
    vec_s = vector_ops / (peak * params.npu_eff_vector)
    seconds = mac_s + vec_s + params.npu_dispatch_us * 1e-6
    joules = None
    if params.has_npu_energy:
        joules = (
            macs * params.npu_pj_per_mac
            + vector_ops * params.npu_pj_per_vector_op
            + node_bytes(node) * params.npu_pj_per_sram_byte
        ) * 1e-12
    bound = "compute" if mac_s + vec_s >= params.npu_dispatch_us * 1e-6 else "overhead"
    return seconds, joules, macs, bound


def _tensor_bytes(analysis: ModelAnalysis, nodes: list[NodeStats]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for t in analysis.inputs:
        if t.shape is not None:
            sizes[t.name] = math.prod(t.shape) * DTYPE_BYTES.get(t.dtype, 1)
    for n in nodes:
        outs = [o for o in n.outputs if o]
        for o in outs:
            sizes[o] = n.bytes_written // max(1, len(outs) * max(1, n.executions))
    return sizes


def estimate(
    analysis: ModelAnalysis, profile: DeviceProfile, threads: int | None = None
) -> Estimate:
    """Latency and energy of one inference of ``analysis`` on ``profile``.

    ``threads`` defaults to the profile's cores: the device used as a deployment would.
    Raises :class:`CostModelUnavailable` when the profile cannot be estimated.
    """
    if profile.is_mcu:  # cycles per layer at the MCU's clock: costmodel/mcu.py
        from pytest_edgegate.costmodel.mcu import estimate_mcu

        return estimate_mcu(analysis, profile)
    params = _params(profile)
    threads = threads or profile.cpu.cores
    nodes = executed(analysis.nodes)
    summary = summarize(nodes, profile, analysis.is_quantized) if profile.is_npu else None
    placements = list(summary.placements) if summary else [Placement("cpu")] * len(nodes)
    costs: list[NodeCost] = []
    total_s = params.fixed_us * 1e-6
    energy_j: float | None = 0.0
    npu_s = 0.0
    breakdown = {"compute_ms": 0.0, "memory_ms": 0.0, "overhead_ms": 0.0, "npu_ms": 0.0}
    fused: dict[int, int] = {}
    requant: set[int] = set()
    if params.npu_fused_epilogue:
        fused = fused_activations(nodes)
        outputs = {t.name for t in analysis.outputs}
        requant = fused_requantisation(nodes, [p.device for p in placements], outputs)
    for i, (node, where) in enumerate(zip(nodes, placements, strict=True)):
        if where.device == "npu" and (
            i in requant or (i in fused and placements[fused[i]].device == "npu")
        ):
            seconds, joules, bound = 0.0, 0.0, "compute"  # folded into its integer operator
        elif where.device == "npu":
            seconds, joules, _, bound = _npu_node(node, profile, params)
            npu_s += seconds
            breakdown["npu_ms"] += seconds * 1e3
        else:
            t = cpu_time(node, profile, params, threads)
            if t is None:
                raise CostModelUnavailable(
                    f"profile {profile.id} has no peak throughput for {node.compute_dtype}"
                )
            seconds, joules, bound = t.total_s, _cpu_energy_j(t, params, threads), t.bound
            breakdown["compute_ms"] += t.compute_s * 1e3
            breakdown["memory_ms"] += t.memory_s * 1e3
            breakdown["overhead_ms"] += t.overhead_s * 1e3
        total_s += seconds
        energy_j = None if energy_j is None or joules is None else energy_j + joules
        costs.append(
            NodeCost(
                node.name or node.op_type,
                node.op_type,
                where.device,
                seconds * 1e3,
                None if joules is None else joules * 1e3,
                bound,
                node.macs,
                where.reason,
            )
        )
    result: dict[str, Any] = {}
    notes: list[str] = []
    if profile.is_npu:
        result = _npu_costs(analysis, nodes, placements, profile, params)
        result.update(
            npu_coverage=summary.coverage,
            npu_node_share=summary.node_share,
            partitions=summary.partitions,
            cpu_fallback=summary.cpu_fallback,
        )
        result["notes"] = list(summary.notes) + result["notes"]
        extra_s = result.pop("extra_s")
        total_s += extra_s
        npu_s += params.npu_fixed_us * 1e-6 if result["npu_nodes"] else 0.0
        total_s += params.npu_fixed_us * 1e-6 if result["npu_nodes"] else 0.0
        if energy_j is not None:
            if params.has_npu_energy:
                # The NPU stays powered while its inputs, outputs and streamed weights cross
                # the link: it leaks during those waits as during its own work.
                powered_s = npu_s + (extra_s if result["npu_nodes"] else 0.0)
                energy_j += result.pop("extra_j") + powered_s * params.npu_static_w
            else:
                energy_j = None
        result.pop("extra_j", None)
        notes.extend(result.pop("notes"))
        result.pop("npu_nodes")
    unavailable = ""
    if energy_j is None:
        unavailable = f"profile {profile.id} has no energy constants in [costmodel]"
    return Estimate(
        latency_ms=total_s * 1e3,
        energy_mj=None if energy_j is None else energy_j * 1e3,
        threads=threads,
        nodes=tuple(costs),
        notes=tuple(notes),
        energy_unavailable=unavailable,
        breakdown={k: round(v, 9) for k, v in breakdown.items()},
        **result,
    )


def _npu_costs(
    analysis: ModelAnalysis,
    nodes: list[NodeStats],
    placements: list[Placement],
    profile: DeviceProfile,
    params: CostParams,
) -> dict[str, Any]:
    """Transfers at each NPU/CPU boundary and weights streamed past the on-chip memory."""
    npu = profile.npu
    device_of = {o: p.device for n, p in zip(nodes, placements, strict=True) for o in n.outputs}
    sizes = _tensor_bytes(analysis, nodes)
    link_bps = (npu.link_bandwidth_gbps or profile.memory.bandwidth_gbps or 1.0) * 1e9
    crossing = 0
    crossings = 0
    for node, where in zip(nodes, placements, strict=True):
        for name in dict.fromkeys(i for i in node.inputs if i in sizes):
            source = device_of.get(name, "cpu")  # graph inputs arrive from the host
            if source != where.device:
                crossing += sizes[name]
                crossings += 1
    for t in analysis.outputs:
        if device_of.get(t.name) == "npu":
            crossing += sizes.get(t.name, 0)
            crossings += 1
    on_npu = [n for n, p in zip(nodes, placements, strict=True) if p.device == "npu"]
    onchip = (npu.onchip_memory_mib or 0.0) * MIB
    streamed = streamed_weight_bytes(on_npu, onchip)
    extra_s = (crossing + streamed) / link_bps + crossings * params.transfer_fixed_us * 1e-6
    extra_j = 0.0
    if params.has_npu_energy:
        extra_j = (crossing + streamed) * params.npu_pj_per_dram_byte * 1e-12
    notes = []
    if streamed:
        notes.append(
            f"{streamed / 1e6:.2f} MB of weights do not fit the NPU's "
            f"{npu.onchip_memory_mib:g} MiB on-chip memory and stream every inference"
        )
    return {
        "extra_s": extra_s,
        "extra_j": extra_j,
        "transfer_ms": extra_s * 1e3,
        "streamed_weight_bytes": streamed,
        "notes": notes,
        "npu_nodes": len(on_npu),
    }
