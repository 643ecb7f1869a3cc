"""Load a ``.tflite`` file as a :class:`~pytest_edgegate.analysis.LoadedModel`.

The record carries the ONNX translation (what the analysis reads), ``format="tflite"``, the
file's bytes as ``file_bytes`` and the parsed flatbuffer as ``source`` (what the runtimes
need).  Operators no runtime of the extra can run (TF Select "Flex" ops, custom ops) are
refused here, with the op named.
"""

from __future__ import annotations

import hashlib
import os

from ...analysis.records import LoadedModel
from ...errors import ModelError
from .reader import TflModel, read_tflite
from .to_onnx import to_onnx


def check_operators(model: TflModel, source: str) -> None:
    """Refuse Flex and custom operators, naming them."""
    for sg in model.subgraphs:
        for op in sg.operators:
            if not op.op.startswith("CUSTOM:"):
                continue
            code = op.custom_code or ""
            if code.startswith("Flex"):
                raise ModelError(
                    source,
                    f"operator {op.index} is the TF Select (Flex) op '{code}': it needs "
                    "TensorFlow's Flex delegate, which neither LiteRT's builtin kernels nor "
                    "TensorFlow Lite Micro have; convert the model with builtin ops only "
                    "(converter.target_spec.supported_ops = [TFLITE_BUILTINS])",
                )
            raise ModelError(
                source,
                f"operator {op.index} is the custom op '{code}': edgegate can neither count "
                "nor run a custom op (its kernel lives in the application); expected a "
                "model of TFLite builtin operators",
            )


def load_tflite(path: str, data: bytes) -> LoadedModel:
    """Parse, check and translate the ``.tflite`` bytes ``data`` read from ``path``."""
    model = read_tflite(data, path)
    check_operators(model, path)
    name = os.path.basename(path)
    return LoadedModel(
        path=path,
        proto=to_onnx(model, name, path),
        file_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        external_files=(),
        name=name,
        format="tflite",
        source=model,
    )
