"""Reading a model file's proto for the child-process front ends, in their own error type.

The runner and the accuracy evaluation both read a model's graph (its signature) in the
parent before a child process loads it for real; a missing or unreadable file must fail
there with the same wording, raised as the front end's own error (``RunError`` or
``AccuracyError``, both ``(message, kind=, model=)``) so each keeps its result type.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx


def read_proto(path: str, label: str, error: Callable[..., Exception]) -> onnx.ModelProto:
    """The proto at ``path`` without its external data; ``error(message, kind="load",
    model=label)`` is raised when the file is missing or is not an ONNX model."""
    import onnx

    if not os.path.isfile(path):
        problem = "is not a regular file" if os.path.exists(path) else "model file not found"
        raise error(f"{label}: {problem}: {path}", kind="load", model=label)
    try:
        return onnx.load(path, load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf raises assorted types on bad files
        raise error(
            f"{label}: cannot be read as an ONNX model ({type(exc).__name__}: {exc})",
            kind="load",
            model=label,
        ) from None
