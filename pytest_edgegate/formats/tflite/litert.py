"""LiteRT (``ai_edge_litert``) behind the runner's session interface, and a model's inputs.

The measured-mode child and the accuracy child drive a session with ``run(None, feeds)``
returning the outputs in graph order, like onnxruntime's ``InferenceSession``; this adapter
gives a ``.tflite`` model that interface on LiteRT's interpreter with ``num_threads`` = the
profile's cores (XNNPACK, LiteRT's default CPU delegate, uses them).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class LiteRTSession:
    """One LiteRT interpreter, allocated once; ``run`` feeds, invokes, copies the outputs."""

    def __init__(self, model_path: str, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=model_path, num_threads=int(threads))
        self.interpreter.allocate_tensors()
        self._inputs = {d["name"]: d for d in self.interpreter.get_input_details()}
        self._outputs = self.interpreter.get_output_details()

    def get_inputs(self) -> list[Any]:
        return list(self._inputs.values())

    def get_outputs(self) -> list[Any]:
        return list(self._outputs)

    def run(self, output_names: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        interp = self.interpreter
        for name, array in feeds.items():
            detail = self._inputs[name]
            interp.set_tensor(detail["index"], np.asarray(array, dtype=detail["dtype"]))
        interp.invoke()
        return [interp.get_tensor(d["index"]).copy() for d in self._outputs]

    def end_profiling(self) -> str:
        raise NotImplementedError(
            "LiteRT gives no per-node profile; the device figure comes from whole-model timing"
        )


def preload() -> None:
    """Import LiteRT's interpreter (its shared libraries) without building a model."""
    import ai_edge_litert.interpreter  # noqa: F401


def create_session(model_path: str, threads: int) -> LiteRTSession:
    from .runtimes import require

    require("litert", model_path, "running it")
    return LiteRTSession(model_path, threads)


def input_signature(model_path: str, label: str) -> list[tuple[str, str, tuple[int, ...]]]:
    """(name, numpy dtype name, shape) of each graph input, as LiteRT feeds them (NHWC)."""
    from ...analysis.loader import read_model_file
    from .reader import _NUMPY, read_tflite

    path, data = read_model_file(model_path, 2_000_000_000, "a TensorFlow Lite model file")
    sg = read_tflite(data, label).main
    out = []
    for i in sg.inputs:
        t = sg.tensors[i]
        dtype = np.dtype(_NUMPY[t.dtype]).name if t.dtype in _NUMPY else t.dtype.lower()
        out.append((t.name, dtype, t.shape))
    return out
