"""Read a ``.tflite`` flatbuffer into plain records, without TensorFlow.

Only the schema fields edgegate uses are read (field numbers from TensorFlow Lite's
``tensorflow/lite/schema/schema.fbs``), through the ``flatbuffers`` runtime's ``Table``.
Every offset is bounds-checked by the runtime's ``struct`` reads; any failure becomes a
:class:`~pytest_edgegate.errors.ModelError` saying the file is truncated or corrupt.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flatbuffers import number_types as N
from flatbuffers.table import Table

from ...errors import ModelError
from .opcodes import BUILTIN_OPERATORS, TENSOR_TYPES

IDENTIFIER = b"TFL3"
#: Largest tensor a file may declare, in bytes: beyond it the file is refused (16 GB).
MAX_TENSOR_BYTES = 16_000_000_000

_ITEMSIZE = {
    "FLOAT32": 4, "FLOAT16": 2, "INT32": 4, "UINT8": 1, "INT64": 8, "BOOL": 1, "INT16": 2,
    "COMPLEX64": 8, "INT8": 1, "FLOAT64": 8, "COMPLEX128": 16, "UINT64": 8, "UINT32": 4,
    "UINT16": 2, "BFLOAT16": 2,
}  # fmt: skip
NUMPY_TYPES = {
    "FLOAT32": np.float32, "FLOAT16": np.float16, "INT32": np.int32, "UINT8": np.uint8,
    "INT64": np.int64, "BOOL": np.bool_, "INT16": np.int16, "INT8": np.int8,
    "FLOAT64": np.float64, "UINT64": np.uint64, "UINT32": np.uint32, "UINT16": np.uint16,
}  # fmt: skip


@dataclass(frozen=True)
class Quant:
    """A tensor's affine quantization (per tensor: one scale; per channel: one per ``axis``)."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int


@dataclass(frozen=True)
class TflTensor:
    index: int
    name: str
    dtype: str
    shape: tuple[int, ...]
    signature: tuple[int, ...]
    buffer: int
    quant: Quant | None
    data: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def is_const(self) -> bool:
        return self.data is not None


@dataclass(frozen=True)
class TflOperator:
    index: int
    op: str  # builtin name, "CUSTOM:<code>" for custom ops
    custom_code: str | None
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options_type: int
    options: Any = field(default=None, repr=False, compare=False)  # flatbuffers Table or None


@dataclass(frozen=True)
class TflSubgraph:
    name: str
    tensors: tuple[TflTensor, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    operators: tuple[TflOperator, ...]


@dataclass(frozen=True)
class TflModel:
    version: int
    description: str
    subgraphs: tuple[TflSubgraph, ...]

    @property
    def main(self) -> TflSubgraph:
        return self.subgraphs[0]


class _T:
    """A flatbuffers table with typed field getters (field number -> vtable slot)."""

    def __init__(self, buf: bytes, pos: int) -> None:
        self.t = Table(buf, pos)

    def _off(self, i: int) -> int:
        return self.t.Offset(4 + 2 * i)

    def scalar(self, i: int, flags: Any, default: Any = 0) -> Any:
        o = self._off(i)
        return self.t.Get(flags, o + self.t.Pos) if o else default

    def string(self, i: int) -> str:
        o = self._off(i)
        if not o:
            return ""
        return self.t.String(o + self.t.Pos).decode("utf-8", "replace")

    def table(self, i: int) -> _T | None:
        o = self._off(i)
        return _T(self.t.Bytes, self.t.Indirect(o + self.t.Pos)) if o else None

    def tables(self, i: int) -> list[_T]:
        o = self._off(i)
        if not o:
            return []
        n = self.t.VectorLen(o)
        start = self.t.Vector(o)
        return [_T(self.t.Bytes, self.t.Indirect(start + 4 * k)) for k in range(n)]

    def vector(self, i: int, fmt: str) -> tuple[Any, ...]:
        o = self._off(i)
        if not o:
            return ()
        n = self.t.VectorLen(o)
        start = self.t.Vector(o)
        size = struct.calcsize(fmt)
        if start + n * size > len(self.t.Bytes):
            raise IndexError("vector past the end of the buffer")
        return struct.unpack_from(f"<{n}{fmt}", self.t.Bytes, start)

    def bytes_span(self, i: int) -> tuple[int, int] | None:
        """(start, length) of a ``[ubyte]`` vector inside the buffer."""
        o = self._off(i)
        if not o:
            return None
        n = self.t.VectorLen(o)
        start = self.t.Vector(o)
        if start + n > len(self.t.Bytes):
            raise IndexError("byte vector past the end of the buffer")
        return start, n

    # option fields, named after their schema types
    def i32(self, i: int, default: int = 0) -> int:
        return int(self.scalar(i, N.Int32Flags, default))

    def u8(self, i: int, default: int = 0) -> int:
        return int(self.scalar(i, N.Uint8Flags, default))

    def i8(self, i: int, default: int = 0) -> int:
        return int(self.scalar(i, N.Int8Flags, default))

    def boolean(self, i: int, default: bool = False) -> bool:
        return bool(self.scalar(i, N.BoolFlags, default))

    def f32(self, i: int, default: float = 0.0) -> float:
        return float(self.scalar(i, N.Float32Flags, default))


def is_tflite(data: bytes) -> bool:
    """Whether ``data`` carries TFLite's file identifier (bytes 4..8 are ``TFL3``)."""
    return len(data) >= 8 and data[4:8] == IDENTIFIER


def read_tflite(data: bytes, source: str) -> TflModel:
    """Parse ``data`` or raise ModelError naming ``source`` and what is wrong."""
    if not is_tflite(data):
        raise ModelError(
            source,
            "is not a TensorFlow Lite model: the file identifier 'TFL3' is missing "
            "(expected a .tflite flatbuffer written by the TFLite converter)",
        )
    try:
        return _read(data, source)
    except ModelError:
        raise
    except (
        struct.error, IndexError, ValueError, OverflowError, UnicodeDecodeError, TypeError
    ) as exc:  # fmt: skip
        raise ModelError(
            source,
            "looks like a TensorFlow Lite model but cannot be read: the flatbuffer is "
            f"truncated or corrupt ({type(exc).__name__}: {exc})",
        ) from None


def _read(data: bytes, source: str) -> TflModel:
    root = struct.unpack_from("<I", data, 0)[0]
    if root + 4 > len(data):
        raise IndexError("root table offset past the end")
    model = _T(data, root)
    version = int(model.scalar(0, N.Uint32Flags, 0))
    opcodes = []
    for oc in model.tables(1):
        deprecated = oc.i8(0)
        code = max(oc.i32(3), deprecated)
        name = BUILTIN_OPERATORS[code] if 0 <= code < len(BUILTIN_OPERATORS) else ""
        custom = oc.string(1) or None
        if name == "CUSTOM" or not name:
            name = f"CUSTOM:{custom}" if custom else f"UNKNOWN_BUILTIN_{code}"
        opcodes.append((name, custom))
    buffers = []
    for b in model.tables(4):
        span = b.bytes_span(0)
        offset = int(b.scalar(1, N.Uint64Flags, 0))
        size = int(b.scalar(2, N.Uint64Flags, 0))
        if (span is None or span[1] == 0) and offset > 1 and size:
            if offset + size > len(data):
                raise ModelError(
                    source,
                    f"a buffer points at bytes {offset}..{offset + size} beyond the end of the "
                    f"file ({len(data)} bytes): the file is truncated",
                )
            span = (offset, size)
        buffers.append(span)
    subgraphs = tuple(_subgraph(sg, opcodes, buffers, data, source) for sg in model.tables(2))
    if not subgraphs:
        raise ModelError(source, "has no subgraph: expected a TFLite model with a main graph")
    return TflModel(version, model.string(3), subgraphs)


def _subgraph(sg: _T, opcodes, buffers, data: bytes, source: str) -> TflSubgraph:
    tensors = tuple(_tensor(k, t, buffers, data, source) for k, t in enumerate(sg.tables(0)))
    n = len(tensors)

    def refs(ids: tuple[int, ...], what: str) -> tuple[int, ...]:
        for i in ids:
            if i < -1 or i >= n:
                raise ModelError(source, f"{what} refers to tensor {i}, but there are {n}")
        return ids

    operators = []
    for k, op in enumerate(sg.tables(3)):
        index = int(op.scalar(0, N.Uint32Flags, 0))
        if index >= len(opcodes):
            raise ModelError(source, f"operator {k} uses opcode {index}, beyond the opcode table")
        name, custom = opcodes[index]
        operators.append(
            TflOperator(
                k, name, custom,
                refs(op.vector(1, "i"), f"operator {k} ({name})"),
                refs(op.vector(2, "i"), f"operator {k} ({name})"),
                op.u8(3), op.table(4),
            )
        )  # fmt: skip
    return TflSubgraph(
        sg.string(4),
        tensors,
        refs(sg.vector(1, "i"), "the graph's inputs"),
        refs(sg.vector(2, "i"), "the graph's outputs"),
        tuple(operators),
    )


def _tensor(k: int, t: _T, buffers, data: bytes, source: str) -> TflTensor:
    name = t.string(3) or f"tensor_{k}"
    code = t.u8(1)
    dtype = TENSOR_TYPES.get(code, f"TYPE_{code}")
    shape = t.vector(0, "i")
    signature = t.vector(7, "i") or shape
    if any(d < 0 for d in shape):
        raise ModelError(source, f"tensor '{name}' has a negative dimension in its shape {shape}")
    itemsize = _ITEMSIZE.get(dtype, 1)
    declared = math.prod(shape) * itemsize
    if declared > MAX_TENSOR_BYTES:
        raise ModelError(
            source,
            f"tensor '{name}' declares shape {list(shape)} ({dtype}), {declared:,} bytes, over "
            f"the limit of {MAX_TENSOR_BYTES:,} bytes: refused",
        )
    buffer = int(t.scalar(2, N.Uint32Flags, 0))
    if buffer >= len(buffers):
        raise ModelError(source, f"tensor '{name}' uses buffer {buffer}, beyond the buffer table")
    q = t.table(4)
    quant = None
    if q is not None:
        scale = q.vector(2, "f")
        if scale:
            zp = q.vector(3, "q") or (0,) * len(scale)
            quant = Quant(tuple(float(s) for s in scale), tuple(int(z) for z in zp), q.i32(6))
            _check_quant(quant, name, dtype, shape, source)
    array = None
    span = buffers[buffer]
    if buffer and span is not None and span[1]:
        start, length = span
        if dtype not in NUMPY_TYPES:
            raise ModelError(
                source, f"constant tensor '{name}' has type {dtype}, which edgegate cannot read"
            )
        if length != declared:
            raise ModelError(
                source,
                f"constant tensor '{name}' declares shape {list(shape)} ({dtype}, {declared:,} "
                f"bytes) but its buffer holds {length:,} bytes: the file is corrupt",
            )
        array = np.frombuffer(data, dtype=NUMPY_TYPES[dtype], count=math.prod(shape), offset=start)
        array = array.reshape(shape)
    return TflTensor(k, name, dtype, tuple(shape), tuple(signature), buffer, quant, array)


_RANGES = {"INT8": (-128, 127), "UINT8": (0, 255), "INT16": (-32768, 32767)}


def _check_quant(q: Quant, name: str, dtype: str, shape: tuple[int, ...], source: str) -> None:
    """Scales finite and positive, zero points in the type's range, one per channel."""
    problem = ""
    lo, hi = _RANGES.get(dtype, (-(2**31), 2**31 - 1))
    if len(q.zero_point) != len(q.scale):
        problem = f"{len(q.scale)} scales but {len(q.zero_point)} zero points"
    elif not all(math.isfinite(s) and s > 0 for s in q.scale):
        problem = "a scale that is not a finite positive number"
    elif not all(lo <= z <= hi for z in q.zero_point):
        problem = f"a zero point outside {dtype}'s range {lo}..{hi}"
    elif len(q.scale) > 1 and not (0 <= q.axis < len(shape) and shape[q.axis] == len(q.scale)):
        problem = f"{len(q.scale)} per-channel scales that do not match axis {q.axis} of {shape}"
    if problem:
        raise ModelError(source, f"tensor '{name}' has a malformed quantization: {problem}")
