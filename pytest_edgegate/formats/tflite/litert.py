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
        """Feed, invoke, return outputs.  A float array fed to a quantized input is
        quantized with the input's scale and zero point.  With ``output_names`` (what the
        accuracy evaluation asks for) the named outputs come back dequantized to float32;
        with ``None`` (timing) every output as the runtime holds it."""
        interp = self.interpreter
        for name, array in feeds.items():
            detail = self._inputs[name]
            interp.set_tensor(detail["index"], _to_input(np.asarray(array), detail))
        interp.invoke()
        if output_names is None:
            return [interp.get_tensor(d["index"]).copy() for d in self._outputs]
        by_name = {d["name"]: d for d in self._outputs}
        return [
            _dequantize(interp.get_tensor(by_name[n]["index"]), by_name[n]) for n in output_names
        ]

    def end_profiling(self) -> str:
        raise NotImplementedError(
            "LiteRT gives no per-node profile; the device figure comes from whole-model timing"
        )


def _to_input(array: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    scale, zero = detail.get("quantization", (0.0, 0))
    if array.dtype.kind == "f" and dtype.kind in "iu" and scale:
        info = np.iinfo(dtype)
        q = np.round(array / scale) + zero
        return np.clip(q, info.min, info.max).astype(dtype)
    return np.asarray(array, dtype=dtype)


def _dequantize(value: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    scale, zero = detail.get("quantization", (0.0, 0))
    if value.dtype.kind in "iu" and scale:
        return ((value.astype(np.float32) - np.float32(zero)) * np.float32(scale)).astype(
            np.float32
        )
    return value.copy()


def preload(threads: int = 1) -> None:
    """Load LiteRT and run a one-op model (``y = x + x``) with ``threads`` threads, so the
    runtime's own footprint (libraries, XNNPACK, thread pool) is in the baseline the
    measured run subtracts, as onnxruntime's probe session is for ONNX models."""
    import ai_edge_litert.schema_py_generated as fb
    import flatbuffers
    from ai_edge_litert.interpreter import Interpreter

    tensors = []
    for name in ("x", "y"):
        t = fb.TensorT()
        t.name, t.shape, t.type, t.buffer = name, [1], fb.TensorType.FLOAT32, 0
        tensors.append(t)
    op = fb.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0, 0], [1]
    sg = fb.SubGraphT()
    sg.tensors, sg.inputs, sg.outputs, sg.operators = tensors, [0], [1], [op]
    code = fb.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = fb.BuiltinOperator.ADD
    code.version = 1
    model = fb.ModelT()
    model.version, model.operatorCodes, model.subgraphs = 3, [code], [sg]
    model.buffers = [fb.BufferT()]
    builder = flatbuffers.Builder(256)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    probe = Interpreter(model_content=bytes(builder.Output()), num_threads=int(threads))
    probe.allocate_tensors()
    probe.set_tensor(probe.get_input_details()[0]["index"], np.ones(1, np.float32))
    probe.invoke()


def describe(threads: int) -> dict[str, Any]:
    """The interpreter's options as plain data, for the run's record."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("ai-edge-litert")
    except PackageNotFoundError:
        release = None
    return {
        "runtime": "litert",
        "ai_edge_litert_version": release,
        "num_threads": threads,
        "delegate": "XNNPACK (LiteRT's default CPU delegate)",
        "per_node_profile": False,
    }


def create_session(model_path: str, threads: int) -> LiteRTSession:
    from .availability import require

    require("litert", model_path, "running it")
    return LiteRTSession(model_path, threads)


def input_signature(model_path: str, label: str) -> list[tuple[str, str, tuple[int, ...]]]:
    """(name, numpy dtype name, shape) of each graph input, as LiteRT feeds them (NHWC)."""
    from ...analysis.loader import read_model_file
    from .reader import NUMPY_TYPES, read_tflite

    path, data = read_model_file(model_path, 2_000_000_000, "a TensorFlow Lite model file")
    sg = read_tflite(data, label).main
    out = []
    for i in sg.inputs:
        t = sg.tensors[i]
        dtype = np.dtype(NUMPY_TYPES[t.dtype]).name if t.dtype in NUMPY_TYPES else t.dtype.lower()
        out.append((t.name, dtype, t.shape))
    return out
