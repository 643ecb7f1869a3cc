"""Shape-aware CPU terms: which kernel a node runs as, its GEMM shape and its thread split.

:mod:`.terms` gives a node's work at the CPU's peak; this module says how far from that peak
the kernel runs.  A convolution or matrix product is a GEMM of ``M`` output channels (or
features) by ``N`` output positions (or rows) over a reduction of ``K``; its efficiency rises
with each of them and saturates::

    compute = flops / peak * (1 / eff_kind + small_m / M + small_n / N + small_k / K)

which stays linear in the constants (``1 / eff_kind`` and the ``small_*`` penalties), so the
fitter's non-negative least squares still applies.  A Winograd convolution has its own
``small_m_winograd`` (its transforms weigh ``1 / M`` against the transformed GEMM; the shared
``small_m`` where a profile has none).  Kernel kinds are priced apart: dense,
3x3 Winograd-eligible (where the runtime has Winograd), 1x1, grouped and depthwise
convolutions, GEMM/MatMul/attention, and the memory-bound kinds (elementwise, pooling,
resize, normalisation/softmax, data movement).  A kind without its own constant falls back
to the legacy class of :func:`.terms.cpu_class`, so a profile with only the legacy constants
gets the legacy numbers.  The runtime a profile names decides the peak a float node runs at
(:mod:`.runtimes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pytest_edgegate.analysis import NodeStats
from pytest_edgegate.costmodel.runtimes import Runtime
from pytest_edgegate.costmodel.terms import INT_TYPES, cpu_class

#: Kernel kinds, and the legacy class each falls back to when a profile has no own constant.
KINDS: dict[str, str] = {
    "conv": "conv",
    "winograd": "conv",
    "pointwise": "pointwise",
    "grouped": "conv",
    "depthwise": "depthwise",
    "gemm": "gemm",
    "elementwise": "vector",
    "pool": "vector",
    "resize": "vector",
    "norm": "vector",
    "data": "vector",
}
MAC_KINDS = ("conv", "winograd", "pointwise", "grouped", "depthwise", "gemm")
_NORM_OPS = {"Softmax", "LogSoftmax", "LayerNormalization", "LRN", "BatchNormalization"}


@dataclass(frozen=True)
class GemmShape:
    """The GEMM a node computes: M outputs per position, N positions, K-long reductions."""

    m: int
    n: int
    k: int


def kernel_kind(
    node: NodeStats, runtime: Runtime, int8_dot: bool = True, fp16: bool = False
) -> str:
    """The kernel ``node`` runs as under ``runtime`` (a key of :data:`KINDS`).

    ``int8_dot``: the core has int8 dot-product instructions (SDOT, ARMv8.2+).  Without them
    a Winograd runtime takes its int8 3x3 convolutions through Winograd too (ncnn at the
    benchmark table's commit, ``src/layer/arm/convolution_arm.cpp``
    ``create_pipeline_int8_arm``: Winograd when both channel counts are at least 8 and the
    CPU lacks ``asimddp``; with it, im2col GEMM on SDOT).  ``fp16``: the node's float
    arithmetic runs in fp16, which moves the channel bound of :func:`winograd_tile`.
    """
    cls = cpu_class(node)
    if cls == "conv":
        kernel = node.attrs.get("kernel_shape") or []
        group = int(node.attrs.get("group", 1))
        strides = node.attrs.get("strides") or []
        dilations = node.attrs.get("dilations") or []
        if group > 1:
            return "grouped"
        if (
            runtime.winograd
            and list(kernel) == [3, 3]
            and all(s == 1 for s in strides)
            and all(d == 1 for d in dilations)
        ):
            if node.compute_dtype in INT_TYPES:
                if not int8_dot and node.op_type in _INT8_CONV_OPS and _channels_at_least(node, 8):
                    return "winograd"
            elif node.op_type in ("Conv", "FusedConv") and winograd_tile(node, fp16):
                return "winograd"
        return "conv"
    if cls in ("pointwise", "depthwise", "gemm"):
        return cls
    if node.op_class == "pool" or node.op_class == "reduce":
        return "pool"
    if node.op_type in ("Resize", "Upsample"):
        return "resize"
    if node.op_type in _NORM_OPS or node.op_class == "norm":
        return "norm"
    if node.op_class in ("elementwise", "activation", "quant"):
        return "elementwise"
    return "data"


def winograd_tile(node: NodeStats, fp16: bool = False) -> int:
    """The output tile ``m`` of the Winograd F(m x m, 3 x 3) a float 3x3 stride-1 convolution
    runs as, 0 for none.

    ncnn at the benchmark table's commit (``src/layer/arm/convolution_arm.cpp`` and, for fp16
    arithmetic, ``convolution_arm_asimdhp.cpp``, ``create_pipeline``; its default options
    enable all three tiles): Winograd when either channel count is at least 8 (16 in fp16);
    F(6,3) when neither exceeds 128, else F(4,3) when both reach the bound, else F(2,3).  A
    node whose channels are unknown counts as F(4,3), the reference of :data:`WINOGRAD_MULTIPLIES`.
    """
    shape = gemm_shape(node)
    if shape is None:
        return 4
    out_ch, in_ch = shape.m, shape.k // 9
    bound = 16 if fp16 else 8
    if in_ch < bound and out_ch < bound:
        return 0
    if in_ch <= 128 and out_ch <= 128:
        return 6
    return 4 if in_ch >= bound and out_ch >= bound else 2


#: Multiplies per output of a 3x3 convolution through Winograd F(m x m, 3 x 3), relative to
#: F(4,3): a tile of m x m outputs costs (m + 2)^2 multiplies against 9 m^2 direct, so F(2,3)
#: saves 2.25x, F(4,3) 4x and F(6,3) 5.06x.  ``eff_winograd`` is fitted at the F(4,3) rate.
WINOGRAD_MULTIPLIES = {m: (m + 2) ** 2 / m**2 / (36 / 16) for m in (2, 4, 6)}


#: Convolutions that run in int8: the integer operators, and a QDQ ``Conv`` whose analysis
#: gives it an integer compute type.
_INT8_CONV_OPS = ("ConvInteger", "QLinearConv", "Conv")


def _channels_at_least(node: NodeStats, n: int) -> bool:
    """Both the input and the output channels of a dense 3x3 convolution number ``n`` or more."""
    shape = gemm_shape(node)
    return shape is not None and shape.m >= n and shape.k // 9 >= n


def gemm_shape(node: NodeStats) -> GemmShape | None:
    """The node's GEMM dimensions, or ``None`` for a node that is not a matrix product."""
    if node.macs <= 0 or not node.output_shapes or not node.output_shapes[0]:
        return None
    out = node.output_shapes[0]
    macs = node.macs // max(1, node.executions)
    if node.op_class == "conv" and len(out) >= 3:
        group = max(1, int(node.attrs.get("group", 1)))
        m = max(1, out[1] // group)
        n = max(1, math.prod(out[2:]) * out[0])
        # depthwise: one output channel per group; channels are the parallel dimension
        if m == 1:
            m = max(1, out[1])
            k = max(1, macs // max(1, m * n))
            return GemmShape(m, n, k)
        k = max(1, macs // max(1, m * n * group))
        return GemmShape(m, n, k)
    m = max(1, out[-1])
    n = max(1, math.prod(out) // m)
    k = max(1, macs // max(1, m * n))
    return GemmShape(m, n, k)


def useful_threads(flops: float, threads: int, grain_flops: float, efficiency: float) -> float:
    """Threads' worth of speed-up a node gets: at most one thread per ``grain_flops`` of work,
    ``u`` of them, split by Amdahl's law with ``efficiency`` as the parallel share of the
    node's compute: ``u / (1 + (u - 1) * (1 - efficiency))`` (the shared cache and bus, the
    serial packing and the barrier weigh more with every thread; on ncnn's table this fits
    2 and 4 threads of one core type together, where a constant gain per thread cannot)."""
    if threads <= 1:
        return 1.0
    usable = min(float(threads), max(1.0, flops / grain_flops)) if grain_flops > 0 else threads
    return usable / (1.0 + (usable - 1.0) * (1.0 - efficiency))
