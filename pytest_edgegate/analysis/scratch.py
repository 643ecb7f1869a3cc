"""Kernel scratch buffers a microcontroller runtime asks for, by operator shape.

``"cmsis-nn-dsp"``: TFLite Micro's CMSIS-NN kernels on a Cortex-M with the DSP extension
(M4, M7, M33), which request exactly what CMSIS-NN's ``*_get_buffer_size`` functions return
(ARM-software/CMSIS-NN @99f736a, Source/ConvolutionFunctions/
arm_convolve_get_buffer_sizes_s8.c, arm_depthwise_conv_get_buffer_sizes_s8.c,
Source/PoolingFunctions/arm_avgpool_get_buffer_sizes_s8.c,
Source/FullyConnectedFunctions/arm_fully_connected_get_buffer_sizes_s8.c):

* convolution (``arm_convolve_wrapper_s8``): a 1x1 kernel without padding takes none (the
  1x1 fast path asks ``4 * C_in`` bytes only when built with Arm Compiler 6; GCC builds
  ask 0); otherwise the im2col buffer ``2 * align4(K_h * K_w * C_in) * sizeof(int16)``;
* depthwise (``arm_depthwise_conv_wrapper_s8``, multiplier 1, no dilation): a 3x3 kernel with
  padding <= 1 takes none; otherwise ``C_in * K_h * K_w * sizeof(int16)``;
* average pooling: ``C * sizeof(int32)``; fully connected: none.

``"reference"``: TFLite Micro's reference kernels request no scratch for these operators.
Float nodes take none in either (reference float kernels).
"""

from __future__ import annotations

from collections.abc import Mapping

from .records import NodeStats

_INT8 = ("int8", "uint8")
_CONVS = ("Conv", "QLinearConv", "ConvInteger")
_POOLS = ("AveragePool", "GlobalAveragePool", "QLinearAveragePool", "QLinearGlobalAveragePool")


def runs_int8(node: NodeStats, sizes: Mapping[str, int]) -> bool:
    """True for a node an int8 kernel runs: integer arithmetic, or a float op of a QDQ graph
    whose output is stored in one byte an element (see ``.precision``)."""
    if node.compute_dtype in _INT8:
        return True
    shape = node.output_shapes[0] if node.output_shapes else None
    if not node.outputs or shape is None:
        return False
    elements = 1
    for d in shape:
        elements *= d
    return sizes.get(node.outputs[0]) == elements


def scratch_bytes(
    node: NodeStats,
    shapes: Mapping[str, tuple[int, ...]],
    kernels: str,
    sizes: Mapping[str, int] | None = None,
) -> int:
    """Bytes of the scratch buffer ``node`` requests under ``kernels`` (0 for none)."""
    if kernels == "reference" or node.domain != "":
        return 0
    if not (node.compute_dtype in _INT8 or (sizes is not None and runs_int8(node, sizes))):
        return 0
    if kernels != "cmsis-nn-dsp":
        raise ValueError(
            f"unknown kernel library {kernels!r}: expected 'reference' or 'cmsis-nn-dsp'"
        )
    x = shapes.get(node.inputs[0]) if node.inputs else None
    if x is None or len(x) < 3:
        return 0
    cin = x[1]
    if node.op_type in _POOLS:
        return 4 * cin
    if node.op_type not in _CONVS or len(x) != 4:
        return 0
    kh, kw = (list(node.attrs.get("kernel_shape") or [1, 1]) + [1, 1])[:2]
    out = node.output_shapes[0] if node.output_shapes else None
    pads = _pads(node, x, out, kh, kw)
    dil = node.attrs.get("dilations") or [1, 1]
    group = int(node.attrs.get("group", 1))
    cout = out[1] if out is not None and len(out) == 4 else cin
    if group > 1:
        if group != cin or cout != cin or any(d != 1 for d in dil):
            return 0
        if kh == 3 and kw == 3 and max(pads) <= 1:
            return 0
        return cin * kh * kw * 2
    if kh == 1 and kw == 1 and max(pads) == 0 and all(d == 1 for d in dil):
        return 0
    cols = kh * kw * cin
    return 2 * ((cols + 3) // 4 * 4) * 2


def _pads(node: NodeStats, x, out, kh: int, kw: int) -> list[int]:
    """The padding (top, left) the kernel sees, from ``pads`` or from ``auto_pad=SAME_*``."""
    auto = node.attrs.get("auto_pad", "NOTSET")
    if isinstance(auto, bytes):
        auto = auto.decode()
    if auto in ("SAME_UPPER", "SAME_LOWER") and out is not None and len(out) == 4:
        strides = node.attrs.get("strides") or [1, 1]
        pads = []
        for axis, k in ((2, kh), (3, kw)):
            total = max((out[axis] - 1) * strides[axis - 2] + k - x[axis], 0)
            pads.append(total // 2)
        return pads
    pads = list(node.attrs.get("pads") or [0, 0, 0, 0])
    return pads[:2] or [0, 0]
