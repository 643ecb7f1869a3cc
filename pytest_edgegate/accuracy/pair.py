"""The two models as the parent sees them: their inputs and outputs, and whether they agree.

Checked here, before any child process starts, because these checks give the best messages
(input names, dtypes and shapes with symbolic dims by name) and cost no process start:
candidate and reference must take the same inputs and give the selected output in the same
shape, and the batch size every run uses is decided from both models' batch dimensions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pytest_edgegate.accuracy.accuracy_error import AccuracyError
from pytest_edgegate.accuracy.eval_spec import DEFAULT_BATCH
from pytest_edgegate.onnxfile import read_proto

Dim = int | str | None


@dataclass(frozen=True)
class TensorSig:
    """A graph input or output: name, numpy dtype name (ONNX type name when numpy has none)
    and dims as ints, ``dim_param`` names or ``None`` (``dims`` is ``None`` when unknown)."""

    name: str
    dtype: str
    dims: tuple[Dim, ...] | None

    @property
    def batch(self) -> int | None:
        """The fixed size of axis 0, or ``None`` when it is dynamic or unknown."""
        if not self.dims or not isinstance(self.dims[0], int) or self.dims[0] <= 0:
            return None
        return self.dims[0]

    def shape_text(self) -> str:
        if self.dims is None:
            return "[unknown]"
        return "[" + ", ".join("?" if d is None else str(d) for d in self.dims) + "]"


@dataclass(frozen=True, eq=False)
class ModelInfo:
    """A model file (a proto given in memory is written to ``path`` first) and its graph.

    ``proto`` is loaded without external data: the graph structure is all the parent needs.
    """

    path: str
    label: str
    proto: Any
    inputs: tuple[TensorSig, ...]
    outputs: tuple[TensorSig, ...]

    def output(self, selector: str | int) -> TensorSig:
        """The output named or numbered by ``selector``."""
        if isinstance(selector, int):
            if selector >= len(self.outputs):
                raise AccuracyError(
                    f"{self.label}: output index {selector} is out of range: the model has "
                    f"{len(self.outputs)} output(s) ({_names(self.outputs)})",
                    kind="spec",
                    model=self.label,
                )
            return self.outputs[selector]
        for sig in self.outputs:
            if sig.name == selector:
                return sig
        raise AccuracyError(
            f"{self.label}: has no output named '{selector}' (its outputs: {_names(self.outputs)})",
            kind="mismatch",
            model=self.label,
        )


def open_model(model: Any, label: str, workdir: Path, stem: str) -> ModelInfo:
    """Read ``model`` (a path or an ``onnx.ModelProto``) and its signature.

    A proto is saved under ``workdir`` so that the child process can load it; its
    external data, if any, must already be inline (a proto in memory has no folder).
    """
    from pytest_edgegate.formats import TFLITE_EXTENSIONS

    if isinstance(model, str) and model.lower().endswith(TFLITE_EXTENSIONS):
        return _open_tflite(os.path.abspath(model), label)
    if isinstance(model, str):
        path = os.path.abspath(model)
        proto = read_proto(path, label, AccuracyError)
    else:
        proto = model
        path = str(workdir / f"{stem}.onnx")
        try:
            # The bytes, not onnx.save: onnx.save writes the raw data of tensors marked
            # external to their locations, which a crafted proto can point anywhere.
            Path(path).write_bytes(proto.SerializeToString())
        except Exception as exc:  # noqa: BLE001 - e.g. a proto over 2 GB
            raise AccuracyError(
                f"{label}: cannot be saved for the evaluation ({type(exc).__name__}: {exc})",
                kind="load",
                model=label,
            ) from None
    initializers = {init.name for init in proto.graph.initializer}
    inputs = tuple(_sig(v) for v in proto.graph.input if v.name not in initializers)
    outputs = tuple(_sig(v) for v in proto.graph.output)
    if not outputs:
        raise AccuracyError(f"{label}: the model has no outputs", kind="load", model=label)
    return ModelInfo(path, label, proto, inputs, outputs)


def _open_tflite(path: str, label: str) -> ModelInfo:
    """A ``.tflite`` model: its own input/output signature (quantized I/O seen as float32,
    see formats/tflite/signature.py) and its ONNX translation as ``proto``."""
    from pytest_edgegate.errors import ModelError
    from pytest_edgegate.formats.tflite.signature import read_io

    try:
        inputs, outputs, proto = read_io(path, label)
    except ModelError as exc:
        raise AccuracyError(str(exc), kind="load", model=label) from None
    return ModelInfo(
        path, label, proto, tuple(TensorSig(*s) for s in inputs),
        tuple(TensorSig(*s) for s in outputs),
    )  # fmt: skip


def _sig(value: Any) -> TensorSig:
    from onnx import helper

    from pytest_edgegate.runner.model_inputs import type_name

    ttype = value.type
    if not ttype.HasField("tensor_type"):
        return TensorSig(value.name, ttype.WhichOneof("value") or "unknown", None)
    elem = ttype.tensor_type.elem_type
    try:
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(elem)).name
    except (KeyError, TypeError, ValueError):
        dtype = type_name(elem)
    dims: tuple[Dim, ...] | None = None
    if ttype.tensor_type.HasField("shape"):
        dims = tuple(
            d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
            for d in ttype.tensor_type.shape.dim
        )
    return TensorSig(value.name, dtype, dims)


def _names(sigs: Sequence[TensorSig]) -> str:
    return ", ".join(s.name for s in sigs) or "none"


def check_inputs_usable(info: ModelInfo) -> None:
    """Every input must be a numeric tensor with a sample axis (rank >= 1)."""
    for sig in info.inputs:
        if sig.dims is not None and len(sig.dims) == 0:
            raise AccuracyError(
                f"{info.label}: input '{sig.name}' is a scalar; accuracy evaluation needs a "
                "batch (sample) axis 0 on every input",
                kind="data",
                model=info.label,
            )
        if sig.dtype in ("object", "string") or not _numeric(sig.dtype):
            raise AccuracyError(
                f"{info.label}: input '{sig.name}' is of type {sig.dtype}; accuracy evaluation "
                "feeds numeric tensors only",
                kind="data",
                model=info.label,
            )


def _numeric(dtype: str) -> bool:
    try:
        return np.dtype(dtype).kind in "biuf"
    except TypeError:
        return False


def check_pair(cand: ModelInfo, ref: ModelInfo, selector: str | int) -> None:
    """Candidate and reference must take the same inputs and give the same selected output.

    Same input names, dtypes and ranks; where both give a fixed size for an axis, the same
    size.  The selected output must exist in both with a compatible static shape (it is
    checked again on every batch, against the arrays the models really produce).
    """
    c_names = [s.name for s in cand.inputs]
    r_names = [s.name for s in ref.inputs]
    if sorted(c_names) != sorted(r_names):
        raise AccuracyError(
            f"{cand.label} and {ref.label} take different inputs: candidate "
            f"({', '.join(c_names) or 'none'}) vs reference ({', '.join(r_names) or 'none'})",
            kind="mismatch",
            model=cand.label,
        )
    by_name = {s.name: s for s in ref.inputs}
    for c in cand.inputs:
        r = by_name[c.name]
        if c.dtype != r.dtype:
            raise AccuracyError(
                f"input '{c.name}' is {c.dtype} in the candidate {cand.label} but {r.dtype} "
                f"in the reference {ref.label}",
                kind="mismatch",
                model=cand.label,
            )
        if not compatible(c.dims, r.dims):
            raise AccuracyError(
                f"input '{c.name}' has shape {c.shape_text()} in the candidate {cand.label} "
                f"but {r.shape_text()} in the reference {ref.label}",
                kind="mismatch",
                model=cand.label,
            )
    c_out, r_out = cand.output(selector), ref.output(selector)
    if not compatible(c_out.dims, r_out.dims):
        raise AccuracyError(
            f"output shapes differ: candidate {cand.label} gives '{c_out.name}' "
            f"{c_out.shape_text()}, reference {ref.label} gives '{r_out.name}' "
            f"{r_out.shape_text()}",
            kind="mismatch",
            model=cand.label,
        )


def compatible(a: tuple[Dim, ...] | None, b: tuple[Dim, ...] | None) -> bool:
    """Same rank, and equal sizes wherever both are fixed (unknown shapes are compatible)."""
    if a is None or b is None:
        return True
    if len(a) != len(b):
        return False
    return all(
        not (isinstance(x, int) and isinstance(y, int) and x > 0 and y > 0 and x != y)
        for x, y in zip(a, b, strict=True)
    )


def plan_batch(models: Sequence[ModelInfo], batch_size: int | None) -> tuple[int, bool]:
    """(samples per run, whether that size is fixed by a model and partial runs are padded).

    A fixed batch dimension (axis 0 of an input) wins; two different fixed sizes cannot
    be served by one stream of batches, and neither can a ``batch_size`` that disagrees.
    """
    fixed: dict[int, str] = {}
    for info in models:
        for sig in info.inputs:
            if sig.batch is not None:
                fixed.setdefault(sig.batch, f"{info.label} input '{sig.name}'")
    if len(fixed) > 1:
        sizes = "; ".join(f"{where} has {size}" for size, where in sorted(fixed.items()))
        raise AccuracyError(
            f"the models' inputs have different fixed batch sizes on axis 0 ({sizes}): "
            "they cannot run the same batches",
            kind="mismatch",
            model=models[0].label,
        )
    if fixed:
        ((size, where),) = fixed.items()
        if batch_size is not None and batch_size != size:
            raise AccuracyError(
                f"batch_size={batch_size}, but {where} has a fixed batch of {size}: leave "
                f"batch_size unset or set it to {size}",
                kind="spec",
                model=models[0].label,
            )
        return size, True
    return batch_size or DEFAULT_BATCH, False
