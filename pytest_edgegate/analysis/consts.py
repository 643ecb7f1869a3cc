"""Constant tensors of a model: which names are constants, and the values of small ones.

Shape rules need the values of small integer tensors (a ``Reshape`` target, a
``ConstantOfShape`` shape, a ``Loop`` trip count); nothing else is ever converted to numpy,
so the weights of a large model are not copied.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from onnx import AttributeProto, TensorProto, numpy_helper

from .dtypes import INT64

#: Largest tensor whose values the shape rules may read.
MAX_VALUE_ELEMENTS = 4096
#: Element types of shape data, the only external data ever read (see ``value``).
_SHAPE_TYPES = frozenset((TensorProto.INT64, TensorProto.INT32))


#: A main-graph initializer as the passes need it: (name, dims, element type, stored in an
#: external file).  Read once: every protobuf field access from Python costs, and the
#: shapes, the skeleton and the parameter count all ask the same questions of it.
Initializer = tuple[str, tuple[int, ...], int, bool]


def tensor_elements(tensor: TensorProto) -> int:
    return math.prod(tensor.dims[:])  # a slice: iterating a upb container ends in an IndexError


def read_initializers(tensors: Sequence[TensorProto]) -> list[Initializer]:
    """The :data:`Initializer` records of ``tensors``, in order."""
    external = TensorProto.EXTERNAL
    return [(t.name, tuple(t.dims[:]), t.data_type, t.data_location == external) for t in tensors]


class ConstStore:
    """Constant tensors by name, across the main graph and every subgraph.

    ``external_reader`` returns the raw bytes of a small external tensor (see
    :func:`~pytest_edgegate.analysis.loader.read_external_tensor`) or None when the model came
    from memory.
    """

    def __init__(self, external_reader: Callable[[TensorProto], bytes | None] | None = None):
        self.tensors: dict[str, TensorProto] = {}
        self._values: dict[str, np.ndarray | None] = {}
        self._external_reader = external_reader

    def add_tensor(self, name: str, tensor: TensorProto) -> None:
        self.tensors.setdefault(name, tensor)

    def add_constant_node(self, output: str, attributes: dict[str, AttributeProto]) -> None:
        """Register the value of a ``Constant`` node's output, whatever attribute holds it."""
        a = attributes.get("value")
        if a is not None and a.type == AttributeProto.TENSOR:
            self.tensors.setdefault(output, a.t)
            return
        for key in ("value_int", "value_ints", "value_float", "value_floats"):
            a = attributes.get(key)
            if a is None:
                continue
            if key == "value_int":
                arr = np.array(a.i, dtype=np.int64)
            elif key == "value_ints":
                arr = np.array(list(a.ints), dtype=np.int64)
            elif key == "value_float":
                arr = np.array(a.f, dtype=np.float32)
            else:
                arr = np.array(list(a.floats), dtype=np.float32)
            self.tensors.setdefault(output, numpy_helper.from_array(arr, output))
            return

    def __contains__(self, name: str) -> bool:
        return name in self.tensors

    def value(self, name: str) -> np.ndarray | None:
        """The value of a small constant tensor, or None (unknown, large or unreadable)."""
        if name in self._values:
            return self._values[name]
        tensor = self.tensors.get(name)
        result = None
        if tensor is not None and tensor_elements(tensor) <= MAX_VALUE_ELEMENTS:
            try:
                if tensor.data_location == TensorProto.EXTERNAL:
                    # Only integer shape data is ever read from an external file; weights
                    # (float, or anything larger than a shape vector) never are.
                    reader = self._external_reader if tensor.data_type in _SHAPE_TYPES else None
                    raw = reader(tensor) if reader else None
                    if raw is not None:
                        copy = TensorProto()
                        copy.CopyFrom(tensor)
                        copy.data_location = TensorProto.DEFAULT
                        del copy.external_data[:]
                        copy.raw_data = raw
                        result = numpy_helper.to_array(copy)
                else:
                    result = numpy_helper.to_array(tensor)
            except Exception:  # malformed tensor data: treat as unknown, never crash
                result = None
        self._values[name] = result
        return result

    def ints(self, name: str) -> list[int] | None:
        """Values of a small integer constant as a flat list of ints, else None."""
        if not name:
            return None
        v = self.value(name)
        if v is None or v.dtype.kind not in "iub":
            return None
        return [int(x) for x in v.reshape(-1)]

    def scalar(self, name: str) -> float | None:
        v = self.value(name) if name else None
        if v is None or v.size != 1:
            return None
        return float(v.reshape(-1)[0])


def constant_node_type(attributes: dict[str, AttributeProto]) -> tuple[tuple[int, ...], int, int]:
    """(shape, elem_type, stored elements) of a ``Constant`` node's value.

    A sparse value stores only its non-zero values, and that is what it counts as.
    """
    for key, a in attributes.items():
        if key == "value":
            t = a.t
            return tuple(t.dims[:]), t.data_type, tensor_elements(t)
        if key == "sparse_value":
            v = a.sparse_tensor.values
            return tuple(a.sparse_tensor.dims[:]), v.data_type, tensor_elements(v)
        if key == "value_float":
            return (), TensorProto.FLOAT, 1
        if key == "value_floats":
            return (len(a.floats),), TensorProto.FLOAT, len(a.floats)
        if key == "value_int":
            return (), INT64, 1
        if key == "value_ints":
            return (len(a.ints),), INT64, len(a.ints)
        if key == "value_string":
            return (), TensorProto.STRING, 1
        if key == "value_strings":
            return (len(a.strings),), TensorProto.STRING, len(a.strings)
    return (), 0, 0
