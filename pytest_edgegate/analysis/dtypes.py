"""ONNX element types as the names and bit widths the analysis reports.

Results must be plain JSON, so element types travel as short, stable names ("float32",
"int8", ...) rather than ``TensorProto`` enum numbers, which mean nothing to a reader of a
report.  Widths are in bits because 4-bit and 2-bit types exist: byte counts are rounded up
per tensor, the way they are packed in a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from onnx import TensorProto

# TensorProto enum name -> (reported name, bits per element).  Names follow numpy where numpy
# has the type, so "float32" rather than ONNX's "FLOAT".
_BY_PROTO_NAME: dict[str, tuple[str, int]] = {
    "FLOAT": ("float32", 32),
    "UINT8": ("uint8", 8),
    "INT8": ("int8", 8),
    "UINT16": ("uint16", 16),
    "INT16": ("int16", 16),
    "INT32": ("int32", 32),
    "INT64": ("int64", 64),
    "STRING": ("string", 0),
    "BOOL": ("bool", 8),
    "FLOAT16": ("float16", 16),
    "DOUBLE": ("float64", 64),
    "UINT32": ("uint32", 32),
    "UINT64": ("uint64", 64),
    "COMPLEX64": ("complex64", 64),
    "COMPLEX128": ("complex128", 128),
    "BFLOAT16": ("bfloat16", 16),
    "FLOAT8E4M3FN": ("float8e4m3fn", 8),
    "FLOAT8E4M3FNUZ": ("float8e4m3fnuz", 8),
    "FLOAT8E5M2": ("float8e5m2", 8),
    "FLOAT8E5M2FNUZ": ("float8e5m2fnuz", 8),
    "FLOAT8E8M0": ("float8e8m0", 8),
    "UINT4": ("uint4", 4),
    "INT4": ("int4", 4),
    "FLOAT4E2M1": ("float4e2m1", 4),
    "UINT2": ("uint2", 2),
    "INT2": ("int2", 2),
}

_NAME: dict[int, str] = {}
_BITS: dict[int, int] = {}
for _proto_name, _value in TensorProto.DataType.items():
    _name, _bits = _BY_PROTO_NAME.get(_proto_name, (_proto_name.lower(), 8))
    _NAME[_value] = _name
    _BITS[_value] = _bits

UNDEFINED = TensorProto.UNDEFINED
_NAME[UNDEFINED] = "unknown"  # the model does not say
_BITS[UNDEFINED] = 0  # no size can be derived
INT64 = TensorProto.INT64
FLOAT = TensorProto.FLOAT
#: Bits per element by ONNX element type (read-only), for loops that inline :func:`nbytes`.
ELEMENT_BITS: Mapping[int, int] = MappingProxyType(_BITS)

#: Integer element types a quantized tensor is stored in (QDQ or QOperator form).
QUANTIZED_TYPES = frozenset(
    getattr(TensorProto, n)
    for n in ("INT8", "UINT8", "INT16", "UINT16", "INT4", "UINT4", "INT2", "UINT2")
    if hasattr(TensorProto, n)
)


def dtype_name(elem_type: int) -> str:
    """Reported name of an ONNX element type ("unknown" when the model does not say)."""
    name = _NAME.get(elem_type)
    return name if name is not None else f"type{elem_type}"


def dtype_bits(elem_type: int) -> int:
    """Bits per element; 0 for strings and unknown types, whose size cannot be derived."""
    return _BITS.get(elem_type, 8)


def nbytes(elements: int, elem_type: int) -> int:
    """Bytes a tensor of ``elements`` elements occupies, sub-byte types rounded up."""
    return (elements * _BITS.get(elem_type, 8) + 7) // 8
