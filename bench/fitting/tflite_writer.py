"""The one ``.tflite`` writer of the project: models built in code with the ``flatbuffers`` Builder.

Field numbers follow TensorFlow Lite's ``schema.fbs`` (see
``pytest_edgegate/formats/tflite/reader.py``).  ``TflWriter`` writes valid models that LiteRT
and TFLite Micro run (buffer 0 is the empty sentinel, constant data 16-byte aligned).  The
tests (``tests/tflite_models.py``) and the MCU twins (``bench/fitting/mcu_twins.py``) use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np

from pytest_edgegate.formats.tflite.opcodes import BUILTIN_OPERATORS, TENSOR_TYPES

_TYPE_CODE = {name: code for code, name in TENSOR_TYPES.items()}
_OP_CODE = {name: code for code, name in enumerate(BUILTIN_OPERATORS) if name}
#: BuiltinOptions union codes of the option tables written here.
OPTIONS = {
    "CONV_2D": 1, "DEPTHWISE_CONV_2D": 2, "AVERAGE_POOL_2D": 5, "MAX_POOL_2D": 5,
    "FULLY_CONNECTED": 8, "SOFTMAX": 9, "CONCATENATION": 10, "ADD": 11, "RESHAPE": 17,
    "TRANSPOSE_CONV": 49, "BATCH_MATMUL": 101, "MUL": 21, "MEAN": 27,
}  # fmt: skip
SAME, VALID = 0, 1
NONE, RELU, RELU6 = 0, 1, 3


@dataclass
class _Tensor:
    name: str
    shape: list[int]
    dtype: str
    buffer: int
    quant: tuple[list[float], list[int], int] | None


@dataclass
class _Op:
    code: str  # builtin name or "CUSTOM:<code>"
    inputs: list[int]
    outputs: list[int]
    options: list[tuple[int, str, Any]] = field(default_factory=list)  # (slot, kind, value)


class TflWriter:
    """Collect tensors and operators, then ``build()`` the file's bytes."""

    def __init__(self) -> None:
        self.tensors: list[_Tensor] = []
        self.buffers: list[bytes] = [b""]
        self.ops: list[_Op] = []

    def tensor(self, name: str, shape, dtype: str = "FLOAT32", data: Any = None,
               quant: tuple[list[float], list[int], int] | None = None) -> int:  # fmt: skip
        buffer = 0
        if data is not None:
            self.buffers.append(np.ascontiguousarray(data).tobytes())
            buffer = len(self.buffers) - 1
        self.tensors.append(_Tensor(name, [int(d) for d in shape], dtype, buffer, quant))
        return len(self.tensors) - 1

    def op(self, code: str, inputs: list[int], outputs: list[int], **options: Any) -> None:
        fields = []
        slots = _SLOTS.get(code, {})
        for key, value in options.items():
            slot, kind = slots[key]
            fields.append((slot, kind, value))
        self.ops.append(_Op(code, list(inputs), list(outputs), fields))

    # ------------------------------------------------------------------------------ writing

    def build(self, inputs: list[int], outputs: list[int], description: str = "edgegate") -> bytes:
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
        codes: list[str] = []
        for op in self.ops:
            if op.code not in codes:
                codes.append(op.code)
        ops = [self._operator(b, op, codes.index(op.code)) for op in self.ops]
        sg_tensors = _offsets(b, tensors)
        sg_ops = _offsets(b, ops)
        sg_in, sg_out = _ints(b, inputs), _ints(b, outputs)
        sg_name = b.CreateString("main")
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, sg_tensors, 0)
        b.PrependUOffsetTRelativeSlot(1, sg_in, 0)
        b.PrependUOffsetTRelativeSlot(2, sg_out, 0)
        b.PrependUOffsetTRelativeSlot(3, sg_ops, 0)
        b.PrependUOffsetTRelativeSlot(4, sg_name, 0)
        subgraph = b.EndObject()
        opcodes = []
        for code in codes:
            custom = b.CreateString(code[7:]) if code.startswith("CUSTOM:") else None
            number = _OP_CODE["CUSTOM"] if custom is not None else _OP_CODE[code]
            b.StartObject(4)
            b.PrependInt8Slot(0, min(number, 127), 0)
            if custom is not None:
                b.PrependUOffsetTRelativeSlot(1, custom, 0)
            b.PrependInt32Slot(2, 1, 1)
            b.PrependInt32Slot(3, number, 0)
            opcodes.append(b.EndObject())
        v_opcodes = _offsets(b, opcodes)
        v_subgraphs = _offsets(b, [subgraph])
        v_buffers = _offsets(b, buffers)
        desc = b.CreateString(description)
        b.StartObject(5)
        b.PrependUint32Slot(0, 3, 0)
        b.PrependUOffsetTRelativeSlot(1, v_opcodes, 0)
        b.PrependUOffsetTRelativeSlot(2, v_subgraphs, 0)
        b.PrependUOffsetTRelativeSlot(3, desc, 0)
        b.PrependUOffsetTRelativeSlot(4, v_buffers, 0)
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
        b.PrependUint8Slot(1, _TYPE_CODE[t.dtype], 0)
        b.PrependUint32Slot(2, t.buffer, 0)
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        if quant is not None:
            b.PrependUOffsetTRelativeSlot(4, quant, 0)
        return b.EndObject()

    def _operator(self, b: flatbuffers.Builder, op: _Op, index: int) -> int:
        ins, outs = _ints(b, op.inputs), _ints(b, op.outputs)
        options = None
        if op.code in OPTIONS:
            b.StartObject(8)
            for slot, kind, value in op.options:
                {
                    "i32": b.PrependInt32Slot, "i8": b.PrependInt8Slot,
                    "bool": b.PrependBoolSlot, "f32": b.PrependFloat32Slot,
                }[kind](slot, value, None)  # fmt: skip
            options = b.EndObject()
        b.StartObject(6)
        b.PrependUint32Slot(0, index, 0)
        b.PrependUOffsetTRelativeSlot(1, ins, 0)
        b.PrependUOffsetTRelativeSlot(2, outs, 0)
        if options is not None:
            b.PrependUint8Slot(3, OPTIONS[op.code], 0)
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


#: option name -> (field number, kind), per operator (schema.fbs).
_CONV = {"padding": (0, "i8"), "stride_w": (1, "i32"), "stride_h": (2, "i32"),
         "activation": (3, "i8"), "dilation_w": (4, "i32"), "dilation_h": (5, "i32")}  # fmt: skip
_POOL = {"padding": (0, "i8"), "stride_w": (1, "i32"), "stride_h": (2, "i32"),
         "filter_w": (3, "i32"), "filter_h": (4, "i32"), "activation": (5, "i8")}  # fmt: skip
_SLOTS: dict[str, dict[str, tuple[int, str]]] = {
    "CONV_2D": _CONV,
    "DEPTHWISE_CONV_2D": {"padding": (0, "i8"), "stride_w": (1, "i32"), "stride_h": (2, "i32"),
                          "depth_multiplier": (3, "i32"), "activation": (4, "i8")},
    "AVERAGE_POOL_2D": _POOL,
    "MAX_POOL_2D": _POOL,
    "FULLY_CONNECTED": {"activation": (0, "i8"), "keep_num_dims": (2, "bool")},
    "SOFTMAX": {"beta": (0, "f32")},
    "ADD": {"activation": (0, "i8")},
    "CONCATENATION": {"axis": (0, "i32"), "activation": (1, "i8")},
    "TRANSPOSE_CONV": {"padding": (0, "i8"), "stride_w": (1, "i32"), "stride_h": (2, "i32")},
    "BATCH_MATMUL": {"adj_x": (0, "bool"), "adj_y": (1, "bool")},
    "RESHAPE": {},
    "MUL": {"activation": (0, "i8")},
    "MEAN": {"keep_dims": (0, "bool")},
}  # fmt: skip
