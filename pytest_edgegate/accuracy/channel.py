"""The message framing between the parent and an evaluation child, over a pair of pipes.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/accuracy/channel.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np

_LEN = struct.Struct("<Q")
#: Largest header accepted, in bytes: a corrupt length must not allocate gigabytes.
MAX_HEADER = 64 * 1024 * 1024


class ChannelClosed(Exception):
    """The other side closed its end (it exited, crashed or was killed)."""


class Channel:
    """One direction in, one direction out; both ends are unbuffered raw files."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._rfile = os.fdopen(read_fd, "rb", buffering=0)
        self._wfile = os.fdopen(write_fd, "wb", buffering=0)

    def send(self, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray] | None = None):
        """Write one message: ``header`` (JSON-ready) and the named arrays."""
        ready = [(name, _contiguous(arr)) for name, arr in (arrays or {}).items()]
        for name, arr in ready:
            if arr.dtype.hasobject:
                raise TypeError(f"array {name!r} holds Python objects; only numbers can be sent")
        body = dict(header)
        body["arrays"] = [
            {"name": name, "dtype": arr.dtype.str, "shape": list(arr.shape)} for name, arr in ready
        ]
        data = json.dumps(body).encode("utf-8")
        try:
            self._write(_LEN.pack(len(data)) + data)
            for _name, arr in ready:
                if arr.nbytes:
                    self._write(_bytes_view(arr))
        except (OSError, ValueError) as exc:
            raise ChannelClosed(str(exc)) from None

    def receive(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Read one message: the header and its arrays by name."""
        (length,) = _LEN.unpack(self._read(_LEN.size))
        if length > MAX_HEADER:
            raise ChannelClosed(f"corrupt message header length {length}")
        header = json.loads(self._read(length).decode("utf-8"))
        arrays: dict[str, np.ndarray] = {}
        for spec in header.pop("arrays", []):
            arr = np.empty(tuple(spec["shape"]), dtype=np.dtype(spec["dtype"]))
            if arr.nbytes:
                self._read_into(_bytes_view(arr))
            arrays[spec["name"]] = arr
        return header, arrays

    def close(self) -> None:
        for f in (self._wfile, self._rfile):
            with contextlib.suppress(OSError):
                f.close()

    def _write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            written = self._wfile.write(view)
            if written is None:  # pragma: no cover - only on non-blocking pipes
                continue
            view = view[written:]

    def _read(self, size: int) -> bytes:
        buf = bytearray(size)
        self._read_into(memoryview(buf))
        return bytes(buf)

    def _read_into(self, view: memoryview) -> None:
        pos = 0
        while pos < len(view):
            try:
                got = self._rfile.readinto(view[pos:])
            except OSError as exc:
                raise ChannelClosed(str(exc)) from None
            if not got:
                raise ChannelClosed("end of stream")
            pos += got


def _contiguous(arr: Any) -> np.ndarray:
    """``arr`` as a C-contiguous array, 0-d kept 0-d (``np.ascontiguousarray`` would not)."""
    arr = np.asarray(arr)
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def _bytes_view(arr: np.ndarray) -> memoryview:
    """The bytes of a C-contiguous array, for any dtype (no copy)."""
    return memoryview(arr.reshape(-1).view(np.uint8))
