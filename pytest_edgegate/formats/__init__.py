"""Model formats: reading a file into the one graph description the rest of edgegate sees.

``load(path)`` picks the format from the file's content (a ``.tflite`` flatbuffer carries
the identifier ``TFL3``; anything else is read as ONNX) and refuses a file whose extension
names the other format.  Each format also names the runtime that executes it on a device
(:func:`runtime_name`).
"""

from __future__ import annotations

import os

from ..errors import ModelError

#: Default of ``--edge-max-model-mb``: the largest model file read, in bytes (2,000 MB).
DEFAULT_MAX_BYTES = 2_000_000_000
TFLITE_EXTENSIONS = (".tflite", ".lite")


def load(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES):
    """A :class:`~pytest_edgegate.analysis.LoadedModel` of the ONNX or TFLite file at ``path``."""
    from ..analysis.loader import load_model, read_model_file
    from .tflite.reader import is_tflite

    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError:
        text = ""
    is_tfl_name = text.lower().endswith(TFLITE_EXTENSIONS)
    if not is_tfl_name:
        head = _head(text, max_bytes)
        if is_tflite(head):
            raise ModelError(
                text,
                "is a TensorFlow Lite flatbuffer (identifier 'TFL3') but its name does not end "
                "in .tflite: rename it to .tflite (edgegate reads a file as the format its "
                "name says)",
            )
        return load_model(path, max_bytes=max_bytes)
    p, data = read_model_file(path, max_bytes, "a TensorFlow Lite model file (.tflite)")
    if not is_tflite(data) and data[:1] == b"\x08":
        raise ModelError(
            p,
            "is named .tflite but is not a TensorFlow Lite flatbuffer (no 'TFL3' "
            "identifier); it looks like an ONNX model: rename it to .onnx",
        )
    from .tflite.load import load_tflite

    return load_tflite(p, data)


def _head(path: str, max_bytes: int) -> bytes:
    """The first 8 bytes, only of a regular file within the size limit: a file the ONNX
    loader refuses from its ``stat`` is never opened (it says what is wrong)."""
    import stat

    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            return b""
        with open(path, "rb") as f:
            return f.read(8)
    except OSError:
        return b""


def runtime_name(model_format: str, *, is_mcu: bool) -> str:
    """The runtime that executes a model of ``model_format`` on such a device."""
    if model_format == "tflite":
        return "tflite-micro" if is_mcu else "litert"
    return "onnxruntime"
