"""A ``.tflite`` model's inputs and outputs as the accuracy evaluation feeds and reads them.

Quantized (int8/uint8/int16) inputs and outputs are presented as float32: LiteRT's session
adapter quantizes float inputs with the input tensor's scale and zero point and dequantizes
the outputs (see :mod:`.litert`), so an int8 candidate compares with a float reference.
Shapes are the file's own (NHWC images).
"""

from __future__ import annotations

import numpy as np

from ...analysis.loader import read_model_file
from .reader import NUMPY_TYPES, TflTensor, read_tflite

_QUANTIZED = ("INT8", "UINT8", "INT16")


def io_dtype(t: TflTensor) -> str:
    """The numpy dtype name a caller feeds or reads for tensor ``t``."""
    if t.dtype in _QUANTIZED and t.quant is not None and len(t.quant.scale) == 1:
        return "float32"
    return np.dtype(NUMPY_TYPES[t.dtype]).name if t.dtype in NUMPY_TYPES else t.dtype.lower()


def read_io(path: str, label: str):
    """(inputs, outputs, ONNX translation) of the ``.tflite`` at ``path``: inputs and outputs
    as (name, dtype, shape) triples."""
    from .to_onnx import to_onnx

    p, data = read_model_file(path, 2_000_000_000, "a TensorFlow Lite model file (.tflite)")
    model = read_tflite(data, label)
    sg = model.main
    inputs = [(sg.tensors[i].name, io_dtype(sg.tensors[i]), sg.tensors[i].shape) for i in sg.inputs]
    outputs = [
        (sg.tensors[i].name, io_dtype(sg.tensors[i]), sg.tensors[i].shape) for i in sg.outputs
    ]
    return inputs, outputs, to_onnx(model, label)
