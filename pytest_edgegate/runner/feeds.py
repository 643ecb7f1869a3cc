"""The tensors fed to a model: their specification, seeded random values, and a digest.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/runner/feeds.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: Element types random inputs can be generated for, by their numpy names.
FLOAT_TYPES = ("float16", "float32", "float64")
INT_TYPES = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64")
RANDOM_TYPES = (*FLOAT_TYPES, *INT_TYPES, "bool")

#: Integer random inputs are drawn uniformly from ``[0, INT_HIGH)``.
INT_HIGH = 10


@dataclass(frozen=True)
class FeedSpec:
    """One input tensor as it will be fed: name, numpy dtype name, concrete shape."""

    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    def to_dict(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}

    @classmethod
    def from_dict(cls, data: Mapping) -> FeedSpec:
        return cls(str(data["name"]), str(data["dtype"]), tuple(int(d) for d in data["shape"]))


def random_feeds(feeds: Sequence[FeedSpec], seed: int) -> dict[str, np.ndarray]:
    """Seeded random values for ``feeds``, drawn in order from one generator."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for feed in feeds:
        if feed.dtype in ("float32", "float64"):
            out[feed.name] = rng.standard_normal(feed.shape, dtype=np.dtype(feed.dtype))
        elif feed.dtype == "float16":
            out[feed.name] = rng.standard_normal(feed.shape, dtype=np.float32).astype(np.float16)
        elif feed.dtype in INT_TYPES:
            out[feed.name] = rng.integers(0, INT_HIGH, size=feed.shape, dtype=feed.dtype)
        elif feed.dtype == "bool":
            out[feed.name] = rng.integers(0, 2, size=feed.shape, dtype=np.uint8).astype(bool)
        else:
            raise ValueError(f"cannot generate random values of type {feed.dtype}")
    return out


def digest(arrays: Mapping[str, np.ndarray], order: Sequence[str]) -> str:
    """SHA-256 over names, dtypes, shapes and bytes of the arrays, in ``order``."""
    h = hashlib.sha256()
    for name in order:
        arr = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{arr.dtype.str}|{list(arr.shape)}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def format_shape(dims: Sequence[object]) -> str:
    """``[1, 3, 224, 224]``, with symbolic dims shown by name (``[N, 3, 224, 224]``)."""
    return "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"
