"""The model's inputs as the parent sees them, and the feeds resolved against them.

Checking the user's inputs here, before a child process exists, gives the best messages
(the input's name, expected and actual shape and dtype, with symbolic dimensions by name)
and costs no process start.  onnxruntime repeats the checks in the child anyway, so a case
missed here still fails cleanly there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from pytest_edgegate.onnxfile import read_proto
from pytest_edgegate.runner.feeds import RANDOM_TYPES, FeedSpec, format_shape
from pytest_edgegate.runner.run_error import RunError

Dim = int | str | None


@dataclass(frozen=True)
class InputSignature:
    """A graph input: name, numpy dtype name (or the ONNX type name when numpy has none),
    dims as ints, dim_param names or ``None`` for unnamed open dims.  ``optional`` inputs
    have an initializer as default value: a user may override them, random inputs do not."""

    name: str
    dtype: str
    dims: tuple[Dim, ...] | None
    is_tensor: bool = True
    optional: bool = False


def type_name(elem: int) -> str:
    """The ONNX name of element type ``elem`` in lower case, for types numpy lacks; a number
    no ONNX version defines (a corrupt or crafted model) is named as such, not raised on."""
    import onnx

    try:
        return onnx.TensorProto.DataType.Name(elem).lower()
    except ValueError:
        return f"undefined element type {elem}"


def read_signature(model_path: str, label: str) -> list[InputSignature]:
    """The model file's graph inputs in graph order, initializer-backed ones optional."""
    from onnx import helper

    from pytest_edgegate.formats import TFLITE_EXTENSIONS

    if model_path.lower().endswith(TFLITE_EXTENSIONS):
        from pytest_edgegate.errors import ModelError
        from pytest_edgegate.formats.tflite.litert import input_signature

        try:
            return [InputSignature(*sig) for sig in input_signature(model_path, label)]
        except ModelError as exc:
            raise RunError(str(exc), kind="load", model=label) from None

    model = read_proto(model_path, label, RunError)
    initializers = {init.name for init in model.graph.initializer}
    out = []
    for value in model.graph.input:
        optional = value.name in initializers
        ttype = value.type
        if not ttype.HasField("tensor_type"):
            kind = ttype.WhichOneof("value") or "?"
            out.append(InputSignature(value.name, kind, None, False, optional))
            continue
        elem = ttype.tensor_type.elem_type
        try:
            dtype = np.dtype(helper.tensor_dtype_to_np_dtype(elem)).name
        except (KeyError, TypeError, ValueError):
            dtype = type_name(elem)
        if dtype == "object":
            dtype = "string"
        dims: tuple[Dim, ...] | None = None
        if ttype.tensor_type.HasField("shape"):
            dims = tuple(
                d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                for d in ttype.tensor_type.shape.dim
            )
        out.append(InputSignature(value.name, dtype, dims, True, optional))
    return out


def resolve_feeds(
    signature: list[InputSignature],
    arrays: Mapping[str, np.ndarray] | None,
    input_shapes: Mapping[str, list[int]] | None,
    label: str,
) -> tuple[list[FeedSpec], dict[str, int]]:
    """The concrete feeds and the dynamic dims that had to be assumed (always 1).

    With ``arrays`` the feeds are the arrays' own shapes, checked against the model and
    against ``input_shapes``; without, shapes come from the model with dynamic dims taken
    from ``input_shapes``, then from another input sharing the same ``dim_param``, then 1.
    """
    names = [s.name for s in signature]
    listed = ", ".join(s.name for s in signature if not s.optional) or "none"
    shapes = dict(input_shapes or {})
    for name in shapes:
        if name not in names:
            raise _input_error(
                label,
                f"input_shapes names '{name}', which is not an input of the model "
                f"(its inputs: {listed})",
            )
    symbols: dict[str, int] = {}
    for sig in signature:
        if sig.name in shapes:
            _check_given_shape(label, sig, shapes[sig.name], "input_shapes", symbols)

    if arrays is not None:
        for name in arrays:
            if name not in names:
                raise _input_error(
                    label,
                    f"inputs has '{name}', which is not an input of the model "
                    f"(its inputs: {listed})",
                )
        feeds = []
        array_symbols: dict[str, int] = {}
        for sig in signature:
            if sig.optional and sig.name not in arrays:
                continue
            if sig.name not in arrays:
                raise _input_error(
                    label,
                    f"input '{sig.name}' is missing from inputs (the model's inputs: {listed})",
                )
            arr = np.asarray(arrays[sig.name])
            if arr.dtype.name != sig.dtype:
                raise _input_error(
                    label,
                    f"input '{sig.name}' has dtype {arr.dtype.name}, the model expects {sig.dtype}",
                )
            _check_given_shape(label, sig, list(arr.shape), "array", array_symbols)
            if sig.name in shapes and list(shapes[sig.name]) != list(arr.shape):
                raise _input_error(
                    label,
                    f"input '{sig.name}' has shape {format_shape(arr.shape)} but "
                    f"input_shapes gives {format_shape(shapes[sig.name])}",
                )
            feeds.append(FeedSpec(sig.name, sig.dtype, tuple(arr.shape)))
        return feeds, {}

    feeds = []
    assumed: dict[str, int] = {}
    for sig in signature:
        if sig.optional:
            continue
        if not sig.is_tensor or sig.dtype not in RANDOM_TYPES:
            raise _input_error(
                label,
                f"input '{sig.name}' is of type {sig.dtype}, for which edgegate cannot "
                "generate random values: pass inputs= (a dict of arrays or an .npz file)",
            )
        if sig.name in shapes:
            feeds.append(FeedSpec(sig.name, sig.dtype, tuple(int(d) for d in shapes[sig.name])))
            continue
        if sig.dims is None:
            raise _input_error(
                label,
                f"input '{sig.name}' has no shape in the model: give its shape in input_shapes",
            )
        shape = []
        for axis, dim in enumerate(sig.dims):
            if isinstance(dim, int) and dim > 0:
                shape.append(dim)
            elif isinstance(dim, str) and dim in symbols:
                shape.append(symbols[dim])
            else:
                key = dim if isinstance(dim, str) else f"{sig.name}.{axis}"
                assumed[key] = 1
                if isinstance(dim, str):
                    symbols[dim] = 1
                shape.append(1)
        feeds.append(FeedSpec(sig.name, sig.dtype, tuple(shape)))
    return feeds, assumed


def _check_given_shape(
    label: str, sig: InputSignature, given: list[int], source: str, symbols: dict[str, int]
) -> None:
    """A given shape must have the model's rank, agree with its fixed dims, and give each
    named dim one value across all inputs (``symbols`` collects them)."""
    what = (
        f"input '{sig.name}' has" if source == "array" else f"input_shapes gives input '{sig.name}'"
    )
    try:
        ints = [int(d) for d in given]
    except (TypeError, ValueError):
        raise _input_error(
            label, f"{what} shape {given!r}: a shape is a list of integers"
        ) from None
    if any(d < 0 for d in ints):
        raise _input_error(label, f"{what} negative dimensions: {format_shape(ints)}")
    if sig.dims is None:
        return
    if len(ints) != len(sig.dims) or any(
        isinstance(m, int) and m > 0 and m != g for m, g in zip(sig.dims, ints, strict=True)
    ):
        raise _input_error(
            label, f"{what} shape {format_shape(ints)}, the model expects {format_shape(sig.dims)}"
        )
    for m, g in zip(sig.dims, ints, strict=True):
        if isinstance(m, str) and symbols.setdefault(m, g) != g:
            raise _input_error(
                label,
                f"{what} shape {format_shape(ints)}, so '{m}' = {g}, but another "
                f"input has '{m}' = {symbols[m]} (the model expects {format_shape(sig.dims)})",
            )


def _input_error(label: str, problem: str) -> RunError:
    return RunError(f"{label}: {problem}", kind="input", model=label)
