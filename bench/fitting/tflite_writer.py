"""The smallest ``.tflite`` writer the TFLite Micro memory check needs (int8 CNN operators).

Field numbers follow TensorFlow Lite's ``schema.fbs`` (tensorflow/tensorflow,
tensorflow/compiler/mlir/lite/schema/schema.fbs).  The layout copies the test writer of the
``.tflite`` issue (branch i17, ``tests/tflite_builder.py``): buffer 0 is the empty sentinel,
constant data is 16-byte aligned.  To be unified with it once both are merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np

#: BuiltinOperator codes (schema.fbs).
OPCODES = {
    "ADD": 0, "AVERAGE_POOL_2D": 1, "CONV_2D": 3, "DEPTHWISE_CONV_2D": 4,
    "FULLY_CONNECTED": 9, "RESHAPE": 22, "SOFTMAX": 25,
}  # fmt: skip
#: TensorType codes.
TYPES = {"FLOAT32": 0, "INT32": 2, "INT8": 9}
#: BuiltinOptions union codes of the option tables written here.
_OPTIONS = {
    "CONV_2D": 1, "DEPTHWISE_CONV_2D": 2, "AVERAGE_POOL_2D": 5, "FULLY_CONNECTED": 8,
    "SOFTMAX": 9, "ADD": 11, "RESHAPE": 17,
}  # fmt: skip
SAME, VALID = 0, 1
NONE, RELU, RELU6 = 0, 1, 3
_CONV = {"padding": (0, "i8"), "stride_w": (1, "i32"), "stride_h": (2, "i32"),
         "activation": (3, "i8")}  # fmt: skip
_SLOTS: dict[str, dict[str, tuple[int, str]]] = {
    "CONV_2D": _CONV,
    "DEPTHWISE_CONV_2D": {"padding": (0, "i8"), "stride_w": (1, "i32"), "stride_h": (2, "i32"),
                          "depth_multiplier": (3, "i32"), "activation": (4, "i8")},
    "AVERAGE_POOL_2D": {"padding": (0, "i8"), "stride_w": (1, "i32"), "stride_h": (2, "i32"),
                        "filter_w": (3, "i32"), "filter_h": (4, "i32"), "activation": (5, "i8")},
    "FULLY_CONNECTED": {"activation": (0, "i8")},
    "SOFTMAX": {"beta": (0, "f32")},
    "ADD": {"activation": (0, "i8")},
    "RESHAPE": {},
}  # fmt: skip


@dataclass
class _Tensor:
    name: str
    shape: list[int]
    dtype: str
    buffer: int
    quant: tuple[list[float], list[int], int] | None


@dataclass
class _Op:
    code: str
    inputs: list[int]
    outputs: list[int]
    options: list[tuple[int, str, Any]] = field(default_factory=list)


class TflWriter:
    """Collect tensors and operators, then ``build()`` the file's bytes."""

    def __init__(self) -> None:
        self.tensors: list[_Tensor] = []
        self.buffers: list[bytes] = [b""]
        self.ops: list[_Op] = []

    def tensor(
        self,
        name: str,
        shape: list[int] | tuple[int, ...],
        dtype: str = "INT8",
        data: np.ndarray | None = None,
        quant: tuple[list[float], list[int], int] | None = None,
    ) -> int:
        buffer = 0
        if data is not None:
            self.buffers.append(np.ascontiguousarray(data).tobytes())
            buffer = len(self.buffers) - 1
        self.tensors.append(_Tensor(name, [int(d) for d in shape], dtype, buffer, quant))
        return len(self.tensors) - 1

    def op(self, code: str, inputs: list[int], outputs: list[int], **options: Any) -> None:
        slots = _SLOTS[code]
        fields = [(*slots[k], v) for k, v in options.items()]
        self.ops.append(_Op(code, list(inputs), list(outputs), fields))

    def build(self, inputs: list[int], outputs: list[int]) -> bytes:
        b = flatbuffers.Builder(1024)
        buffers = []
        for data in self.buffers:
            vec = None
            if data:
                b.StartVector(1, len(data), 16)
                b.head = b.Head() - len(data)
                b.Bytes[b.Head() : b.Head() + len(data)] = data
                vec = b.EndVector()
            b.StartObject(3)
            if vec is not None:
                b.PrependUOffsetTRelativeSlot(0, vec, 0)
            buffers.append(b.EndObject())
        tensors = [self._tensor(b, t) for t in self.tensors]
        codes = list(dict.fromkeys(op.code for op in self.ops))
        ops = [self._operator(b, op, codes.index(op.code)) for op in self.ops]
        v_tensors, v_ops = _offsets(b, tensors), _offsets(b, ops)
        v_in, v_out = _ints(b, inputs), _ints(b, outputs)
        name = b.CreateString("main")
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, v_tensors, 0)
        b.PrependUOffsetTRelativeSlot(1, v_in, 0)
        b.PrependUOffsetTRelativeSlot(2, v_out, 0)
        b.PrependUOffsetTRelativeSlot(3, v_ops, 0)
        b.PrependUOffsetTRelativeSlot(4, name, 0)
        subgraph = b.EndObject()
        opcodes = []
        for code in codes:
            b.StartObject(4)
            b.PrependInt8Slot(0, OPCODES[code], 0)
            b.PrependInt32Slot(2, 1, 1)
            b.PrependInt32Slot(3, OPCODES[code], 0)
            opcodes.append(b.EndObject())
        v_codes, v_sub, v_buf = _offsets(b, opcodes), _offsets(b, [subgraph]), _offsets(b, buffers)
        desc = b.CreateString("edgegate mcu twin")
        b.StartObject(5)
        b.PrependUint32Slot(0, 3, 0)
        b.PrependUOffsetTRelativeSlot(1, v_codes, 0)
        b.PrependUOffsetTRelativeSlot(2, v_sub, 0)
        b.PrependUOffsetTRelativeSlot(3, desc, 0)
        b.PrependUOffsetTRelativeSlot(4, v_buf, 0)
        b.Finish(b.EndObject(), file_identifier=b"TFL3")
        return bytes(b.Output())

    def _tensor(self, b: flatbuffers.Builder, t: _Tensor) -> int:
        name = b.CreateString(t.name)
        shape = _ints(b, t.shape)
        quant = None
        if t.quant is not None:
            scales, zps, axis = t.quant
            b.StartVector(4, len(scales), 4)
            for s in reversed(scales):
                b.PrependFloat32(float(s))
            v_scale = b.EndVector()
            b.StartVector(8, len(zps), 8)
            for z in reversed(zps):
                b.PrependInt64(int(z))
            v_zp = b.EndVector()
            b.StartObject(7)
            b.PrependUOffsetTRelativeSlot(2, v_scale, 0)
            b.PrependUOffsetTRelativeSlot(3, v_zp, 0)
            b.PrependInt32Slot(6, axis, 0)
            quant = b.EndObject()
        b.StartObject(8)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        b.PrependUint8Slot(1, TYPES[t.dtype], 0)
        b.PrependUint32Slot(2, t.buffer, 0)
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        if quant is not None:
            b.PrependUOffsetTRelativeSlot(4, quant, 0)
        return b.EndObject()

    def _operator(self, b: flatbuffers.Builder, op: _Op, index: int) -> int:
        ins, outs = _ints(b, op.inputs), _ints(b, op.outputs)
        b.StartObject(8)
        for slot, kind, value in op.options:
            {"i32": b.PrependInt32Slot, "i8": b.PrependInt8Slot, "f32": b.PrependFloat32Slot}[kind](
                slot, value, None
            )
        options = b.EndObject()
        b.StartObject(6)
        b.PrependUint32Slot(0, index, 0)
        b.PrependUOffsetTRelativeSlot(1, ins, 0)
        b.PrependUOffsetTRelativeSlot(2, outs, 0)
        b.PrependUint8Slot(3, _OPTIONS[op.code], 0)
        b.PrependUOffsetTRelativeSlot(4, options, 0)
        return b.EndObject()


def _ints(b: flatbuffers.Builder, values: list[int]) -> int:
    b.StartVector(4, len(values), 4)
    for v in reversed(values):
        b.PrependInt32(int(v))
    return b.EndVector()


def _offsets(b: flatbuffers.Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for o in reversed(offsets):
        b.PrependUOffsetTRelative(o)
    return b.EndVector()
