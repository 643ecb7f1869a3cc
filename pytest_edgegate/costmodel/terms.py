"""Physical terms of each node: what the cost model prices and the fitter fits.

A node's CPU time is a sum of terms, each a physical quantity divided by a device figure::

    t = flops / (peak[dtype] * eff[class])          compute
      + cache_bytes / (bandwidth * eff_cache)       data that fits the last-level cache
      + dram_bytes / (bandwidth * eff_dram)         data that does not
      + dispatch                                    the runtime's per-node overhead

so the time is *linear* in the inverse efficiencies and the dispatch: fitting the constants on
measured latencies is a non-negative least-squares problem, and the same :func:`cpu_terms`
serves the estimate and the fit, so they can never drift apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pytest_edgegate.analysis import NodeStats
from pytest_edgegate.profiles import DeviceProfile

KIB = 1024
INT_TYPES = ("int8", "uint8", "int16", "uint16", "int4", "uint4")
HALF_TYPES = ("float16", "bfloat16")
MAC_CLASSES = ("conv", "gemm", "matmul")


def cpu_class(node: NodeStats) -> str:
    """The efficiency class of a node: conv, pointwise, depthwise, gemm or vector.

    Dense k x k convolutions, 1x1 convolutions and depthwise convolutions reach very different
    shares of a CPU's peak (im2col + GEMM vs. a direct GEMM vs. a memory-bound stencil), so
    they get separate efficiencies; everything that is not a matrix product is ``vector``.
    """
    if node.op_class == "conv":
        kernel = node.attrs.get("kernel_shape") or []
        window = math.prod(kernel) if kernel else 1
        group = int(node.attrs.get("group", 1))
        out = node.output_shapes[0] if node.output_shapes else None
        size = math.prod(out) if out else 0
        per_output = node.macs / max(1, node.executions) / size if size else None
        if group > 1 and per_output == window:  # one input channel per output: depthwise
            return "depthwise"
        return "pointwise" if window == 1 else "conv"
    if node.op_class in ("gemm", "matmul"):
        return "gemm"
    return "vector"


def peak_ops(profile: DeviceProfile, dtype: str) -> float | None:
    """Peak operations per second of the profile's CPU for a compute data type."""
    thr = profile.throughput
    if dtype in INT_TYPES and "int8_gops" in thr:
        return thr["int8_gops"] * 1e9
    if dtype in HALF_TYPES and "fp16_gflops" in thr:
        return thr["fp16_gflops"] * 1e9
    if "fp32_gflops" in thr:
        return thr["fp32_gflops"] * 1e9
    return None


@dataclass(frozen=True)
class CpuTerms:
    """The raw quantities of one node on one CPU, before efficiencies are applied."""

    cls: str
    compute_s_at_peak: float  # flops / peak: the time at 100 % efficiency
    cache_s_at_bw: float  # bytes that fit the cache / bandwidth
    dram_s_at_bw: float  # bytes that do not / bandwidth
    dispatch: int  # 1 for every executed node


def node_bytes(node: NodeStats) -> int:
    return node.bytes_read + node.bytes_written


def cpu_terms(node: NodeStats, profile: DeviceProfile) -> CpuTerms | None:
    """Terms of one node, or ``None`` when the profile lacks the peak figures needed."""
    peak = peak_ops(profile, node.compute_dtype)
    bandwidth = profile.memory.bandwidth_gbps
    if peak is None or not bandwidth:
        return None
    cache_kib = profile.cpu.l3_cache_kib or profile.cpu.l2_cache_kib or 0
    moved = node_bytes(node)
    fits = moved <= cache_kib * KIB
    bw = bandwidth * 1e9
    return CpuTerms(
        cls=cpu_class(node),
        compute_s_at_peak=node.flops / peak,
        cache_s_at_bw=moved / bw if fits else 0.0,
        dram_s_at_bw=0.0 if fits else moved / bw,
        dispatch=0 if node.folded else max(1, node.executions),
    )


def executed(nodes: tuple[NodeStats, ...]) -> list[NodeStats]:
    """Nodes that run per inference (not folded at load time, not an untaken branch)."""
    return [n for n in nodes if not n.folded and n.executions > 0]
