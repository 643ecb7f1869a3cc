"""TFLite Micro's persistent arena (the tail): runtime structs and kernel op data.

Besides the planned tensors, TFLite Micro keeps in its arena, for the life of the
interpreter: one ``TfLiteEvalTensor`` per tensor (3 words), one ``NodeAndRegistration`` per
operator (8 words), each kernel's op data and builtin parameters, and, for a per-channel int8
convolution, its requantization multipliers and shifts (two int32 per output channel,
``conv_common.cc``/``depthwise_conv_common.cc``).  The byte counts below were measured with
the tflite-micro wheel (0.dev20261023, x86-64, reference kernels) on single-operator models
by ``bench/fitting/tflm_persistent.py``; the word-sized structs scale with
``pointer_bytes`` (4 on a Cortex-M), the op data is kept at its measured size.
"""

from __future__ import annotations

from collections.abc import Sequence

from .records import NodeStats

#: Runtime objects, the graph input/output TfLiteTensors and the op data of the pooling,
#: reshape and softmax of the probes' base model (its tail minus the parts counted below).
BASE_BYTES = 760
#: Op data + builtin parameters per operator kind, bytes (measured differences).
OP_DATA = {"conv": 104, "add": 72, "fc": 120}
OTHER_OP_DATA = 48
#: Per output channel of a per-channel convolution: int32 multiplier + int32 shift.
PER_CHANNEL = 8
_CONV = ("Conv", "QLinearConv", "ConvInteger", "ConvTranspose")
_FC = ("Gemm", "MatMul", "QGemm", "QLinearMatMul", "MatMulInteger")
_ADD = ("Add", "Sub", "Mul", "QLinearAdd", "QLinearMul")


def persistent_bytes(kernels: Sequence[NodeStats], tensors: int, pointer_bytes: int) -> int:
    """Estimated tail of a TFLite Micro arena: ``kernels`` are the operators that remain once
    Q/DQ and activations are fused, ``tensors`` the tensors they read and write."""
    total = BASE_BYTES
    for node in kernels:
        kind = _kind(node.op_type)
        total += OP_DATA.get(kind, OTHER_OP_DATA)
        if kind == "conv":
            out = node.output_shapes[0] if node.output_shapes else None
            if out is not None and len(out) >= 2:
                total += PER_CHANNEL * out[1]
    return total + 3 * pointer_bytes * tensors + 8 * pointer_bytes * len(kernels)


def _kind(op_type: str) -> str:
    if op_type in _CONV:
        return "conv"
    if op_type in _FC:
        return "fc"
    if op_type in _ADD:
        return "add"
    return "other"
