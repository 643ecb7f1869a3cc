"""Pricing nodes on a CPU: the terms of :mod:`.terms` and :mod:`.kernels` times the constants."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_edgegate.analysis import NodeStats
from pytest_edgegate.costmodel.kernels import (
    MAC_KINDS,
    WINOGRAD_MULTIPLIES,
    gemm_shape,
    kernel_kind,
    useful_threads,
    winograd_tile,
)
from pytest_edgegate.costmodel.params import CostParams
from pytest_edgegate.costmodel.runtimes import Runtime, runtime_of
from pytest_edgegate.costmodel.terms import HALF_TYPES, INT_TYPES, cpu_class, cpu_terms, peak_ops
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


def runs_fp16(profile: DeviceProfile, dtype: str, runtime: Runtime) -> bool:
    """Whether a float node of ``dtype`` computes in fp16: the runtime computes float in fp16
    and the core has fp16 arithmetic (ARMv8.2+)."""
    return (
        runtime.fp16_arithmetic and dtype not in INT_TYPES and "fp16_gflops" in profile.throughput
    )


def runtime_peak(profile: DeviceProfile, dtype: str, runtime: Runtime) -> float | None:
    """Peak op/s a node of ``dtype`` runs at: a float node at the fp16 peak when it
    :func:`runs_fp16`."""
    if dtype not in HALF_TYPES and runs_fp16(profile, dtype, runtime):
        return profile.throughput["fp16_gflops"] * 1e9
    return peak_ops(profile, dtype)


def has_int8_dot(profile: DeviceProfile) -> bool:
    """Whether the core has int8 dot-product instructions, read off its peaks: an SDOT core
    (ARMv8.2+) does 4 int8 MACs per fp32 FMA lane, an ARMv8.0 core's widening multiply only
    2 (the profiles' ``int8_gops`` are 4x and 2x their ``fp32_gflops``)."""
    int8, fp32 = profile.throughput.get("int8_gops"), profile.throughput.get("fp32_gflops")
    return int8 is None or fp32 is None or int8 > 2 * fp32


def shape_terms(
    node: NodeStats, profile: DeviceProfile, params: CostParams, threads: int
) -> dict[str, float] | None:
    """The node's time as ``{constant name: quantity}``: seconds = sum(quantity * constant),
    with constants as :func:`coefficients` gives them (the fitter solves for those)."""
    base = cpu_terms(node, profile)
    runtime = runtime_of(profile.raw)
    peak = runtime_peak(profile, node.compute_dtype, runtime)
    if base is None or peak is None:
        return None
    fp16 = runs_fp16(profile, node.compute_dtype, runtime)
    kind = kernel_kind(node, runtime, int8_dot=has_int8_dot(profile), fp16=fp16)
    work = node.flops
    if kind == "winograd" and node.compute_dtype in INT_TYPES:
        # int8 Winograd (always F(4,3)) multiplies its transformed operands as int16 (ncnn's
        # convolution_3x3_winograd_int8.h: vmlal_s16, 4 MACs per 128-bit instruction, as
        # many as an fp32 FMLA): the core's fp32 rate, not its int8 one.
        peak = peak_ops(profile, "float32")
        if peak is None:
            return None
    elif kind == "winograd":
        work *= WINOGRAD_MULTIPLIES[winograd_tile(node, fp16)]
    at_peak = work / peak
    if params.per_node_threads:  # constants are shares of one core's peak
        grain = (params.parallel_grain_mflop or 0.0) * 1e6
        split = useful_threads(node.flops, threads, grain, params.parallel_efficiency)
        at_peak *= max(1, profile.cpu.cores) / split
    else:
        at_peak *= params.speedup(params.threads) / params.speedup(threads)
    terms = {
        f"eff_{kind}": at_peak,
        "eff_cache": base.cache_s_at_bw,
        "eff_dram": base.dram_s_at_bw,
    }
    shape = gemm_shape(node) if kind in MAC_KINDS else None
    if shape is not None:
        terms.update(small_n=at_peak / shape.n, small_k=at_peak / shape.k)
        terms["small_m_winograd" if kind == "winograd" else "small_m"] = at_peak / shape.m
    terms["dispatch_us"] = float(base.dispatch)
    terms["sync_us"] = float(base.dispatch) if threads > 1 and params.per_node_threads else 0.0
    return terms


def coefficient(params: CostParams, name: str, node: NodeStats) -> float:
    """Seconds per unit of the quantity ``name`` of :func:`shape_terms`."""
    if name.startswith("eff_"):
        eff = getattr(params, name)
        if eff is None and name not in ("eff_cache", "eff_dram"):
            eff = params.eff(cpu_class(node))
        return 1.0 / (eff or 1.0)
    if name in ("dispatch_us", "sync_us"):
        return getattr(params, name) * 1e-6
    if name == "small_m_winograd" and params.small_m_winograd is None:
        return params.small_m
    return getattr(params, name)


def cpu_time(
    node: NodeStats, profile: DeviceProfile, params: CostParams, threads: int
) -> CpuTime | None:
    """Seconds of one node on the profile's CPU at ``threads`` threads.

    Compute scales with threads either per node, from the work it has to split
    (``parallel_grain_mflop``, constants at one thread), or by one Amdahl fraction relative to
    the thread count the constants were fitted at; memory terms do not scale (the cores share
    one memory bus), nor does the dispatch overhead (nodes are issued one by one).
    """
    terms = shape_terms(node, profile, params, threads)
    if terms is None:
        return None
    compute = memory = overhead = 0.0
    for name, quantity in terms.items():
        if not quantity:
            continue
        seconds = quantity * coefficient(params, name, node)
        if name in ("eff_cache", "eff_dram"):
            memory += seconds
        elif name in ("dispatch_us", "sync_us"):
            overhead += seconds
        else:
            compute += seconds
    return CpuTime(compute_s=compute, memory_s=memory, overhead_s=overhead)
